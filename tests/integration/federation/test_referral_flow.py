"""A referral across servers, end to end in one process: a member administration without a laboratory
refers its sample to the Regional Customs Laboratory of another administration, which runs its own server.

The member files, releases one declaration field and refers; the RCL sees the request with only that
field, receives the sample, analyses and reports it; every step travels back as a signed FHIR message,
and the member sees the receipt, the results and the PDF, and verifies it. The RCL's rejection and the
member's cancellation bring the sample back to the member.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from customslab.domain.enums import CustodyKind, ReferralState, State
from customslab.domain.errors import InvalidTransition, NotFound
from customslab.domain.federation import MessageKind, OutboxMessage, OutboxState, PartnerState, TaskStatus
from customslab.domain.model import DECLARATION_FIELDS
from customslab.entrypoints.cli import app as cli_app
from customslab.services import (
    analysis,
    cases,
    confidentiality,
    federation_partners,
    federation_referral_views,
    federation_referrals,
    queries,
    referrals,
    reports,
)
from customslab.services.analysis import ResultCreate, ReviewDecision, TestCreate
from customslab.services.cases import RequestCreate, SampleCreate, SampleReceipt
from customslab.services.confidentiality import ReleaseCreate
from customslab.services.contract import parse
from customslab.services.ports import QueueFilter
from customslab.services.referrals import ReferralCreate
from customslab.services.reports import ReportAmend, ReportView
from tests.factories import PASSWORD, rum_request, rum_result, unique
from tests.integration.conftest import create_pg_database, drop_pg_database
from tests.integration.federation.two_sides import (
    MEMBER_ADMIN,
    MEMBER_ORG,
    RCL_ADMIN,
    RCL_LAB,
    THIRD_LAB,
    TOKEN,
    UNKNOWN_ORG,
    TwoSides,
    report_signature_check,
    two_sides,
)

QUESTION = "Is this rum of heading 2208?"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoSides]:
    """Both deployments on SQLite."""
    root = tmp_path_factory.mktemp("two-sides")
    with two_sides(root) as p:
        yield p


@pytest.fixture(scope="module")
def pg_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoSides]:
    """The member on PostgreSQL, the RCL on SQLite."""
    root = tmp_path_factory.mktemp("two-sides-pg")
    url = create_pg_database()
    try:
        with two_sides(root, member_url=url) as p:
            yield p
    finally:
        drop_pg_database(url)


# -- the steps ----------------------------------------------------------------------------------------


def _registered(pair: TwoSides, who: str = "focal_point", seal: str = "BT-0001") -> tuple[int, int]:
    """The focal point's request (filed to its own organisation) and the sample it registers and seals."""
    fp = pair.member[who]
    data = rum_request(fp.org_code, unique("DCL")) | {"importer": "Druk Trading", "question": QUESTION}
    req = cases.file_request(pair.member.uow(), fp, parse(RequestCreate, data))
    cmd = SampleCreate(quantity="500", unit="mL", seal_number=seal)
    sample = cases.register_sample(pair.member.uow(), fp, req.id, cmd)
    return req.id, sample.id


def _release_question(pair: TwoSides, request_id: int) -> None:
    cmd = ReleaseCreate(
        administration_code=RCL_ADMIN, fields=["question"], reason="the RCL needs the question"
    )
    confidentiality.release_declaration(pair.member.uow(), pair.member["focal_point"], request_id, cmd)


def _refer(pair: TwoSides, sample_id: int, who: str = "focal_point", to: str = RCL_LAB) -> int:
    cmd = ReferralCreate(to_lab=to, reason="no laboratory in the administration", seal_number="BT-0002")
    return referrals.refer_sample(pair.member.uow(), pair.member[who], sample_id, cmd).id


def _at_the_rcl(pair: TwoSides, lab_sample_id: str) -> int:
    """The RCL's sample that came with this label, as its queue shows it."""
    page = queries.lab_queue(pair.rcl.uow(), pair.rcl["rcl_manager"], QueueFilter(limit=200))
    (found,) = [s for s in page.items if s.lab_sample_id == lab_sample_id]
    assert found.from_administration == MEMBER_ADMIN
    return found.id


