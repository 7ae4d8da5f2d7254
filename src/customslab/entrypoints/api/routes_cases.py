"""Requests, samples, custody, referrals and queues."""

from __future__ import annotations

from fastapi import APIRouter, Query

from customslab.domain.enums import Priority, Reason, State
from customslab.entrypoints.api.deps import Offset, PathId, SignedIn
from customslab.services import cases, confidentiality, federation_referrals, queries, referrals
from customslab.services.cases import (
    CustodyCount,
    CustodyCreate,
    Reasoned,
    RequestCreate,
    SampleCreate,
    SampleReceipt,
    SampleState,
)
from customslab.services.confidentiality import ReleaseCreate, ReleaseView
from customslab.services.contract import MAX_INT, Day
from customslab.services.ports import QueueFilter
from customslab.services.queries import (
    HistoryEntry,
    QueuePage,
    RequestDetail,
    RequestPage,
    SampleDetail,
)
from customslab.services.referrals import ReferralCreate, ShareCreate, ShareView
from customslab.services.views import OrganisationView, ReferralView, RequestView, SampleSummary

router = APIRouter(prefix="/api", tags=["cases"])


@router.post("/requests", status_code=201)
def file_request(body: RequestCreate, caller: SignedIn) -> RequestView:
    """A customs officer files an analysis request."""
    return cases.file_request(caller.uow, caller.actor, body)


@router.get("/requests")
def list_my_requests(
    caller: SignedIn,
    limit: int = Query(50, ge=1, le=200),
    offset: Offset = 0,
) -> RequestPage:
    """The signed-in officer's own requests."""
    return queries.my_requests(caller.uow, caller.actor, limit, offset)


@router.get("/requests/{request_id}")
def get_request(request_id: PathId, caller: SignedIn) -> RequestDetail:
    """One request with its samples (results only once approved, for officers)."""
    return queries.request_detail(caller.uow, caller.actor, request_id)


@router.post("/requests/{request_id}/releases", status_code=201)
def release_declaration(request_id: PathId, body: ReleaseCreate, caller: SignedIn) -> list[ReleaseView]:
    """The sending administration releases declaration fields of the request to another administration."""
    return confidentiality.release_declaration(caller.uow, caller.actor, request_id, body)


@router.get("/requests/{request_id}/releases")
def list_releases(request_id: PathId, caller: SignedIn) -> list[ReleaseView]:
    """The releases of the request's declaration data (another administration sees those made to it)."""
    return confidentiality.declaration_releases(caller.uow, caller.actor, request_id)


@router.post("/requests/{request_id}/samples", status_code=201)
def register_sample(request_id: PathId, body: SampleCreate, caller: SignedIn) -> SampleSummary:
    """The laboratory (or a member administration's focal point) registers a sample of the request."""
    return cases.register_sample(caller.uow, caller.actor, request_id, body)


@router.get("/queue")
def queue(
    caller: SignedIn,
    lab: str | None = Query(None, max_length=40),
    state: list[State] | None = Query(None),
    priority: Priority | None = None,
    reason: Reason | None = None,
    due_before: Day | None = None,
    overdue: bool = False,
    hs_chapter: str | None = Query(None, pattern=r"^\d{2}$"),
    analyst_id: int | None = Query(None, ge=1, le=MAX_INT),
    mine: bool = False,
    q: str | None = Query(None, max_length=100),
    sort: str = Query("due", pattern="^(due|priority|registered|reference)$"),
    limit: int = Query(50, ge=1, le=200),
    offset: Offset = 0,
    after: str | None = Query(
        None, max_length=400, description="A page's next_after: the page after it (offset is then ignored)."
    ),
) -> QueuePage:
    """A laboratory's open queue (or one analyst's with mine=true), filtered and sorted."""
    flt = QueueFilter(
        states=frozenset(state) if state else None,
        priority=priority,
        reason=reason,
        due_before=due_before,
        hs_chapter=hs_chapter,
        analyst_id=caller.actor.user_id if mine else analyst_id,
        overdue_on=caller.uow.clock().date() if overdue else None,
        text=q,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return queries.lab_queue(caller.uow, caller.actor, flt, lab, after)


@router.get("/samples/{sample_id}")
def get_sample(sample_id: PathId, caller: SignedIn) -> SampleDetail:
    """A sample with its custody chain, tests, results and referrals."""
    return queries.sample_detail(caller.uow, caller.actor, sample_id)


@router.get("/samples/{sample_id}/history")
def sample_history(sample_id: PathId, caller: SignedIn) -> list[HistoryEntry]:
    """Audit entries of the sample, its tests and results."""
    return queries.entity_history(caller.uow, caller.actor, sample_id)


@router.post("/samples/{sample_id}/receive")
def receive_sample(sample_id: PathId, body: SampleReceipt, caller: SignedIn) -> SampleSummary:
    """Receive a sample: condition, seal and storage location."""
    return cases.receive_sample(caller.uow, caller.actor, sample_id, body)


@router.post("/samples/{sample_id}/custody", status_code=201)
def record_custody(sample_id: PathId, body: CustodyCreate, caller: SignedIn) -> CustodyCount:
    """Append a custody event (hand-over, transport, storage move, disposal)."""
    return cases.record_custody(caller.uow, caller.actor, sample_id, body)


@router.post("/samples/{sample_id}/reject")
def reject_sample(sample_id: PathId, body: Reasoned, caller: SignedIn) -> SampleState:
    """Reject a sample with a reason."""
    return cases.reject_sample(caller.uow, caller.actor, sample_id, body.reason)


@router.post("/samples/{sample_id}/cancel")
def cancel_sample(sample_id: PathId, body: Reasoned, caller: SignedIn) -> SampleState:
    """Cancel a sample and its open tests, with a reason."""
    return cases.cancel_sample(caller.uow, caller.actor, sample_id, body.reason)


@router.post("/samples/{sample_id}/archive")
def archive_sample(sample_id: PathId, caller: SignedIn) -> SampleState:
    """Archive a reported, rejected or cancelled sample."""
    return cases.archive_sample(caller.uow, caller.actor, sample_id)


@router.post("/samples/{sample_id}/refer", status_code=201)
def refer_sample(sample_id: PathId, body: ReferralCreate, caller: SignedIn) -> ReferralView:
    """Refer the sample, or a sub-sample, to another laboratory of the network."""
    return referrals.refer_sample(caller.uow, caller.actor, sample_id, body)


@router.post("/referrals/{referral_id}/cancel")
def cancel_external_referral(referral_id: PathId, body: Reasoned, caller: SignedIn) -> ReferralView:
    """The referrer calls off a referral to a partner's server; the sample returns to its custody."""
    return federation_referrals.cancel_external_referral(caller.uow, caller.actor, referral_id, body.reason)


@router.post("/samples/{sample_id}/share", status_code=201)
def share_sample(sample_id: PathId, body: ShareCreate, caller: SignedIn) -> ShareView:
    """Share the sample read-only with another organisation."""
    return referrals.share_sample(caller.uow, caller.actor, sample_id, body)


@router.get("/organisations")
def list_organisations(caller: SignedIn) -> list[OrganisationView]:
    """The network: laboratories, offices and their contact points."""
    return queries.organisations(caller.uow)
