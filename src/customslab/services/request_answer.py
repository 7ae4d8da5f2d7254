"""The officer's answer on a request: where it stands, what each sample was classified as (at the level
actually decided), the approved opinion, and the test report to download.

One typed view, computed here once; the request page renders it as HTML and as JSON. What it shows
follows the visibility table (domain/access.py): a sample, its opinion and its report each need the
reader's leave, results count only once approved, drafts never appear.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Literal

from pydantic import Field

from customslab.domain.access import Actor, Kind
from customslab.domain.enums import State
from customslab.domain.errors import PermissionDenied
from customslab.domain.model import AnalysisRequest, ClassificationOpinion, Sample
from customslab.hs.evaluate import Evaluation
from customslab.hs.levels import dotted, level_of
from customslab.hs.nomenclature import HsError, normalise_code
from customslab.services.common import visible_request
from customslab.services.contract import View
from customslab.services.determination import approved_opinion, measurement_verdict, open_drafts
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.quality_ports import IssuedReport
from customslab.services.reports import check_printed_declaration
from customslab.services.result_words import state_words

Event = Literal[
    "filed",
    "registered",
    "received",
    "in_analysis",
    "submitted",
    "approved",
    "reported",
    "report_amended",
    "referral_sent",
    "referral_accepted",
    "referral_completed",
    "opinion_approved",
    "rejected",
    "cancelled",
]

#: Each event in words (English; the page translates them).
EVENT_WORDS: dict[str, str] = {
    "filed": "Request filed",
    "registered": "Sample registered",
    "received": "Sample received by the laboratory",
    "in_analysis": "Analysis started",
    "submitted": "Results submitted for review",
    "approved": "Results approved",
    "reported": "Test report issued",
    "report_amended": "Test report amended",
    "referral_sent": "Sample referred to another laboratory",
    "referral_accepted": "Referral accepted",
    "referral_completed": "Referral completed",
    "opinion_approved": "Classification opinion approved",
    "rejected": "Sample rejected",
    "cancelled": "Sample cancelled",
}


class TimelineEntry(View):
    """One step of the request, from a stored timestamp or a custody, referral or report record."""

    at: datetime
    event: Event
    words: str = Field(description="The event in English words; the page shows them translated.")
    sample: str | None = Field(None, description="The laboratory sample id the step concerns.")
    place: str = Field("", description="The laboratory or office where it happened (or went).")
    detail: str = Field("", description="The reason given (rejection, cancellation, referral, amendment).")


class HsCode(View):
    """A code at the level it was decided: heading 2208 is written 22.08 and named a heading."""

    code: str
    level: str = Field(description="chapter, heading, subheading or national tariff line")
    dotted: str

    @classmethod
    def of_code(cls, code: str) -> HsCode:
        return cls(code=code, level=level_of(code), dotted=dotted(code))


class OpinionAnswer(View):
    """The laboratory's approved classification opinion; drafts are never shown."""

    id: int
    declared: HsCode
    determined: HsCode
    reasoning: str
    references: list[str]
    reviewer: str
    approved_at: datetime | None


class RulesAnswer(View):
    """What the HS measurement rules decide on the approved results, at the level they decide it."""

    status: Literal["decided", "undecided", "no_rule"]
    decided: list[HsCode]
    message: str


class ReportLink(View):
    """The current issued version of the sample's test report."""

    id: int
    report_id: str
    version: int
    issued_at: datetime
    url: str
    amended: bool


class SampleAnswer(View):
    sample_id: int
    lab_sample_id: str
    state: State
    state_words: str
    lab_name: str
    determined: HsCode | None = Field(
        description="The classification determined at the level decided: the approved opinion's code, "
        "else the one code the measurement rules decided; none while neither has."
    )
    determined_by: Literal["opinion", "rules", "none"]
    opinion: OpinionAnswer | None
    rules: RulesAnswer | None
    report: ReportLink | None
    report_withheld: str | None = Field(
        None, description="Why the issued report cannot be downloaded by this reader, when it cannot."
    )
    under_revision: bool = Field(
        False,
        description="The laboratory is revising its approved opinion (a newer draft is open): no "
        "classification is shown, as the report prints none.",
    )


