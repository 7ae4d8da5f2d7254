"""Use cases of HS classification: evaluate results against the legal-note rules, write, approve,
share and search classification opinions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from customslab.domain.access import LAB_STAFF, Actor
from customslab.domain.enums import ResultKind, Role
from customslab.domain.errors import NotFound, PermissionDenied, ValidationFailed
from customslab.domain.model import ClassificationOpinion, Sample
from customslab.hs.decision import DecisionRule
from customslab.hs.evaluate import Evaluation, evaluate, mismatch_level
from customslab.hs.nomenclature import HsError, Nomenclature, normalise_code
from customslab.hs.quantities import Measurement, make_measurement, presence_measurement, spec_kind
from customslab.hs.tariff import TariffLine
from customslab.services.common import visible_sample
from customslab.services.contract import Command, Text, View
from customslab.services.hs_proposals import HsProposalView, identity_proposals
from customslab.services.knowledge_indexing import index_opinion
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.targeting_outcomes import record_decision
from customslab.services.views import RELEASED
from customslab.substances.chem_hs import ChemHsTable

Mismatch = Literal["none", "subheading", "heading", "chapter"]
OpinionState = Literal["draft", "approved"]
#: The languages the rules' text (titles, explanations, reasons, decision rule) is written in.
Language = Literal["en", "ko"]


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


#: ISO/IEC 17025 7.8.6 decision rule; "Guarded " is read as "guarded".
DecisionRuleName = Annotated[DecisionRule, BeforeValidator(_lower)]


def _code_pattern(*lengths: str) -> str:
    """What `normalise_code` accepts, as a regular expression for the OpenAPI document."""
    digits = "|".join(rf"(?:[0-9][\s.\-]*){{{n}}}" for n in lengths)
    return rf"^[\s.\-]*(?:{digits})$"


#: An HS code of 2, 4 or 6 digits, dots, dashes and spaces allowed.
HS_CODE_PATTERN = _code_pattern("2", "4", "6")
#: The same, or a national tariff line of 8 to 10 digits.
NATIONAL_CODE_PATTERN = _code_pattern("2", "4", "6", "8,10")


def _national_code(value: str) -> str:
    try:
        return normalise_code(value, allow_national=True)
    except HsError as exc:
        raise ValueError(str(exc)) from None


def _reasoning(value: str) -> str:
    if len(value) < 20:
        raise ValueError("Give the reasoning (at least a sentence) behind the opinion.")
    return value


# The patterns only document the rules; the validators check them with a message a person reads.
NationalCode = Annotated[
    Annotated[str, Text(20, 1)],
    AfterValidator(_national_code),
    Field(json_schema_extra={"pattern": NATIONAL_CODE_PATTERN}),
]
Reasoning = Annotated[
    Annotated[str, Text(20000)],
    AfterValidator(_reasoning),
    Field(json_schema_extra={"pattern": r"^\s*[^\s\x00][^\x00]{18,}[^\s\x00]\s*$"}),
]


class EvaluationRequest(Command):
    """A declared code and results written NAME=VALUE[UNIT][±U], to check against the rules."""

    declared: NationalCode
    results: list[Annotated[str, Text(200, 1)]] = Field(default_factory=list, max_length=100)
    decision_rule: DecisionRuleName = DecisionRule.GUARDED


class OpinionCreate(Command):
    """The laboratory's opinion: the code it determines and why."""

    determined_code: NationalCode
    reasoning: Reasoning
    references: list[Annotated[str, Text(500, 1)]] = Field(
        default_factory=list, max_length=50, description="Empty: the legal sources of the rules that fired."
    )
    decision_rule: DecisionRuleName = DecisionRule.GUARDED


class OpinionSearch(Command):
    """Words of the goods or the reasoning, and an HS code prefix (digits; dots are ignored)."""

    text: Annotated[str, Text(200)] = ""
    code_prefix: Annotated[str, Text(10)] = ""
    limit: int = Field(default=50, ge=1, le=200)


