"""Requests, samples, custody, referrals and queues."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query

from customslab.domain.enums import Priority, Reason, State
from customslab.entrypoints.api.deps import CurrentActor, UowFactory
from customslab.entrypoints.api.schemas import (
    CustodyIn,
    ReasonIn,
    ReceiveIn,
    ReferIn,
    RequestIn,
    SampleIn,
    ShareIn,
)
from customslab.services import cases, queries, referrals
from customslab.services.ports import QueueFilter

router = APIRouter(prefix="/api", tags=["cases"])


@router.post("/requests", status_code=201)
def file_request(body: RequestIn, actor: CurrentActor, uow_factory: UowFactory) -> dict[str, Any]:
    """A customs officer files an analysis request."""
    return cases.file_request(uow_factory(), actor, body.model_dump(exclude_none=True))


@router.get("/requests")
def list_my_requests(
    actor: CurrentActor,
    uow_factory: UowFactory,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    """The signed-in officer's own requests."""
    return queries.my_requests(uow_factory(), actor, limit, offset)


@router.get("/requests/{request_id}")
def get_request(request_id: int, actor: CurrentActor, uow_factory: UowFactory) -> dict[str, Any]:
    """One request with its samples (results only once approved, for officers)."""
    return queries.request_detail(uow_factory(), actor, request_id)


@router.post("/requests/{request_id}/samples", status_code=201)
def register_sample(
    request_id: int, body: SampleIn, actor: CurrentActor, uow_factory: UowFactory
) -> dict[str, Any]:
    """The laboratory registers a sample of the request."""
    return cases.register_sample(uow_factory(), actor, request_id, body.model_dump(exclude_none=True))


@router.get("/queue")
def queue(
    actor: CurrentActor,
    uow_factory: UowFactory,
    lab: str | None = None,
    state: list[State] | None = Query(None),
    priority: Priority | None = None,
    reason: Reason | None = None,
    due_before: date | None = None,
    overdue: bool = False,
    hs_chapter: str | None = Query(None, pattern=r"^\d{2}$"),
    analyst_id: int | None = None,
    mine: bool = False,
    q: str | None = Query(None, max_length=100),
    sort: str = Query("due", pattern="^(due|priority|registered|reference)$"),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    """A laboratory's open queue (or one analyst's with mine=true), filtered and sorted."""
    uow = uow_factory()
    flt = QueueFilter(
        states=frozenset(state) if state else None,
        priority=priority,
        reason=reason,
        due_before=due_before,
        hs_chapter=hs_chapter,
        analyst_id=actor.user_id if mine else analyst_id,
        overdue_on=uow.clock().date() if overdue else None,
        text=q,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return queries.lab_queue(uow, actor, flt, lab)


@router.get("/samples/{sample_id}")
def get_sample(sample_id: int, actor: CurrentActor, uow_factory: UowFactory) -> dict[str, Any]:
    """A sample with its custody chain, tests, results and referrals."""
    return queries.sample_detail(uow_factory(), actor, sample_id)


@router.get("/samples/{sample_id}/history")
def sample_history(sample_id: int, actor: CurrentActor, uow_factory: UowFactory) -> list[dict[str, Any]]:
    """Audit entries of the sample, its tests and results."""
    return queries.entity_history(uow_factory(), actor, sample_id)


@router.post("/samples/{sample_id}/receive")
def receive_sample(
    sample_id: int, body: ReceiveIn, actor: CurrentActor, uow_factory: UowFactory
) -> dict[str, Any]:
    """Receive a sample: condition, seal and storage location."""
    return cases.receive_sample(uow_factory(), actor, sample_id, body.model_dump(exclude_none=True))


@router.post("/samples/{sample_id}/custody", status_code=201)
def record_custody(
    sample_id: int, body: CustodyIn, actor: CurrentActor, uow_factory: UowFactory
) -> dict[str, Any]:
    """Append a custody event (hand-over, transport, storage move, disposal)."""
    return cases.record_custody(
        uow_factory(), actor, sample_id, body.model_dump(exclude_none=True, by_alias=True)
    )


@router.post("/samples/{sample_id}/reject")
def reject_sample(
    sample_id: int, body: ReasonIn, actor: CurrentActor, uow_factory: UowFactory
) -> dict[str, Any]:
    """Reject a sample with a reason."""
    return cases.reject_sample(uow_factory(), actor, sample_id, body.reason)


@router.post("/samples/{sample_id}/cancel")
def cancel_sample(
    sample_id: int, body: ReasonIn, actor: CurrentActor, uow_factory: UowFactory
) -> dict[str, Any]:
    """Cancel a sample and its open tests, with a reason."""
    return cases.cancel_sample(uow_factory(), actor, sample_id, body.reason)


@router.post("/samples/{sample_id}/archive")
def archive_sample(sample_id: int, actor: CurrentActor, uow_factory: UowFactory) -> dict[str, Any]:
    """Archive a reported, rejected or cancelled sample."""
    return cases.archive_sample(uow_factory(), actor, sample_id)


@router.post("/samples/{sample_id}/refer", status_code=201)
def refer_sample(
    sample_id: int, body: ReferIn, actor: CurrentActor, uow_factory: UowFactory
) -> dict[str, Any]:
    """Refer the sample, or a sub-sample, to another laboratory of the network."""
    return referrals.refer_sample(uow_factory(), actor, sample_id, body.model_dump(exclude_none=True))


@router.post("/samples/{sample_id}/share", status_code=201)
def share_sample(
    sample_id: int, body: ShareIn, actor: CurrentActor, uow_factory: UowFactory
) -> dict[str, Any]:
    """Share the sample read-only with another organisation."""
    return referrals.share_sample(uow_factory(), actor, sample_id, body.org_code, body.note)


@router.get("/organisations")
def list_organisations(actor: CurrentActor, uow_factory: UowFactory) -> list[dict[str, Any]]:
    """The network: laboratories, offices and their contact points."""
    return queries.organisations(uow_factory())