def _referred_and_carried(pair: TwoSides) -> tuple[int, int, int, str]:
    """Filed, released, referred and carried: (request id, member's sample id, referral id, RCL's sample)."""
    request_id, sid = _registered(pair)
    _release_question(pair, request_id)
    referral_id = _refer(pair, sid)
    assert pair.carry(pair.member).delivered == 1
    label = queries.sample_detail(pair.member.uow(), pair.member["focal_point"], sid).lab_sample_id
    return request_id, sid, referral_id, label


def _analyse(pair: TwoSides, rcl_sid: int, value: str = "40.1") -> int:
    """The RCL plans, measures, submits and approves the alcoholic strength: the test id."""
    manager, analyst = pair.rcl["rcl_manager"], pair.rcl["rcl_analyst"]
    plan = TestCreate(
        determination="alcoholic strength", method_ref="WCO-RCL-M-7", analyst_id=analyst.user_id
    )
    test = analysis.add_test(pair.rcl.uow(), manager, rcl_sid, plan)
    analysis.enter_result(pair.rcl.uow(), analyst, test.id, parse(ResultCreate, rum_result(value)))
    analysis.submit_test(pair.rcl.uow(), analyst, test.id)
    analysis.review_test(pair.rcl.uow(), manager, test.id, ReviewDecision(approve=True))
    return test.id


def _statuses(pair: TwoSides, side: str, stream: str | None = None) -> list[tuple[str, str]]:
    """(kind, status) of each message the side sent (on `stream`, if named), oldest first."""
    out = []
    for m in getattr(pair, side).outbox():
        if stream is None or m.stream == stream:
            out.append((m.kind.value, m.payload["body"].get("status", "")))
    return out


def _messages(pair: TwoSides, stream: str) -> list[OutboxMessage]:
    """Both sides' messages of one referral."""
    return [m for m in [*pair.member.outbox(), *pair.rcl.outbox()] if m.stream == stream]


