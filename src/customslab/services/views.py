"""Typed views of the case aggregates: computed once, rendered by the API, the pages and the CLI.

A view takes the fields its record stores by name (`View.of_record`); the `of` constructors here add
only what is derived: where a case stands, and what its reader may see.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Self

from pydantic import Field

from customslab.domain.access import LAB_STAFF, Actor
from customslab.domain.enums import (
    OPEN_STATES,
    CustodyKind,
    OrgKind,
    Priority,
    Reason,
    ReferralKind,
    ReferralState,
    ResultKind,
    Role,
    State,
)
from customslab.domain.model import (
    AnalysisRequest,
    AnalysisTest,
    CustodyEvent,
    Identification,
    Result,
    Sample,
    is_overdue,
    request_overdue,
)
from customslab.services.confidentiality import DeclarationSight
from customslab.services.contract import View
from customslab.services.control_mark import CaseMark, case_mark
from customslab.services.control_views import ControlStatus, identified_controls

RELEASED = frozenset({State.APPROVED, State.REPORTED, State.ARCHIVED})


class AttachmentView(View):
    id: int
    sha256: str
    filename: str
    media_type: str
    size: int
    uploaded_at: datetime | None


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
    confidence: float | None = Field(
        default=None,
        description="FTIR/Raman: calibrated chance (0–1) that this hit's identity is right, from its score "
        "and its lead over the best hit of another identity; below 0.5 there is no reliable match.",
    )
    lead: float | None = Field(
        default=None,
        description="FTIR/Raman: score minus the best score of a library entry of another identity.",
    )
    shift_cm: float | None = Field(
        default=None, description="FTIR/Raman: the shift of the query axis (cm⁻¹) that gave the score."
    )
    row: int = Field(description="The entry's row in the library, for its spectrum plot.")
    controls: list[ControlStatus] = Field(
        default_factory=list,
        description="The hit's control status when the search ran: UN 1961/1971 schedules, 1988 tables, "
        "national lists (none: not in the register).",
    )


class IdentificationView(View):
    id: int
    attachment_sha256: str
    technique: str
    library_id: str
    library_version: str
    hits: list[SpectralHit] = Field(description="Ranked library hits, best first, as the search gave them.")
    created_at: datetime | None


class IdentityEvidence(View):
    """The identification an identity result cites: the library and version searched, its best hits."""

    identification_id: int
    technique: str
    library_id: str
    library_version: str
    top_hits: list[SpectralHit] = Field(description="The best hits of the stored list (three at most).")

    @classmethod
    def of(cls, i: Identification) -> IdentityEvidence:
        return cls.of_record(i, identification_id=i.id, top_hits=i.hits[:3])


class ResultView(View):
    id: int
    name: str
    kind: ResultKind = ResultKind.QUANTITY
    value: Decimal | None
    unit: str
    expanded_uncertainty: Decimal | None
    coverage_factor: Decimal | None
    lod: Decimal | None
    loq: Decimal | None
    observation: str
    text_value: str = Field(
        default="",
        description="A qualitative result's outcome: detected / not_detected, positive / negative, the "
        "finding, or the substance identified.",
    )
    identification_id: int | None = None
    evidence: IdentityEvidence | None = Field(
        default=None, description="An identity result's identification: its library, version and best hits."
    )
    equipment_id: int | None = None
    qc_batch_id: int | None = None
    entered_by: int | None
    entered_at: datetime | None
    controls: list[ControlStatus] = Field(
        default_factory=list,
        description="An identity's control status, as its identification stored it for the hit named.",
    )

    @classmethod
    def of(cls, r: Result, identifications: Iterable[Identification] = ()) -> ResultView:
        """The result, with its identification's evidence when it is an identity among `identifications`."""
        cited = next((i for i in identifications if i.id is not None and i.id == r.identification_id), None)
        return cls.of_record(
            r,
            evidence=IdentityEvidence.of(cited) if cited is not None else None,
            controls=identified_controls(cited, r.text_value) if r.kind is ResultKind.IDENTITY else [],
        )


