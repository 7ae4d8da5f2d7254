"""Referrals across servers, the messages received: what each does to our records.

The inbox (`federation_inbox`) has checked the sender's signature, trust, idempotency and order, and
calls these inside the unit of work that records the message; they never commit, and refuse a message
by raising a domain error (the sender sees a 422 and nothing is stored).

- `referral_requested` (at the receiving laboratory's server): a request, a registered sample at the
  laboratory, a referral, the released declaration fields as releases, and an "in" link.
- `task_status_changed`: at the sender, the receiving laboratory's progress mirrored on the referral and
  the sample (`federation_referral_replies.progress_at_partner`); at the receiver, the sender calling the
  referral off (`_cancelled_by_sender`).
- `results_issued` (at the sender, in `federation_referral_replies`): the report's PDF and a
  `ReceivedReport`, kept as received; its signature is checked when someone verifies the report
  (`federation_referral_views`).

Crossing messages are accepted, not refused (a refusal would leave the sender's message failed for good
while nothing could be undone): a status or report that arrives after the referral ended here is noted on
the link, which keeps its end (see `federation_referral_replies`); at the receiving laboratory, a
cancellation that comes once the sample is to be reviewed or further on is noted too, and the laboratory
goes on and sends its report, which the sender keeps although it cancelled.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import Field

from customslab.domain.codes import normalise_hs_code
from customslab.domain.enums import (
    CustodyKind,
    Priority,
    Reason,
    ReferralState,
    State,
)
from customslab.domain.errors import Conflict, ValidationFailed
from customslab.domain.federation import (
    Envelope,
    FederatedLink,
    Partner,
    ReferralRequested,
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
    referral_kind_for,
)
from customslab.services.common import next_lab_sample_id
from customslab.services.contract import (
    Command,
    Country,
    Currency,
    Day,
    NonNegative,
    Positive,
    SampleUnit,
    Text,
    parse,
)
from customslab.services.federation_referral_replies import (
    add_note,
    body_of,
    note_after_end,
    progress_at_partner,
    referral_link,
)
from customslab.services.federation_referrals import ENDED, IN, home_administration, service_user
from customslab.services.notifications import notify_referral
from customslab.services.ports import AbstractUnitOfWork

#: How long a sample that came from a partner is kept after registration, as a local one by default.
RETENTION_DAYS = 365
#: The states in which the receiving laboratory's sample can still be cancelled when its sender asks.
CANCELLABLE = frozenset({State.REGISTERED, State.RECEIVED, State.IN_ANALYSIS, State.RETEST})


class IncomingReferral(Command):
    """A partner's referral as our records take it: validated once, as a request filed here would be."""

    from_org: Annotated[str, Text(32, 1)]
    to_lab: Annotated[str, Text(32, 1)]
    reason: Annotated[str, Text(2000, 1)]
    request_reference: Annotated[str, Text(40, 1, single_line=True)]
    goods_description: Annotated[str, Text(4000, 1)]
    declared_hs: Annotated[str, Text(20, 1)]
    origin_country: Country
    analysis_reason: Reason
    priority: Priority
    due_date: Day
    requested_determinations: list[Annotated[str, Text(200, 1)]] = Field(default_factory=list, max_length=50)
    lab_sample_id: Annotated[str, Text(40, 1, single_line=True)]
    description: Annotated[str, Text(2000)] = ""
    quantity: Positive
    unit: SampleUnit
    seal_number: Annotated[str, Text(60)] = ""
    condition: Annotated[str, Text(2000)] = ""
    # The declaration fields the sender released to us; the others stay blank (and withheld).
    declaration_number: Annotated[str, Text(60)] = ""
    item_number: int = Field(default=0, ge=1, le=9999)
    importer: Annotated[str, Text(200)] = ""
    declarant: Annotated[str, Text(200)] = ""
    declared_value: NonNegative | None = None
    currency: Currency | None = None
    question: Annotated[str, Text(4000)] = ""


