"""The controlled substances register in a laboratory's day, on SQLite and PostgreSQL: a national list
loaded (and a faulty one refused whole), a hit flagged in the API's JSON and on the page, the case marked
for the officer before approval, and the control status printed on the report.

The spectra are real: MassBank EI records of anthranilic acid (a 1988 Convention Table II precursor,
measured as its TMS derivative) among other MassBank records.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from pypdf import PdfReader
from typer.testing import CliRunner

from customslab.adapters.tables_base import metadata
from customslab.adapters.uow import Database
from customslab.config import Settings
from customslab.domain.enums import NotificationKind
from customslab.domain.errors import Conflict, PermissionDenied, ValidationFailed
from customslab.entrypoints.web.app import create_web_app
from customslab.services import analysis, notifications, queries, reports, substances
from customslab.services.analysis import ReviewDecision
from customslab.services.cases import SampleCreate
from customslab.services.notifications import NotificationQuery
from customslab.services.substances import NationalListLoad
from customslab.spectra.library import build_library
from customslab.substances.register import bundled_register
from tests.conftest import shared_data_dir
from tests.factories import PASSWORD, Network, assigned_test, received_sample
from tests.integration.conftest import signed_in

MASSBANK = shared_data_dir() / "spectra" / "massbank-ei"
ANTHRANILIC = "MSBNK-RIKEN-PR010099.txt"  # Anthranilic acid, 2 TMS (GC-EI-TOF)
NATIONAL_LIST = (
    "# A national list: its own categories, with the law that sets them\n"
    "name,synonyms,cas,inchikey,controls,source,note\n"
    "Ketamine,ketamine hydrochloride,6740-88-1,YQEZLKZALYSWHR-UHFFFAOYSA-N,"
    "national:Psychotropic (Na),Act art. 2,\n"
    "Anthranilic acid,,118-92-3,,national:Precursor (category 2),Act art. 3,\n"
)
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def precursor_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four anthranilic acid spectra and forty other MassBank EI records."""
    files = sorted(MASSBANK.glob("*.txt"))
    chosen = [f for f in files if "Anthranilic acid" in f.read_text(errors="replace")] + files[:40]
    out = tmp_path_factory.mktemp("precursors") / "default"
    build_library(sorted(set(chosen)), out)
    return out


@pytest.fixture
def app(database: Database, tmp_path: Path, precursor_library: Path) -> Any:
    settings = Settings(
        mode="test",
        database_url=database.url,
        file_store=tmp_path / "files",
        shared_data=shared_data_dir(),
        library_path=precursor_library,
    )
    return create_web_app(settings, db=database)


def _load(app: Any, net: Network, text: str = NATIONAL_LIST, **fields: Any) -> substances.NationalListView:
    cmd = NationalListLoad(
        name="KR Narcotics Control Act", reference="Act No. 20000, 2024", csv=text, **fields
    )
    return substances.load_national_list(app.state.uow_factory(), net["admin"], cmd)


def _identity_test(app: Any, net: Network) -> tuple[int, int, int]:
    """A received sample with an identity test; returns (request id, sample id, test id)."""
    s = received_sample(app.state.uow_factory, net, sample=SampleCreate(quantity="5", unit="g"))
    t = assigned_test(
        app.state.uow_factory, net, s.id, determination="identity (GC-MS)", method_ref="GC-MS-7"
    )
    return s.request_id, s.id, t.id


