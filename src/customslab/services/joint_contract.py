"""The typed contract of the joint-analysis use cases: the commands they take and the views they return.

The views carry the product, each participant's declared code, released measurements and approved opinion,
and the consolidated opinion; none has a field for the declaration data of a participant's request
(domain.model.DECLARATION_FIELDS), so no edge can show it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator

from customslab.domain.enums import State
from customslab.domain.joint_analysis import MIN_PARTICIPANTS, JointState
from customslab.domain.model import ClassificationOpinion
from customslab.services.classification import NationalCode, OpinionState, Reasoning
from customslab.services.contract import Command, Id, Text, View

ParticipantStatus = Literal["awaiting_sample", "awaiting_opinion", "opinion_approved"]

# -- commands ---------------------------------------------------------------------------------------


class JointParticipantCreate(Command):
    """A participating administration, the HS code it declared, and (optionally) its laboratory."""

    administration_code: Annotated[str, Text(32, 1)]
    declared_code: NationalCode
    lab_code: Annotated[str, Text(40, 1)] | None = Field(
        default=None,
        description="The laboratory that records for the administration. Empty: its only laboratory, or the "
        "RCL itself for an administration without a laboratory.",
    )


class JointAnalysisCreate(Command):
    """The product in dispute and the administrations taking part."""

    product: Annotated[str, Text(4000, 1)] = Field(description="The goods, as the participants know them.")
    participants: list[JointParticipantCreate] = Field(
        max_length=50, json_schema_extra={"minItems": MIN_PARTICIPANTS}
    )

    @field_validator("participants")
    @classmethod
    def _at_least_two(cls, value: list[JointParticipantCreate]) -> list[JointParticipantCreate]:
        if len(value) < MIN_PARTICIPANTS:
            raise ValueError(
                f"A joint analysis needs at least {MIN_PARTICIPANTS} participating administrations."
            )
        return value


class JointSampleLink(Command):
    """A sample the laboratory holds, for the participant it records for."""

    sample_id: Id
    administration_code: Annotated[str, Text(32, 1)] | None = Field(
        default=None,
        description="The participant the sample is for; needed only when the laboratory records for "
        "several (an RCL taking part itself and recording for a member administration).",
    )


class JointExplanation(Command):
    """Why a participant's opinion differs from the consolidated one."""

    administration_code: Annotated[str, Text(32, 1)]
    explanation: Annotated[str, Text(8000, 1)]


class JointConsolidation(Command):
    """The RCL's consolidated opinion, explaining each participant whose code differs from it."""

    determined_code: NationalCode
    reasoning: Reasoning
    explanations: list[JointExplanation] = Field(default_factory=list, max_length=50)


# -- views ------------------------------------------------------------------------------------------


class JointMeasurement(View):
    """An approved result of a participant's sample: a quantity, or a qualitative outcome (text_value)."""

    name: str
    value: str | None
    unit: str
    expanded_uncertainty: str | None
    kind: str = "quantity"
    text_value: str = ""


class JointRuleFired(View):
    """A legal-note rule the rule engine applied to the participant's results."""

    id: str
    source: str = Field(description="The legal text: GIR, Section or Chapter Note, heading text.")
    title: str
    outcome: str


class JointOpinion(View):
    """A participant laboratory's approved classification opinion, with the rule engine's evaluation."""

    id: int
    lab_code: str
    state: OpinionState
    determined_code: str
    reasoning: str
    references: list[str] = Field(description="GIR, Section and Chapter Notes the opinion relies on.")
    evaluation_status: str
    evaluation_message: str
    evaluation_codes: list[str] = Field(description="The codes the rule engine found possible.")
    decision_rule: str
    rules: list[JointRuleFired]
    reviewed_at: datetime | None

    @classmethod
    def of(cls, o: ClassificationOpinion) -> JointOpinion:
        # The evaluation the opinion stored (hs.evaluate.Evaluation.to_dict): its verdict and the rules.
        ev = o.evaluation or {}
        rule, codes, fired = ev.get("decision_rule"), ev.get("determined"), ev.get("rules")
        return cls.of_record(
            o,
            evaluation_status=str(ev.get("status", "")),
            evaluation_message=str(ev.get("message", "")),
            evaluation_codes=[str(c) for c in codes] if isinstance(codes, list) else [],
            decision_rule=str(rule.get("name", "")) if isinstance(rule, dict) else "",
            rules=[
                JointRuleFired.model_validate({k: str(r.get(k, "")) for k in JointRuleFired.model_fields})
                for r in (fired if isinstance(fired, list) else [])
                if isinstance(r, dict)
            ],
        )


class JointParticipantView(View):
    """One administration's part: what it declared, its sample's goods and origin, its released
    measurements and approved opinion. Its request's declaration data is not here."""

    administration_code: str
    administration_name: str
    country: str
    declared_code: str
    lab_code: str
    on_behalf: bool = Field(description="The RCL records for a member administration without a laboratory.")
    sample_id: int | None
    lab_sample_id: str | None
    goods_description: str | None
    origin_country: str | None
    linked_at: datetime | None
    status: ParticipantStatus
    measurements: list[JointMeasurement]
    opinion: JointOpinion | None
    differs: bool | None = Field(description="Whether the opinion differs from the consolidated code.")
    explanation: str = Field(description="The RCL's explanation of the difference, once consolidated.")


class ConsolidatedOpinion(View):
    determined_code: str
    reasoning: str
    consolidated_by: int | None
    consolidated_at: datetime | None


class JointAnalysisView(View):
    """A joint analysis as every participant sees it."""

    id: int
    reference: str
    product: str
    rcl_code: str
    rcl_name: str
    state: JointState
    opened_by: int
    opened_at: datetime
    participants: list[JointParticipantView]
    missing: list[str] = Field(description="What is still needed before the RCL can consolidate.")
    consolidated: ConsolidatedOpinion | None


class JointAnalysisSummary(View):
    id: int
    reference: str
    product: str
    rcl_code: str
    state: JointState
    opened_at: datetime
    administrations: list[str]


class JointAnalysisDocument(JointAnalysisView):
    """The outcome as a document for the WCO Harmonized System Committee (the JSON of the PDF)."""

    title: str
    generated_at: datetime
    generated_for: str = Field(description="The organisation that exported the document.")


class LinkableSample(View):
    """A sample the laboratory holds, offered on the link form."""

    id: int
    lab_sample_id: str
    description: str
    state: State
    administration_code: str


class AdministrationChoice(View):
    code: str
    name: str
    has_laboratories: bool


class LaboratoryChoice(View):
    code: str
    name: str
    administration_code: str


class JointChoices(View):
    """What the form that opens a joint analysis offers."""

    administrations: list[AdministrationChoice]
    laboratories: list[LaboratoryChoice]
