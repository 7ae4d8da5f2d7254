"""A joint analysis from opening to the document for the WCO HS Committee, on SQLite and PostgreSQL.

Three administrations of the test network take part: Korea (its central laboratory), Japan (the RCL's
own laboratory) and Bhutan, a member without a laboratory, for which the RCL records. Each links its own
sample or sub-sample, measures cocoa on it and writes an opinion through the ordinary use cases; the RCL's
coordinator consolidates, explaining the difference. Participants see each other's measurements and
opinions but never each other's declaration data; anyone else gets 404.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from pypdf import PdfReader

from customslab.adapters.tables_base import metadata
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.config import Settings
from customslab.domain.access import Actor
from customslab.domain.enums import Role
from customslab.domain.errors import Conflict
from customslab.domain.model import DECLARATION_FIELDS
from customslab.entrypoints.demo_setup import load_demo
from customslab.entrypoints.web.app import create_web_app
from customslab.services import analysis, auth, cases
from customslab.services import joint_analysis as joint
from customslab.services.analysis import ResultCreate, ReviewDecision, TestCreate
from customslab.services.cases import SampleCreate, SampleReceipt
from customslab.services.contract import parse
from customslab.services.joint_analysis import JointAnalysisCreate, JointConsolidation, JointSampleLink
from tests.factories import PASSWORD, Network, make_network, received_sample, request_command, unique
from tests.integration.conftest import signed_in
from tests.integration.test_pages import post, sign_in
from tests.joint_support import JP_REASONING, KR_REASONING, approved_opinion, japans_sub_sample

UowFactory = Callable[[], Any]

BT_IMPORTER = "Druk Wholesale Imports"
GOODS = "Chocolate-flavoured puffed breakfast cereal"
EXPLANATION = (
    "The Korean result (5.9 %) and the others (6.4 %, 6.5 %) straddle the 6 % limit; the Korean sample was "
    "taken from the top of the lot, where the cocoa coating is thinner."
)


@dataclass
class Story:
    """The network, the extra people the story needs, and the three participants' samples."""

    net: Network
    rcl_analyst: Actor
    focal_point: Actor
    kr_sample: int
    jp_sample: int
    bt_sample: int
    kr_declaration: str
    bt_declaration: str


def _person(uow_factory: UowFactory, org: str, role: Role) -> Actor:
    name = unique(role.value)
    fields = {"username": name, "full_name": name, "org_code": org, "roles": [role], "password": PASSWORD}
    out = auth.add_user(uow_factory(), parse(auth.UserCreate, fields))
    return Actor(out.id, out.username, org, frozenset({role}))


def _story(uow_factory: UowFactory, net: Network) -> Story:
    """Korea's own sample at its central laboratory, a sub-sample of it referred to the RCL for Japan, and
    Bhutan's sample filed by its focal point to the RCL (with Bhutan's own declaration data)."""
    rcl_analyst = _person(uow_factory, net.rcl, Role.ANALYST)
    focal_point = _person(uow_factory, net.member, Role.FOCAL_POINT)
    kr_request = cases.file_request(
        uow_factory(),
        net["officer"],
        request_command(net, lab_code=net.central, declared_hs="1904.10", goods_description=GOODS),
    )
    kr = cases.register_sample(
        uow_factory(), net["central_manager"], kr_request.id, SampleCreate(quantity="500", unit="g")
    )
    cases.receive_sample(uow_factory(), net["central_manager"], kr.id, SampleReceipt())
    sub = japans_sub_sample(uow_factory, net, kr.id)
    assert sub.lab_sample_id is not None
    jp_id = sub.sample_id
    bt_declaration = unique("BT-DCL")
    bt_request = cases.file_request(
        uow_factory(),
        focal_point,
        request_command(
            net,
            lab_code=net.rcl,
            declaration_number=bt_declaration,
            importer=BT_IMPORTER,
            declared_value="4321",
            currency="BTN",
            origin_country="IN",
            declared_hs="1901.90",
            goods_description=GOODS,
            question="Preparation of 19.01 or of 18.06?",
        ),
    )
    bt = cases.register_sample(
        uow_factory(), net["rcl_manager"], bt_request.id, SampleCreate(quantity="1", unit="kg")
    )
    cases.receive_sample(uow_factory(), net["rcl_manager"], bt.id, SampleReceipt())
    return Story(
        net, rcl_analyst, focal_point, kr.id, jp_id, bt.id, kr_request.declaration_number, bt_declaration
    )


