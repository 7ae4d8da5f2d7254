"""Joint analysis: administrations that classify the same goods differently, and the RCL that settles it.

A Regional Customs Laboratory opens a joint analysis on a product, naming at least two participating
administrations and the HS code each declared. Each participant's laboratory (or the RCL, on behalf of a
member administration without a laboratory) links its own sample or sub-sample, measures it and writes
its classification opinion in the ordinary way. Once every participant has an approved opinion the RCL
writes the consolidated opinion, explaining each participant whose code differs from it; after that the
record is closed to change. Pure rules: the services load and store, the domain decides.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from customslab.domain.access import Directory, Holding
from customslab.domain.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed

JointState = Literal["open", "consolidated"]
#: A joint analysis needs at least this many administrations: one cannot disagree with itself.
MIN_PARTICIPANTS = 2


@dataclass(eq=False)
class JointParticipant:
    """One administration in a joint analysis: what it declared and which laboratory records for it.

    `lab_code` is the administration's own laboratory, or the RCL when `on_behalf` (a member
    administration without a laboratory). At consolidation the participant's approved opinion is
    recorded (`opinion_id`, `determined_code`), with the RCL's explanation when it differs."""

    administration_code: str
    declared_code: str
    lab_code: str
    on_behalf: bool = False
    position: int = 0
    sample_id: int | None = None
    linked_by: int | None = None
    linked_at: datetime | None = None
    opinion_id: int | None = None
    determined_code: str = ""
    explanation: str = ""
    id: int | None = None
    joint_analysis_id: int | None = None

    def check_member_sample(
        self, lab_sample_id: str, request_administration: str, sent_from: Collection[str]
    ) -> None:
        """For a member administration without a laboratory, the RCL links only a sample that member
        sent it: filed by the member's own request, or referred from one of its organisations."""
        if not self.on_behalf:
            return
        if request_administration != self.administration_code and self.administration_code not in sent_from:
            raise ValidationFailed(
                f"Sample {lab_sample_id} did not come from administration {self.administration_code}; the "
                "RCL links for it only a sample that administration sent.",
                field="sample_id",
            )


@dataclass(eq=False)
class JointAnalysis:
    """A joint analysis run by the RCL `rcl_code`; `determined_code` and `reasoning` are the RCL's
    consolidated opinion, set once by `consolidate`."""

    reference: str
    product: str
    rcl_code: str
    opened_by: int
    opened_at: datetime
    participants: list[JointParticipant] = field(default_factory=list)
    state: str = "open"
    determined_code: str = ""
    reasoning: str = ""
    consolidated_by: int | None = None
    consolidated_at: datetime | None = None
    id: int | None = None

    def participant(self, administration_code: str) -> JointParticipant:
        found = next((p for p in self.participants if p.administration_code == administration_code), None)
        if found is None:
            raise NotFound(
                f"Administration {administration_code} does not take part in {self.reference}.",
                field="administration_code",
            )
        return found

    def link_sample(
        self,
        administration_code: str,
        sample_id: int,
        by: int,
        at: datetime,
        linked_opinion_approved: bool = False,
    ) -> JointParticipant:
        """The participant's own sample or sub-sample: its measurements and opinion count for it. A
        mistaken link may be replaced until the opinion on the linked sample is approved, not after."""
        self._still_open("link a sample")
        participant = self.participant(administration_code)
        if participant.sample_id not in (None, sample_id) and linked_opinion_approved:
            raise Conflict(
                f"{administration_code}'s opinion on its linked sample is approved; the link cannot change."
            )
        other = next((p for p in self.participants if p.sample_id == sample_id), None)
        if other is participant:
            raise Conflict(f"This sample is already linked for {administration_code}.")
        if other is not None:
            raise Conflict(
                f"This sample is already linked for {other.administration_code}; each participant "
                "measures its own sample or sub-sample."
            )
        participant.sample_id = sample_id
        participant.linked_by = by
        participant.linked_at = at
        return participant

    def missing_opinions(self, approved: Mapping[str, object | None]) -> list[str]:
        """What each participant still lacks before the RCL may consolidate, one line each.

        `approved` maps an administration to its approved opinion (None when it has none yet)."""
        missing = []
        for p in self.participants:
            if p.sample_id is None:
                missing.append(f"{p.administration_code}: no sample linked yet")
            elif approved.get(p.administration_code) is None:
                missing.append(f"{p.administration_code}: no approved opinion yet ({p.lab_code})")
        return missing

    def consolidate(
        self,
        determined_code: str,
        reasoning: str,
        explanations: Mapping[str, str],
        approved: Mapping[str, tuple[int, str] | None],
        by: int,
        at: datetime,
    ) -> None:
        """The RCL's consolidated opinion. Every participant needs an approved opinion (`approved`:
        administration → (opinion id, determined code)), and each one whose code differs from the
        consolidated code needs an explanation of the difference."""
        self._still_open("consolidate it again")
        missing = self.missing_opinions(approved)
        if missing:
            raise InvalidTransition(
                f"Joint analysis {self.reference} cannot be consolidated yet: " + "; ".join(missing) + "."
            )
        codes = {p.administration_code for p in self.participants}
        strangers = sorted(set(explanations) - codes)
        if strangers:
            raise ValidationFailed(
                f"{', '.join(strangers)} {'does' if len(strangers) == 1 else 'do'} not take part in "
                f"joint analysis {self.reference}.",
                field="explanations",
            )
        unexplained = [
            p.administration_code
            for p in self.participants
            if codes_differ(_code_of(approved, p), determined_code)
            and not explanations.get(p.administration_code, "").strip()
        ]
        if unexplained:
            raise ValidationFailed(
                "Explain the difference for each participant whose opinion differs from the consolidated "
                f"code: {', '.join(unexplained)}.",
                field="explanations",
            )
        for p in self.participants:
            found = approved[p.administration_code]
            assert found is not None  # every participant's opinion was checked above
            p.opinion_id, p.determined_code = found
            p.explanation = explanations.get(p.administration_code, "").strip()
        self.determined_code = determined_code
        self.reasoning = reasoning
        self.consolidated_by = by
        self.consolidated_at = at
        self.state = "consolidated"

    def differences(self) -> list[JointParticipant]:
        """Participants whose recorded opinion differs from the consolidated code."""
        if self.state != "consolidated":
            return []
        return [p for p in self.participants if codes_differ(p.determined_code, self.determined_code)]

    def _still_open(self, what: str) -> None:
        if self.state != "open":
            raise InvalidTransition(
                f"Joint analysis {self.reference} is {self.state}; nothing can change after consolidation, "
                f"so you cannot {what}."
            )


