"""The pure pieces of referrals across servers: what travels, how the sender's copy follows the partner's
progress, and how a received report's signature is judged."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from customslab.domain.enums import CustodyKind, Priority, Reason, ReferralKind, ReferralState, State
from customslab.domain.errors import InvalidTransition, ValidationFailed
from customslab.domain.federation import (
    Envelope,
    FederatedLink,
    FederationKey,
    Partner,
    PartnerState,
    ReceivedReport,
    SpecimenData,
    TaskStatus,
    TaskStatusChanged,
    report_statement,
)
from customslab.domain.model import (
    Administration,
    AnalysisRequest,
    DeclarationRelease,
    Referral,
    Sample,
)
from customslab.domain.quality import report as r
from customslab.services import reports
from customslab.services.federation_received import signature_verdict
from customslab.services.federation_referral_handlers import _incoming, task_status_changed
from customslab.services.federation_referral_handlers import referral_requested as referral_requested_handler
from customslab.services.federation_referral_replies import advance
from customslab.services.federation_referral_views import download_name
from customslab.services.federation_referrals import (
    conclusion_of,
    decision_rule_of,
    notify_partner,
    ref_of,
    referral_requested,
    released_declaration,
    return_to_referrer,
)
from tests.unit.fakes import FakeUnitOfWork

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _request() -> AnalysisRequest:
    return AnalysisRequest(
        reference="REQ-2026-000001",
        office_code="BT-FP",
        requester_id=1,
        lab_code="BT-FP",
        declaration_number="DCL-1",
        item_number=2,
        declared_hs="220840",
        goods_description="Rum",
        origin_country="JM",
        reason=Reason.CLASSIFICATION,
        priority=Priority.URGENT,
        due_date=date(2026, 11, 5),
        created_at=NOW,
        importer="Druk Trading",
        declared_value=None,
        question="Heading 2208?",
        id=7,
        administration_code="BTC",
    )


def _sample(state: State = State.REGISTERED) -> Sample:
    return Sample(
        "BT-FP-2026-00001", "RCL-JP", "Rum", Decimal("500"), "mL", state, NOW, "BT-2", id=3, request_id=7
    )


def _referral() -> Referral:
    return Referral(
        3, "BT-FP", "RCL-JP", ReferralKind.MEMBER_TO_RCL, ReferralState.SENT, "no lab", 1, NOW, id=11
    )


def test_only_the_declaration_fields_released_to_the_receiving_administration_travel() -> None:
    releases = [
        DeclarationRelease(7, "JPC", "question", 1, NOW),
        DeclarationRelease(7, "JPC", "declared_value", 1, NOW),  # released, but the request has none
        DeclarationRelease(7, "KRC", "importer", 1, NOW),  # released to another administration
    ]
    assert released_declaration(_request(), releases, "JPC") == {"question": "Heading 2208?"}
    assert released_declaration(_request(), [], "JPC") == {}


def test_a_referral_message_names_the_referral_the_case_and_the_sealed_specimen() -> None:
    body = referral_requested(_request(), _sample(), _referral(), {"item_number": "2"})
    assert (body.ref, body.from_org, body.to_lab, body.request_reference) == (
        "11",
        "BT-FP",
        "RCL-JP",
        "REQ-2026-000001",
    )
    assert (body.analysis_reason, body.priority, body.declared_hs) == ("classification", "urgent", "220840")
    assert body.specimen == SpecimenData("BT-FP-2026-00001", "Rum", Decimal("500"), "mL", "BT-2", "")
    assert body.declaration == {"item_number": "2"}
    assert ref_of("referral/BTC/11") == "11"


def test_a_received_referral_with_a_field_that_is_not_declaration_data_is_refused() -> None:
    body = referral_requested(_request(), _sample(), _referral(), {"password": "x"})
    with pytest.raises(ValidationFailed, match="Unknown declaration fields: password"):
        _incoming(body)
    bad_country = replace(body, declaration={}, origin_country="XX")
    with pytest.raises(ValidationFailed, match="XX"):
        _incoming(bad_country)
    fine = _incoming(replace(body, declaration={"question": "Heading 2208?", "declared_value": "12.5"}))
    assert fine.question == "Heading 2208?" and fine.declared_value == Decimal("12.5") and fine.importer == ""


@pytest.mark.parametrize("sample_id", ["BT-1\r\nBcc: x@y.test", "BT-1\nsecond", "BT\t1", "BT\x1b[31m1"])
def test_a_received_referral_whose_sample_id_holds_a_control_character_is_refused(sample_id: str) -> None:
    body = referral_requested(_request(), _sample(), _referral(), {})
    bad = replace(body, specimen=replace(body.specimen, lab_sample_id=sample_id))
    with pytest.raises(ValidationFailed) as refused:
        _incoming(bad)
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("lab_sample_id", "Lab sample id must be one line, without tabs or other control characters.")
    ]


def test_the_senders_copy_of_a_sample_follows_the_laboratory_forward_and_never_back() -> None:
    sample = _sample(State.RECEIVED)
    advance(sample, State.REPORTED, NOW)
    assert sample.state is State.REPORTED and sample.approved_at == NOW and sample.reported_at == NOW
    advance(sample, State.RECEIVED, NOW)
    assert sample.state is State.REPORTED


def test_a_referral_called_off_before_analysis_returns_the_sample_registered_to_the_referrer() -> None:
    sample, referral = _sample(State.RECEIVED), _referral()
    sample.received_at = NOW
    return_to_referrer(sample, referral, NOW, 5, "rejected: seal broken")
    assert (sample.state, sample.lab_code, sample.received_at) == (State.REGISTERED, "BT-FP", None)
    assert referral.state is ReferralState.DECLINED
    (event,) = sample.custody
    assert (event.kind, event.from_party, event.to_party, event.note) == (
        CustodyKind.HAND_OVER,
        "RCL-JP",
        "BT-FP",
        "rejected: seal broken",
    )


def test_a_referral_called_off_during_analysis_cancels_the_sample_and_a_reported_one_cannot_be() -> None:
    sample = _sample(State.IN_ANALYSIS)
    return_to_referrer(sample, _referral(), NOW, 5, "cancelled by the laboratory")
    assert (sample.state, sample.lab_code) == (State.CANCELLED, "BT-FP")
    with pytest.raises(InvalidTransition, match="can no longer be called off"):
        return_to_referrer(_sample(State.REPORTED), _referral(), NOW, 5, "too late")


def _report_data(**changes: object) -> r.ReportData:
    data = r.ReportData(
        title="Test report",
        laboratory=r.Laboratory("RCL Japan", "Tokyo"),
        report_id="RCL-JP-R-2026-00001",
        version=1,
        customer=r.Customer("Bhutan focal point", "remote"),
        methods=(),
        item=r.ItemTested("BT-FP-2026-00001", "Rum", "sealed", "BT-2, intact on receipt"),
        received_on=NOW.date(),
        analysis_from=NOW.date(),
        analysis_to=NOW.date(),
        issued_on=NOW.date(),
        results=(),
        authorised_by=(),
        remarks=(f"Decision rule: {r.DecisionRule.SIMPLE.explain()}",),
    )
    return replace(data, **changes)  # type: ignore[arg-type]


def test_a_reports_conclusion_and_decision_rule_come_from_its_statements_and_remarks() -> None:
    plain = _report_data()
    assert decision_rule_of(plain) == "simple acceptance" and conclusion_of(plain) == ""
    rule = r.DecisionRule.GUARDED
    full = _report_data(
        conformity=(r.ConformityStatement("Alcoholic strength ≥ 37.5 %vol", rule, "conforms"),),
        classification=r.ClassificationOpinion("220840", "2208401000", "strength and character"),
    )
    assert decision_rule_of(full) == "guarded acceptance"
    assert conclusion_of(full) == "Alcoholic strength ≥ 37.5 %vol: conforms Classified under HS 2208401000."


def _received(**changes: object) -> ReceivedReport:
    found = ReceivedReport(
        link_id=1,
        sample_id=3,
        partner_code="JPC",
        report_id="RCL-JP-R-2026-00001",
        version=1,
        verification_code="a" * 64,
        pdf_sha256="b" * 64,
        signature="c2lnbmF0dXJl",
        key_id="k1",
        issued_at=NOW,
        laboratory="RCL Japan",
        conclusion="",
        results=[],
        received_at=NOW,
    )
    return replace(found, **changes)  # type: ignore[arg-type]


def test_a_received_reports_signature_is_checked_with_the_key_valid_when_it_was_issued() -> None:
    rotated = FederationKey("JPC", "k1", "old-key", NOW - timedelta(days=30), NOW + timedelta(hours=1))
    checked: list[tuple[bytes, str, str]] = []

    def check(statement: bytes, signature: str, key: str) -> bool:
        checked.append((statement, signature, key))
        return True

    assert signature_verdict(_received(), [rotated], check) == (True, "signed by JPC key k1: valid")
    assert checked == [
        (report_statement("a" * 64, "b" * 64, "RCL-JP-R-2026-00001", 1), "c2lnbmF0dXJl", "old-key")
    ]
    later = _received(issued_at=NOW + timedelta(days=1))
    valid, why = signature_verdict(later, [rotated], check)
    assert valid is False and "no such key of JPC was valid when the report was issued" in why
    assert signature_verdict(_received(), [rotated], None) == (None, "signed by JPC key k1: not checked here")
    assert signature_verdict(_received(signature=""), [rotated], check)[0] is False
    assert signature_verdict(_received(), [rotated], lambda *_: False)[1].endswith(
        "does not match the report"
    )


def _linked_world(status: TaskStatus) -> tuple[FakeUnitOfWork, Sample]:
    uow = FakeUnitOfWork(now=NOW)
    uow.repo.add(Administration("JPC", "Japan Customs", "JP", home=True))
    uow.repo.add(Administration("BTC", "Bhutan Customs", "BT", has_laboratories=False))
    uow.federation.add(Partner("BTC", "http://member.test", PartnerState.ACTIVE, "admin", NOW))
    sample = _sample(State.RECEIVED)
    uow.federation.add(FederatedLink("BTC", "in", "referral/BTC/11", 3, 7, 12, status, NOW))
    return uow, sample


def test_a_step_on_a_sample_that_came_from_a_partner_is_sent_back_on_the_referrals_stream() -> None:
    uow, sample = _linked_world(TaskStatus.ACCEPTED)
    notify_partner(uow, sample, TaskStatus.IN_PROGRESS)
    (message,) = uow.federation.outbox(None, None, 10, 0)[0]
    assert (message.partner_code, message.stream, message.seq) == ("BTC", "referral/BTC/11", 1)
    assert message.payload["body"]["status"] == "in-progress" and message.payload["body"]["ref"] == "11"
    (link,) = uow.federation.links_for_sample(3)
    assert link.status is TaskStatus.IN_PROGRESS


def test_a_second_receipt_of_a_sample_referred_on_inside_the_laboratorys_server_is_not_sent() -> None:
    uow, sample = _linked_world(TaskStatus.IN_PROGRESS)
    notify_partner(uow, sample, TaskStatus.ACCEPTED, seal_intact=True)
    assert uow.federation.outbox(None, None, 10, 0)[1] == 0
    assert uow.federation.links_for_sample(3)[0].status is TaskStatus.IN_PROGRESS


def test_no_step_is_sent_once_the_sender_cancelled_the_referral() -> None:
    uow, sample = _linked_world(TaskStatus.CANCELLED)
    with pytest.raises(InvalidTransition, match="referral with BTC's server is cancelled"):
        notify_partner(uow, sample, TaskStatus.REJECTED, reason="broken seal")
    assert uow.federation.outbox(None, None, 10, 0)[1] == 0


def test_a_referral_handler_refuses_a_message_of_another_kind() -> None:
    uow, _ = _linked_world(TaskStatus.REQUESTED)
    partner = uow.federation.partner("BTC")
    assert partner is not None
    wrong = Envelope(
        "m1", "BTC", "JPC", "referral/BTC/12", 1, NOW, TaskStatusChanged("12", TaskStatus.ACCEPTED)
    )
    with pytest.raises(ValidationFailed, match="Expected a ReferralRequested message"):
        referral_requested_handler(uow, partner, wrong)


def test_a_referral_is_refused_unless_its_stream_is_the_one_its_sender_names_for_it() -> None:
    uow, _ = _linked_world(TaskStatus.REQUESTED)
    partner = uow.federation.partner("BTC")
    assert partner is not None
    body = referral_requested(_request(), _sample(), _referral(), {})  # ref "11"
    for stream in ("referral/JPC/11", "referral/BTC/12", "referral/KRC/11", "keys/BTC"):
        envelope = Envelope("m2", "BTC", "JPC", stream, 1, NOW, body)
        with pytest.raises(ValidationFailed, match=f"stream {stream} is not"):
            referral_requested_handler(uow, partner, envelope)
    assert [lk.remote_ref for lk in uow.federation.links_for_sample(3)] == ["referral/BTC/11"]


def test_a_status_on_a_stream_we_opened_looks_only_at_our_out_link_never_at_an_in_link() -> None:
    # An "in" link under our own stream name (as a partner could once open one): the partner's
    # cancellation on that stream must not reach it, since only our referral to it uses that name.
    uow, sample = _linked_world(TaskStatus.ACCEPTED)
    uow.repo.add(sample)
    uow.repo.add(_referral())
    (link,) = uow.federation.links_for_sample(3)
    link.remote_ref, link.referral_id = "referral/JPC/11", 11
    partner = uow.federation.partner("BTC")
    assert partner is not None
    cancel = Envelope(
        "m3", "BTC", "JPC", "referral/JPC/11", 1, NOW, TaskStatusChanged("11", TaskStatus.CANCELLED, "x")
    )
    with pytest.raises(ValidationFailed, match="There is no referral referral/JPC/11"):
        task_status_changed(uow, partner, cancel)
    assert sample.state is State.RECEIVED and link.status is TaskStatus.ACCEPTED
    elsewhere = replace(cancel, stream="referral/KRC/11")
    with pytest.raises(ValidationFailed, match="There is no referral referral/KRC/11"):
        task_status_changed(uow, partner, elsewhere)
    mismatched = replace(cancel, stream="referral/BTC/12")
    with pytest.raises(ValidationFailed, match="There is no referral referral/BTC/12"):
        task_status_changed(uow, partner, mismatched)


def test_a_status_after_the_referral_ended_here_is_recorded_and_the_link_keeps_its_end() -> None:
    uow, sample = _linked_world(TaskStatus.REJECTED)
    uow.repo.add(sample)
    (link,) = uow.federation.links_for_sample(3)
    link.status_reason = "seal broken"
    partner = uow.federation.partner("BTC")
    assert partner is not None
    cancel = Envelope(
        "m4", "BTC", "JPC", "referral/BTC/11", 1, NOW, TaskStatusChanged("11", TaskStatus.CANCELLED, "x")
    )
    task_status_changed(uow, partner, cancel)
    task_status_changed(uow, partner, replace(cancel, message_id="m5", seq=2))  # noted once
    assert link.status is TaskStatus.REJECTED and sample.state is State.RECEIVED
    assert link.status_reason == (
        "seal broken; the partner reported cancelled (x) after the referral was rejected here"
    )


def test_a_received_reports_file_name_is_plain_ascii_whatever_the_partner_named_the_report() -> None:
    name = download_name('R"\r\nX-Evil: 1 ü', 2)
    assert name == "R___X-Evil__1__-v2.pdf"
    name.encode("latin-1")  # what an HTTP header's value must be
    assert download_name("x" * 10_000, 1) == "x" * 100 + "-v1.pdf"
    assert download_name("../..", 1) == "_..-v1.pdf"


def test_verifying_a_received_pdf_names_the_partner_that_sent_that_file_though_another_reused_its_code() -> (
    None
):
    code = "a" * 64
    pdf_a, pdf_b = f"A's report sha256:{code}".encode(), f"B's copy sha256:{code}".encode()
    uow = FakeUnitOfWork(now=NOW)
    uow.federation.add(_received(partner_code="JPC", pdf_sha256=hashlib.sha256(pdf_a).hexdigest()))
    # A later report from another partner prints the same code: it must not shadow the first.
    uow.federation.add(
        _received(partner_code="KRC", report_id="KR-1", pdf_sha256=hashlib.sha256(pdf_b).hexdigest())
    )
    verdict = reports.verify_report(uow, pdf_a)
    assert (verdict.received_from, verdict.identical_file) == ("JPC", True)
    assert reports.verify_report(uow, pdf_b).received_from == "KRC"