def _measure(
    uow_factory: UowFactory,
    manager: Actor,
    analyst: Actor,
    reviewer: Actor,
    sample: int,
    value: str,
    screened: bool = False,
) -> None:
    test = analysis.add_test(
        uow_factory(),
        manager,
        sample,
        TestCreate(determination="Cocoa content", method_ref="HPLC theobromine", analyst_id=analyst.user_id),
    )
    result = ResultCreate(
        name="cocoa_defatted", value=value, unit="%", expanded_uncertainty="0.3", coverage_factor="2"
    )
    analysis.enter_result(uow_factory(), analyst, test.id, result)
    if screened:  # a qualitative result beside the quantity: its outcome, with no value
        melamine = ResultCreate(
            name="melamine", kind="detection", text_value="not_detected", lod="0.5", unit="mg/kg"
        )
        analysis.enter_result(uow_factory(), analyst, test.id, melamine)
    analysis.submit_test(uow_factory(), analyst, test.id)
    analysis.review_test(uow_factory(), reviewer, test.id, ReviewDecision(approve=True))


def _measure_all(uow_factory: UowFactory, s: Story) -> None:
    net = s.net
    _measure(uow_factory, net["central_manager"], net["analyst"], net["reviewer"], s.kr_sample, "5.9")
    _measure(uow_factory, net["rcl_manager"], s.rcl_analyst, net["rcl_manager"], s.jp_sample, "6.4")
    _measure(uow_factory, net["rcl_manager"], s.rcl_analyst, net["rcl_manager"], s.bt_sample, "6.5", True)


def _opening(net: Network) -> dict[str, Any]:
    return {
        "product": "Chocolate-flavoured puffed breakfast cereal",
        "participants": [
            {"administration_code": net.home, "declared_code": "1904.10", "lab_code": net.central},
            {"administration_code": net.rcl_administration, "declared_code": "1806.90"},
            {"administration_code": net.member_administration, "declared_code": "1901.90"},
        ],
    }


def _keys(tree: Any) -> set[str]:
    if isinstance(tree, dict):
        return set(tree) | {k for v in tree.values() for k in _keys(v)}
    if isinstance(tree, list):
        return {k for v in tree for k in _keys(v)}
    return set()