class MeasurementView(View):
    """A result as the rules use it: converted to the quantity's default unit."""

    name: str
    value: float
    unit: str
    expanded_uncertainty: float | None
    reported: str = Field(description="The result as it was written, when it was given as text.")


class RuleFiringView(View):
    id: str
    source: str = Field(description="The legal text the rule applies (chapter note, subheading note...).")
    outcome: str
    codes: list[str] = Field(default_factory=list, description="The codes the rule's outcome names.")
    status: Literal["decided", "undecided", "no_outcome"]
    title: str
    checked: str
    explanation: str
    reasons: list[str]
    conditions: list[dict[str, Any]] = Field(
        description="Each condition the rule tested: its text, the value compared and the result."
    )
    inputs: list[MeasurementView]
    kind: str = Field(default="threshold", description="The rule's kind: threshold, evidence, ferrous...")
    missing_evidence: list[str] = Field(
        default_factory=list, description="An evidence rule's inputs still needed before it can decide."
    )
    conflicting_evidence: bool = Field(
        default=False, description="An evidence rule's measured evidence supports more than one candidate."
    )
    decided: list[str] = Field(
        default_factory=list,
        description="What this rule decided, each code at its level ('22' when it names 22.03 to 22.08).",
    )


class DecisionRuleView(View):
    name: DecisionRule
    statement: str


class RuleNotEvaluated(View):
    id: str
    missing: list[str] = Field(description="The quantities the rule needs that were not measured.")


class DutyView(View):
    """The duty under the declared and the determined national tariff line."""

    declared_line: str
    determined_line: str
    customs_value: float
    quantity: float | None
    currency: str
    declared_duty: float
    determined_duty: float
    difference: float


class EvaluationView(View):
    """Declared against determined: the rules that fired, on which results, under which decision rule."""

    declared: str
    status: Literal["decided", "undecided", "no_rule"]
    determined: list[str]
    decided: list[str] = Field(
        default_factory=list,
        description="Each determined code at the level the rules decided it ('2208' when only the heading "
        "is decided, though the declared 220830 stands); '' where no rule decided one.",
    )
    mismatch: Mismatch
    rules: list[RuleFiringView]
    message: str
    level: Literal["", "chapter", "heading", "subheading", "national tariff line"] = Field(
        default="",
        description="The level at which the rules decided the declared code ('' when they did not "
        "confirm it); agreement is claimed only at this level.",
    )
    open_levels: list[str] = Field(
        default_factory=list,
        description="The levels of the declared code below `level` that these results do not determine.",
    )
    missing_evidence: list[str] = Field(
        default_factory=list,
        description="What an undecided evidence rule still needs (measurements, or a fact such as "
        "malleability) before it can decide.",
    )
    conflicting_evidence: bool = Field(
        default=False, description="Measured evidence of an evidence rule supports more than one code."
    )
    edition: str
    decision_rule: DecisionRuleView
    results: list[MeasurementView]
    not_evaluated: list[RuleNotEvaluated]
    unused_results: list[str]
    descriptions: dict[str, str] = Field(description="Nomenclature text of the codes, when it was loaded.")
    duty: DutyView | None

    @classmethod
    def of(cls, evaluation: Evaluation) -> EvaluationView:
        return cls.model_validate(evaluation.to_dict())


class SkippedResult(View):
    name: str
    reason: str


class OpinionView(View):
    id: int | None
    sample_id: int
    lab_code: str
    declared_code: str
    determined_code: str
    mismatch: Mismatch
    reasoning: str
    references: list[str]
    goods_description: str
    author_id: int
    created_at: datetime
    state: OpinionState
    reviewer_id: int | None
    reviewed_at: datetime | None
    shared: bool

    @classmethod
    def of(cls, o: ClassificationOpinion) -> OpinionView:
        return cls.of_record(o, mismatch=mismatch_level(o.declared_code, [o.determined_code]))


class SampleEvaluation(EvaluationView):
    """A sample's evaluation, with the results left out and the opinions written so far."""

    skipped_results: list[SkippedResult]
    measurements_used: int
    opinions: list[OpinionView]
    proposals: list[HsProposalView] = Field(
        default_factory=list,
        description="HS codes proposed from the sample's identity results by the CAS → HS table: evidence "
        "for the analyst, never applied to the opinion or the verdict.",
    )


