"""Read-side use cases: queues, case pages, the officer's requests, the audit trail."""

from __future__ import annotations

from typing import Any

from customslab.domain.access import Actor
from customslab.domain.audit import verify_chain
from customslab.domain.errors import NotFound, PermissionDenied
from customslab.services.common import visible_request, visible_sample
from customslab.services.ports import AbstractUnitOfWork, QueueFilter
from customslab.services.views import (
    custody_view,
    referral_view,
    request_view,
    results_visible_to,
    sample_summary,
    test_view,
)


def lab_queue(
    uow: AbstractUnitOfWork, actor: Actor, flt: QueueFilter, lab_code: str | None = None
) -> dict[str, Any]:
    """A laboratory's open work (or one analyst's), filtered and sorted; urgent and overdue flagged."""
    with uow:
        lab = lab_code or actor.org_code
        if lab != actor.org_code and not actor.sees_network:
            raise NotFound(f"There is no queue '{lab}' for you.")
        if actor.is_requester_only:
            raise PermissionDenied("Customs officers follow their requests, not laboratory queues.")
        rows, total = uow.repo.queue(actor, lab, flt)
        now = uow.clock()
        return {
            "lab_code": lab,
            "total": total,
            "limit": flt.limit,
            "offset": flt.offset,
            "items": [sample_summary(r.sample, r.request, now.date(), now) for r in rows],
        }


def sample_detail(uow: AbstractUnitOfWork, actor: Actor, sample_id: int) -> dict[str, Any]:
    """Everything about one sample the actor may see: request, custody, tests, referrals, history."""
    with uow:
        sample = visible_sample(uow, actor, sample_id)
        req = uow.repo.request(sample.request_id or 0)
        assert req is not None
        now = uow.clock()
        staff = not actor.is_requester_only
        view = sample_summary(sample, req, now.date(), now)
        view |= {
            "quantity": str(sample.quantity),
            "unit": sample.unit,
            "seal_number": sample.seal_number,
            "condition_on_receipt": sample.condition_on_receipt,
            "storage_location": sample.storage_location,
            "retention_until": sample.retention_until.isoformat() if sample.retention_until else None,
            "disposed_at": sample.disposed_at.isoformat() if sample.disposed_at else None,
            "rejection_reason": sample.rejection_reason,
            "parent_id": sample.parent_id,
            "request": request_view(req, now.date()),
            "tests": [
                test_view(t, results_visible_to(actor, t), list(uow.repo.identifications_for(t.id or 0)))
                for t in sample.tests
            ],
            "custody": [custody_view(e) for e in sample.custody] if staff else [],
            "referrals": [referral_view(r) for r in uow.repo.referrals_for(sample_id)],
            "held_by_me": sample.lab_code == actor.org_code,
        }
        return view


def request_detail(uow: AbstractUnitOfWork, actor: Actor, request_id: int) -> dict[str, Any]:
    with uow:
        req = visible_request(uow, actor, request_id)
        now = uow.clock()
        samples = []
        for s in req.samples:
            if not uow.repo.can_see_sample(actor, s):
                continue
            summary = sample_summary(s, req, now.date(), now)
            summary["tests"] = [test_view(t, results_visible_to(actor, t)) for t in s.tests]
            samples.append(summary)
        return request_view(req, now.date()) | {"samples": samples}


def my_requests(uow: AbstractUnitOfWork, actor: Actor, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """The officer's own requests, newest first, with where each stands."""
    with uow:
        reqs, total = uow.repo.requests_of(actor.user_id, limit, offset)
        today = uow.clock().date()
        items = []
        for r in reqs:
            states = sorted({s.state.value for s in r.samples})
            items.append(request_view(r, today) | {"sample_states": states})
        return {"total": total, "items": items}


def entity_history(uow: AbstractUnitOfWork, actor: Actor, sample_id: int) -> list[dict[str, Any]]:
    """The audit entries of a sample and its tests and results, oldest first."""
    with uow:
        sample = visible_sample(uow, actor, sample_id)
        if actor.is_requester_only:
            raise PermissionDenied("The audit history is for laboratory staff.")
        entries = list(uow.repo.audit_for("samples", str(sample.id)))
        for t in sample.tests:
            entries += uow.repo.audit_for("tests", str(t.id))
            for r in t.results:
                entries += uow.repo.audit_for("results", str(r.id))
        entries.sort(key=lambda e: e.seq)
        return [
            {
                "seq": e.seq,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "entity": e.entity,
                "entity_id": e.entity_id,
                "action": e.action,
                "changes": e.changes,
                "reason": e.reason,
            }
            for e in entries
        ]


def verify_audit(uow: AbstractUnitOfWork) -> dict[str, Any]:
    """Recompute the audit hash chain; name the first broken entry."""
    with uow:
        verdict = verify_chain(uow.repo.audit_chain())
        return {
            "ok": verdict.ok,
            "checked": verdict.checked,
            "first_broken_seq": verdict.first_broken_seq,
            "problem": verdict.problem,
        }


def organisations(uow: AbstractUnitOfWork) -> list[dict[str, Any]]:
    with uow:
        return [
            {
                "code": o.code,
                "name": o.name,
                "kind": o.kind.value,
                "country": o.country,
                "address": o.address,
                "parent_code": o.parent_code,
                "contact_points": [c.__dict__ for c in o.contact_points],
            }
            for o in uow.repo.orgs()
        ]
