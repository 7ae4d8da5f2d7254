"""The server-rendered pages, in process: every page answers, shows what matters, and refuses what it must."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from customslab.adapters.uow import Database
from customslab.config import Settings
from customslab.entrypoints.web.app import create_web_app
from customslab.services import analysis, cases, referrals
from customslab.services import quality_control as qc
from customslab.services import quality_equipment as equipment
from customslab.services.analysis import ResultCreate, TestCreate
from customslab.services.cases import SampleCreate, SampleReceipt
from customslab.services.referrals import ReferralCreate
from tests.conftest import shared_data_dir
from tests.factories import (
    PASSWORD,
    Network,
    make_network,
    received_sample,
    request_command,
    request_data,
    rum_result,
)

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
SPECTRUM = "spectra/massbank-ei/MSBNK-GL_Sciences_Inc-GLS00001.txt"


@pytest.fixture
def app(database: Database, tmp_path: Path, reference_library: Path) -> Any:
    settings = Settings(
        mode="test",
        database_url=database.url,
        file_store=tmp_path / "files",
        shared_data=shared_data_dir(),
        library_path=reference_library,
    )
    return create_web_app(settings, db=database)


@pytest.fixture
def net(app: Any) -> Network:
    return make_network(app.state.uow_factory)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def csrf(client: TestClient, path: str = "/login") -> str:
    match = TOKEN.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: TestClient, net: Network, who: str) -> TestClient:
    response = client.post(
        "/login",
        data={"username": net[who].username, "password": PASSWORD, "csrf_token": csrf(client), "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def post(client: TestClient, path: str, data: dict[str, Any], **kw: Any) -> Any:
    return client.post(path, data={**data, "csrf_token": csrf(client, "/hs")}, follow_redirects=False, **kw)


def request_form(net: Network, **overrides: Any) -> dict[str, Any]:
    """The new-request form as the browser posts it: the determinations are one comma-separated field."""
    data = request_data(net, **overrides)
    return data | {"requested_determinations": ", ".join(data["requested_determinations"])}


def a_received_sample(app: Any, net: Network) -> tuple[int, int]:
    """A request filed to the central laboratory with a received sample; returns (request id, sample id)."""
    sample = received_sample(
        app.state.uow_factory,
        net,
        sample=SampleCreate(quantity="2", unit="bottle"),
        receipt=SampleReceipt(storage_location="B-2"),
    )
    return sample.request_id, sample.id


def test_a_page_without_a_session_redirects_to_the_sign_in_page(client: TestClient) -> None:
    response = client.get("/queue?state=received", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/queue")


def test_the_session_cookie_is_http_only_and_same_site_lax(client: TestClient, net: Network) -> None:
    response = client.post(
        "/login",
        data={"username": net["analyst"].username, "password": PASSWORD, "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_a_wrong_password_is_refused_with_a_plain_message(client: TestClient, net: Network) -> None:
    response = client.post(
        "/login", data={"username": net["analyst"].username, "password": "nope", "csrf_token": csrf(client)}
    )
    assert response.status_code == 401
    assert "Unknown username or wrong password." in response.text


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, net: Network
) -> None:
    sign_in(client, net, "officer")
    form = request_form(net, goods_description="Forged rum")
    response = client.post("/requests/new", data=form, follow_redirects=False)
    assert response.status_code == 403
    assert "Forged rum" not in client.get("/requests").text


def test_the_officer_files_a_request_and_sees_it_in_my_requests(client: TestClient, net: Network) -> None:
    sign_in(client, net, "officer")
    page = client.get("/requests/new")
    assert "Declared HS code" in page.text and "My requests" in page.text
    assert "Laboratory queue" not in page.text  # navigation follows the role
    form = request_form(net, goods_description="Amber rum, 40 %vol")
    response = post(client, "/requests/new", form)
    assert response.status_code == 303
    detail = client.get(response.headers["location"])
    assert "Amber rum, 40 %vol" in detail.text and "filed" in detail.text
    assert "Amber rum, 40 %vol" in client.get("/requests").text


def test_a_request_with_a_bad_field_shows_the_message_next_to_that_field(
    client: TestClient, net: Network
) -> None:
    sign_in(client, net, "officer")
    form = request_form(net, origin_country="ZZ")
    response = post(client, "/requests/new", form)
    assert response.status_code == 422
    assert 'id="origin_country-error"' in response.text
    assert 'id="origin_country" name="origin_country" type="text" value="ZZ"' in response.text


def test_the_hs_suggestions_answer_even_without_a_nomenclature(client: TestClient, net: Network) -> None:
    sign_in(client, net, "officer")
    assert client.get("/hs/suggest?declared_hs=rum").status_code == 200
    assert client.get("/hs").status_code == 200


def test_the_queue_lists_the_laboratory_samples_with_filters(
    client: TestClient, app: Any, net: Network
) -> None:
    _, sample_id = a_received_sample(app, net)
    sign_in(client, net, "central_manager")
    page = client.get("/queue")
    assert page.status_code == 200 and f"/samples/{sample_id}" in page.text
    assert "badge urgent" in page.text
    assert f"/samples/{sample_id}" not in client.get("/queue?priority=routine").text
    fragment = client.get("/queue?state=received&sort=priority", headers={"HX-Request": "true"})
    assert f"/samples/{sample_id}" in fragment.text and "<html" not in fragment.text
    assert "is not a valid state" in client.get("/queue?state=nonsense").text


def test_a_new_request_waits_on_the_queue_page_until_a_sample_is_registered(
    client: TestClient, app: Any, net: Network
) -> None:
    req = cases.file_request(app.state.uow_factory(), net["officer"], request_command(net))
    sign_in(client, net, "local_manager")
    assert req.reference in client.get("/queue").text
    response = post(client, f"/requests/{req.id}/samples", {"quantity": "1", "unit": "bottle"})
    assert response.status_code == 303
    sample_page = client.get(response.headers["location"])
    assert "registered" in sample_page.text and "Receive the sample" in sample_page.text


def test_the_sample_page_shows_custody_history_and_the_actions_of_the_role(
    client: TestClient, app: Any, net: Network
) -> None:
    _, sample_id = a_received_sample(app, net)
    sign_in(client, net, "central_manager")
    page = client.get(f"/samples/{sample_id}")
    assert "Chain of custody" in page.text and "receipt" in page.text and "B-2" in page.text
    assert "Audit history" in page.text
    assert "Add a test" in page.text and "Refer to another laboratory" in page.text
    label = client.get(f"/samples/{sample_id}/label")
    assert label.status_code == 200 and "<svg" in label.text


def test_a_laboratory_cannot_open_another_laboratorys_sample(
    client: TestClient, app: Any, net: Network
) -> None:
    req_id, sample_id = a_received_sample(app, net)
    sign_in(client, net, "outsider")
    for path in (
        f"/samples/{sample_id}",
        f"/samples/{sample_id}/label",
        f"/requests/{req_id}",
        f"/samples/{sample_id}/hs",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Rum in 700 mL bottles" not in response.text
    refused = post(client, f"/samples/{sample_id}/receive", {})
    assert refused.status_code == 404


def test_the_whole_analysis_runs_through_the_pages(client: TestClient, app: Any, net: Network) -> None:
    req_id, sample_id = a_received_sample(app, net)
    sign_in(client, net, "analyst")
    assert (
        post(
            client, f"/samples/{sample_id}/tests", {"determination": "Alcohol", "method_ref": "M-22"}
        ).status_code
        == 303
    )
    test_id = int(re.search(r"/tests/(\d+)/results", client.get(f"/samples/{sample_id}").text).group(1))
    assert post(client, f"/tests/{test_id}/results", rum_result("40.1")).status_code == 303
    page = client.get(f"/samples/{sample_id}")
    assert "40.1" in page.text and "± 0.2 (k = 2)" in page.text and "recorded" in page.text
    bad = post(client, f"/tests/{test_id}/results", {"name": "x", "value": "abc", "unit": "g"})
    assert bad.status_code == 422 and "is not a number" in bad.text
    assert post(client, f"/tests/{test_id}/submit", {}).status_code == 303
    client.cookies.clear()
    sign_in(client, net, "reviewer")
    returned = post(client, f"/tests/{test_id}/review", {"decision": "return"})
    assert returned.status_code == 422 and "Say why" in returned.text
    assert post(client, f"/tests/{test_id}/review", {"decision": "approve"}).status_code == 303
    assert "approved" in client.get(f"/samples/{sample_id}").text
    evaluation = client.get(f"/samples/{sample_id}/hs")
    assert evaluation.status_code == 200 and "2208" in evaluation.text
    client.cookies.clear()
    sign_in(client, net, "analyst")
    opinion = {
        "determined_code": "2208.40",
        "reasoning": "Rum of 40.1 %vol: below 80 %vol, so heading 22.08.",
    }
    assert post(client, f"/samples/{sample_id}/opinions", opinion).status_code == 303
    short = post(client, f"/samples/{sample_id}/opinions", {"determined_code": "2208.40", "reasoning": "x"})
    assert short.status_code == 422 and "reasoning" in short.text
    client.cookies.clear()
    sign_in(client, net, "reviewer")
    hs_page = client.get(f"/samples/{sample_id}/hs").text
    opinion_id = re.search(r'action="/opinions/(\d+)/approve"', hs_page).group(1)
    assert post(client, f"/opinions/{opinion_id}/approve", {}).status_code == 303
    assert post(client, f"/opinions/{opinion_id}/share", {}).status_code == 303
    assert "shared with the network" in client.get(f"/samples/{sample_id}/hs").text
    issued = post(client, f"/samples/{sample_id}/report", {})
    assert issued.status_code == 303
    sample_page = client.get(f"/samples/{sample_id}").text
    pdf_link = re.search(r'href="(/reports/\d+\.pdf)"', sample_page).group(1)
    pdf = client.get(pdf_link)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    client.cookies.clear()
    sign_in(client, net, "outsider")
    assert client.get(pdf_link).status_code == 404
    client.cookies.clear()
    sign_in(client, net, "officer")
    request_page = client.get(f"/requests/{req_id}")
    assert "40.1" in request_page.text and "%vol" in request_page.text


def test_the_officer_does_not_see_results_before_approval(client: TestClient, app: Any, net: Network) -> None:
    req_id, sample_id = a_received_sample(app, net)
    uow = app.state.uow_factory
    test = analysis.add_test(
        uow(), net["analyst"], sample_id, TestCreate(determination="Alcohol", method_ref="M")
    )
    assert test.id is not None
    analysis.enter_result(
        uow(), net["analyst"], test.id, ResultCreate(name="alcohol_strength", value="77.7", unit="%vol")
    )
    sign_in(client, net, "officer")
    page = client.get(f"/requests/{req_id}")
    assert "77.7" not in page.text and "once the laboratory has approved" in page.text


def test_a_sample_is_referred_from_its_page_and_leaves_the_queue(
    client: TestClient, app: Any, net: Network
) -> None:
    sample = received_sample(app.state.uow_factory, net, "local")
    sign_in(client, net, "local_manager")
    response = post(client, f"/samples/{sample.id}/refer", {"to_lab": net.central, "reason": "needs GC-MS"})
    assert response.status_code == 303
    assert f'/samples/{sample.id}"' not in client.get("/queue").text
    assert client.get(f"/samples/{sample.id}").status_code == 200  # the referring lab still reads it


def test_an_uploaded_spectrum_is_identified_and_the_hits_are_kept(
    client: TestClient, app: Any, net: Network
) -> None:
    _, sample_id = a_received_sample(app, net)
    test = analysis.add_test(
        app.state.uow_factory(), net["analyst"], sample_id, TestCreate(determination="ID", method_ref="GC-MS")
    )
    sign_in(client, net, "analyst")
    path = shared_data_dir() / SPECTRUM
    with path.open("rb") as fh:
        uploaded = post(
            client,
            f"/tests/{test.id}/identify/upload",
            {"library": "default"},
            files={"file": (path.name, fh)},
        )
    assert uploaded.status_code == 303
    page = client.get(uploaded.headers["location"])
    assert page.status_code == 200 and "Best matches" in page.text and 'id="mirror"' in page.text
    assert "alpha-MethylBenzylamine" in page.text
    sha = re.search(r'name="attachment" value="([0-9a-f]{64})"', page.text).group(1)
    kept = post(client, f"/tests/{test.id}/identify", {"attachment": sha, "library": "default"})
    assert kept.status_code == 303
    assert "Identification" in client.get(f"/samples/{sample_id}").text


def test_the_identification_forms_show_that_the_library_is_being_searched_and_disable_their_button(
    client: TestClient, app: Any, net: Network
) -> None:
    _, sample_id = a_received_sample(app, net)
    test = analysis.add_test(
        app.state.uow_factory(), net["analyst"], sample_id, TestCreate(determination="ID", method_ref="GC-MS")
    )
    sign_in(client, net, "analyst")
    page = client.get(f"/tests/{test.id}/identify").text
    forms = re.findall(r"<form[^>]*/identify(?:/upload)?\"[^>]*>", page)
    assert len(forms) == 2
    for form, busy in zip(forms, ("search-busy", "upload-busy"), strict=True):
        assert 'hx-boost="true"' in form and f'hx-indicator="#{busy}"' in form, form
        assert 'hx-disabled-elt="find button"' in form, form
        assert f'id="{busy}" class="htmx-indicator busy"' in page
    assert "Searching the library…" in page and " style=" not in page


def test_a_file_that_is_not_a_spectrum_gets_a_plain_error(client: TestClient, app: Any, net: Network) -> None:
    _, sample_id = a_received_sample(app, net)
    test = analysis.add_test(
        app.state.uow_factory(), net["analyst"], sample_id, TestCreate(determination="ID", method_ref="GC-MS")
    )
    sign_in(client, net, "analyst")
    uploaded = post(
        client, f"/tests/{test.id}/identify/upload", {}, files={"file": ("notes.txt", b"hello world")}
    )
    page = client.get(uploaded.headers["location"])
    assert "cannot be read as a spectrum" in page.text


def test_the_dashboard_page_and_its_json_come_from_the_same_figures(
    client: TestClient, app: Any, net: Network
) -> None:
    a_received_sample(app, net)
    sign_in(client, net, "coordinator")
    data = client.get("/dashboard.json").json()
    assert data["totals"]["cases"] >= 1 and net.central in data["labs"]
    assert len(data["labs"]) == len(data["cases_per_lab"]) == len(data["overdue_per_lab"])
    page = client.get("/dashboard")
    assert page.status_code == 200 and "Cases per laboratory" in page.text and "uPlot" in page.text


def test_an_analyst_may_not_see_the_network_dashboard(client: TestClient, net: Network) -> None:
    sign_in(client, net, "analyst")
    assert client.get("/dashboard.json").status_code == 403


def test_the_interface_switches_to_korean(client: TestClient, net: Network) -> None:
    sign_in(client, net, "officer")
    post(client, "/language", {"lang": "ko", "next": "/requests"})
    page = client.get("/requests")
    assert '<html lang="ko">' in page.text and "내 의뢰" in page.text


def test_sign_out_ends_the_session(client: TestClient, net: Network) -> None:
    sign_in(client, net, "officer")
    post(client, "/logout", {})
    assert client.get("/requests", follow_redirects=False).status_code == 303


def test_the_receiving_laboratory_sees_a_referred_sample_ready_for_receipt(app: Any, net: Network) -> None:
    uow = app.state.uow_factory
    sample = received_sample(uow, net, "local")
    referrals.refer_sample(
        uow(), net["local_manager"], sample.id, ReferralCreate(to_lab=net.central, reason="GC-MS")
    )
    with TestClient(app) as c:
        sign_in(c, net, "central_manager")
        page = c.get(f"/samples/{sample.id}")
        assert page.status_code == 200 and "Receive the sample" in page.text and "GC-MS" in page.text


def test_custody_share_reject_and_archive_work_from_the_sample_page(
    client: TestClient, app: Any, net: Network
) -> None:
    _, sample_id = a_received_sample(app, net)
    sign_in(client, net, "central_manager")
    moved = post(
        client,
        f"/samples/{sample_id}/custody",
        {"kind": "storage_move", "location": "Cold room 2", "seal_intact": "yes", "note": "moved for GC-MS"},
    )
    assert moved.status_code == 303
    page = client.get(f"/samples/{sample_id}").text
    assert "storage move" in page.replace("_", " ") and "Cold room 2" in page
    bad = post(client, f"/samples/{sample_id}/custody", {"kind": "referral_dispatch"})
    assert bad.status_code == 422 and "Record one of" in bad.text
    assert post(client, f"/samples/{sample_id}/share", {"org_code": net.other_lab}).status_code == 303
    no_reason = post(client, f"/samples/{sample_id}/reject", {"reason": ""})
    assert no_reason.status_code == 409 and "needs a reason" in no_reason.text
    assert (
        post(client, f"/samples/{sample_id}/reject", {"reason": "seal broken on arrival"}).status_code == 303
    )
    assert post(client, f"/samples/{sample_id}/archive", {}).status_code == 303
    assert "archived" in client.get(f"/samples/{sample_id}").text
    client.cookies.clear()
    sign_in(client, net, "outsider")  # the shared-with laboratory reads it, cannot change it
    assert client.get(f"/samples/{sample_id}").status_code == 200
    assert post(client, f"/samples/{sample_id}/custody", {"kind": "transport"}).status_code == 404


def test_the_quality_page_shows_the_laboratory_registers_and_only_its_own(
    client: TestClient, app: Any, net: Network
) -> None:
    uow, manager = app.state.uow_factory, net["central_manager"]
    instrument = equipment.EQUIPMENT.record(
        uow(), manager, equipment.EquipmentCreate(equipment_id="FTIR-9", name="ATR bench")
    )
    equipment.record_calibration(
        uow(),
        manager,
        instrument.id,
        equipment.CalibrationCreate(
            performed_on="2025-01-10",
            result="ok",
            acceptance_criteria="±0.5 cm-1",
            passed=True,
            next_due="2026-01-10",
        ),
    )
    qc.AUTHORISATIONS.record(
        uow(), manager, qc.AuthorisationCreate(user_id=net["analyst"].user_id, role="analyst")
    )
    qc.QC_BATCHES.record(
        uow(),
        net["analyst"],
        qc.QcBatchCreate(
            material="CRM <ethanol> 40 %vol", target_mean=40.0, target_sd=0.1, points=[40.0, 40.41]
        ),
    )
    sign_in(client, net, "central_manager")
    page = client.get("/quality")
    assert page.status_code == 200
    due = page.text.split('id="due"')[1].split("</section>")[0]
    assert "ATR bench (FTIR-9)" in due and "overdue" in due
    people = page.text.split('id="authorisations"')[1].split("</section>")[0]
    assert "<td>analyst</td><td>analyst</td><td>every method</td>" in people
    assert "out of control" in page.text and "1-3s" in page.text
    assert "CRM &lt;ethanol&gt; 40 %vol" in page.text and "<ethanol>" not in page.text
    assert page.text.count("<svg") == 1 and 'href="/quality"' in page.text

    post(client, "/logout", {})
    sign_in(client, net, "outsider")
    other = client.get("/quality")
    assert (
        other.status_code == 200 and "FTIR-9" not in other.text and "No instrument registered." in other.text
    )
    post(client, "/logout", {})
    sign_in(client, net, "officer")
    assert client.get("/quality").status_code == 403