def _code_of(approved: Mapping[str, tuple[int, str] | None], p: JointParticipant) -> str:
    found = approved.get(p.administration_code)
    return found[1] if found else ""


def codes_differ(a: str, b: str) -> bool:
    """Whether two opinions differ in the Harmonized System: national digits beyond the sixth are not
    the HS Committee's business, and a code that only stops at a higher level (1806 against 180690)
    does not contradict the other."""
    a6, b6 = a[:6], b[:6]
    return not (a6.startswith(b6) or b6.startswith(a6))


@dataclass(frozen=True)
class ParticipantSpec:
    """What the coordinator names for one participant, with the facts of its administration and the
    laboratory it chose (None: let the rules pick one)."""

    administration_code: str
    declared_code: str
    has_laboratories: bool
    lab_code: str | None
    lab_administration: str | None = None
    lab_is_laboratory: bool = False
    #: the administration's laboratories, for a default when `lab_code` is None
    laboratories: Sequence[str] = ()


def check_rcl(org_code: str, is_rcl: bool) -> None:
    """Only a Regional Customs Laboratory runs joint analyses (an active laboratory with the designation)."""
    if not is_rcl:
        raise PermissionDenied(
            f"Only the coordinator of a Regional Customs Laboratory may open a joint analysis; {org_code} "
            "is not one."
        )


def new_joint_analysis(
    reference: str,
    product: str,
    rcl_code: str,
    specs: Iterable[ParticipantSpec],
    opened_by: int,
    opened_at: datetime,
) -> JointAnalysis:
    """A joint analysis opened by the RCL `rcl_code` (see `check_rcl`), with each participant's recording
    laboratory decided: its own laboratory, or the RCL for a member administration without one."""
    specs = list(specs)
    if len(specs) < MIN_PARTICIPANTS:
        raise ValidationFailed(
            f"A joint analysis needs at least {MIN_PARTICIPANTS} participating administrations.",
            field="participants",
        )
    seen: set[str] = set()
    participants = []
    for position, spec in enumerate(specs):
        if spec.administration_code in seen:
            raise ValidationFailed(
                f"Administration {spec.administration_code} is named twice; each takes part once.",
                field="participants",
            )
        seen.add(spec.administration_code)
        lab, on_behalf = _recording_laboratory(spec, rcl_code)
        participants.append(
            JointParticipant(spec.administration_code, spec.declared_code, lab, on_behalf, position)
        )
    return JointAnalysis(reference, product.strip(), rcl_code, opened_by, opened_at, participants)


def _recording_laboratory(spec: ParticipantSpec, rcl_code: str) -> tuple[str, bool]:
    code = spec.administration_code
    if not spec.has_laboratories:
        if spec.lab_code not in (None, rcl_code):
            raise ValidationFailed(
                f"Administration {code} has no laboratory: the RCL {rcl_code} records for it.",
                field="participants",
            )
        return rcl_code, True
    if spec.lab_code is None:
        if len(spec.laboratories) != 1:
            raise ValidationFailed(
                f"Name the laboratory that records for {code}: it has {len(spec.laboratories)} laboratories.",
                field="participants",
            )
        return spec.laboratories[0], False
    if not spec.lab_is_laboratory or spec.lab_administration != code:
        raise ValidationFailed(
            f"{spec.lab_code} is not a laboratory of administration {code}.", field="participants"
        )
    return spec.lab_code, False


def joint_holding(analysis: JointAnalysis, directory: Directory) -> Holding:
    """The facts the visibility table reads (domain.access, Kind.JOINT_ANALYSIS): the RCL owns the joint
    analysis; it is shared with each participant's recording laboratory and, for a member administration
    the RCL records for, with that administration's own organisations (its focal point)."""
    shared = {p.lab_code for p in analysis.participants}
    for p in analysis.participants:
        if p.on_behalf:
            shared |= directory.members_of(p.administration_code)
    return Holding(frozenset({analysis.rcl_code}), shared=frozenset(shared))