class RequestAnswer(View):
    """The officer's answer on one request."""

    request_id: int
    reference: str
    declared: HsCode
    timeline: list[TimelineEntry]
    samples: list[SampleAnswer]


def _code(text: str) -> HsCode:
    try:
        return HsCode.of_code(normalise_code(text, allow_national=True))
    except HsError:
        return HsCode(code=text, level="", dotted=text)


def _closing(uow: AbstractUnitOfWork, s: Sample) -> tuple[datetime | None, str]:
    """When a sample was rejected or cancelled, and why: the audit trail keeps the moment and the reason
    (the sample keeps a rejection's reason, not a cancellation's)."""
    for entry in reversed(uow.repo.audit_for("samples", str(s.id))):
        change = entry.changes.get("state")
        if isinstance(change, dict) and change.get("after") == s.state.value:
            return entry.at, s.rejection_reason or entry.reason or ""
    return None, s.rejection_reason


def _sample_steps(uow: AbstractUnitOfWork, s: Sample, names: dict[str, str]) -> Iterator[TimelineEntry]:
    sid, lab = s.lab_sample_id, names.get(s.lab_code, s.lab_code)
    stamps: list[tuple[Event, datetime | None]] = [
        ("registered", s.registered_at),
        ("received", s.received_at),
        ("in_analysis", s.analysis_started_at),
        ("submitted", s.submitted_at),
        ("approved", s.approved_at),
    ]
    for event, at in stamps:
        if at is not None:
            yield _entry(at, event, sid, lab)
    for r in uow.repo.referrals_for(s.id or 0):
        to = names.get(r.to_lab, r.to_lab)
        yield _entry(r.created_at, "referral_sent", sid, to, r.reason)
        if r.accepted_at is not None:
            yield _entry(r.accepted_at, "referral_accepted", sid, to)
        if r.completed_at is not None:
            yield _entry(r.completed_at, "referral_completed", sid, to)
    if s.state in (State.REJECTED, State.CANCELLED):
        at, reason = _closing(uow, s)
        if at is not None:
            yield _entry(at, "rejected" if s.state is State.REJECTED else "cancelled", sid, lab, reason)


def _entry(
    at: datetime, event: Event, sample: str | None, place: str = "", detail: str = ""
) -> TimelineEntry:
    return TimelineEntry(
        at=at, event=event, words=EVENT_WORDS[event], sample=sample, place=place, detail=detail
    )


def _opinion(uow: AbstractUnitOfWork, o: ClassificationOpinion) -> OpinionAnswer:
    reviewer = uow.repo.user(o.reviewer_id) if o.reviewer_id else None
    return OpinionAnswer(
        id=o.id or 0,
        declared=_code(o.declared_code),
        determined=_code(o.determined_code),
        reasoning=o.reasoning,
        references=list(o.references),
        reviewer=reviewer.full_name if reviewer else "",
        approved_at=o.reviewed_at,
    )


def _rules(verdict: Evaluation | None) -> RulesAnswer | None:
    if verdict is None:
        return None
    # A code left open without a decision (an exception the rules do not measure) means the rules do
    # not answer with one code: the officer is shown none of them as the rules' answer.
    decided = [HsCode.of_code(d) for d in dict.fromkeys(verdict.decided)] if all(verdict.decided) else []
    return RulesAnswer.model_validate(
        {"status": verdict.status, "decided": decided, "message": verdict.message}
    )


