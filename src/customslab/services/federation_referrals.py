"""Referrals across servers, the steps taken here that a partner must hear of: what each writes to the outbox.

A laboratory (or a member's focal point) refers a sample to a laboratory of another administration whose
deployment is a registered partner: `referral_sent` writes the `ReferralRequested` and an "out" link. On
the receiving server, the ordinary use cases on a sample that came that way (an "in" link) tell the sender
each step through `notify_partner` and `report_issued`. The referrer may call the referral off with
`cancel_external_referral`. Every message of one referral, both ways, travels on the stream the sender
named (`referral_stream(home, referral id)`). The messages received are handled in
`federation_referral_handlers` and `federation_referral_replies`.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable, Sequence
from datetime import datetime

from customslab.domain.access import Action, Actor
from customslab.domain.enums import CustodyKind, ReferralState, State
from customslab.domain.errors import InvalidTransition, NotFound, ValidationFailed
from customslab.domain.federation import (
    TASK_TRANSITIONS,
    FederatedLink,
    ObservationData,
    ReferralRequested,
    ResultsIssued,
    SpecimenData,
    TaskStatus,
    TaskStatusChanged,
    check_task_transition,
    referral_stream,
)
from customslab.domain.model import (
    DECLARATION_FIELDS,
    AnalysisRequest,
    CustodyEvent,
    DeclarationRelease,
    Referral,
    Sample,
    User,
)
from customslab.domain.quality.report import DecisionRule, ReportData
from customslab.domain.quality.report_text import report_text
from customslab.services.common import acting, visible_sample
from customslab.services.federation_outbox import enqueue, home_code, partner_for
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.quality_ports import IssuedReport
from customslab.services.views import ReferralView

#: A link's direction: our sample referred to a partner ("out"), or a partner's referred to us ("in").
OUT, IN = "out", "in"
#: A referral that ended this way is over on both sides.
ENDED = frozenset({TaskStatus.REJECTED, TaskStatus.CANCELLED})
#: The receiving laboratory's steps along the way (as opposed to its last word on the referral).
PROGRESS = frozenset({TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS})


def home_administration(uow: AbstractUnitOfWork) -> str | None:
    """The administration this server belongs to; None on a server set up without one (nothing federates)."""
    try:
        return home_code(uow)
    except ValidationFailed:
        return None


def ref_of(stream: str) -> str:
    """The referral's id as its sender named it: the last part of `referral/<sender>/<id>`."""
    return stream.rsplit("/", 1)[-1]


# -- the sender: a referral to a partner's laboratory ------------------------------------------------


def released_declaration(
    req: AnalysisRequest, releases: Iterable[DeclarationRelease], administration: str
) -> dict[str, str]:
    """The declaration fields of `req` released to `administration`, as text: only these travel."""
    released = {r.field_name for r in releases if r.administration_code == administration}
    out: dict[str, str] = {}
    for name in DECLARATION_FIELDS:
        value = getattr(req, name)
        if name in released and value is not None:
            out[name] = str(value)
    return out


def referral_requested(
    req: AnalysisRequest, sample: Sample, referral: Referral, declaration: dict[str, str]
) -> ReferralRequested:
    """The message that asks the partner's laboratory to analyse the sample: the case without its
    declaration data, except the fields in `declaration`."""
    return ReferralRequested(
        ref=str(referral.id),
        from_org=referral.from_lab,
        to_lab=referral.to_lab,
        reason=referral.reason,
        request_reference=req.reference,
        office_code=req.office_code,
        goods_description=req.goods_description,
        declared_hs=req.declared_hs,
        origin_country=req.origin_country,
        analysis_reason=req.reason.value,
        priority=req.priority.value,
        due_date=req.due_date,
        requested_determinations=tuple(req.requested_determinations),
        specimen=SpecimenData(
            lab_sample_id=sample.lab_sample_id,
            description=sample.description,
            quantity=sample.quantity,
            unit=sample.unit,
            seal_number=sample.seal_number,
            condition=sample.condition_on_receipt,
        ),
        declaration=declaration,
    )


