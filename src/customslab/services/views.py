"""Typed views of the case aggregates: computed once, rendered by the API, the pages and the CLI."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import Field

from customslab.domain.access import Actor
from customslab.domain.enums import (
    OPEN_STATES,
    CustodyKind,
    OrgKind,
    Priority,
    Reason,
    ReferralKind,
    ReferralState,
    Role,
    State,
)
from customslab.domain.model import (
    AnalysisRequest,
    AnalysisTest,
    Attachment,
    CustodyEvent,
    Identification,
    Organisation,
    Referral,
    Result,
    Sample,
    is_overdue,
)
from customslab.services.contract import View

RELEASED = frozenset({State.APPROVED, State.REPORTED, State.ARCHIVED})


def stored(record_id: int | None) -> int:
    """The id of a record the unit of work has flushed; a view is never built before that."""
    if record_id is None:
        raise RuntimeError("a view was built from a record that was never stored")
    return record_id


def iso(v: datetime | date | None) -> str | None:
    return None if v is None else v.isoformat()


class ResultView(View):
    id: int
    name: str
    value: Decimal | None
    unit: str
    expanded_uncertainty: Decimal | None
    coverage_factor: Decimal | None
    lod: Decimal | None
    loq: Decimal | None
    observation: str
    entered_by: int | None
    entered_at: datetime | None

    @classmethod
    def of(cls, r: Result) -> ResultView:
        return cls(
            id=stored(r.id),
            name=r.name,
            value=r.value,
            unit=r.unit,
            expanded_uncertainty=r.expanded_uncertainty,
            coverage_factor=r.coverage_factor,
            lod=r.lod,
            loq=r.loq,
            observation=r.observation,
            entered_by=r.entered_by,
            entered_at=r.entered_at,
        )


class AttachmentView(View):
    id: int
    sha256: str
    filename: str
    media_type: str
    size: int
    uploaded_at: datetime | None

    @classmethod
    def of(cls, a: Attachment) -> AttachmentView:
        return cls(
            id=stored(a.id),
            sha256=a.sha256,
            filename=a.filename,
            media_type=a.media_type,
            size=a.size,
            uploaded_at=a.uploaded_at,
        )


class SpectralHit(View):
    """One library spectrum matching a query, as a search ranked it (best first)."""

    rank: int
    score: float = Field(description="Similarity, 1 for identical spectra.")
    name: str
    label: str | None = None
    key: str = ""
    inchikey: str | None = None
    formula: str | None = None
    cas: str | None = None
    technique: str
    library_id: str
    source_file: str = ""
    license: str | None = None
    description: str | None = None
    matched_peaks: int = Field(default=0, description="Peaks matched within tolerance (EI-MS only).")
    row: int = Field(description="The entry's row in the library, for its spectrum plot.")


class IdentificationView(View):
    id: int
    attachment_sha256: str
    technique: str
    library_id: str
    library_version: str
    hits: list[SpectralHit] = Field(description="Ranked library hits, best first, as the search gave them.")
    created_at: datetime | None

    @classmethod
    def of(cls, i: Identification) -> IdentificationView:
        return cls(
            id=stored(i.id),
            attachment_sha256=i.attachment_sha256,
            technique=i.technique,
            library_id=i.library_id,
            library_version=i.library_version,
            hits=[SpectralHit.model_validate(h) for h in i.hits],
            created_at=i.created_at,
        )


class TestView(View):
    __test__ = False  # not a pytest class, despite its name

    id: int
    determination: str
    method_ref: str
    state: State
    analyst_id: int | None
    return_reason: str | None
    approved_by: int | None
    approved_at: datetime | None
    results: list[ResultView]
    results_released: bool
    attachments: list[AttachmentView]
    identifications: list[IdentificationView]

    @classmethod
    def of(
        cls, t: AnalysisTest, show_results: bool, identifications: list[Identification] | None = None
    ) -> TestView:
        return cls(
            id=stored(t.id),
            determination=t.determination,
            method_ref=t.method_ref,
            state=t.state,
            analyst_id=t.analyst_id,
            return_reason=t.return_reason,
            approved_by=t.approved_by,
            approved_at=t.approved_at,
            results=[ResultView.of(r) for r in t.results] if show_results else [],
            results_released=show_results,
            attachments=[AttachmentView.of(a) for a in t.attachments] if show_results else [],
            identifications=[IdentificationView.of(i) for i in identifications or []] if show_results else [],
        )


class CustodyView(View):
    id: int
    kind: CustodyKind
    at: datetime
    by_user_id: int
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    location: str
    seal_number: str
    seal_intact: bool | None
    note: str

    @classmethod
    def of(cls, e: CustodyEvent) -> CustodyView:
        return cls(
            id=stored(e.id),
            kind=e.kind,
            at=e.at,
            by_user_id=e.by_user_id,
            to=e.to_party,
            location=e.location,
            seal_number=e.seal_number,
            seal_intact=e.seal_intact,
            note=e.note,
            **{"from": e.from_party},
        )


class ReferralView(View):
    id: int
    sample_id: int
    from_lab: str
    to_lab: str
    kind: ReferralKind
    state: ReferralState
    reason: str
    created_at: datetime
    accepted_at: datetime | None
    completed_at: datetime | None
    lab_sample_id: str | None = Field(None, description="The referred sample, or the sub-sample made for it.")

    @classmethod
    def of(cls, r: Referral, lab_sample_id: str | None = None) -> ReferralView:
        return cls(
            id=stored(r.id),
            sample_id=r.sample_id,
            from_lab=r.from_lab,
            to_lab=r.to_lab,
            kind=r.kind,
            state=r.state,
            reason=r.reason,
            created_at=r.created_at,
            accepted_at=r.accepted_at,
            completed_at=r.completed_at,
            lab_sample_id=lab_sample_id,
        )


def results_visible_to(actor: Actor, test: AnalysisTest) -> bool:
    """Customs officers see results once the laboratory has approved them; staff see them always."""
    if actor.roles - {Role.REQUESTER}:
        return True
    return test.state in RELEASED


class SampleSummary(View):
    """A sample as a queue row or a request's item shows it."""

    id: int
    lab_sample_id: str
    lab_code: str
    state: State
    description: str
    request_id: int
    request_reference: str
    declared_hs: str
    priority: Priority
    reason: Reason
    due_date: date | None
    overdue: bool
    registered_at: datetime | None
    turnaround_hours: float | None

    @classmethod
    def fields_of(cls, s: Sample, req: AnalysisRequest, today: date, now: datetime) -> dict[str, Any]:
        tat = s.turnaround(now)
        return {
            "id": stored(s.id),
            "lab_sample_id": s.lab_sample_id,
            "lab_code": s.lab_code,
            "state": s.state,
            "description": s.description,
            "request_id": stored(req.id),
            "request_reference": req.reference,
            "declared_hs": req.declared_hs,
            "priority": req.priority,
            "reason": req.reason,
            "due_date": req.due_date,
            "overdue": is_overdue(s.state, req.due_date, today),
            "registered_at": s.registered_at,
            "turnaround_hours": None if tat is None else round(tat.total_seconds() / 3600, 1),
        }

    @classmethod
    def of(cls, s: Sample, req: AnalysisRequest, today: date, now: datetime) -> SampleSummary:
        return cls(**cls.fields_of(s, req, today, now))