# -- the story ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("sides", ["pair", pytest.param("pg_pair", marks=pytest.mark.postgres)])
def test_a_member_refers_to_a_partners_rcl_which_receives_analyses_and_reports_back_signed(
    sides: str, request: pytest.FixtureRequest
) -> None:
    pair: TwoSides = request.getfixturevalue(sides)
    member, rcl = pair.member, pair.rcl
    fp = member["focal_point"]
    request_id, sid = _registered(pair)
    _release_question(pair, request_id)
    referral_id = _refer(pair, sid)

    # The member's server wrote the referral and its link; only the released field travels.
    (sent,) = [m for m in member.pending() if m.kind is MessageKind.REFERRAL_REQUESTED]
    assert sent.partner_code == RCL_ADMIN and sent.stream == f"referral/{MEMBER_ADMIN}/{referral_id}"
    assert sent.payload["body"]["declaration"] == {"question": QUESTION}
    ours = queries.sample_detail(member.uow(), fp, sid)
    assert ours.lab_code == RCL_LAB and ours.state is State.REGISTERED
    (link,) = ours.external_referrals
    assert (link.direction, link.status, link.partner_code) == ("out", TaskStatus.REQUESTED, RCL_ADMIN)

    assert pair.carry(member).delivered == 1
    rcl_sid = _at_the_rcl(pair, ours.lab_sample_id)
    manager = rcl["rcl_manager"]
    theirs = queries.sample_detail(rcl.uow(), manager, rcl_sid)
    assert theirs.request.administration_code == MEMBER_ADMIN and theirs.request.office_code == MEMBER_ORG
    assert theirs.request.question == QUESTION and theirs.request.importer is None
    assert theirs.request.withheld == [f for f in DECLARATION_FIELDS if f != "question"]
    assert theirs.state is State.REGISTERED and theirs.seal_number == "BT-0002"
    assert [e.kind for e in theirs.custody] == [CustodyKind.REFERRAL_DISPATCH]
    (incoming,) = theirs.external_referrals
    assert (incoming.direction, incoming.partner_name) == ("in", "Bhutan Customs")
    assert theirs.referrals[0].from_lab == MEMBER_ORG and theirs.referrals[0].kind.value == "member_to_rcl"

    # Receipt at the RCL, seal intact: the member sees it in the sample's custody chain.
    receipt = SampleReceipt(condition="sealed bottle", seal_intact=True, note="courier DHL 123")
    cases.receive_sample(rcl.uow(), manager, rcl_sid, receipt)
    assert pair.carry(rcl).delivered == 1
    ours = queries.sample_detail(member.uow(), fp, sid)
    assert ours.state is State.RECEIVED and ours.external_referrals[0].status is TaskStatus.ACCEPTED
    last = ours.custody[-1]
    assert (last.kind, last.to, last.seal_intact) == (CustodyKind.RECEIPT, RCL_LAB, True)
    assert "sealed bottle" in last.note and "courier DHL 123" in last.note
    assert ours.referrals[0].state is ReferralState.ACCEPTED

    _analyse(pair, rcl_sid)
    issued = reports.issue_report(rcl.uow(), manager, rcl_sid)
    assert _statuses(pair, "rcl") == [
        ("task-status", "accepted"),
        ("task-status", "in-progress"),
        ("results-issued", ""),
        ("task-status", "completed"),
    ]
    assert pair.carry(rcl).delivered == 3

    # The member reads the results and the PDF; the sample is reported and the referral completed.
    detail = queries.request_detail(member.uow(), fp, request_id)
    (ext,) = detail.external_referrals
    assert ext.status is TaskStatus.COMPLETED
    (received,) = ext.reports
    assert (received.report_id, received.version, received.status) == (issued.report_id, 1, "issued")
    assert received.laboratory == "RCL Japan" and received.key_id == rcl.key.key_id
    (result,) = received.results
    assert (result.name, result.value, result.unit) == ("alcohol_strength", "40.1", "%vol")
    assert (result.expanded_uncertainty, result.coverage_factor) == ("0.2", "2")
    assert received.decision_rule == "guarded acceptance"
    ours = queries.sample_detail(member.uow(), fp, sid)
    assert ours.state is State.REPORTED and ours.referrals[0].state is ReferralState.COMPLETED
    _, pdf = reports.report_pdf(rcl.uow(), manager, issued.id)
    name, copy = federation_referral_views.received_report_pdf(member.uow(), fp, sid, received.id)
    assert copy == pdf and name == f"{issued.report_id}-v1.pdf"
    with pytest.raises(NotFound):
        federation_referral_views.received_report_pdf(
            member.uow(), member["member_officer"], sid, received.id
        )

    # `customslab report verify` on the member's server: the partner's signature holds.
    verdict = reports.verify_report(member.uow(), copy, report_signature_check)
    assert (verdict.status, verdict.identical_file, verdict.signature_valid) == ("issued", True, True)
    assert verdict.received_from == RCL_ADMIN and verdict.laboratory == "RCL Japan"
    assert verdict.signed_by == f"signed by {RCL_ADMIN} key {rcl.key.key_id}: valid"
    tampered = reports.verify_report(member.uow(), copy + b"\n%tampered\n", report_signature_check)
    assert (tampered.status, tampered.identical_file) == ("issued", False)
    forged = reports.verify_report(member.uow(), copy, lambda *_: False)
    assert (forged.status, forged.signature_valid) == ("unknown", False)
    assert "does not match" in (forged.problem or "")
    unchecked = reports.verify_report(member.uow(), copy)
    assert unchecked.status == "issued" and unchecked.signature_valid is None
    assert all(m.state is OutboxState.DELIVERED for m in [*member.outbox(), *rcl.outbox()])