class TestView(View):
    __test__ = False  # not a pytest class, despite its name

    id: int
    determination: str
    method_ref: str
    method_version_id: int | None = Field(
        default=None, description="The catalogued method version; none for a non-catalogued method."
    )
    state: State
    analyst_id: int | None
    analyst_name: str | None = None
    return_reason: str | None
    approved_by: int | None
    approved_by_name: str | None = None
    approved_at: datetime | None
    results: list[ResultView]
    results_released: bool
    attachments: list[AttachmentView]
    identifications: list[IdentificationView]

    @classmethod
    def of(
        cls,
        t: AnalysisTest,
        show_results: bool,
        identifications: list[Identification] | None = None,
        *,
        show_files: bool = True,
        names: Mapping[int, str] | None = None,
    ) -> TestView:
        # Results, files and identifications stay hidden until the officer may see them; the raw
        # instrument files also need the visibility table's leave (Kind.RESULT_FILE): `show_files`.
        # `names` gives the people of the test by their user id, shown instead of the bare number.
        idents = identifications or []
        names = names or {}
        return cls.of_record(
            t,
            results=[ResultView.of(r, idents) for r in t.results] if show_results else [],
            results_released=show_results,
            attachments=t.attachments if show_results and show_files else [],
            identifications=idents if show_results else [],
            analyst_name=names.get(t.analyst_id) if t.analyst_id is not None else None,
            approved_by_name=names.get(t.approved_by) if t.approved_by is not None else None,
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
        return cls.of_record(e, from_=e.from_party, to=e.to_party)


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


def results_visible_to(actor: Actor, test: AnalysisTest) -> bool:
    """Customs officers (supervisors and member focal points too) see results once the laboratory has
    approved them; laboratory staff and coordinators see them as they are entered."""
    if actor.has(*LAB_STAFF, Role.NETWORK_COORDINATOR):
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
    from_administration: str | None = Field(
        None,
        description="In a laboratory's queue: the administration a sample came from when it is not the "
        "laboratory's own (a referral from a member, or from a partner's server).",
    )
    control_mark: str = Field(
        default="",
        description="Set when a result names a controlled substance: its control entries as codes "
        "(UN1961:I|UN1988:II; a national list's national:<category>:<list>), shown before approval.",
    )
    control_marked_at: datetime | None = None
    case_mark: CaseMark | None = Field(
        default=None, description="The mark read: its entries, and whether it still awaits review."
    )

    @classmethod
    def of(cls, s: Sample, req: AnalysisRequest, today: date, now: datetime, **given: Any) -> Self:
        """The sample's own fields, its request's, and `given` (what a larger view adds)."""
        tat = s.turnaround(now)
        return cls.of_record(
            s,
            request_id=req.id,
            request_reference=req.reference,
            declared_hs=req.declared_hs,
            priority=req.priority,
            reason=req.reason,
            due_date=req.due_date,
            overdue=is_overdue(s.state, req.due_date, today),
            turnaround_hours=None if tat is None else round(tat.total_seconds() / 3600, 1),
            case_mark=case_mark(s),
            **given,
        )


class RequestView(View):
    """A request with its declaration data, as its officer and its laboratory see it; a reader of another
    administration gets the declaration fields not released to it blanked, and named in `withheld`."""

    id: int
    reference: str
    office_code: str
    requester_id: int
    lab_code: str
    administration_code: str
    declaration_number: str | None
    item_number: int | None
    declared_hs: str
    goods_description: str
    origin_country: str
    importer: str | None
    declarant: str | None
    declared_value: Decimal | None
    currency: str | None
    reason: Reason
    priority: Priority
    due_date: date | None
    overdue: bool
    requested_determinations: list[str]
    question: str | None
    created_at: datetime
    open_samples: int
    withheld: list[str] = Field(
        default_factory=list,
        description="Declaration fields withheld by the sending administration (blank above).",
    )

    @classmethod
    def of(
        cls,
        req: AnalysisRequest,
        today: date,
        sight: DeclarationSight,
        *,
        states: list[State] | None = None,
        **given: Any,
    ) -> Self:
        """The request's own fields as `sight` lets its reader see them, where it stands, and `given`
        (what a larger view adds). Where it stands comes from its samples' `states` when the caller read
        them alone (`Repository.sample_states`), else from the request's samples."""
        states = [s.state for s in req.samples] if states is None else states
        return cls.of_record(
            req,
            overdue=request_overdue(req.due_date, states, today),
            open_samples=sum(1 for state in states if state in OPEN_STATES),
            **sight.view_fields(),
            **given,
        )


class ContactPointView(View):
    name: str
    role: str
    email: str
    phone: str


class OrganisationBase(View):
    """The fields of an organisation that every view of it shows (the public one, the administrator's)."""

    code: str
    name: str
    kind: OrgKind
    country: str
    address: str
    parent_code: str | None


class OrganisationView(OrganisationBase):
    contact_points: list[ContactPointView]
    administration_code: str = ""
    is_rcl: bool = Field(False, description="A laboratory designated WCO Regional Customs Laboratory.")
