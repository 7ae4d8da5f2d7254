"""Use cases of requests, samples and the chain of custody."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, field_validator

from customslab.domain.access import Action, Actor
from customslab.domain.codes import DECLARED_HS_PATTERN, hs_code_digits, normalise_hs_code
from customslab.domain.enums import CustodyKind, OrgKind, Priority, Reason, ReferralState, State
from customslab.domain.errors import NotFound, ValidationFailed
from customslab.domain.federation import TaskStatus
from customslab.domain.model import AnalysisRequest, CustodyEvent, Organisation, Sample
from customslab.services.common import acting, acting_on_sample, next_lab_sample_id, visible_request
from customslab.services.confidentiality import declaration_view_for
from customslab.services.contract import (
    Command,
    Country,
    Currency,
    Day,
    Flag,
    NonNegative,
    Positive,
    SampleUnit,
    Text,
    View,
    record_of,
)
from customslab.services.federation_referrals import notify_partner
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.views import RequestView, SampleSummary

#: Default turnaround targets when the officer gives no due date (working practice, configurable later).
DEFAULT_DAYS = {Priority.URGENT: 3, Priority.ROUTINE: 14}
#: How far ahead a due date may be set: a later one is a typing mistake (9999-12-31), not a plan.
DUE_DATE_HORIZON_YEARS = 2


class RequestCreate(Command):
    """What a customs officer sends with a sample: the declaration data and the question."""

    lab_code: Annotated[str, Text(40, 1)]
    declaration_number: Annotated[str, Text(60, 1)]
    item_number: int = Field(default=1, ge=1, le=9999)
    declared_hs: Annotated[
        str,
        Text(20, 1),
        Field(
            description=(
                "6 to 10 digits, as written on the declaration (2208.40, 220840, 2208.40.1000): the "
                "heading's 4 digits, the subheading's 2, then any national digits; chapters 01 to 97."
            ),
            json_schema_extra={"pattern": DECLARED_HS_PATTERN},
        ),
    ]
    goods_description: Annotated[str, Text(4000, 1)]
    origin_country: Country
    importer: Annotated[str, Text(200)] = ""
    declarant: Annotated[str, Text(200)] = ""
    declared_value: NonNegative | None = None
    currency: Currency | None = None
    reason: Reason = Reason.CLASSIFICATION
    priority: Priority = Priority.ROUTINE
    due_date: Day | None = Field(
        default=None,
        description=f"Today or later, at most {DUE_DATE_HORIZON_YEARS} years ahead; by default 3 days "
        "(urgent) or 14 days (routine) from today.",
    )
    requested_determinations: list[Annotated[str, Text(200, 1)]] = Field(default_factory=list, max_length=50)
    question: Annotated[str, Text(4000)] = ""


class SampleCreate(Command):
    description: Annotated[str, Text(2000)] = ""
    quantity: Positive
    unit: SampleUnit
    seal_number: Annotated[str, Text(60)] = ""
    retention_days: int = Field(default=365, ge=1, le=3650)


class SampleReceipt(Command):
    condition: Annotated[str, Text(2000)] = ""
    storage_location: Annotated[str, Text(120)] = ""
    seal_intact: Flag = True
    seal_number: Annotated[str, Text(60)] | None = None
    note: Annotated[str, Text(2000)] = ""


#: The custody events recorded by hand; the rest happen through their own steps.
ManualCustodyKind = Literal["hand_over", "transport", "storage_move", "disposal"]


class CustodyCreate(Command):
    kind: ManualCustodyKind
    from_: Annotated[str, Text(200)] = Field(default="", alias="from")
    to: Annotated[str, Text(200)] = ""
    location: Annotated[str, Text(200)] = ""
    seal_number: Annotated[str, Text(60)] = ""
    seal_intact: Flag | None = None
    note: Annotated[str, Text(2000)] = ""
    reason: Annotated[str, Text(2000)] | None = None

    @field_validator("kind", mode="before")
    @classmethod
    def _recorded_by_hand(cls, kind: object) -> object:
        allowed = get_args(ManualCustodyKind)
        if kind not in allowed:
            names = ", ".join(sorted(allowed))
            raise ValueError(f"Record one of: {names}; the rest happen through their own steps.")
        return kind


class Reasoned(Command):
    """A step that the person must justify (rejection, cancellation, return)."""

    reason: Annotated[str, Text(2000, 1)]


class SampleState(View):
    id: int
    state: State
    reason: str | None = None


class CustodyCount(View):
    sample_id: int
    custody_events: int


def file_request(uow: AbstractUnitOfWork, actor: Actor, cmd: RequestCreate) -> RequestView:
    """A customs officer files an analysis request with the declaration data."""
    with acting(uow, actor, Action.FILE_REQUEST):
        lab = uow.repo.org(cmd.lab_code)
        if lab is None or not lab.active:
            raise NotFound(f"There is no laboratory '{cmd.lab_code}' in the network.", "lab_code")
        office = active_org(uow, actor.org_code, "office")
        if not (lab.is_laboratory or _own_focal_point(lab, office)):
            raise ValidationFailed(f"'{cmd.lab_code}' is not a laboratory of the network.", "lab_code")
        exists = uow.repo.heading_exists
        if exists("01") is None:
            # No nomenclature loaded: the code's shape and the Harmonized System's chapters.
            hs = normalise_hs_code(cmd.declared_hs)
        else:
            hs = hs_code_digits(cmd.declared_hs)
            try:
                normalise_hs_code(hs, lambda c: bool(exists(c)))
            except ValidationFailed as exc:
                # Well formed, but the loaded nomenclature has no such chapter or heading.
                raise NotFound(exc.message, "declared_hs") from None
        now = uow.clock()
        due = cmd.due_date or (now.date() + timedelta(days=DEFAULT_DAYS[cmd.priority]))
        if due < now.date():
            raise ValidationFailed("The due date is in the past.", field="due_date")
        latest = _years_after(now.date(), DUE_DATE_HORIZON_YEARS)
        if due > latest:
            raise ValidationFailed(
                f"The due date {due.isoformat()} is too far ahead: give a date by {latest.isoformat()} "
                f"({DUE_DATE_HORIZON_YEARS} years from today).",
                field="due_date",
            )
        if cmd.declared_value is not None and cmd.currency is None:
            raise ValidationFailed("A declared value needs its currency.", field="currency")
        seq = uow.repo.next_number(f"request-{now.year}")
        req = record_of(
            AnalysisRequest,
            cmd,
            reference=f"REQ-{now.year}-{seq:06d}",
            office_code=actor.org_code,
            administration_code=office.administration_code,
            requester_id=actor.user_id,
            lab_code=lab.code,
            declared_hs=hs,
            due_date=due,
            created_at=now,
        )
        uow.repo.add(req)
        uow.repo.flush()
        uow.commit()
        return RequestView.of(req, now.date(), declaration_view_for(uow, actor, req))


def _own_focal_point(target: Organisation, office: Organisation) -> bool:
    """A member administration without a laboratory files its requests to its own focal point, which
    registers, seals and refers the samples to a Regional Customs Laboratory."""
    return target.kind is OrgKind.MEMBER and target.administration_code == office.administration_code


def _years_after(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def register_sample(
    uow: AbstractUnitOfWork, actor: Actor, request_id: int, cmd: SampleCreate
) -> SampleSummary:
    """The laboratory (or a member administration's focal point, for a request filed to it) registers a
    sample of a request and gives it a unique sample id."""
    with acting(uow, actor, Action.REGISTER_SAMPLE):
        req = visible_request(uow, actor, request_id)
        if req.lab_code != actor.org_code:
            raise NotFound(f"Request {request_id} is not addressed to your laboratory.")
        holder = active_org(uow, actor.org_code)
        now = uow.clock()
        sample = record_of(
            Sample,
            cmd,
            lab_sample_id=next_lab_sample_id(uow, actor.org_code, now.year),
            lab_code=actor.org_code,
            description=cmd.description or req.goods_description,
            state=State.REGISTERED,
            registered_at=now,
            retention_until=now.date() + timedelta(days=cmd.retention_days),
        )
        _into_laboratory(
            sample,
            CustodyKind.REGISTERED,
            now,
            actor,
            from_party=req.office_code,
            # A member administration without a laboratory registers and seals it to send it on.
            note="registered at the laboratory" if holder.is_laboratory else "registered for dispatch",
        )
        uow.repo.add_sample(req, sample)
        uow.repo.flush()
        uow.commit()
        return SampleSummary.of(sample, req, now.date(), now)


def _into_laboratory(
    sample: Sample, kind: CustodyKind, at: datetime, actor: Actor, seal: str | None = None, **details: Any
) -> None:
    """The sample comes into the actor's laboratory: a link of its custody chain, under the seal the
    sample carries unless the laboratory notes another."""
    seal_number = sample.seal_number if seal is None else seal
    sample.record(
        CustodyEvent(kind, at, actor.user_id, to_party=actor.org_code, seal_number=seal_number, **details)
    )


def receive_sample(
    uow: AbstractUnitOfWork, actor: Actor, sample_id: int, cmd: SampleReceipt
) -> SampleSummary:
    """Receipt: condition, storage location and whether the seal is intact go into the custody chain."""
    with acting_on_sample(uow, actor, Action.RECEIVE_SAMPLE, sample_id) as sample:
        now = uow.clock()
        record_receipt(uow, actor, sample, cmd, now)
        uow.commit()
        req = uow.repo.request(sample.request_id or 0)
        assert req is not None
        return SampleSummary.of(sample, req, now.date(), now)


def record_receipt(
    uow: AbstractUnitOfWork, actor: Actor, sample: Sample, cmd: SampleReceipt, now: datetime
) -> None:
    """The receipt of a sample the actor's laboratory holds, inside the caller's unit of work (which
    commits): one sample here, several at once in services/bulk_receipt.py."""
    sample.move(State.RECEIVED, now)
    sample.condition_on_receipt = cmd.condition or "as described"
    sample.storage_location = cmd.storage_location
    _into_laboratory(
        sample,
        CustodyKind.RECEIPT,
        now,
        actor,
        cmd.seal_number,
        location=sample.storage_location,
        seal_intact=cmd.seal_intact,
        note=cmd.note,
    )
    for referral in uow.repo.referrals_for(sample.id or 0):
        if referral.to_lab == actor.org_code and referral.accepted_at is None:
            referral.state = ReferralState.ACCEPTED
            referral.accepted_at = now
    note = "; ".join(p for p in (f"condition: {sample.condition_on_receipt}", cmd.note) if p)
    notify_partner(uow, sample, TaskStatus.ACCEPTED, seal_intact=cmd.seal_intact, custody_note=note)


def record_custody(uow: AbstractUnitOfWork, actor: Actor, sample_id: int, cmd: CustodyCreate) -> CustodyCount:
    """Append a hand-over, transport, storage move or disposal to the chain of custody."""
    with acting_on_sample(uow, actor, Action.RECORD_CUSTODY, sample_id, cmd.reason) as sample:
        kind = CustodyKind(cmd.kind)
        now = uow.clock()
        event = record_of(
            CustodyEvent,
            cmd,
            kind=kind,
            at=now,
            by_user_id=actor.user_id,
            from_party=cmd.from_,
            to_party=cmd.to,
        )
        sample.record(event)
        if kind is CustodyKind.STORAGE_MOVE and event.location:
            sample.storage_location = event.location
        if kind is CustodyKind.DISPOSAL:
            if sample.state not in (State.REPORTED, State.ARCHIVED, State.REJECTED, State.CANCELLED):
                raise ValidationFailed(
                    "Only a reported, rejected or cancelled sample can be disposed of.", "kind"
                )
            sample.disposed_at = now
            sample.disposal_record = event.note or "disposed"
        uow.commit()
        return CustodyCount(sample_id=sample_id, custody_events=len(sample.custody))


def reject_sample(uow: AbstractUnitOfWork, actor: Actor, sample_id: int, reason: str) -> SampleState:
    """Refuse a sample (broken seal, wrong item...) with a reason the officer will read."""
    with acting_on_sample(uow, actor, Action.REJECT_SAMPLE, sample_id, reason) as sample:
        sample.move(State.REJECTED, uow.clock(), reason)
        notify_partner(uow, sample, TaskStatus.REJECTED, reason=reason)
        uow.commit()
        return SampleState.of_record(sample, reason=reason)


def cancel_sample(uow: AbstractUnitOfWork, actor: Actor, sample_id: int, reason: str) -> SampleState:
    """Cancel a sample and its open tests, with a reason the officer will read."""
    with acting_on_sample(uow, actor, Action.REJECT_SAMPLE, sample_id, reason) as sample:
        sample.move(State.CANCELLED, uow.clock(), reason)
        for t in sample.tests:
            if t.state not in (State.CANCELLED, State.APPROVED, State.REPORTED, State.ARCHIVED):
                t.move(State.CANCELLED, reason)
        notify_partner(uow, sample, TaskStatus.CANCELLED, reason=reason)
        uow.commit()
        return SampleState.of_record(sample)


def active_org(uow: AbstractUnitOfWork, code: str, field: str = "to_lab") -> Organisation:
    """An organisation that exists and has not been deactivated."""
    org = uow.repo.org(code)
    if org is None or not org.active:
        raise NotFound(f"There is no laboratory or office '{code}'.", field=field)
    return org


def archive_sample(uow: AbstractUnitOfWork, actor: Actor, sample_id: int) -> SampleState:
    """Close a reported, rejected or cancelled sample's file; retention and disposal follow."""
    with acting_on_sample(uow, actor, Action.REJECT_SAMPLE, sample_id) as sample:
        sample.move(State.ARCHIVED, uow.clock())
        uow.commit()
        return SampleState.of_record(sample)