def test_an_amended_report_reaches_the_member_and_the_first_version_verifies_as_superseded(
    pair: TwoSides, tmp_path: Path
):
    _, sid, _, label = _referred_and_carried(pair)
    rcl_sid = _at_the_rcl(pair, label)
    manager = pair.rcl["rcl_manager"]
    cases.receive_sample(pair.rcl.uow(), manager, rcl_sid, SampleReceipt())
    _analyse(pair, rcl_sid)
    first: ReportView = reports.issue_report(pair.rcl.uow(), manager, rcl_sid)
    reports.amend_report(
        pair.rcl.uow(), manager, first.id or 0, ReportAmend(reason="Method version corrected.")
    )
    pair.carry(pair.rcl)
    fp = pair.member["focal_point"]
    (ext,) = queries.sample_detail(pair.member.uow(), fp, sid).external_referrals
    assert [(r.version, r.status) for r in ext.reports] == [(1, "superseded"), (2, "issued")]
    _, old = federation_referral_views.received_report_pdf(pair.member.uow(), fp, sid, ext.reports[0].id)
    verdict = reports.verify_report(pair.member.uow(), old, report_signature_check)
    assert verdict.status == "superseded" and verdict.superseded_by is not None
    assert verdict.superseded_by.version == 2 and verdict.signature_valid is True
    # `customslab report verify` on the member's server checks the partner's signature too.
    _, new = federation_referral_views.received_report_pdf(pair.member.uow(), fp, sid, ext.reports[1].id)
    path = tmp_path / "received.pdf"
    path.write_bytes(new)
    run = CliRunner().invoke(
        cli_app, ["report", "verify", str(path), "--database-url", pair.member.database.url]
    )
    assert run.exit_code == 0 and run.output.startswith(f"ISSUED: report {first.report_id} version 2"), (
        run.output
    )
    assert (
        f"received from {RCL_ADMIN}'s server, signed by {RCL_ADMIN} key {pair.rcl.key.key_id}: valid"
        in run.output
    )


def test_the_rcls_rejection_returns_the_sample_to_the_member_who_may_refer_it_again(pair: TwoSides):
    _, sid, referral_id, label = _referred_and_carried(pair)
    rcl_sid = _at_the_rcl(pair, label)
    cases.reject_sample(pair.rcl.uow(), pair.rcl["rcl_manager"], rcl_sid, "seal broken on arrival")
    assert pair.carry(pair.rcl).delivered == 1
    fp = pair.member["focal_point"]
    ours = queries.sample_detail(pair.member.uow(), fp, sid)
    assert ours.lab_code == MEMBER_ORG and ours.state is State.REGISTERED
    (ext,) = ours.external_referrals
    assert (ext.status, ext.status_reason) == (TaskStatus.REJECTED, "seal broken on arrival")
    assert ours.referrals[0].state is ReferralState.DECLINED
    back = ours.custody[-1]
    assert (back.kind, back.from_, back.to) == (CustodyKind.HAND_OVER, RCL_LAB, MEMBER_ORG)
    assert "seal broken on arrival" in back.note
    # A rejected referral cannot be called off any more; the sample may go out again.
    with pytest.raises(InvalidTransition):
        federation_referrals.cancel_external_referral(pair.member.uow(), fp, referral_id, "too late")
    again = _refer(pair, sid)
    assert again != referral_id and pair.carry(pair.member).delivered == 1


def test_the_member_cancels_a_received_referral_and_the_rcl_cancels_its_sample(pair: TwoSides):
    _, sid, referral_id, label = _referred_and_carried(pair)
    rcl_sid = _at_the_rcl(pair, label)
    manager = pair.rcl["rcl_manager"]
    cases.receive_sample(pair.rcl.uow(), manager, rcl_sid, SampleReceipt())
    pair.carry(pair.rcl)
    fp = pair.member["focal_point"]
    with pytest.raises(NotFound):
        federation_referrals.cancel_external_referral(
            pair.member.uow(), pair.member["other_focal_point"], referral_id, "not theirs"
        )
    out = federation_referrals.cancel_external_referral(
        pair.member.uow(), fp, referral_id, "declaration withdrawn"
    )
    assert out.state is ReferralState.DECLINED
    ours = queries.sample_detail(pair.member.uow(), fp, sid)
    assert ours.lab_code == MEMBER_ORG and ours.state is State.REGISTERED
    assert ours.external_referrals[0].status is TaskStatus.CANCELLED
    assert pair.carry(pair.member).delivered == 1
    theirs = queries.sample_detail(pair.rcl.uow(), manager, rcl_sid)
    assert (
        theirs.state is State.CANCELLED
        and "declaration withdrawn" in theirs.external_referrals[0].status_reason
    )
    assert theirs.referrals[0].state is ReferralState.DECLINED
    # Once called off, the RCL tells the member nothing more of it: its receipt was the last word.
    stream = f"referral/{MEMBER_ADMIN}/{referral_id}"
    assert _statuses(pair, "rcl", stream) == [("task-status", "accepted")]
    assert _statuses(pair, "member", stream) == [("referral-requested", ""), ("task-status", "cancelled")]
    assert all(m.state is OutboxState.DELIVERED for m in _messages(pair, stream))