class HsSearchHit(View):
    code: str
    level: int
    description: str
    score: float


class HsChild(View):
    code: str
    description: str


class HsCodeView(View):
    """One node of the nomenclature and the codes directly beneath it."""

    code: str
    level: int
    parent: str | None
    section: str
    description: str
    children: list[HsChild]


def evaluate_values(
    cmd: EvaluationRequest,
    *,
    nomenclature: Nomenclature | None = None,
    tariff: Sequence[TariffLine] | None = None,
    customs_value: float | None = None,
    quantity: float | None = None,
    language: Language = "en",
) -> EvaluationView:
    """Evaluate results against the catalogue for a declared code (with a tariff: the duty difference)."""
    try:
        outcome = evaluate(
            cmd.declared,
            cmd.results,
            cmd.decision_rule,
            nomenclature=nomenclature,
            tariff=tariff,
            customs_value=customs_value,
            quantity=quantity,
            language=language,
        )
    except HsError as exc:
        raise ValidationFailed(str(exc), field="results") from None
    return EvaluationView.of(outcome)


def result_measurement(
    name: str, value: object, unit: str, uncertainty: object, kind: str, text_value: str
) -> Measurement | None:
    """A stored result as the HS rules read it: a quantity converted to its default unit, or a detection
    or screening outcome of a presence quantity (evidence such as added ingredients); None for a result
    that states nothing the rules read (a free text, an identity, an empty value). Raises HsError for a
    result the rules should read but cannot."""
    if kind in (ResultKind.DETECTION, ResultKind.SCREENING) and text_value:
        found = spec_kind(name)
        if found == "presence":
            return presence_measurement(name, text_value)
        if found:
            raise HsError(
                f"{name} is a measured quantity: the HS rules need its value (or a value below the LOQ), "
                f"not '{text_value}'"
            )
        return None
    if value is None or kind not in ("", ResultKind.QUANTITY):
        return None
    u = float(str(uncertainty)) if uncertainty not in (None, "") else None
    return make_measurement(name, float(str(value)), "" if unit in ("1", "-") else unit, u)


def sample_measurements(sample: Sample, released_only: bool) -> tuple[list[Measurement], list[SkippedResult]]:
    """The sample's results the HS rules understand, and the others with the reason they are left out."""
    used: list[Measurement] = []
    skipped: list[SkippedResult] = []
    for test in sample.tests:
        if released_only and test.state not in RELEASED:
            continue
        for r in test.results:
            try:
                found = result_measurement(
                    r.name, r.value, r.unit, r.expanded_uncertainty, r.kind, r.text_value
                )
            except HsError as exc:
                skipped.append(SkippedResult(name=r.name, reason=str(exc)))
                continue
            if found is not None:
                used.append(found)
    return used, skipped


def evaluate_sample(
    uow: AbstractUnitOfWork,
    actor: Actor,
    sample_id: int,
    decision_rule: DecisionRule = DecisionRule.GUARDED,
    language: Language = "en",
    chem_hs: ChemHsTable | None = None,
) -> SampleEvaluation:
    """The HS evaluation panel of a sample: its results, the rules that fire, declared vs determined, and
    the codes proposed from its identity results (with `chem_hs`, the CAS → HS table)."""
    with uow:
        sample = visible_sample(uow, actor, sample_id)
        req = uow.repo.request(sample.request_id or 0)
        assert req is not None
        in_progress = actor.sees_work_in_progress
        measurements, skipped = sample_measurements(sample, released_only=not in_progress)
        try:
            outcome = evaluate(req.declared_hs, measurements, decision_rule, language=language)
        except HsError as exc:
            raise ValidationFailed(str(exc), field="results") from None
        return SampleEvaluation.model_validate(
            outcome.to_dict()
            | {
                "skipped_results": skipped,
                "measurements_used": len(measurements),
                "opinions": [
                    OpinionView.of(o)
                    for o in uow.repo.opinions_for(sample_id)
                    if in_progress or o.state == "approved"
                ],
                "proposals": identity_proposals(uow, actor, sample, req.declared_hs, chem_hs),
            }
        )


