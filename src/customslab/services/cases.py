"""Use cases of requests, samples and the chain of custody."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from customslab.domain.access import Action, Actor, require
from customslab.domain.codes import normalise_country, normalise_currency, normalise_hs_code
from customslab.domain.enums import CustodyKind, OrgKind, Priority, Reason, ReferralState, State
from customslab.domain.errors import NotFound, ValidationFailed
from customslab.domain.model import AnalysisRequest, CustodyEvent, Sample
from customslab.services.common import held_sample, to_decimal, visible_request
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.views import request_view, sample_summary

#: Default turnaround targets when the officer gives no due date (working practice, configurable later).
DEFAULT_DAYS = {Priority.URGENT: 3, Priority.ROUTINE: 14}


def _enum(cls: type[Any], value: Any, field: str) -> Any:
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise ValidationFailed(
            f"'{value}' is not a valid {field}; choose one of: {allowed}.", field
        ) from None


def file_request(uow: AbstractUnitOfWork, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """A customs officer files an analysis request with the declaration data."""
    with uow:
        require(actor, Action.FILE_REQUEST)
        uow.act_as(actor.username)
        lab = uow.repo.org(str(data.get("lab_code", "")))
        if lab is None or not lab.is_laboratory:
            raise ValidationFailed(
                f"'{data.get('lab_code')}' is not a laboratory of the network.", "lab_code"
            )
        exists = uow.repo.heading_exists
        known = exists("01") is not None
        hs = normalise_hs_code(
            str(data.get("declared_hs", "")), (lambda c: bool(exists(c))) if known else None
        )
        priority = _enum(Priority, data.get("priority", "routine"), "priority")
        now = uow.clock()
        due = data.get("due_date") or (now.date() + timedelta(days=DEFAULT_DAYS[priority]))
        if isinstance(due, str):
            try:
                due = date.fromisoformat(due)
            except ValueError:
                raise ValidationFailed(f"Due date '{due}' is not a date (YYYY-MM-DD).", "due_date") from None
        if due < now.date():
            raise ValidationFailed("The due date is in the past.", field="due_date")
        declaration = str(data.get("declaration_number", "")).strip()
        if not declaration:
            raise ValidationFailed("The declaration number is required.", field="declaration_number")
        description = str(data.get("goods_description", "")).strip()
        if not description:
            raise ValidationFailed("Describe the goods.", field="goods_description")
        value = to_decimal(data.get("declared_value"), "declared_value", required=False, positive=True)
        currency = normalise_currency(str(data["currency"])) if data.get("currency") else None
        if value is not None and currency is None:
            raise ValidationFailed("A declared value needs its currency.", field="currency")
        try:
            item = int(data.get("item_number", 1))
        except (TypeError, ValueError):
            raise ValidationFailed("The item number must be a whole number.", field="item_number") from None
        seq = uow.repo.next_number(f"request-{now.year}")
        req = AnalysisRequest(
            reference=f"REQ-{now.year}-{seq:06d}",
            office_code=actor.org_code,
            requester_id=actor.user_id,
            lab_code=lab.code,
            declaration_number=declaration,
            item_number=item,
            declared_hs=hs,
            goods_description=description,
            origin_country=normalise_country(str(data.get("origin_country", "")), "origin_country"),
            reason=_enum(Reason, data.get("reason", "classification"), "reason"),
            priority=priority,
            due_date=due,
            created_at=now,
            importer=str(data.get("importer", "")),
            declared_value=value,
            currency=currency,
            requested_determinations=[str(x) for x in data.get("requested_determinations") or []],
            question=str(data.get("question", "")),
        )
        uow.repo.add(req)
        uow.repo.flush()
        uow.commit()
        return request_view(req, now.date())


def register_sample(
    uow: AbstractUnitOfWork, actor: Actor, request_id: int, data: dict[str, Any]
) -> dict[str, Any]:
    """The laboratory registers a sample of a request and gives it a unique laboratory sample id."""
    with uow:
        require(actor, Action.REGISTER_SAMPLE)
        uow.act_as(actor.username)
        req = visible_request(uow, actor, request_id)
        if req.lab_code != actor.org_code:
            raise NotFound(f"Request {request_id} is not addressed to your laboratory.")
        quantity = to_decimal(data.get("quantity"), "quantity", positive=True)
        assert quantity is not None
        unit = str(data.get("unit", "")).strip()
        if not unit:
            raise ValidationFailed("Give the unit of the quantity (g, mL, pieces...).", field="unit")
        now = uow.clock()
        seq = uow.repo.next_number(f"sample-{actor.org_code}-{now.year}")
        retention_days = int(data.get("retention_days") or 365)
        sample = Sample(
            lab_sample_id=f"{actor.org_code}-{now.year}-{seq:05d}",
            lab_code=actor.org_code,
            description=str(data.get("description") or req.goods_description),
            quantity=quantity,
            unit=unit,
            state=State.REGISTERED,
            registered_at=now,
            seal_number=str(data.get("seal_number", "")),
            retention_until=now.date() + timedelta(days=retention_days),
        )
        sample.record(
            CustodyEvent(
                CustodyKind.REGISTERED,
                now,
                actor.user_id,
                from_party=req.office_code,
                to_party=actor.org_code,
                seal_number=sample.seal_number,
                note="registered at the laboratory",
            )
        )
        req.samples.append(sample)
        uow.repo.flush()
        uow.commit()
        return sample_summary(sample, req, now.date(), now)


def receive_sample(
    uow: AbstractUnitOfWork, actor: Actor, sample_id: int, data: dict[str, Any]
) -> dict[str, Any]:
    """Receipt: condition, storage location and whether the seal is intact go into the custody chain."""
    with uow:
        require(actor, Action.RECEIVE_SAMPLE)
        uow.act_as(actor.username)
        sample = held_sample(uow, actor, sample_id)
        now = uow.clock()
        seal_intact = bool(data.get("seal_intact", True))
        sample.move(State.RECEIVED, now)
        sample.condition_on_receipt = str(data.get("condition", "")) or "as described"
        sample.storage_location = str(data.get("storage_location", ""))
        sample.record(
            CustodyEvent(
                CustodyKind.RECEIPT,
                now,
                actor.user_id,
                to_party=actor.org_code,
                location=sample.storage_location,
                seal_number=str(data.get("seal_number", sample.seal_number)),
                seal_intact=seal_intact,
                note=str(data.get("note", "")),
            )
        )
        for referral in uow.repo.referrals_for(sample.id or 0):
            if referral.to_lab == actor.org_code and referral.accepted_at is None:
                referral.state = ReferralState.ACCEPTED
                referral.accepted_at = now
        uow.commit()
        req = uow.repo.request(sample.request_id or 0)
        assert req is not None
        return sample_summary(sample, req, now.date(), now)


def record_custody(
    uow: AbstractUnitOfWork, actor: Actor, sample_id: int, data: dict[str, Any]
) -> dict[str, Any]:
    """Append a hand-over, transport, storage move or disposal to the chain of custody."""
    with uow:
        require(actor, Action.RECORD_CUSTODY)
        uow.act_as(actor.username, data.get("reason"))
        sample = held_sample(uow, actor, sample_id)
        kind = CustodyKind(_enum(CustodyKind, data.get("kind"), "custody event kind"))
        allowed = {
            CustodyKind.HAND_OVER,
            CustodyKind.TRANSPORT,
            CustodyKind.STORAGE_MOVE,
            CustodyKind.DISPOSAL,
        }
        if kind not in allowed:
            names = ", ".join(sorted(k.value for k in allowed))
            raise ValidationFailed(
                f"Record one of: {names}; the rest happen through their own steps.", "kind"
            )
        now = uow.clock()
        event = CustodyEvent(
            kind,
            now,
            actor.user_id,
            from_party=str(data.get("from", "")),
            to_party=str(data.get("to", "")),
            location=str(data.get("location", "")),
            seal_number=str(data.get("seal_number", "")),
            seal_intact=data.get("seal_intact"),
            note=str(data.get("note", "")),
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
        return {"sample_id": sample.id, "custody_events": len(sample.custody)}


def reject_sample(uow: AbstractUnitOfWork, actor: Actor, sample_id: int, reason: str) -> dict[str, Any]:
    """Refuse a sample (broken seal, wrong item...) with a reason the officer will read."""
    with uow:
        require(actor, Action.REJECT_SAMPLE)
        uow.act_as(actor.username, reason)
        sample = held_sample(uow, actor, sample_id)
        now = uow.clock()
        sample.move(State.REJECTED, now, reason)
        uow.commit()
        return {"id": sample.id, "state": sample.state.value, "reason": reason}


def cancel_sample(uow: AbstractUnitOfWork, actor: Actor, sample_id: int, reason: str) -> dict[str, Any]:
    with uow:
        require(actor, Action.REJECT_SAMPLE)
        uow.act_as(actor.username, reason)
        sample = held_sample(uow, actor, sample_id)
        sample.move(State.CANCELLED, uow.clock(), reason)
        for t in sample.tests:
            if t.state not in (State.CANCELLED, State.APPROVED, State.REPORTED, State.ARCHIVED):
                t.move(State.CANCELLED, reason)
        uow.commit()
        return {"id": sample.id, "state": sample.state.value}


def lab_kind(uow: AbstractUnitOfWork, code: str) -> OrgKind:
    org = uow.repo.org(code)
    if org is None:
        raise ValidationFailed(f"There is no laboratory '{code}'.", field="to_lab")
    return org.kind


def archive_sample(uow: AbstractUnitOfWork, actor: Actor, sample_id: int) -> dict[str, Any]:
    """Close a reported, rejected or cancelled sample's file; retention and disposal follow."""
    with uow:
        require(actor, Action.REJECT_SAMPLE)
        uow.act_as(actor.username)
        sample = held_sample(uow, actor, sample_id)
        sample.move(State.ARCHIVED, uow.clock())
        uow.commit()
        return {"id": sample.id, "state": sample.state.value}