def test_the_rcl_cancelling_its_own_sample_returns_it_to_the_member(pair: TwoSides):
    _, sid, referral_id, label = _referred_and_carried(pair)
    rcl_sid = _at_the_rcl(pair, label)
    manager = pair.rcl["rcl_manager"]
    cases.receive_sample(pair.rcl.uow(), manager, rcl_sid, SampleReceipt())
    cases.cancel_sample(pair.rcl.uow(), manager, rcl_sid, "the bottle leaked in storage")
    assert pair.carry(pair.rcl).delivered == 2
    fp = pair.member["focal_point"]
    ours = queries.sample_detail(pair.member.uow(), fp, sid)
    (ext,) = ours.external_referrals
    assert (ext.status, ext.status_reason) == (TaskStatus.CANCELLED, "the bottle leaked in storage")
    # Not yet in analysis: registered again, in the member's custody, to be referred again.
    assert ours.lab_code == MEMBER_ORG and ours.state is State.REGISTERED
    assert ours.referrals[0].state is ReferralState.DECLINED
    back = ours.custody[-1]
    assert (back.kind, back.from_, back.to) == (CustodyKind.HAND_OVER, RCL_LAB, MEMBER_ORG)
    assert "the bottle leaked in storage" in back.note
    with pytest.raises(InvalidTransition):
        federation_referrals.cancel_external_referral(pair.member.uow(), fp, referral_id, "too late")


def test_a_receipt_crossing_the_members_cancellation_is_recorded_and_no_message_fails(pair: TwoSides):
    _, sid, referral_id, label = _referred_and_carried(pair)
    rcl_sid = _at_the_rcl(pair, label)
    manager = pair.rcl["rcl_manager"]
    fp = pair.member["focal_point"]
    # Both act before either hears of the other.
    cases.receive_sample(pair.rcl.uow(), manager, rcl_sid, SampleReceipt())
    federation_referrals.cancel_external_referral(pair.member.uow(), fp, referral_id, "declaration withdrawn")
    assert pair.carry(pair.member).delivered == 1
    assert pair.carry(pair.rcl).delivered == 1
    theirs = queries.sample_detail(pair.rcl.uow(), manager, rcl_sid)
    assert theirs.state is State.CANCELLED and theirs.external_referrals[0].status is TaskStatus.CANCELLED
    ours = queries.sample_detail(pair.member.uow(), fp, sid)
    (ext,) = ours.external_referrals
    assert ext.status is TaskStatus.CANCELLED
    assert ext.status_reason == (
        "declaration withdrawn; the partner reported accepted after the referral was cancelled here"
    )
    # The member's sample stays as its cancellation left it.
    assert ours.lab_code == MEMBER_ORG and ours.state is State.REGISTERED
    assert ours.custody[-1].kind is CustodyKind.HAND_OVER
    assert all(m.state is OutboxState.DELIVERED for m in _messages(pair, ext_stream(referral_id)))