def test_a_joint_analysis_runs_from_opening_to_the_document_for_the_hs_committee(
    api: tuple[TestClient, Network],
) -> None:
    client, net = api
    uow_factory = client.app.state.uow_factory  # type: ignore[attr-defined]
    s = _story(uow_factory, net)
    coordinator = signed_in(client, net, "coordinator")
    central, rcl = signed_in(client, net, "central_manager"), signed_in(client, net, "rcl_manager")
    kr, jp, bt = net.home, net.rcl_administration, net.member_administration

    opened = client.post("/api/joint-analyses", json=_opening(net), headers=coordinator)
    assert opened.status_code == 201, opened.text
    ja = opened.json()
    url = f"/api/joint-analyses/{ja['id']}"
    assert ja["reference"].startswith(f"JA-{datetime.now(UTC).year}-") and ja["state"] == "open"
    labs = {
        p["administration_code"]: (p["lab_code"], p["on_behalf"], p["status"]) for p in ja["participants"]
    }
    assert labs == {
        kr: (net.central, False, "awaiting_sample"),
        jp: (net.rcl, False, "awaiting_sample"),
        bt: (net.rcl, True, "awaiting_sample"),
    }

    # Each laboratory links the sample it holds; the RCL says which participant, as it records for two.
    assert client.post(f"{url}/samples", json={"sample_id": s.kr_sample}, headers=central).status_code == 200
    ambiguous = client.post(f"{url}/samples", json={"sample_id": s.jp_sample}, headers=rcl)
    assert ambiguous.status_code == 422 and ambiguous.json()["field"] == "administration_code"
    not_bhutans = client.post(
        f"{url}/samples", json={"sample_id": s.jp_sample, "administration_code": bt}, headers=rcl
    )
    assert (
        not_bhutans.status_code == 422 and "did not come from administration" in not_bhutans.json()["error"]
    )
    for sample, administration in ((s.jp_sample, jp), (s.bt_sample, bt)):
        linked = client.post(
            f"{url}/samples", json={"sample_id": sample, "administration_code": administration}, headers=rcl
        )
        assert linked.status_code == 200, linked.text
    assert {p["status"] for p in linked.json()["participants"]} == {"awaiting_opinion"}

    # Measurements and opinions are the ordinary use cases on each participant's own sample.
    _measure_all(uow_factory, s)
    approved_opinion(uow_factory, net["analyst"], net["reviewer"], s.kr_sample, "1904.10", KR_REASONING)
    approved_opinion(uow_factory, s.rcl_analyst, net["rcl_manager"], s.jp_sample, "1806.90", JP_REASONING)

    consolidation = {"determined_code": "1806.90", "reasoning": JP_REASONING, "explanations": []}
    early = client.post(f"{url}/consolidation", json=consolidation, headers=coordinator)
    assert early.status_code == 409 and f"{bt}: no approved opinion yet" in early.json()["error"]
    assert client.get(url, headers=central).json()["missing"] == [
        f"{bt}: no approved opinion yet ({net.rcl})"
    ]

    approved_opinion(uow_factory, s.rcl_analyst, net["rcl_manager"], s.bt_sample, "1806.90", JP_REASONING)
    unexplained = client.post(f"{url}/consolidation", json=consolidation, headers=coordinator)
    assert unexplained.status_code == 422 and unexplained.json()["field"] == "explanations"
    assert f"consolidated code: {kr}." in unexplained.json()["error"]
    by_a_participant = client.post(f"{url}/consolidation", json=consolidation, headers=central)
    assert by_a_participant.status_code == 403
    consolidation["explanations"] = [{"administration_code": kr, "explanation": EXPLANATION}]
    done = client.post(f"{url}/consolidation", json=consolidation, headers=coordinator)
    assert done.status_code == 200, done.text
    view = done.json()
    assert view["state"] == "consolidated" and view["consolidated"]["determined_code"] == "180690"
    parts = {p["administration_code"]: p for p in view["participants"]}
    assert (parts[kr]["differs"], parts[kr]["explanation"]) == (True, EXPLANATION)
    assert (parts[jp]["differs"], parts[bt]["differs"]) == (False, False)
    assert parts[kr]["opinion"]["determined_code"] == "190410"
    assert "HS 2022 Chapter 19, Note 3" in {r["source"] for r in parts[jp]["opinion"]["rules"]}
    late = client.post(f"{url}/samples", json={"sample_id": s.kr_sample}, headers=central)
    assert late.status_code == 409 and "after consolidation" in late.json()["error"]

    # The Korean laboratory reads Japan's and Bhutan's measurements and opinions, not their declarations.
    reviewer = signed_in(client, net, "reviewer")
    exported = client.get(f"{url}.json", headers=reviewer)
    assert exported.status_code == 200, exported.text
    document = exported.json()
    parts = {p["administration_code"]: p for p in document["participants"]}
    measured = {(m["name"], m["value"], m["kind"], m["text_value"]) for m in parts[bt]["measurements"]}
    # A qualitative result travels with its outcome, not as an empty value.
    assert measured == {
        ("cocoa_defatted", "6.5", "quantity", ""),
        ("melamine", None, "detection", "not_detected"),
    }
    assert parts[jp]["opinion"]["reasoning"] == JP_REASONING and parts[bt]["origin_country"] == "IN"
    assert not _keys(document) & set(DECLARATION_FIELDS)
    text = json.dumps(document)
    for secret in (
        BT_IMPORTER,
        s.bt_declaration,
        "4321",
        "BTN",
        "Preparation of 19.01",
        s.kr_declaration,
        "Hanbit",
    ):
        assert secret not in text
    assert client.get(f"/api/samples/{s.bt_sample}", headers=reviewer).status_code == 404

    pdf = client.get(f"{url}.pdf", headers=reviewer)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    printed = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    printed = " ".join(printed.split())
    for expected in (
        ja["reference"],
        "WCO HS Committee",
        "1806.90",
        "1904.10",
        "6.4",
        "puffed cereal stays",
        "not detected",
    ):
        assert expected in printed, expected
    assert "The Korean result (5.9 %)" in printed
    for secret in (BT_IMPORTER, s.bt_declaration, s.kr_declaration, "Hanbit"):
        assert secret not in printed

    # The member's focal point follows it; a laboratory and an administrator not in it get 404.
    focal = client.post("/api/auth/token", json={"username": s.focal_point.username, "password": PASSWORD})
    member = {"Authorization": f"Bearer {focal.json()['access_token']}"}
    assert client.get(url, headers=member).status_code == 200
    assert [j["reference"] for j in client.get("/api/joint-analyses", headers=member).json()] == [
        ja["reference"]
    ]
    for who in ("outsider", "admin", "local_manager"):
        headers = signed_in(client, net, who)
        for path in (url, f"{url}.json", f"{url}.pdf"):
            assert client.get(path, headers=headers).status_code == 404, (who, path)
        assert ja["id"] not in {j["id"] for j in client.get("/api/joint-analyses", headers=headers).json()}