def _incoming(body: ReferralRequested) -> IncomingReferral:
    unknown = sorted(set(body.declaration) - set(DECLARATION_FIELDS))
    if unknown:
        raise ValidationFailed(f"Unknown declaration fields: {', '.join(unknown)}.", "declaration")
    s = body.specimen
    data = {
        "from_org": body.from_org,
        "to_lab": body.to_lab,
        "reason": body.reason,
        "request_reference": body.request_reference,
        "goods_description": body.goods_description,
        "declared_hs": body.declared_hs,
        "origin_country": body.origin_country,
        "analysis_reason": body.analysis_reason,
        "priority": body.priority,
        "due_date": body.due_date.isoformat(),
        "requested_determinations": list(body.requested_determinations),
        "lab_sample_id": s.lab_sample_id,
        "description": s.description,
        "quantity": str(s.quantity),
        "unit": s.unit,
        "seal_number": s.seal_number,
        "condition": s.condition,
    }
    return parse(IncomingReferral, data | dict(body.declaration))


def referral_requested(uow: AbstractUnitOfWork, partner: Partner, envelope: Envelope) -> None:
    """A partner's laboratory or focal point refers a sample to one of our laboratories: the request, the
    sample registered there, the referral, the released declaration fields and an "in" link. Its stream
    must be the one its sender names for it (`referral_stream(sender, ref)`): every later message of the
    referral is told apart by that name."""
    body = body_of(envelope, ReferralRequested)
    sender = partner.administration_code
    expected = referral_stream(envelope.sender, body.ref)
    if not body.ref or "/" in body.ref or envelope.stream != expected:
        raise ValidationFailed(
            f"The referral's stream {envelope.stream} is not the one {envelope.sender} names for "
            f"referral {body.ref or '(none)'}: {expected}.",
            "stream",
        )
    if uow.federation.link(sender, IN, envelope.stream) is not None:
        raise Conflict(f"Referral {envelope.stream} was already received.")
    cmd = _incoming(body)
    source, target = uow.repo.org(cmd.from_org), uow.repo.org(cmd.to_lab)
    if source is None or not source.active or source.administration_code != sender:
        raise ValidationFailed(
            f"'{cmd.from_org}' is not an organisation of administration {sender} in this server's "
            "directory; add it (customslab directory) before the referral can be accepted.",
            "from_org",
        )
    home = home_administration(uow)
    if target is None or not target.active or not target.is_laboratory or target.administration_code != home:
        raise ValidationFailed(f"'{cmd.to_lab}' is not a laboratory of this server.", "to_lab")
    kind = referral_kind_for(source, target)
    requester = service_user(uow, source.code)
    assert requester.id is not None
    now = uow.clock()
    seq = uow.repo.next_number(f"request-{now.year}")
    req = AnalysisRequest(
        reference=f"REQ-{now.year}-{seq:06d}",
        office_code=source.code,
        requester_id=requester.id,
        lab_code=target.code,
        declaration_number=cmd.declaration_number,
        item_number=cmd.item_number,
        declared_hs=normalise_hs_code(cmd.declared_hs),
        goods_description=cmd.goods_description,
        origin_country=cmd.origin_country,
        reason=cmd.analysis_reason,
        priority=cmd.priority,
        due_date=cmd.due_date,
        created_at=now,
        importer=cmd.importer,
        declarant=cmd.declarant,
        declared_value=cmd.declared_value,
        currency=cmd.currency,
        requested_determinations=list(cmd.requested_determinations),
        question=cmd.question,
        administration_code=sender,
    )
    free = uow.repo.sample_by_lab_id(cmd.lab_sample_id) is None
    sample = Sample(
        # The label on the sealed parcel, unless our register already has that id.
        lab_sample_id=cmd.lab_sample_id if free else next_lab_sample_id(uow, target.code, now.year),
        lab_code=target.code,
        description=cmd.description or cmd.goods_description,
        quantity=cmd.quantity,
        unit=cmd.unit,
        state=State.REGISTERED,
        registered_at=now,
        seal_number=cmd.seal_number,
        retention_until=now.date() + timedelta(days=RETENTION_DAYS),
    )
    sample.record(
        CustodyEvent(
            CustodyKind.REFERRAL_DISPATCH,
            now,
            requester.id,
            from_party=source.code,
            to_party=target.code,
            seal_number=cmd.seal_number,
            seal_intact=True,
            note=f"referred ({kind.value}) from {sender}'s server as sample {cmd.lab_sample_id}: {cmd.reason}"
            + (f"; condition: {cmd.condition}" if cmd.condition else ""),
        )
    )
    req.samples.append(sample)  # a new request: its list is empty and in memory, nothing to load
    uow.repo.add(req)
    uow.repo.flush()
    assert req.id is not None and sample.id is not None
    reason = f"{cmd.reason} ({sender} request {cmd.request_reference})"
    referral = Referral(
        sample.id, source.code, target.code, kind, ReferralState.SENT, reason, requester.id, now
    )
    uow.repo.add(referral)
    for name in DECLARATION_FIELDS:
        if name in body.declaration:
            why = f"released by {sender} in message {envelope.message_id}"
            uow.repo.add(DeclarationRelease(req.id, target.administration_code, name, requester.id, now, why))
    uow.repo.flush()
    assert referral.id is not None
    link = FederatedLink(
        partner_code=sender,
        direction=IN,
        remote_ref=envelope.stream,
        sample_id=sample.id,
        request_id=req.id,
        referral_id=referral.id,
        status=TaskStatus.REQUESTED,
        updated_at=now,
    )
    uow.federation.add(link)
    notify_referral(uow, referral, sample)


