"""Read-side use cases: queues, case pages, the officer's requests, the audit trail."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import Field

from customslab.domain.access import Actor, Kind, orgs_seen, relations_seen
from customslab.domain.audit import AuditCheckpoint, verify_anchored
from customslab.domain.enums import Role, State
from customslab.domain.errors import NotFound, PermissionDenied
from customslab.domain.model import Sample
from customslab.services import queue_cursor
from customslab.services.common import visible_request, visible_sample
from customslab.services.confidentiality import administration_of, declaration_view_for
from customslab.services.contract import View
from customslab.services.control_mark import CaseMark, case_mark
from customslab.services.federation_referral_views import (
    ExternalReferral,
    external_referrals_of_request,
    external_referrals_of_sample,
)
from customslab.services.ports import AbstractUnitOfWork, AuditAnchor, QueueFilter, RequestFilter
from customslab.services.views import (
    CustodyView,
    OrganisationView,
    ReferralView,
    RequestView,
    SampleSummary,
    TestView,
    results_visible_to,
)

#: Roles whose request list holds their organisation's requests, not only those they filed themselves.
ORGANISATION_LISTS = (Role.SUPERVISOR, Role.FOCAL_POINT)


class QueueLab(View):
    """A laboratory whose queue the caller may open: their own, and for a central laboratory's reviewers
    and managers, the laboratories under it."""

    code: str
    name: str


#: The queue counts its matching rows up to this many (or to the end of the page asked for, if further):
#: past it the page says "more than", so that a page never costs a count of a whole laboratory's history.
QUEUE_COUNT_LIMIT = 10_000


class QueuePage(View):
    lab_code: str
    total: int = Field(
        description="The rows that match; when total_exact is false, more than this many match "
        "(the count stops past the page asked for, and past 10,000)."
    )
    limit: int
    offset: int
    items: list[SampleSummary]
    labs: list[QueueLab] = []
    total_exact: bool = Field(default=True, description="False when more rows match than `total` says.")
    next_after: str | None = Field(
        default=None,
        description="The next page's cursor, to pass as `after` (keyset paging: no row repeated or "
        "skipped while the queue changes); null on the last page.",
    )


class SampleDetail(SampleSummary):
    """Everything about one sample that the caller may see."""

    quantity: Decimal
    unit: str
    seal_number: str
    condition_on_receipt: str
    storage_location: str
    retention_until: date | None
    disposed_at: datetime | None
    rejection_reason: str | None
    parent_id: int | None
    request: RequestView
    tests: list[TestView]
    custody: list[CustodyView]
    referrals: list[ReferralView]
    held_by_me: bool
    external_referrals: list[ExternalReferral] = Field(
        default_factory=list, description="The sample's referrals to or from a partner's server."
    )


class SampleWithTests(SampleSummary):
    tests: list[TestView]


class RequestDetail(RequestView):
    samples: list[SampleWithTests]
    external_referrals: list[ExternalReferral] = Field(
        default_factory=list,
        description="Its samples' referrals to or from a partner's server, with the reports received.",
    )


class RequestListItem(RequestView):
    sample_states: list[State]
    control_marks: list[CaseMark] = Field(
        default_factory=list,
        description="The marks its samples carry where a result named a controlled substance.",
    )


class RequestPage(View):
    total: int
    items: list[RequestListItem]
    limit: int = 50
    offset: int = 0


class HistoryEntry(View):
    seq: int
    at: datetime
    actor: str
    entity: str
    entity_id: str
    action: str
    changes: dict[str, Any]
    reason: str | None


class AuditVerdict(View):
    """The audit trail checked: its hash chain, its signed checkpoints and, if given, a witness head."""

    ok: bool
    #: Entries verified (up to the first problem, or to the last checkpoint a rewrite left intact).
    checked: int
    first_broken_seq: int | None
    #: The first problem, in sequence order; `problems` lists them all.
    problem: str | None
    problems: list[str] = []
    #: Whether the chain was held to signed checkpoints (False: the hash chain alone was checked).
    anchored: bool = False
    #: Checkpoints whose signature is valid.
    checkpoints: int = 0
    last_checkpoint_seq: int | None = None
    last_checkpoint_at: datetime | None = None
    #: Entries newer than the last valid checkpoint: not yet anchored, so their removal would go unseen.
    unanchored: int = 0
    #: The entry an exported witness head pinned, when one was given.
    witness_seq: int | None = None


def lab_queue(
    uow: AbstractUnitOfWork,
    actor: Actor,
    flt: QueueFilter,
    lab_code: str | None = None,
    after: str | None = None,
) -> QueuePage:
    """A laboratory's open work (or one analyst's), filtered and sorted; urgent and overdue flagged. With
    `after` (a page's `next_after`) the page starts after that row instead of at `flt.offset`."""
    page_size = flt.limit
    cap = max(QUEUE_COUNT_LIMIT, flt.offset + page_size)
    flt = replace(
        flt,
        # One row more than the page tells whether a next page exists, without counting.
        limit=page_size + 1,
        after=queue_cursor.decode(after, flt.sort, flt.descending) if after else None,
        count_limit=cap,
    )
    with uow:
        lab = lab_code or actor.org_code
        # The laboratories whose samples the table lets the actor see by where they are held.
        scope = orgs_seen(actor, Kind.SAMPLE, uow.repo.directory())
        if lab != actor.org_code and lab not in scope:
            raise NotFound(f"There is no queue '{lab}' for you.")
        if actor.is_requester_only:
            raise PermissionDenied("Customs officers follow their requests, not laboratory queues.")
        rows, counted = uow.repo.queue(actor, lab, flt)
        next_after = None
        if len(rows) > page_size:
            rows = rows[:page_size]
            key = queue_cursor.queue_keys(flt.sort, rows[-1].sample, rows[-1].request)
            next_after = queue_cursor.encode(flt.sort, flt.descending, key)
        now = uow.clock()
        names = {o.code: o.name for o in uow.repo.orgs()}
        own = uow.repo.directory().administration_of.get(lab)

        def came_from(adm: str) -> str | None:
            return adm if adm and adm != own else None

        return QueuePage(
            lab_code=lab,
            total=min(counted, cap),
            total_exact=counted <= cap,
            next_after=next_after,
            limit=page_size,
            offset=0 if after else flt.offset,
            items=[
                SampleSummary.of(
                    r.sample,
                    r.request,
                    now.date(),
                    now,
                    from_administration=came_from(r.request.administration_code),
                )
                for r in rows
            ],
            labs=[
                QueueLab(code=code, name=names.get(code, code))
                for code in sorted(scope, key=lambda c: (c != actor.org_code, c))
            ],
        )


def _sees_files(uow: AbstractUnitOfWork, actor: Actor, sample: Sample) -> bool:
    """Whether the actor sees a seen sample's raw instrument files (Kind.RESULT_FILE); no second query
    when the table shows them the files wherever it shows them the sample (laboratory staff)."""
    if relations_seen(actor, Kind.RESULT_FILE) >= relations_seen(actor, Kind.SAMPLE):
        return True
    return uow.repo.can_see_sample(actor, sample, Kind.RESULT_FILE)


def _files_seen(uow: AbstractUnitOfWork, actor: Actor, samples: list[Sample]) -> set[int | None]:
    """`_sees_files` for a page of seen samples, in one query at most."""
    if relations_seen(actor, Kind.RESULT_FILE) >= relations_seen(actor, Kind.SAMPLE):
        return {s.id for s in samples}
    return set(uow.repo.seen_samples(actor, samples, Kind.RESULT_FILE))


def sample_detail(uow: AbstractUnitOfWork, actor: Actor, sample_id: int) -> SampleDetail:
    """Everything about one sample the actor may see: request, custody, tests, referrals, history."""
    with uow:
        sample = visible_sample(uow, actor, sample_id)
        req = uow.repo.request(sample.request_id or 0)
        assert req is not None
        now = uow.clock()
        files = _sees_files(uow, actor, sample)
        names = people_of_tests(uow, sample)
        return SampleDetail.of(
            sample,
            req,
            now.date(),
            now,
            request=RequestView.of(
                req,
                now.date(),
                declaration_view_for(uow, actor, req),
                # Where the request stands, without reading its other samples (a seizure has hundreds).
                states=uow.repo.sample_states([req]).get(req.id or 0, []),
            ),
            tests=[
                TestView.of(
                    t,
                    results_visible_to(actor, t),
                    list(uow.repo.identifications_for(t.id or 0)),
                    show_files=files,
                    names=names,
                )
                for t in sample.tests
            ],
            # The chain of custody is part of the sample (from the customs office that sealed it to the
            # laboratory's store): whoever the table lets see the sample sees it. The audit history is
            # work in progress, for laboratory staff only (entity_history).
            custody=[CustodyView.of(e) for e in sample.custody],
            referrals=[ReferralView.of_record(r) for r in uow.repo.referrals_for(sample_id)],
            held_by_me=sample.lab_code == actor.org_code,
            external_referrals=external_referrals_of_sample(uow, actor, sample_id),
        )


def people_of_tests(uow: AbstractUnitOfWork, sample: Sample) -> dict[int, str]:
    """The names of the analysts and approvers of the sample's tests, by user id, wherever they work (a
    test done before a referral keeps its analyst of the referring laboratory)."""
    ids = {i for t in sample.tests for i in (t.analyst_id, t.approved_by) if i is not None}
    users = (uow.repo.user(i) for i in sorted(ids))
    return {u.id: u.full_name or u.username for u in users if u is not None and u.id is not None}


def request_detail(uow: AbstractUnitOfWork, actor: Actor, request_id: int) -> RequestDetail:
    """One request with the samples the actor may see (results only once approved, for officers)."""
    with uow:
        req = visible_request(uow, actor, request_id)
        uow.repo.load_samples([req])
        now = uow.clock()
        # One visibility query for all the samples (a seizure's request holds hundreds), not one each.
        seen = uow.repo.seen_samples(actor, req.samples)
        shown = [s for s in req.samples if s.id in seen]
        files = _files_seen(uow, actor, shown)
        samples = [
            SampleWithTests.of(
                s,
                req,
                now.date(),
                now,
                tests=[
                    TestView.of(t, results_visible_to(actor, t), show_files=s.id in files) for t in s.tests
                ],
            )
            for s in shown
        ]
        return RequestDetail.of(
            req,
            now.date(),
            declaration_view_for(uow, actor, req),
            samples=samples,
            external_referrals=external_referrals_of_request(uow, actor, req),
        )


def my_requests(
    uow: AbstractUnitOfWork,
    actor: Actor,
    limit: int = 50,
    offset: int = 0,
    flt: RequestFilter | None = None,
) -> RequestPage:
    """The officer's own requests, newest first unless `flt` sorts them otherwise, searched and filtered
    by it, with where each stands; a supervisor's or a member focal point's list holds every request its
    organisation filed or was sent."""
    with uow:
        # Filed by or sent to the organisation: the table's "own" relation of a request, which these
        # roles see (domain.access.VISIBILITY).
        org = actor.org_code if actor.has(*ORGANISATION_LISTS) else None
        viewer = administration_of(uow, actor)
        flt = replace(flt or RequestFilter(), reader_administration=viewer)
        reqs, total = uow.repo.requests_of(actor.user_id, limit, offset, org_code=org, flt=flt)
        uow.repo.load_samples(reqs)  # the page shows each request's samples: one read, not one a row
        today = uow.clock().date()
        items = [
            RequestListItem.of(
                r,
                today,
                declaration_view_for(uow, actor, r, viewer),
                sample_states=sorted({s.state for s in r.samples}, key=lambda st: st.value),
                control_marks=[m for s in r.samples if (m := case_mark(s)) is not None],
            )
            for r in reqs
        ]
        return RequestPage(total=total, items=items, limit=limit, offset=offset)


def entity_history(uow: AbstractUnitOfWork, actor: Actor, sample_id: int) -> list[HistoryEntry]:
    """The audit entries of a sample and its tests and results, oldest first."""
    with uow:
        sample = visible_sample(uow, actor, sample_id)
        if not actor.sees_work_in_progress:
            raise PermissionDenied("The audit history is for laboratory staff.")
        entries = list(uow.repo.audit_for("samples", str(sample.id)))
        for t in sample.tests:
            entries += uow.repo.audit_for("tests", str(t.id))
            for r in t.results:
                entries += uow.repo.audit_for("results", str(r.id))
        entries.sort(key=lambda e: e.seq)
        return [HistoryEntry.of_record(e) for e in entries]


def verify_audit(
    uow: AbstractUnitOfWork, anchor: AuditAnchor | None = None, witness: AuditCheckpoint | None = None
) -> AuditVerdict:
    """Recompute the audit hash chain and hold it to its signed checkpoints; name the first problem."""
    with uow:
        # Checkpoints first, the chain after: a checkpoint commits with the entries it covers, so every
        # entry a checkpoint read here names is already visible to the chain read that follows.
        checkpoints = anchor.checkpoints() if anchor is not None else []
        authentic = anchor.is_authentic if anchor is not None and anchor.can_verify() else None
        verdict = verify_anchored(uow.repo.audit_chain(), checkpoints, authentic, witness)
        return AuditVerdict.of_record(verdict, anchored=anchor is not None)


def organisations(uow: AbstractUnitOfWork) -> list[OrganisationView]:
    """The network's laboratories, offices and their contact points."""
    with uow:
        return [OrganisationView.of_record(o) for o in uow.repo.orgs()]