def test_bad_input_is_refused_with_a_clear_4xx_and_nothing_is_written(
    api: tuple[TestClient, Network],
) -> None:
    client, net = api
    coordinator = signed_in(client, net, "coordinator")
    before = client.get("/api/joint-analyses", headers=coordinator).json()
    body = _opening(net)

    def post(payload: dict[str, Any], headers: dict[str, str] = coordinator) -> Any:
        return client.post("/api/joint-analyses", json=payload, headers=headers)

    alone = post(body | {"participants": body["participants"][:1]})
    assert alone.status_code == 422 and "at least 2" in alone.json()["error"]
    unknown = post(
        body
        | {
            "participants": [
                *body["participants"][:2],
                {"administration_code": "ZZ", "declared_code": "1806"},
            ]
        }
    )
    assert unknown.status_code == 404 and "There is no administration 'ZZ'" in unknown.json()["error"]
    twice = post(body | {"participants": [*body["participants"], body["participants"][0]]})
    assert twice.status_code == 422 and "named twice" in twice.json()["error"]
    foreign = [{**body["participants"][0], "lab_code": net.rcl}, body["participants"][1]]
    assert post(body | {"participants": foreign}).status_code == 422
    several = [{"administration_code": net.home, "declared_code": "1904.10"}, body["participants"][1]]
    assert "Name the laboratory" in post(body | {"participants": several}).json()["error"]
    bad_code = [{**body["participants"][0], "declared_code": "19x4"}, body["participants"][1]]
    assert post(body | {"participants": bad_code}).status_code == 422
    assert post(body | {"colour": "red"}).status_code == 422
    not_an_rcl = post(body, signed_in(client, net, "central_manager"))
    assert not_an_rcl.status_code == 403
    assert client.get("/api/joint-analyses", headers=coordinator).json() == before

    ja = post(body).json()
    url = f"/api/joint-analyses/{ja['id']}"
    central = signed_in(client, net, "central_manager")
    assert client.post(f"{url}/samples", json={"sample_id": 2**31}, headers=central).status_code == 422
    assert client.post(f"{url}/samples", json={"sample_id": 999_999}, headers=central).status_code == 404
    assert client.post(f"{url}/samples", json={"sample_id": True}, headers=central).status_code == 422
    outsider = signed_in(client, net, "outsider")
    assert client.post(f"{url}/samples", json={"sample_id": 1}, headers=outsider).status_code == 404
    assert client.get("/api/joint-analyses/999999", headers=coordinator).status_code == 404
    assert client.get("/api/joint-analyses/0", headers=coordinator).status_code == 422
    short = {"determined_code": "1806", "reasoning": "because"}
    assert client.post(f"{url}/consolidation", json=short, headers=coordinator).status_code == 422
    assert client.get(url, headers=coordinator).json()["state"] == "open"