def test_a_cancellation_too_late_is_recorded_by_the_rcl_which_reports_and_the_member_reads_it(
    pair: TwoSides,
):
    _, sid, referral_id, label = _referred_and_carried(pair)
    rcl_sid = _at_the_rcl(pair, label)
    manager = pair.rcl["rcl_manager"]
    cases.receive_sample(pair.rcl.uow(), manager, rcl_sid, SampleReceipt())
    _analyse(pair, rcl_sid)
    assert pair.carry(pair.rcl).delivered == 2  # accepted, in progress
    fp = pair.member["focal_point"]
    # The member's link says in progress, so the member may still call it off; its copy is cancelled.
    federation_referrals.cancel_external_referral(pair.member.uow(), fp, referral_id, "importer withdrew")
    assert queries.sample_detail(pair.member.uow(), fp, sid).state is State.CANCELLED
    assert pair.carry(pair.member).delivered == 1
    # The RCL's sample is approved: it records the cancellation and goes on.
    theirs = queries.sample_detail(pair.rcl.uow(), manager, rcl_sid)
    (incoming,) = theirs.external_referrals
    assert theirs.state is State.APPROVED and incoming.status is TaskStatus.IN_PROGRESS
    assert incoming.status_reason == (
        "the sender cancelled the referral (importer withdrew) when the sample was already approved here; "
        "the laboratory goes on and sends its report"
    )
    issued = reports.issue_report(pair.rcl.uow(), manager, rcl_sid)
    assert pair.carry(pair.rcl).delivered == 2  # the results, completed
    theirs = queries.sample_detail(pair.rcl.uow(), manager, rcl_sid)
    assert theirs.external_referrals[0].status is TaskStatus.COMPLETED
    assert "importer withdrew" in theirs.external_referrals[0].status_reason
    # The member keeps its cancellation and its sample as they were, and reads the report.
    ours = queries.sample_detail(pair.member.uow(), fp, sid)
    (ext,) = ours.external_referrals
    assert ours.state is State.CANCELLED and ext.status is TaskStatus.CANCELLED
    assert ext.status_reason == (
        "importer withdrew; the partner reported results (report "
        f"{issued.report_id} version 1) after the referral was cancelled here; "
        "the partner reported completed after the referral was cancelled here"
    )
    (received,) = ext.reports
    assert received.report_id == issued.report_id and received.results[0].value == "40.1"
    _, pdf = reports.report_pdf(pair.rcl.uow(), manager, issued.id)
    assert federation_referral_views.received_report_pdf(pair.member.uow(), fp, sid, received.id)[1] == pdf
    assert all(m.state is OutboxState.DELIVERED for m in _messages(pair, ext_stream(referral_id)))


def ext_stream(referral_id: int) -> str:
    """The stream of the member's referral."""
    return f"referral/{MEMBER_ADMIN}/{referral_id}"


def test_a_referral_to_a_laboratory_without_a_partner_server_stays_on_this_server(pair: TwoSides):
    _, sid = _registered(pair)
    before = len(pair.member.outbox())
    referral_id = _refer(pair, sid, to=THIRD_LAB)
    assert len(pair.member.outbox()) == before
    fp = pair.member["focal_point"]
    assert queries.sample_detail(pair.member.uow(), fp, sid).external_referrals == []
    with pytest.raises(InvalidTransition, match="went to a laboratory of this server"):
        federation_referrals.cancel_external_referral(pair.member.uow(), fp, referral_id, "not external")


def test_a_referral_to_a_suspended_partner_waits_in_the_outbox_until_it_is_resumed(pair: TwoSides):
    federation_partners.set_partner_state(pair.member.uow(), None, RCL_ADMIN, PartnerState.SUSPENDED)
    try:
        _, sid = _registered(pair)
        _refer(pair, sid)
        assert pair.carry(pair.member).sent == 0
        assert [m.kind for m in pair.member.pending()] == [MessageKind.REFERRAL_REQUESTED]
    finally:
        federation_partners.set_partner_state(pair.member.uow(), None, RCL_ADMIN, PartnerState.ACTIVE)
    assert pair.carry(pair.member).delivered == 1


