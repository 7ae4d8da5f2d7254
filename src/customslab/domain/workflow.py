"""The sample and test state machines: which step may follow which, and why not when it may not."""

from __future__ import annotations

from collections.abc import Mapping

from customslab.domain.enums import OrgKind, State
from customslab.domain.errors import InvalidTransition, ValidationFailed

S = State

SAMPLE_TRANSITIONS: Mapping[State, frozenset[State]] = {
    S.REGISTERED: frozenset({S.RECEIVED, S.REJECTED, S.CANCELLED}),
    S.RECEIVED: frozenset({S.IN_ANALYSIS, S.REJECTED, S.CANCELLED, S.REGISTERED}),
    S.IN_ANALYSIS: frozenset({S.TO_BE_REVIEWED, S.CANCELLED}),
    S.TO_BE_REVIEWED: frozenset({S.APPROVED, S.RETEST, S.IN_ANALYSIS}),
    S.RETEST: frozenset({S.IN_ANALYSIS, S.TO_BE_REVIEWED, S.CANCELLED}),
    S.APPROVED: frozenset({S.REPORTED}),
    S.REPORTED: frozenset({S.ARCHIVED}),
    S.REJECTED: frozenset({S.ARCHIVED}),
    S.CANCELLED: frozenset({S.ARCHIVED}),
    S.ARCHIVED: frozenset(),
}

TEST_TRANSITIONS: Mapping[State, frozenset[State]] = {
    S.REGISTERED: frozenset({S.IN_ANALYSIS, S.CANCELLED}),
    S.RECEIVED: frozenset({S.IN_ANALYSIS, S.CANCELLED}),
    S.IN_ANALYSIS: frozenset({S.TO_BE_REVIEWED, S.CANCELLED}),
    S.TO_BE_REVIEWED: frozenset({S.APPROVED, S.RETEST}),
    S.RETEST: frozenset({S.IN_ANALYSIS, S.CANCELLED}),
    S.APPROVED: frozenset({S.REPORTED}),
    S.REPORTED: frozenset({S.ARCHIVED}),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
    S.ARCHIVED: frozenset(),
}

#: Steps that must say why (ISO/IEC 17025 wants rejections and returns traceable).
REASON_REQUIRED = frozenset({S.REJECTED, S.RETEST, S.CANCELLED})


def check_transition(
    kind: str,
    table: Mapping[State, frozenset[State]],
    current: State,
    target: State,
    reason: str | None = None,
) -> None:
    """Raise InvalidTransition unless `current → target` is allowed and, where needed, explained."""
    allowed = table.get(current, frozenset())
    if target not in allowed:
        nexts = ", ".join(sorted(s.value for s in allowed)) or "nothing (it is final)"
        raise InvalidTransition(
            f"A {kind} that is {current.value.replace('_', ' ')} cannot become "
            f"{target.value.replace('_', ' ')}; from {current.value} it can go to: {nexts}."
        )
    if target in REASON_REQUIRED and not (reason and reason.strip()):
        raise InvalidTransition(f"Moving a {kind} to {target.value} needs a reason.")


def referable_states(holder: OrgKind) -> frozenset[State]:
    """The states in which the holder may refer a sample on. A laboratory refers what it has received
    (and perhaps begun); a member administration without a laboratory never receives a sample, receipt
    being a laboratory's step, so its focal point refers the sample it registered and sealed."""
    if holder is OrgKind.MEMBER:
        return frozenset({S.REGISTERED})
    return frozenset({S.RECEIVED, S.IN_ANALYSIS})


def check_referable(lab_sample_id: str, state: State, holder: OrgKind) -> None:
    """Raise ValidationFailed unless the holder may refer a sample in `state` now."""
    if state in referable_states(holder):
        return
    now = state.value.replace("_", " ")
    if holder is OrgKind.MEMBER:
        raise ValidationFailed(
            f"A member administration refers a sample it has registered; {lab_sample_id} is {now}.",
            field="sample",
        )
    raise ValidationFailed(
        f"Only a received sample can be referred; {lab_sample_id} is {now}.", field="sample"
    )