def test_the_sql_list_and_the_domains_verdict_agree_for_every_user(api: tuple[TestClient, Network]) -> None:
    client, net = api
    uow_factory = client.app.state.uow_factory  # type: ignore[attr-defined]
    opened = joint.open_joint_analysis(
        uow_factory(), net["coordinator"], parse(JointAnalysisCreate, _opening(net))
    )
    focal_point = _person(uow_factory, net.member, Role.FOCAL_POINT)
    seen_by = set()
    for name, actor in [*net.users.items(), ("focal_point", focal_point)]:
        listed = opened.id in {j.id for j in joint.list_joint_analyses(uow_factory(), actor)}
        try:
            joint.joint_analysis_detail(uow_factory(), actor, opened.id)
            detail = True
        except Exception:
            detail = False
        assert listed == detail, name
        if listed:
            seen_by.add(name)
    assert seen_by == {"central_manager", "analyst", "reviewer", "rcl_manager", "coordinator", "focal_point"}


def test_a_second_consolidation_made_at_the_same_time_gets_a_409_and_changes_nothing(
    database: Database, tmp_path: Path
) -> None:
    files = LocalFileStore(tmp_path / "files")

    def factory(clock: Callable[[], datetime] | None = None) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(database, files, clock=clock or (lambda: datetime.now(UTC)))

    net = make_network(factory)
    s = _story(factory, net)
    ja = joint.open_joint_analysis(factory(), net["coordinator"], parse(JointAnalysisCreate, _opening(net)))
    links = (
        (s.kr_sample, None),
        (s.jp_sample, net.rcl_administration),
        (s.bt_sample, net.member_administration),
    )
    for (sample, administration), who in zip(
        links, ("central_manager", "rcl_manager", "rcl_manager"), strict=True
    ):
        joint.link_sample(
            factory(), net[who], ja.id, JointSampleLink(sample_id=sample, administration_code=administration)
        )
    _measure_all(factory, s)
    approved_opinion(factory, net["analyst"], net["reviewer"], s.kr_sample, "1806.90", JP_REASONING)
    approved_opinion(factory, s.rcl_analyst, net["rcl_manager"], s.jp_sample, "1806.90", JP_REASONING)
    approved_opinion(factory, s.rcl_analyst, net["rcl_manager"], s.bt_sample, "1806.90", JP_REASONING)
    # A relink after the opinion on the linked sample is approved is refused by the rules, whatever
    # the timing; two coordinators consolidating at once meet the record's version instead.
    other = received_sample(factory, net, "central")
    relink = JointSampleLink(sample_id=other.id)
    with pytest.raises(Conflict, match="opinion on its linked sample is approved"):
        joint.link_sample(factory(), net["central_manager"], ja.id, relink)
    consolidation = JointConsolidation(determined_code="1806.90", reasoning=JP_REASONING)
    rival: list[Any] = []

    def clock_that_lets_the_other_coordinator_in() -> datetime:
        if not rival:
            rival.append(joint.consolidate(factory(), net["coordinator"], ja.id, consolidation))
        return datetime.now(UTC)

    with pytest.raises(Conflict) as refused:
        joint.consolidate(
            factory(clock_that_lets_the_other_coordinator_in), net["coordinator"], ja.id, consolidation
        )
    assert rival and rival[0].state == "consolidated"
    # Whichever record of the joint analysis the loser's check met first, the message names it.
    message = refused.value.message
    assert message.startswith(("Joint analysis " + ja.reference, "Joint-analysis participant "))
    assert "nothing of yours was saved" in message
    after = joint.joint_analysis_detail(factory(), net["central_manager"], ja.id)
    assert {p.sample_id for p in after.participants} == {s.kr_sample, s.jp_sample, s.bt_sample}
    with factory() as uow:
        trail = uow.repo.audit_for("joint_analyses", str(ja.id))
    assert [e.actor for e in trail][-1] == net["coordinator"].username