def referral_sent(uow: AbstractUnitOfWork, sample: Sample, referral: Referral) -> FederatedLink | None:
    """Called by `refer_sample` inside its unit of work: when the receiving laboratory belongs to another
    administration whose deployment is a registered partner, write the `ReferralRequested` and an "out"
    link. A suspended partner's message waits in the outbox; without a partner the referral stays local,
    as on a server that hosts both administrations."""
    source, target = uow.repo.org(referral.from_lab), uow.repo.org(referral.to_lab)
    home = home_administration(uow)
    if source is None or target is None or home is None:
        return None
    if source.administration_code != home or target.administration_code == home:
        return None
    partner = partner_for(uow, target.administration_code)
    if partner is None:
        return None
    req = uow.repo.request(sample.request_id or 0)
    assert req is not None and sample.id is not None and referral.id is not None and req.id is not None
    declaration = released_declaration(req, uow.repo.releases_for(req.id), partner.administration_code)
    stream = referral_stream(home, str(referral.id))
    enqueue(uow, partner.administration_code, stream, referral_requested(req, sample, referral, declaration))
    link = FederatedLink(
        partner_code=partner.administration_code,
        direction=OUT,
        remote_ref=stream,
        sample_id=sample.id,
        request_id=req.id,
        referral_id=referral.id,
        status=TaskStatus.REQUESTED,
        updated_at=uow.clock(),
    )
    uow.federation.add(link)
    return link


def return_to_referrer(sample: Sample, referral: Referral, at: datetime, by_user_id: int, why: str) -> None:
    """A referral across servers that ends before its report: the sample's custody returns to the referrer.

    The referral is declined (the network's referral states have no "cancelled"). A sample not yet in
    analysis goes back to registered, as a referred sample waits for receipt: a member's focal point may
    refer it again, a laboratory receives it back. One whose analysis had begun may be partly used up: it
    is cancelled with the reason, in the referrer's custody, to be archived or disposed of."""
    referral.state = ReferralState.DECLINED
    if sample.state in (State.REGISTERED, State.RECEIVED):
        if sample.state is State.RECEIVED:
            sample.move(State.REGISTERED, at)
        sample.received_at = None
    elif sample.state in (State.IN_ANALYSIS, State.RETEST):
        sample.move(State.CANCELLED, at, why)
    else:
        raise InvalidTransition(
            f"Sample {sample.lab_sample_id} is {sample.state.value.replace('_', ' ')}; its referral can no "
            "longer be called off."
        )
    sample.lab_code = referral.from_lab
    sample.record(
        CustodyEvent(
            CustodyKind.HAND_OVER,
            at,
            by_user_id,
            from_party=referral.to_lab,
            to_party=referral.from_lab,
            seal_number=sample.seal_number,
            note=why,
        )
    )


def cancel_external_referral(
    uow: AbstractUnitOfWork, actor: Actor, referral_id: int, reason: str, sample_id: int | None = None
) -> ReferralView:
    """The referrer calls off a referral to a partner's laboratory (of `sample_id`, when given): the partner
    is told, the referral is declined and the sample returns to the referrer's custody."""
    with acting(uow, actor, Action.REFER, reason):
        if not reason.strip():
            raise ValidationFailed("Say why the referral is cancelled.", "reason")
        referral = uow.repo.referral(referral_id)
        if (
            referral is None
            or referral.from_lab != actor.org_code
            or sample_id not in (None, referral.sample_id)
        ):
            raise NotFound(f"Referral {referral_id} was not found.")
        sample = visible_sample(uow, actor, referral.sample_id)
        link = next(
            (
                lk
                for lk in uow.federation.links_for_sample(referral.sample_id)
                if lk.direction == OUT and lk.referral_id == referral_id
            ),
            None,
        )
        if link is None:
            # A state clash (409), as any step the record's state does not allow.
            raise InvalidTransition(
                f"Referral {referral_id} went to a laboratory of this server; the laboratory holding the "
                "sample cancels it there."
            )
        now = uow.clock()
        _send_status(
            uow, link, TaskStatusChanged(ref_of(link.remote_ref), TaskStatus.CANCELLED, reason, at=now)
        )
        return_to_referrer(
            sample, referral, now, actor.user_id, f"referral to {referral.to_lab} cancelled: {reason}"
        )
        uow.commit()
        return ReferralView.of_record(referral, lab_sample_id=sample.lab_sample_id)


# -- the receiver: each step of a sample that came from a partner ------------------------------------


def _send_status(uow: AbstractUnitOfWork, link: FederatedLink, body: TaskStatusChanged) -> None:
    """Move the link to the body's status (if the shared lifecycle allows it) and send it to the partner."""
    try:
        check_task_transition(link.status, body.status)
    except InvalidTransition:
        raise InvalidTransition(
            f"This sample's referral with {link.partner_code}'s server is {link.status.value}; it cannot "
            f"become {body.status.value}."
        ) from None
    enqueue(uow, link.partner_code, link.remote_ref, body)
    # A status without a reason keeps what was noted before (a cancellation that came too late to honour).
    link.status, link.status_reason, link.updated_at = (
        body.status,
        body.reason or link.status_reason,
        uow.clock(),
    )


