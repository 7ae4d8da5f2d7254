"""Plain-dict views of the aggregates: computed once, rendered by the API, the pages and the CLI."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from customslab.domain.access import Actor
from customslab.domain.enums import OPEN_STATES, Role, State
from customslab.domain.model import (
    AnalysisRequest,
    AnalysisTest,
    CustodyEvent,
    Identification,
    Referral,
    Result,
    Sample,
    is_overdue,
)

RELEASED = frozenset({State.APPROVED, State.REPORTED, State.ARCHIVED})


def dec(v: Decimal | None) -> str | None:
    return None if v is None else str(v)


def iso(v: datetime | date | None) -> str | None:
    return None if v is None else v.isoformat()


def result_view(r: Result) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "value": dec(r.value),
        "unit": r.unit,
        "expanded_uncertainty": dec(r.expanded_uncertainty),
        "coverage_factor": dec(r.coverage_factor),
        "lod": dec(r.lod),
        "loq": dec(r.loq),
        "observation": r.observation,
        "entered_by": r.entered_by,
        "entered_at": iso(r.entered_at),
    }


def identification_view(i: Identification) -> dict[str, Any]:
    return {
        "id": i.id,
        "attachment_sha256": i.attachment_sha256,
        "technique": i.technique,
        "library_id": i.library_id,
        "library_version": i.library_version,
        "hits": i.hits,
        "created_at": iso(i.created_at),
    }


def test_view(
    t: AnalysisTest, show_results: bool, identifications: list[Identification] | None = None
) -> dict[str, Any]:
    return {
        "id": t.id,
        "determination": t.determination,
        "method_ref": t.method_ref,
        "state": t.state.value,
        "analyst_id": t.analyst_id,
        "return_reason": t.return_reason,
        "approved_by": t.approved_by,
        "approved_at": iso(t.approved_at),
        "results": [result_view(r) for r in t.results] if show_results else [],
        "results_released": show_results,
        "attachments": [
            {
                "id": a.id,
                "sha256": a.sha256,
                "filename": a.filename,
                "media_type": a.media_type,
                "size": a.size,
                "uploaded_at": iso(a.uploaded_at),
            }
            for a in t.attachments
        ]
        if show_results
        else [],
        "identifications": [identification_view(i) for i in identifications or []] if show_results else [],
    }


def custody_view(e: CustodyEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "kind": e.kind.value,
        "at": iso(e.at),
        "by_user_id": e.by_user_id,
        "from": e.from_party,
        "to": e.to_party,
        "location": e.location,
        "seal_number": e.seal_number,
        "seal_intact": e.seal_intact,
        "note": e.note,
    }


def referral_view(r: Referral) -> dict[str, Any]:
    return {
        "id": r.id,
        "sample_id": r.sample_id,
        "from_lab": r.from_lab,
        "to_lab": r.to_lab,
        "kind": r.kind.value,
        "state": r.state.value,
        "reason": r.reason,
        "created_at": iso(r.created_at),
        "accepted_at": iso(r.accepted_at),
        "completed_at": iso(r.completed_at),
    }


def results_visible_to(actor: Actor, test: AnalysisTest) -> bool:
    """Customs officers see results once the laboratory has approved them; staff see them always."""
    if actor.roles - {Role.REQUESTER}:
        return True
    return test.state in RELEASED


def sample_summary(s: Sample, req: AnalysisRequest, today: date, now: datetime) -> dict[str, Any]:
    tat = s.turnaround(now)
    return {
        "id": s.id,
        "lab_sample_id": s.lab_sample_id,
        "lab_code": s.lab_code,
        "state": s.state.value,
        "description": s.description,
        "request_id": req.id,
        "request_reference": req.reference,
        "declared_hs": req.declared_hs,
        "priority": req.priority.value,
        "reason": req.reason.value,
        "due_date": iso(req.due_date),
        "overdue": is_overdue(s.state, req.due_date, today),
        "registered_at": iso(s.registered_at),
        "turnaround_hours": None if tat is None else round(tat.total_seconds() / 3600, 1),
    }


def request_view(req: AnalysisRequest, today: date) -> dict[str, Any]:
    open_samples = [s for s in req.samples if s.state in OPEN_STATES]
    return {
        "id": req.id,
        "reference": req.reference,
        "office_code": req.office_code,
        "requester_id": req.requester_id,
        "lab_code": req.lab_code,
        "declaration_number": req.declaration_number,
        "item_number": req.item_number,
        "declared_hs": req.declared_hs,
        "goods_description": req.goods_description,
        "origin_country": req.origin_country,
        "importer": req.importer,
        "declared_value": dec(req.declared_value),
        "currency": req.currency,
        "reason": req.reason.value,
        "priority": req.priority.value,
        "due_date": iso(req.due_date),
        "overdue": req.is_overdue(today),
        "requested_determinations": req.requested_determinations,
        "question": req.question,
        "created_at": iso(req.created_at),
        "open_samples": len(open_samples),
    }