def test_the_rcl_refuses_a_referral_from_an_organisation_its_directory_does_not_know(pair: TwoSides):
    _, sid = _registered(pair, who="other_focal_point")
    referral_id = _refer(pair, sid, who="other_focal_point")
    label = queries.sample_detail(pair.member.uow(), pair.member["other_focal_point"], sid).lab_sample_id
    assert pair.carry(pair.member).failed == 1
    (failed,) = [m for m in _messages(pair, ext_stream(referral_id)) if m.state is OutboxState.FAILED]
    assert failed.last_error.startswith("HTTP 422") and UNKNOWN_ORG in failed.last_error
    with pair.rcl.uow() as uow:
        assert uow.federation.link(MEMBER_ADMIN, "in", failed.stream) is None
        assert uow.repo.sample_by_lab_id(label) is None
        assert uow.repo.user_by_name(f"remote.{UNKNOWN_ORG}") is None


@pytest.mark.slow
def test_the_pages_show_the_referral_on_both_servers_and_the_member_downloads_the_received_pdf(
    pair: TwoSides,
):
    request_id, sid, _, label = _referred_and_carried(pair)
    rcl_sid = _at_the_rcl(pair, label)
    with pair.rcl.pages("rcl_manager") as rcl:
        queue = rcl.get("/queue").text
        assert f"from {MEMBER_ADMIN}" in queue and label in queue
        page = rcl.get(f"/samples/{rcl_sid}").text
        assert "External referral from Bhutan Customs" in page and QUESTION in page
        assert "Druk Trading" not in page and "withheld by the sending administration" in page
    manager = pair.rcl["rcl_manager"]
    cases.receive_sample(pair.rcl.uow(), manager, rcl_sid, SampleReceipt())
    _analyse(pair, rcl_sid, value="39.8")
    reports.issue_report(pair.rcl.uow(), manager, rcl_sid)
    pair.carry(pair.rcl)
    with pair.member.pages("focal_point") as member:
        page = member.get(f"/requests/{request_id}").text
        assert "Referred to the server of Japan Customs" in page and "39.8" in page
        (link,) = re.findall(rf'href="(/samples/{sid}/received-reports/\d+\.pdf)"', page)
        pdf = member.get(link)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        login = {"username": pair.member["focal_point"].username, "password": PASSWORD}
        bearer = {
            "Authorization": f"Bearer {member.post('/api/auth/token', json=login).json()['access_token']}"
        }
        api = member.get(link.replace("/samples", "/api/samples").replace(".pdf", "/pdf"), headers=bearer)
        assert api.status_code == 200 and api.content == pdf.content
        files = {"file": ("r.pdf", pdf.content)}
        verdict = member.post("/api/reports/verify", files=files, headers=bearer).json()
        assert (verdict["status"], verdict["signature_valid"], verdict["received_from"]) == (
            "issued",
            True,
            RCL_ADMIN,
        )
        assert "Cancel the referral" not in member.get(f"/samples/{sid}").text  # completed
    with pair.member.pages("member_officer") as officer:
        assert officer.get(link).status_code == 404


def test_the_sample_pages_cancel_route_refuses_a_referral_of_another_sample(pair: TwoSides):
    _, sid, referral_id, _ = _referred_and_carried(pair)
    with pair.member.pages("focal_point") as member:
        token = TOKEN.search(member.get(f"/samples/{sid}").text)
        assert token
        done = member.post(
            f"/samples/{sid + 1000}/external-referrals/{referral_id}/cancel",
            data={"reason": "sent by mistake", "csrf_token": token[1]},
            follow_redirects=False,
        )
        assert done.status_code == 404
        assert "Cancel the referral" in member.get(f"/samples/{sid}").text
    assert pair.member.pending() == []


def test_the_referrer_cancels_through_the_sample_page(pair: TwoSides):
    _, sid, referral_id, _ = _referred_and_carried(pair)
    with pair.member.pages("focal_point") as member:
        page = member.get(f"/samples/{sid}").text
        assert "Cancel the referral" in page
        token = TOKEN.search(page)
        assert token
        done = member.post(
            f"/samples/{sid}/external-referrals/{referral_id}/cancel",
            data={"reason": "sent by mistake", "csrf_token": token[1]},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert "Cancel the referral" not in member.get(f"/samples/{sid}").text
    assert [m.payload["body"]["status"] for m in pair.member.pending()] == ["cancelled"]
    assert pair.carry(pair.member).delivered == 1