def test_the_joint_analysis_tables_are_the_ones_the_migration_creates(database: Database) -> None:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, metadata) if "joint_" in str(d)]
    assert {"joint_analyses", "joint_participants"} <= set(metadata.tables)
    assert diffs == []


@pytest.fixture
def web(database: Database, tmp_path: Path) -> Iterator[tuple[TestClient, Network]]:
    settings = Settings(mode="test", database_url=database.url, file_store=tmp_path / "files")
    app = create_web_app(settings, db=database)
    net = make_network(app.state.uow_factory)
    with TestClient(app) as client:
        yield client, net


def test_the_coordinator_opens_and_a_participant_links_through_the_pages(
    web: tuple[TestClient, Network],
) -> None:
    client, net = web
    uow_factory = client.app.state.uow_factory  # type: ignore[attr-defined]
    s = _story(uow_factory, net)
    page = sign_in(client, net, "coordinator").get("/joint-analyses")
    assert page.status_code == 200 and "Open a joint analysis" in page.text
    form = {"product": GOODS}
    for row, p in enumerate(_opening(net)["participants"]):
        form |= {f"{k}-{row}": v for k, v in p.items()}
    opened = post(client, "/joint-analyses", form)
    assert opened.status_code == 303, opened.text
    detail_url = opened.headers["location"]
    detail = client.get(detail_url)
    assert "Write the consolidated opinion" in detail.text
    # The RCL records for Japan and for Bhutan: its own samples are offered, Korea's is not.
    assert f'value="{s.bt_sample}"' in detail.text and f'value="{s.kr_sample}"' not in detail.text
    assert client.get(detail_url + ".pdf").content.startswith(b"%PDF")

    client.cookies.clear()
    sign_in(client, net, "central_manager")
    detail = client.get(detail_url)
    assert "Link your laboratory" in detail.text and "Write the consolidated opinion" not in detail.text
    assert f'value="{s.kr_sample}"' in detail.text and f'value="{s.bt_sample}"' not in detail.text
    linked = post(
        client, f"{detail_url}/samples", {"sample_id": str(s.kr_sample), "administration_code": net.home}
    )
    assert linked.status_code == 303
    assert "awaiting opinion" in client.get(detail_url).text
    assert "Joint analyses" in client.get("/joint-analyses").text

    client.cookies.clear()
    sign_in(client, net, "outsider")
    assert client.get(detail_url).status_code == 404
    assert client.get(detail_url + ".json").status_code == 404
    assert detail_url not in client.get("/joint-analyses").text


def test_the_demo_network_has_a_joint_analysis_in_progress_between_three_administrations(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    assert load_demo(Settings(mode="demo", database_url=url, file_store=tmp_path / "files"), n_requests=8)
    db = Database(url)
    factory = lambda: SqlAlchemyUnitOfWork(db, LocalFileStore(tmp_path / "files"))  # noqa: E731
    try:
        with factory() as uow:
            coordinator = uow.repo.user_by_name("coordinator")
            assert coordinator is not None and coordinator.id is not None
            actor = Actor(coordinator.id, "coordinator", "RCL-JP", frozenset({Role.NETWORK_COORDINATOR}))
        [summary] = joint.list_joint_analyses(factory(), actor)
        view = joint.joint_analysis_detail(factory(), actor, summary.id)
    finally:
        db.dispose()
    assert view.state == "open" and summary.administrations == ["KCS", "JPC", "INC"]
    opinions = {
        p.administration_code: p.opinion.determined_code if p.opinion else None for p in view.participants
    }
    assert opinions == {"KCS": "190410", "JPC": "180690", "INC": None}
    assert view.missing == ["INC: no approved opinion yet (RCL-IN)"]
    assert all(p.sample_id is not None for p in view.participants)