def _page_client(app: Any, net: Network, who: str) -> TestClient:
    client = TestClient(app)
    token = TOKEN.search(client.get("/login").text)
    assert token
    login = {"username": net[who].username, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"}
    assert client.post("/login", data=login, follow_redirects=False).status_code == 303
    return client


def _csrf(client: TestClient, path: str) -> str:
    found = TOKEN.search(client.get(path).text)
    assert found, path
    return found.group(1)


def test_the_tables_of_the_register_are_the_ones_migration_0011_creates(database: Database) -> None:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [
            d
            for d in compare_metadata(context, metadata)
            if "controlled_substance" in str(d) or "control_mark" in str(d)
        ]
    assert diffs == []
    assert {"control_mark", "control_marked_at", "control_marked_by"} <= set(
        metadata.tables["samples"].c.keys()
    )


def test_a_national_list_is_loaded_listed_and_joins_the_register_of_its_administration(
    app: Any, net: Network
) -> None:
    loaded = _load(app, net)
    assert (loaded.rows, loaded.administration_code, loaded.loaded_by) == (2, net.home, net["admin"].username)
    assert [n.name for n in substances.national_lists(app.state.uow_factory(), net["analyst"])] == [
        loaded.name
    ]
    # Another administration's reader does not get it.
    assert substances.national_lists(app.state.uow_factory(), net["rcl_manager"]) == []
    checked = substances.check_substance(
        app.state.uow_factory(), net["analyst"], bundled_register(), name="Ketamine HCl"
    )
    assert [c.label for c in checked.controls] == ["KR Narcotics Control Act: Psychotropic (Na)"]
    assert checked.controls[0].reference == "Act No. 20000, 2024"
    elsewhere = substances.check_substance(
        app.state.uow_factory(), net["rcl_manager"], bundled_register(), name="Ketamine HCl"
    )
    assert elsewhere.controls == []
    # Loading it again needs `replace`; then the new rows stand, and the audit trail has both.
    with pytest.raises(Conflict, match="already loaded") as again:
        _load(app, net)
    assert again.value.field == "name"
    one_row = NATIONAL_LIST.rsplit("\n", 2)[0] + "\n"
    assert _load(app, net, one_row, replace=True).rows == 1
    with app.state.uow_factory() as uow:
        history = uow.repo.audit_for("controlled_substance_lists", str(loaded.id))
    assert [e.action for e in history] == ["create", "update"]


def test_a_faulty_national_list_is_refused_with_its_lines_and_nothing_is_loaded(
    app: Any, net: Network
) -> None:
    bad = NATIONAL_LIST + "Cocaine,,50-36-3,,national:Narcotic,Act art. 1,\nKetamine,,,,national:X,Act,\n"
    with pytest.raises(ValidationFailed) as caught:
        _load(app, net, bad)
    message = str(caught.value)
    assert caught.value.field == "csv"
    assert "line 5: '50-36-3' is not a CAS number with a correct check digit" in message
    assert "line 6: duplicate of line 3 (the same name 'Ketamine')" in message
    assert message.endswith("Nothing was loaded.")
    assert substances.national_lists(app.state.uow_factory(), net["admin"]) == []
    with pytest.raises(PermissionDenied):
        substances.load_national_list(
            app.state.uow_factory(),
            net["analyst"],
            NationalListLoad(name="L", reference="R", csv=NATIONAL_LIST),
        )


def test_the_cli_loads_a_national_list_and_refuses_a_bad_one_with_the_line(
    app: Any, net: Network, database: Database, tmp_path: Path
) -> None:
    from customslab.entrypoints.cli import app as cli

    runner = CliRunner()
    bad = tmp_path / "bad.csv"
    bad.write_text(NATIONAL_LIST.replace("118-92-3", "118-92-4"), encoding="utf-8")
    common = ["--name", "KR list", "--reference", "Act 1", "--administration", net.home]
    refused = runner.invoke(cli, ["substances", "load", str(bad), *common, "--database-url", database.url])
    assert refused.exit_code == 2
    assert "bad.csv: line 4: '118-92-4' is not a CAS number with a correct check digit" in refused.output
    good = tmp_path / "kr.csv"
    good.write_text(NATIONAL_LIST, encoding="utf-8")
    done = runner.invoke(cli, ["substances", "load", str(good), *common, "--database-url", database.url])
    assert done.exit_code == 0, done.output
    assert f"Loaded 'KR list' for {net.home}: 2 substances" in done.output
    listed = runner.invoke(
        cli, ["substances", "list", "--administration", net.home, "--database-url", database.url]
    )
    assert "KR list: 2 substances (Act 1)" in listed.output


def test_a_controlled_hit_is_flagged_in_the_json_and_on_the_page_and_marks_the_case_for_the_officer(
    app: Any, net: Network
) -> None:
    _load(app, net)
    request_id, sample_id, test_id = _identity_test(app, net)
    query = MASSBANK / ANTHRANILIC
    with TestClient(app) as api:
        headers = signed_in(api, net, "analyst")
        files = {"file": (query.name, query.read_bytes(), "text/plain")}
        sha = api.post(f"/api/tests/{test_id}/files", files=files, headers=headers).json()["sha256"]
        found = api.post(f"/api/tests/{test_id}/identify", json={"attachment_sha256": sha}, headers=headers)
        assert found.status_code == 200, found.text
        best = found.json()["hits"][0]
        assert best["name"] == "Anthranilic acid"
        assert [(c["label"], c["matched_by"]) for c in best["controls"]] == [
            ("UN 1988 Table II", "cas"),
            ("KR Narcotics Control Act: Precursor (category 2)", "cas"),
        ]
        assert best["controls"][0]["source"].startswith("INCB Red List")
        # A hit that is not listed says so with an empty list.
        assert any(h["controls"] == [] for h in found.json()["hits"][1:])

    analyst = _page_client(app, net, "analyst")
    page = analyst.get(f"/tests/{test_id}/identify?attachment={sha}&library=default")
    assert page.status_code == 200
    assert "Controlled: UN 1988 Table II" in page.text
    assert 'data-control="national:Precursor (category 2)"' in page.text
    token = _csrf(analyst, f"/tests/{test_id}/identify")
    recorded = analyst.post(
        f"/tests/{test_id}/identify/result",
        data={"attachment": sha, "library": "default", "hit": "1", "csrf_token": token},
        follow_redirects=False,
    )
    assert recorded.status_code == 303, recorded.text
    sample_page = analyst.get(f"/samples/{sample_id}")
    mark_words = "Controlled substance: UN 1988 Table II; KR Narcotics Control Act: Precursor (category 2)"
    assert f"{mark_words} (preliminary — awaiting review)" in sample_page.text
    assert sample_page.text.count("Controlled: UN 1988 Table II") >= 2  # the identity result and its hit list

    # The officer is told, and sees the mark before approval, without the unapproved result.
    uow = app.state.uow_factory
    mine = notifications.list_notifications(uow(), net["officer"], NotificationQuery()).items
    told = [n for n in mine if n.kind is NotificationKind.CONTROLLED_SUBSTANCE]
    assert len(told) == 1 and told[0].link == f"/requests/{request_id}"
    assert "Anthranilic" not in told[0].subject
    others = notifications.list_notifications(uow(), net["officer_b"], NotificationQuery()).items
    assert all(n.kind is not NotificationKind.CONTROLLED_SUBSTANCE for n in others)
    listed = queries.my_requests(uow(), net["officer"])
    item = next(r for r in listed.items if r.id == request_id)
    assert [(m.preliminary, [e.label for e in m.entries]) for m in item.control_marks] == [
        (True, ["UN 1988 Table II", "KR Narcotics Control Act: Precursor (category 2)"])
    ]
    officer = _page_client(app, net, "officer")
    my_list = officer.get("/requests")
    assert f"{mark_words} (preliminary — awaiting review)" in my_list.text
    request_page = officer.get(f"/requests/{request_id}")
    assert "data-control-mark" in request_page.text
    assert "Anthranilic acid" not in request_page.text  # the result is not approved yet
    # Another officer of the office sees neither the request nor its mark.
    assert _page_client(app, net, "officer_b").get(f"/requests/{request_id}").status_code == 404

    # The mark is audited with the sample: what, when, by whom.
    with uow() as u:
        changes = [e for e in u.repo.audit_for("samples", str(sample_id)) if "control_mark" in e.changes]
    assert len(changes) == 1 and changes[0].actor == net["analyst"].username


def test_the_report_names_the_control_entries_under_the_identity_result(app: Any, net: Network) -> None:
    _, sample_id, test_id = _identity_test(app, net)
    uow = app.state.uow_factory
    query = MASSBANK / ANTHRANILIC
    attached = analysis.attach_file(
        uow(),
        net["analyst"],
        test_id,
        filename=query.name,
        media_type="text/plain",
        stream=io.BytesIO(query.read_bytes()),
        max_bytes=1_000_000,
    )
    from customslab.services import identification

    found = identification.search_spectrum(
        app.state.libraries, identification.read_query(query.read_bytes(), query.name), "default", 5
    )
    out = identification.record_identity_result(uow(), net["analyst"], test_id, attached.sha256, found)
    assert out.text_value == "Anthranilic acid" and [c.label for c in out.controls] == ["UN 1988 Table II"]
    analysis.submit_test(uow(), net["analyst"], test_id)
    analysis.review_test(uow(), net["reviewer"], test_id, ReviewDecision(approve=True))
    issued = reports.issue_report(uow(), net["reviewer"], sample_id)
    assert issued.id is not None
    _, pdf = reports.report_pdf(uow(), net["reviewer"], issued.id)
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    assert (
        "Control status of Anthranilic acid: Convention against Illicit Traffic in Narcotic Drugs and "
        "Psychotropic Substances, 1988, Table II." in text
    )
    with uow() as u:
        data = u.quality.get(reports.IssuedReport, issued.id).data
    line = next(r for r in data.results if r.kind == "identity")
    assert line.controls == (
        "Convention against Illicit Traffic in Narcotic Drugs and Psychotropic Substances, 1988, Table II",
    )
    assert data.verification_code() == issued.verification_code


def test_the_identify_command_prints_each_hits_control_status_in_its_json(
    precursor_library: Path, tmp_path: Path
) -> None:
    import json

    from customslab.entrypoints.cli import app as cli

    national = tmp_path / "kr-precursors.csv"
    national.write_text(NATIONAL_LIST, encoding="utf-8")
    query = str(MASSBANK / ANTHRANILIC)
    runner = CliRunner()
    out = runner.invoke(cli, ["identify", query, "--library", str(precursor_library), "--top", "3", "--json"])
    assert out.exit_code == 0, out.output
    best = json.loads(out.output)[0]["hits"][0]
    assert best["name"] == "Anthranilic acid"
    assert [c["label"] for c in best["controls"]] == ["UN 1988 Table II"]
    both = runner.invoke(
        cli, ["identify", query, "--library", str(precursor_library), "--national-list", str(national)]
    )
    assert both.exit_code == 0, both.output
    assert "[controlled: UN 1988 Table II; kr-precursors: Precursor (category 2)]" in both.output
    bad = tmp_path / "bad.csv"
    bad.write_text(
        NATIONAL_LIST.replace("national:Precursor", "UN1988:I; national:Precursor"), encoding="utf-8"
    )
    refused = runner.invoke(
        cli, ["identify", query, "--library", str(precursor_library), "--national-list", str(bad)]
    )
    assert refused.exit_code == 2 and "bad.csv: line 4:" in refused.output


def test_in_the_massbank_ei_library_only_anthranilic_acid_is_controlled() -> None:
    """Every real record's first name, CAS numbers and InChIKey, as a hit carries them."""
    register = bundled_register()
    flagged = set()
    for record in MASSBANK.glob("*.txt"):
        text = record.read_text(errors="replace")
        name = re.search(r"^CH\$NAME: (.*)$", text, re.M)
        cas = " ".join(re.findall(r"^CH\$LINK: CAS (.*)$", text, re.M))
        key = re.search(r"^CH\$LINK: INCHIKEY (.*)$", text, re.M)
        assert name is not None
        found = register.controls_for(name.group(1), cas, key.group(1) if key else None)
        flagged |= {(name.group(1), m.entry.label) for m in found}
    assert flagged == {("Anthranilic acid", "UN 1988 Table II")}


def _text_result(api: TestClient, headers: dict[str, str], test_id: int, text: str) -> None:
    body = {"kind": "text", "text_value": text}
    entered = api.post(f"/api/tests/{test_id}/results", json=body, headers=headers)
    assert entered.status_code == 201, entered.text


def _mark(app: Any, sample_id: int) -> str:
    with app.state.uow_factory() as u:
        return str(u.repo.sample(sample_id).control_mark)


def test_an_officer_of_another_administration_is_not_marked_by_the_laboratorys_national_list(
    app: Any, net: Network
) -> None:
    _load(app, net)  # the laboratory's (KR) list
    request_id, sample_id, test_id = _identity_test(app, net)
    with app.state.uow_factory() as u:
        u.repo.request(request_id).administration_code = net.member_administration
        u.commit()
    query = MASSBANK / ANTHRANILIC
    with TestClient(app) as api:
        headers = signed_in(api, net, "analyst")
        files = {"file": (query.name, query.read_bytes(), "text/plain")}
        sha = api.post(f"/api/tests/{test_id}/files", files=files, headers=headers).json()["sha256"]
        body = {"attachment_sha256": sha, "keep": True}
        found = api.post(f"/api/tests/{test_id}/identify", json=body, headers=headers).json()
        # The laboratory's own view keeps its administration's list.
        assert [c["regime"] for c in found["hits"][0]["controls"]] == ["UN1988", "national"]
        result = {"kind": "identity", "identification_id": found["identification_id"]}
        entered = api.post(f"/api/tests/{test_id}/results", json=result, headers=headers)
        assert entered.status_code == 201, entered.text
    assert _mark(app, sample_id) == "UN1988:II"


def test_a_text_finding_naming_a_controlled_substance_marks_the_case_and_a_return_clears_it(
    app: Any, net: Network
) -> None:
    _, sample_id, test_id = _identity_test(app, net)
    with TestClient(app) as api:
        headers = signed_in(api, net, "analyst")
        _text_result(api, headers, test_id, "white crystalline powder")
        assert _mark(app, sample_id) == ""
        _text_result(api, headers, test_id, "COCAINE hydrochloride")
        assert _mark(app, sample_id) == "UN1961:I"
        assert api.post(f"/api/tests/{test_id}/submit", headers=headers).status_code == 200
        reviewer = signed_in(api, net, "reviewer")
        back = {"approve": False, "reason": "The identity is not supported by a spectrum."}
        returned = api.post(f"/api/tests/{test_id}/review", json=back, headers=reviewer)
        assert returned.status_code == 200, returned.text
    assert _mark(app, sample_id) == ""
    with app.state.uow_factory() as u:
        changes = [e for e in u.repo.audit_for("samples", str(sample_id)) if "control_mark" in e.changes]
    assert [e.actor for e in changes] == [net["analyst"].username, net["reviewer"].username]


def test_the_mark_is_preliminary_until_the_test_is_approved(app: Any, net: Network) -> None:
    request_id, _, test_id = _identity_test(app, net)
    with TestClient(app) as api:
        headers = signed_in(api, net, "analyst")
        _text_result(api, headers, test_id, "Cocaine")
        officer = _page_client(app, net, "officer")
        words = "Controlled substance: UN 1961 Schedule I"
        assert f"{words} (preliminary — awaiting review)" in officer.get("/requests").text
        assert api.post(f"/api/tests/{test_id}/submit", headers=headers).status_code == 200
        approved = api.post(
            f"/api/tests/{test_id}/review", json={"approve": True}, headers=signed_in(api, net, "reviewer")
        )
        assert approved.status_code == 200, approved.text
    page = officer.get(f"/requests/{request_id}").text
    assert words in page and "awaiting review" not in page
    item = next(
        r for r in queries.my_requests(app.state.uow_factory(), net["officer"]).items if r.id == request_id
    )
    assert [m.preliminary for m in item.control_marks] == [False]
