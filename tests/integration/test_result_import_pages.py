"""The result import pages: a manager's mapping form, an analyst's upload → preview → confirm (htmx posts
as the browser sends them), and the refusals shown on the form."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Network, assigned_test, received_sample
from tests.integration.test_pages import post, sign_in
from tests.result_import_support import ICPMS, renamed

HTMX = {"HX-Request": "true"}
MAPPING_FORM = {
    "instrument_model": "Agilent 7900 ICP-MS MassHunter",
    "layout": "long",
    "sample_column": "Sample Name",
    "analyte_column": "Analyte",
    "value_column": "Conc.",
    "unit_column": "Units",
    "uncertainty_column": "U (k=2)",
    "coverage_factor_column": "k",
    "lod_column": "DL",
    "delimiter": "auto",
    "skip_rules": "Sample Type: Cal*, QC, Blank\nAnalyte: *ISTD*",
    "unit_aliases": "ppb = µg/kg",
    "test_hint": "ICP-MS",
}


def _faults(response: Any) -> dict[str | None, str]:
    assert response.status_code == 200 and response.headers.get("HX-Reswap") == "none", response.text
    errors = json.loads(response.headers["HX-Trigger"])["form-errors"]["errors"]
    return {e["field"]: e["message"] for e in errors}


def _hidden(page: str) -> dict[str, str]:
    """The hidden inputs of the confirmation form."""
    form = re.search(r'<form id="confirm-import".*?</form>', page, re.S)
    assert form, "no confirmation form"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(0)))


def _case(app: Any, net: Network) -> tuple[bytes, list[int]]:
    uow = app.state.uow_factory
    ids, tests = {}, []
    for name in ("KCS-CCL-2026-00117", "KCS-CCL-2026-00118"):
        sample = received_sample(uow, net)
        ids[name] = sample.lab_sample_id
        tests.append(assigned_test(uow, net, sample.id, determination="Heavy metals", method_ref="ICP-MS").id)
    return renamed(ICPMS, ids), tests


def _mapping_by_page(client: TestClient, net: Network) -> int:
    sign_in(client, net, "central_manager")
    saved = post(client, "/results/mappings", MAPPING_FORM, headers=HTMX)
    assert saved.status_code == 204, saved.text
    mapping_id = int(saved.headers["HX-Redirect"].rsplit("/", 1)[1])
    page = client.get(f"/results/mappings/{mapping_id}").text
    assert "Sample Type: Cal*, QC, Blank" in page and "ppb → µg/kg" in page
    client.cookies.clear()
    return mapping_id


def _results(app: Any, tests: list[int]) -> int:
    uow = app.state.uow_factory()
    with uow:
        return sum(len(uow.repo.test(t).results) for t in tests)


def test_an_analyst_previews_an_export_then_confirms_it_and_exactly_the_previewed_results_are_written(
    client: TestClient, app: Any, net: Network
) -> None:
    content, tests = _case(app, net)
    mapping_id = _mapping_by_page(client, net)
    sign_in(client, net, "analyst")
    form = client.get("/results/import").text
    assert f'<option value="{mapping_id}">Agilent 7900 ICP-MS MassHunter</option>' in form

    shown = post(
        client,
        "/results/import/preview",
        {"mapping_id": str(mapping_id)},
        files={"file": (ICPMS, content, "text/csv")},
        headers=HTMX,
    )
    assert shown.status_code == 200, shown.text
    fragment = shown.text
    assert "8 results will be written; 16 rows will not." in fragment
    assert fragment.count("unknown sample") == 2 and "not a result row" in fragment
    assert "chromium (Cr)" in fragment and "12.84 mg/kg ± 0.95 (k = 2)" in fragment
    assert _results(app, tests) == 0, "the preview wrote nothing"

    hidden = _hidden(fragment)
    assert set(hidden) == {"csrf_token", "kept", "mapping_id", "equipment_id", "qc_batch_id", "fingerprint"}
    done = post(
        client, "/results/import/commit", {k: v for k, v in hidden.items() if k != "csrf_token"}, headers=HTMX
    )
    assert done.status_code == 204, done.text
    assert done.headers["HX-Redirect"] == "/results/import"
    assert "8 results written on 2 tests." in client.get("/results/import").text
    assert _results(app, tests) == 8
    sample_page = client.get(f"/samples/{_sample_of(app, tests[0])}").text
    assert ICPMS in sample_page, "the export is attached to the test"


def _sample_of(app: Any, test_id: int) -> int:
    uow = app.state.uow_factory()
    with uow:
        return int(uow.repo.test(test_id).sample_id)


def test_without_javascript_the_preview_is_a_whole_page(client: TestClient, app: Any, net: Network) -> None:
    content, _ = _case(app, net)
    mapping_id = _mapping_by_page(client, net)
    sign_in(client, net, "analyst")
    page = post(
        client, "/results/import/preview", {"mapping_id": str(mapping_id)}, files={"file": (ICPMS, content)}
    )
    assert page.status_code == 200 and "<h1>" in page.text and 'id="confirm-import"' in page.text


def test_a_file_with_a_bad_unit_is_refused_on_the_file_input_and_nothing_is_kept_to_confirm(
    client: TestClient, app: Any, net: Network
) -> None:
    content, tests = _case(app, net)
    mapping_id = _mapping_by_page(client, net)
    sign_in(client, net, "analyst")
    bad = content.replace(b"He,0.412,mg/kg", b"He,0.412,mg/kq")
    refused = post(
        client,
        "/results/import/preview",
        {"mapping_id": str(mapping_id)},
        files={"file": (ICPMS, bad)},
        headers=HTMX,
    )
    faults = _faults(refused)
    assert set(faults) == {"file"} and faults["file"].startswith("Line 23: the unit 'mg/kq' is not a unit")
    assert _results(app, tests) == 0


def test_a_confirmation_with_a_forged_or_borrowed_token_writes_nothing(
    client: TestClient, app: Any, net: Network
) -> None:
    content, tests = _case(app, net)
    mapping_id = _mapping_by_page(client, net)
    sign_in(client, net, "analyst")
    shown = post(
        client,
        "/results/import/preview",
        {"mapping_id": str(mapping_id)},
        files={"file": (ICPMS, content)},
        headers=HTMX,
    )
    hidden = {k: v for k, v in _hidden(shown.text).items() if k != "csrf_token"}
    forged = post(
        client, "/results/import/commit", hidden | {"kept": hidden["kept"][:-2] + "xx"}, headers=HTMX
    )
    assert "expired" in _faults(forged)["file"]
    client.cookies.clear()
    sign_in(client, net, "local_analyst")
    borrowed = post(client, "/results/import/commit", hidden, headers=HTMX)
    assert "not yours" in _faults(borrowed)["file"]
    assert _results(app, tests) == 0


def test_a_mapping_form_with_a_badly_written_line_is_refused_on_its_box(
    client: TestClient, app: Any, net: Network
) -> None:
    sign_in(client, net, "central_manager")
    assert 'action="/results/mappings"' in client.get("/results/mappings").text
    refused = post(
        client, "/results/mappings", MAPPING_FORM | {"skip_rules": "Sample Type Cal*"}, headers=HTMX
    )
    assert "Line 1 of the skip rules" in _faults(refused)["skip_rules"]
    refused = post(client, "/results/mappings", MAPPING_FORM | {"value_column": ""}, headers=HTMX)
    assert set(_faults(refused)) == {"value_column"}


def test_an_analyst_reads_the_mappings_but_does_not_get_their_form(
    client: TestClient, app: Any, net: Network
) -> None:
    mapping_id = _mapping_by_page(client, net)
    sign_in(client, net, "analyst")
    listing = client.get("/results/mappings").text
    assert "Agilent 7900 ICP-MS MassHunter" in listing and 'action="/results/mappings"' not in listing
    assert 'action="/results/mappings/' not in client.get(f"/results/mappings/{mapping_id}").text
    refused = post(client, "/results/mappings", MAPPING_FORM | {"instrument_model": "Other"}, headers=HTMX)
    assert "lab manager" in next(iter(_faults(refused).values()))


def test_the_import_pages_need_a_signed_in_member_of_the_laboratory(client: TestClient, net: Network) -> None:
    assert client.get("/results/import", follow_redirects=False).status_code == 303
    sign_in(client, net, "officer")
    assert client.get("/results/import").status_code == 403


def test_a_manager_edits_a_mapping_through_its_form(client: TestClient, app: Any, net: Network) -> None:
    mapping_id = _mapping_by_page(client, net)
    sign_in(client, net, "central_manager")
    page = client.get(f"/results/mappings/{mapping_id}").text
    assert f'action="/results/mappings/{mapping_id}"' in page and "ppb = µg/kg</textarea>" in page
    edited = post(
        client, f"/results/mappings/{mapping_id}", MAPPING_FORM | {"test_hint": "ICP-MS He"}, headers=HTMX
    )
    assert edited.status_code == 204, edited.text
    assert "ICP-MS He" in client.get(f"/results/mappings/{mapping_id}").text