class RequestView(View):
    """A request with its declaration data, as its officer and its laboratory see it."""

    id: int
    reference: str
    office_code: str
    requester_id: int
    lab_code: str
    declaration_number: str
    item_number: int
    declared_hs: str
    goods_description: str
    origin_country: str
    importer: str
    declared_value: Decimal | None
    currency: str | None
    reason: Reason
    priority: Priority
    due_date: date | None
    overdue: bool
    requested_determinations: list[str]
    question: str
    created_at: datetime
    open_samples: int

    @classmethod
    def fields_of(cls, req: AnalysisRequest, today: date) -> dict[str, Any]:
        return {
            "id": stored(req.id),
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
            "declared_value": req.declared_value,
            "currency": req.currency,
            "reason": req.reason,
            "priority": req.priority,
            "due_date": req.due_date,
            "overdue": req.is_overdue(today),
            "requested_determinations": list(req.requested_determinations),
            "question": req.question,
            "created_at": req.created_at,
            "open_samples": sum(1 for s in req.samples if s.state in OPEN_STATES),
        }

    @classmethod
    def of(cls, req: AnalysisRequest, today: date) -> RequestView:
        return cls(**cls.fields_of(req, today))


class ContactPointView(View):
    name: str
    role: str
    email: str
    phone: str


class OrganisationView(View):
    code: str
    name: str
    kind: OrgKind
    country: str
    address: str
    parent_code: str | None
    contact_points: list[ContactPointView]

    @classmethod
    def of(cls, o: Organisation) -> OrganisationView:
        return cls(
            code=o.code,
            name=o.name,
            kind=o.kind,
            country=o.country,
            address=o.address,
            parent_code=o.parent_code,
            contact_points=[
                ContactPointView(name=c.name, role=c.role, email=c.email, phone=c.phone)
                for c in o.contact_points
            ],
        )