def _links_in(uow: AbstractUnitOfWork, sample: Sample) -> Sequence[FederatedLink]:
    if sample.id is None:
        return []
    return [lk for lk in uow.federation.links_for_sample(sample.id) if lk.direction == IN]


def notify_partner(
    uow: AbstractUnitOfWork,
    sample: Sample,
    status: TaskStatus,
    *,
    reason: str = "",
    seal_intact: bool | None = None,
    custody_note: str = "",
) -> None:
    """Called by the ordinary use cases inside their unit of work: when the sample came from a partner's
    server, tell it the referral's new status (receipt with its seal check, analysis begun, rejection,
    cancellation). Refused when the referral already ended (the sender cancelled it, say). A receipt or
    start that does not move the referral on (the sample referred on to a laboratory of this server,
    which receives it in turn) is not sent: the partner knows the referral is further along."""
    for link in _links_in(uow, sample):
        if status in PROGRESS and link.status not in ENDED and status not in TASK_TRANSITIONS[link.status]:
            continue
        body = TaskStatusChanged(
            ref_of(link.remote_ref),
            status,
            reason,
            at=uow.clock(),
            seal_intact=seal_intact,
            custody_note=custody_note,
        )
        _send_status(uow, link, body)


def decision_rule_of(data: ReportData) -> str:
    """The decision rule a report states (its conformity statements', else the one its remarks explain)."""
    if data.conformity:
        return data.conformity[0].decision_rule.value
    lang = data.language
    remarks = {r.value: report_text(lang, "decision_rule_remark", rule=r.explain(lang)) for r in DecisionRule}
    return next((value for value, remark in remarks.items() if remark in data.remarks), "")


def conclusion_of(data: ReportData) -> str:
    """The report's conclusions in one line: its statements of conformity and its HS classification."""
    parts = [f"{c.specification}: {c.statement}" for c in data.conformity]
    if data.classification is not None:
        parts.append(f"Classified under HS {data.classification.determined_hs_code}.")
    return " ".join(parts)


def results_issued(ref: str, entry: IssuedReport, pdf: bytes) -> ResultsIssued:
    """The report as a message: its approved results as printed, the PDF and what verifies it. The
    deployment's signature of the report is added when the message is encoded."""
    data = entry.data
    return ResultsIssued(
        ref=ref,
        report_id=entry.report_id,
        version=entry.version,
        verification_code=entry.verification_code,
        issued_at=entry.issued_at,
        laboratory=data.laboratory.name,
        conclusion=conclusion_of(data),
        observations=tuple(
            ObservationData(
                name=line.parameter,
                value=line.value or None,
                unit=line.unit,
                expanded_uncertainty=line.expanded_uncertainty or None,
                coverage_factor=line.coverage_factor or None,
                method=line.method_id,
            )
            for line in data.results
        ),
        pdf_sha256=entry.pdf_sha256,
        pdf_base64=base64.b64encode(pdf).decode("ascii"),
        report_signature="",
        report_key_id="",
        hs_code=data.classification.determined_hs_code if data.classification else "",
        decision_rule=decision_rule_of(data),
    )


def report_issued(uow: AbstractUnitOfWork, sample: Sample, entry: IssuedReport) -> None:
    """Called by `issue_report` and `amend_report` inside their unit of work: when the sample came from a
    partner's server, send it the report with its results, then the referral completed."""
    for link in _links_in(uow, sample):
        check_task_transition(link.status, TaskStatus.COMPLETED)
        with uow.files.open(entry.pdf_sha256) as fh:
            pdf = fh.read()
        ref = ref_of(link.remote_ref)
        enqueue(uow, link.partner_code, link.remote_ref, results_issued(ref, entry, pdf))
        _send_status(uow, link, TaskStatusChanged(ref, TaskStatus.COMPLETED, at=uow.clock()))


# -- shared by both sides -----------------------------------------------------------------------------


def service_user(uow: AbstractUnitOfWork, org_code: str) -> User:
    """The user that stands for an organisation of a partner's server in our records (who filed a request,
    released a field, received a sample there): one per organisation, made on first use. It has no
    password and is inactive, so nobody signs in as it."""
    username = f"remote.{org_code}"
    user = uow.repo.user_by_name(username)
    if user is None:
        org = uow.repo.org(org_code)
        name = org.name if org is not None else org_code
        user = User(username, f"{name} (partner server)", org_code, frozenset(), "", "", active=False)
        uow.repo.add(user)
        uow.repo.flush()
    return user


def upload_pdf(uow: AbstractUnitOfWork, pdf: bytes) -> str:
    """Keep a received PDF in the content-addressed store: its sha256."""
    return uow.files.put(io.BytesIO(pdf), len(pdf) + 1).sha256