def _report(
    uow: AbstractUnitOfWork, actor: Actor, s: Sample
) -> tuple[ReportLink | None, str | None, list[TimelineEntry]]:
    """The current report version, why it may not be downloaded (if so), and its issue steps."""
    if not uow.repo.can_see_sample(actor, s, Kind.REPORT):
        return None, None, []
    issued = sorted(uow.quality.find(IssuedReport, sample_id=s.id), key=lambda e: e.version)
    steps = [
        _entry(
            e.issued_at,
            "report_amended" if e.version > 1 else "reported",
            s.lab_sample_id,
            e.data.laboratory.name,
            f"{e.report_id} v{e.version}" + (f": {e.amendment_reason}" if e.amendment_reason else ""),
        )
        for e in issued
    ]
    current = next((e for e in reversed(issued) if e.superseded_by_id is None), None)
    if current is None or current.id is None:
        return None, None, steps
    try:
        check_printed_declaration(uow, actor, current)
    except PermissionDenied as refused:
        return None, refused.message, steps
    link = ReportLink(
        id=current.id,
        report_id=current.report_id,
        version=current.version,
        issued_at=current.issued_at,
        url=f"/reports/{current.id}.pdf",
        amended=current.version > 1,
    )
    return link, None, steps


def _answer(
    uow: AbstractUnitOfWork,
    actor: Actor,
    s: Sample,
    req: AnalysisRequest,
    names: dict[str, str],
    language: str,
) -> tuple[SampleAnswer, list[TimelineEntry]]:
    opinion = None
    under_revision = False
    steps = list(_sample_steps(uow, s, names))
    if uow.repo.can_see_sample(actor, s, Kind.OPINION):
        opinions = list(uow.repo.opinions_for(s.id or 0))
        approved = approved_opinion(opinions)
        if approved is not None:
            # A draft newer than the approved opinion: the report prints no opinion (report_content.py),
            # so neither does the answer; the approval stays on the timeline, as it happened.
            under_revision = bool(open_drafts(opinions))
            opinion = None if under_revision else _opinion(uow, approved)
            if approved.reviewed_at is not None:
                steps.append(_entry(approved.reviewed_at, "opinion_approved", s.lab_sample_id))
    rules = _rules(measurement_verdict(s, req, language))
    report, withheld, report_steps = _report(uow, actor, s)
    if not report_steps and s.reported_at is not None:
        # A reader the table does not show the report to still learns that it was issued.
        report_steps = [_entry(s.reported_at, "reported", s.lab_sample_id, names.get(s.lab_code, ""))]
    determined: HsCode | None = None
    by: Literal["opinion", "rules", "none"] = "none"
    if opinion is not None:
        determined, by = opinion.determined, "opinion"
    # While the laboratory revises its opinion, the rules' code would read as its answer: none is shown.
    elif not under_revision and rules is not None and rules.status == "decided" and len(rules.decided) == 1:
        determined, by = rules.decided[0], "rules"
    answer = SampleAnswer(
        sample_id=s.id or 0,
        lab_sample_id=s.lab_sample_id,
        state=s.state,
        state_words=state_words(s.state),
        lab_name=names.get(s.lab_code, s.lab_code),
        determined=determined,
        determined_by=by,
        opinion=opinion,
        rules=rules,
        report=report,
        report_withheld=withheld,
        under_revision=under_revision,
    )
    return answer, steps + report_steps


def request_answer(
    uow: AbstractUnitOfWork, actor: Actor, request_id: int, language: str = "en"
) -> RequestAnswer:
    """The answer on a request as its reader may see it: timeline, classification, opinion, report; the
    rules' verdict in `language` (en, ko)."""
    with uow:
        req = visible_request(uow, actor, request_id)
        uow.repo.load_samples([req])
        names = {o.code: o.name for o in uow.repo.orgs()}
        timeline = [_entry(req.created_at, "filed", None, names.get(req.office_code, req.office_code))]
        samples: list[SampleAnswer] = []
        seen = uow.repo.seen_samples(actor, req.samples)  # one query for all, not one a sample
        for s in req.samples:
            if s.id not in seen:
                continue
            answer, steps = _answer(uow, actor, s, req, names, language)
            samples.append(answer)
            timeline += steps
        order = list(EVENT_WORDS)
        timeline.sort(key=lambda e: (e.at, order.index(e.event)))
        return RequestAnswer(
            request_id=req.id or 0,
            reference=req.reference,
            declared=_code(req.declared_hs),
            timeline=timeline,
            samples=samples,
        )
