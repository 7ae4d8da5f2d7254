"""Decision rules (ISO/IEC 17025:2017 7.8.6; ILAC-G8:09/2019) and three-valued comparison against a limit.

* ``simple`` acceptance (ILAC-G8 4.2.1, guard band w = 0): the measured value alone is compared with
  the limit; the uncertainty is reported but does not change the outcome.
* ``guarded`` acceptance (ILAC-G8 4.2.2, guard band w = U, the expanded uncertainty): a statement is
  made only when the whole interval [x − U, x + U] lies on one side of the limit. When the interval
  reaches across the limit the comparison is *undecided*. This is the default, because a customs
  laboratory must not move goods to another heading on a result that cannot tell the two apart.

A value exactly at the limit with no uncertainty is decided by the comparison operator of the legal
text ("80 % vol or higher" is ``>=``). With U > 0 such a value is undecided under guarded acceptance.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum, StrEnum


class DecisionRule(StrEnum):
    SIMPLE = "simple"
    GUARDED = "guarded"

    @property
    def statement(self) -> str:
        return self.statement_in("en")

    def statement_in(self, language: str) -> str:
        """The rule as a report states it, in `language` (en, ko; English for any other)."""
        return STATEMENTS.get(language, STATEMENTS["en"])[self.value]


#: The statement of each decision rule, by language (the Korean pages show the "ko" one).
STATEMENTS: dict[str, dict[str, str]] = {
    "en": {
        "simple": "Simple acceptance (ILAC-G8:09/2019 4.2.1, guard band w = 0): the measured value is "
        "compared with the limit; the expanded uncertainty is reported but not applied.",
        "guarded": "Guarded acceptance (ILAC-G8:09/2019 4.2.2, guard band w = U): a conclusion is drawn only "
        "when the interval value ± U lies wholly on one side of the limit; otherwise undecided.",
    },
    "ko": {
        "simple": "단순 판정(ILAC-G8:09/2019 4.2.1, 보호대역 w = 0): 측정값을 한도와 그대로 비교하며, "
        "확장불확도는 보고하되 판정에 적용하지 않는다.",
        "guarded": "보호대역 적용 판정(ILAC-G8:09/2019 4.2.2, 보호대역 w = U): 측정값 ± U 구간 전체가 "
        "한도의 한쪽에 있을 때에만 결론을 내리며, 그렇지 않으면 판정 불가로 한다.",
    },
}


def parse_decision_rule(value: DecisionRule | str) -> DecisionRule:
    if isinstance(value, DecisionRule):
        return value
    try:
        return DecisionRule(str(value).strip().lower())
    except ValueError:
        raise ValueError(f"decision rule {value!r} is not one of: simple, guarded") from None


class Tri(Enum):
    """Kleene three-valued truth: a condition can be shown true, shown false, or left open."""

    TRUE = "true"
    FALSE = "false"
    UNDECIDED = "undecided"

    def __bool__(self) -> bool:  # pragma: no cover - guard against accidental truthiness
        raise TypeError("use `is Tri.TRUE`; a Tri is not a bool")

    def negate(self) -> Tri:
        return {Tri.TRUE: Tri.FALSE, Tri.FALSE: Tri.TRUE, Tri.UNDECIDED: Tri.UNDECIDED}[self]


def all_of(values: Iterable[Tri]) -> Tri:
    items = list(values)
    if any(v is Tri.FALSE for v in items):
        return Tri.FALSE
    return Tri.TRUE if all(v is Tri.TRUE for v in items) else Tri.UNDECIDED


def any_of(values: Iterable[Tri]) -> Tri:
    items = list(values)
    if any(v is Tri.TRUE for v in items):
        return Tri.TRUE
    return Tri.FALSE if all(v is Tri.FALSE for v in items) else Tri.UNDECIDED


OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True, slots=True)
class Comparison:
    quantity: str
    op: str
    limit: float
    unit: str
    #: A presence condition in words ("detected", "not detected") instead of "≥ 1".
    words: str = ""

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise ValueError(f"comparison operator {self.op!r} is not one of {', '.join(OPERATORS)}")

    def text(self) -> str:
        if self.words:
            return f"{self.quantity} {self.words}"
        sign = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}[self.op]
        return f"{self.quantity} {sign} {self.limit:g} {self.unit}".rstrip()


def compare(value: float, uncertainty: float | None, op: str, limit: float, rule: DecisionRule) -> Tri:
    """Is `value op limit` true for every value the result allows (guarded) or for the value (simple)?"""
    test = OPERATORS[op]
    if rule is DecisionRule.SIMPLE or not uncertainty:
        return Tri.TRUE if test(value, limit) else Tri.FALSE
    low, high = value - uncertainty, value + uncertainty
    # The condition is monotonic in the value, so checking both ends of the interval suffices.
    at_low, at_high = test(low, limit), test(high, limit)
    if at_low and at_high:
        return Tri.TRUE
    if not at_low and not at_high:
        return Tri.FALSE
    return Tri.UNDECIDED