def task_status_changed(uow: AbstractUnitOfWork, partner: Partner, envelope: Envelope) -> None:
    """The referral's status moved on the other server: mirror it here; noted only, once it ended here."""
    body = body_of(envelope, TaskStatusChanged)
    link = referral_link(uow, partner, envelope, body.ref)
    if link.direction == IN and body.status is not TaskStatus.CANCELLED:
        raise ValidationFailed(
            "The laboratory that received a referral reports its progress; its sender may only cancel it.",
            "status",
        )
    if link.status in ENDED:
        what = f"{body.status.value} ({body.reason})" if body.reason else body.status.value
        note_after_end(link, what, uow.clock())
    elif link.direction == IN:
        _cancelled_by_sender(uow, partner, link, body, body.at or envelope.sent_at)
    else:
        progress_at_partner(uow, partner, link, body, body.at or envelope.sent_at)


def _cancelled_by_sender(
    uow: AbstractUnitOfWork, partner: Partner, link: FederatedLink, body: TaskStatusChanged, at: datetime
) -> None:
    """At the receiving laboratory: the sender calls the referral off; the sample is cancelled here. Once
    the sample is to be reviewed or further on (or the referral completed), the cancellation can no longer
    be honoured: it is noted on the link, which keeps its status, and the laboratory goes on."""
    sample = uow.repo.sample(link.sample_id)
    referral = uow.repo.referral(link.referral_id or 0)
    assert sample is not None and referral is not None
    reason = body.reason or f"cancelled by {partner.administration_code}"
    if link.status is TaskStatus.COMPLETED or sample.state not in CANCELLABLE:
        goes_on = "the laboratory goes on and sends its report"
        if sample.state not in (State.TO_BE_REVIEWED, State.APPROVED):
            goes_on = "its report was sent" if sample.state in (State.REPORTED, State.ARCHIVED) else "noted"
        state = sample.state.value.replace("_", " ")
        note = f"the sender cancelled the referral ({reason}) when the sample was already {state} here"
        add_note(link, f"{note}; {goes_on}", uow.clock())
        return
    check_task_transition(link.status, body.status)
    sample.move(State.CANCELLED, at, f"the sender cancelled the referral: {reason}")
    for t in sample.tests:
        if t.state not in (State.CANCELLED, State.APPROVED, State.REPORTED, State.ARCHIVED):
            t.move(State.CANCELLED, reason)
    referral.state = ReferralState.DECLINED
    link.status, link.status_reason, link.updated_at = body.status, body.reason, uow.clock()