def write_opinion(uow: AbstractUnitOfWork, actor: Actor, sample_id: int, cmd: OpinionCreate) -> OpinionView:
    """An analyst or reviewer writes the laboratory's opinion, with the evaluation behind it."""
    with uow:
        if not actor.has(Role.ANALYST, Role.REVIEWER):
            raise PermissionDenied("Only an analyst or a reviewer may write a classification opinion.")
        uow.act_as(actor.username)
        sample = visible_sample(uow, actor, sample_id)
        if sample.lab_code != actor.org_code:
            raise NotFound(f"Sample {sample_id} is not held by your laboratory.")
        req = uow.repo.request(sample.request_id or 0)
        assert req is not None
        measurements, _ = sample_measurements(sample, released_only=False)
        try:
            outcome = evaluate(req.declared_hs, measurements, cmd.decision_rule)
        except HsError as exc:
            raise ValidationFailed(str(exc), field="results") from None
        opinion = ClassificationOpinion(
            sample_id=sample_id,
            lab_code=actor.org_code,
            declared_code=req.declared_hs,
            determined_code=cmd.determined_code,
            reasoning=cmd.reasoning,
            references=list(cmd.references) or [f.rule.source for f in outcome.firings],
            evaluation=outcome.to_dict(),
            author_id=actor.user_id,
            created_at=uow.clock(),
            goods_description=req.goods_description,
        )
        uow.repo.add(opinion)
        uow.repo.flush()
        uow.commit()
        return OpinionView.of(opinion)


def _own_opinion(uow: AbstractUnitOfWork, actor: Actor, opinion_id: int) -> ClassificationOpinion:
    opinion = uow.repo.opinion(opinion_id)
    if opinion is None or opinion.lab_code != actor.org_code:
        raise NotFound(f"Opinion {opinion_id} was not found.")
    return opinion


def approve_opinion(uow: AbstractUnitOfWork, actor: Actor, opinion_id: int) -> OpinionView:
    """A reviewer other than the author approves the opinion."""
    with uow:
        if not actor.has(Role.REVIEWER):
            raise PermissionDenied("Only a reviewer may approve a classification opinion.")
        uow.act_as(actor.username)
        opinion = _own_opinion(uow, actor, opinion_id)
        opinion.approve(actor.user_id, uow.clock())
        record_decision(uow, opinion.sample_id)  # the targeting feedback's outcome of the sample
        # An approved opinion is a precedent of the knowledge base, private to the laboratory until shared.
        index_opinion(uow, opinion)
        uow.commit()
        return OpinionView.of(opinion)


def share_opinion(uow: AbstractUnitOfWork, actor: Actor, opinion_id: int) -> OpinionView:
    """Publish an approved opinion to the network's precedent library."""
    with uow:
        if not actor.has(Role.REVIEWER, Role.LAB_MANAGER):
            raise PermissionDenied("Only a reviewer or a lab manager may share an opinion with the network.")
        uow.act_as(actor.username)
        opinion = _own_opinion(uow, actor, opinion_id)
        opinion.share()
        index_opinion(uow, opinion)  # its knowledge document is now shared with the network
        uow.commit()
        return OpinionView.of(opinion)


def search_opinions(uow: AbstractUnitOfWork, actor: Actor, query: OpinionSearch) -> list[OpinionView]:
    """Search the laboratory's own opinions and the network's shared precedents."""
    with uow:
        if not actor.has(*LAB_STAFF, Role.NETWORK_COORDINATOR):
            raise PermissionDenied("The precedent library is for laboratory staff and coordinators.")
        prefix = "".join(ch for ch in query.code_prefix if ch.isdigit())
        # The laboratory's own opinions and the precedents shared with the whole network.
        hits = uow.repo.search_opinions(actor.org_code, query.text, prefix, query.limit)
        return [OpinionView.of(o) for o in hits]
