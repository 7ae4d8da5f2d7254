"""An in-memory targeting repository: the same groupings as the SQL one, counted in Python."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import date
from decimal import Decimal

from customslab.domain.targeting import party_key
from customslab.hs.tariff import TariffLine
from customslab.services.targeting_ports import (
    DECLARATION_COLUMNS,
    Outcome,
    PartyColumn,
    RateRow,
    SelectorColumn,
    TargetingRepository,
    TargetingScope,
)


def _value(o: Outcome, column: str) -> str:
    if column == "month":
        return o.decided_on.strftime("%Y-%m")
    if column == "lab":
        return o.lab_code
    return str(getattr(o, column))


class FakeTargetingRepository(TargetingRepository):
    def __init__(self, decided: Callable[[], list[int]] | None = None) -> None:
        self.outcomes: dict[int, Outcome] = {}
        #: Tariff lines by country, as a test loads them.
        self.tariffs: dict[str, list[TariffLine]] = {}
        self._decided = decided or (lambda: [])

    def clear(self) -> None:
        self.outcomes.clear()

    def decided_sample_ids(self) -> list[int]:
        return sorted(set(self._decided()))

    def tariff_lines(self, country: str, codes: Collection[str]) -> list[TariffLine]:
        return [
            line
            for line in self.tariffs.get(country.upper(), [])
            if any(c and line.code.startswith(c) for c in codes)
        ]

    def record(self, outcome: Outcome) -> None:
        self.outcomes[outcome.sample_id] = outcome

    def forget(self, sample_id: int) -> None:
        self.outcomes.pop(sample_id, None)

    def get(self, sample_id: int) -> Outcome | None:
        return self.outcomes.get(sample_id)

    def count(self) -> int:
        return len(self.outcomes)

    def spelling(self, administration: str, column: PartyColumn, key: str) -> str | None:
        names = [
            (o.sample_id, _value(o, column))
            for o in self.outcomes.values()
            if o.administration_code == administration and party_key(_value(o, column)) == key
        ]
        return min(names)[1] if names else None

    def _in(self, scope: TargetingScope, selector: Sequence[str], start: date, end: date) -> list[Outcome]:
        return [
            o
            for o in self.outcomes.values()
            if start <= o.decided_on <= end
            and (scope.labs is None or o.lab_code in scope.labs)
            and (scope.administration is None or o.administration_code == scope.administration)
            and all(_value(o, c) for c in selector if c in DECLARATION_COLUMNS)
        ]

    def rates(
        self,
        scope: TargetingScope,
        selector: Sequence[SelectorColumn],
        start: date,
        end: date,
        *,
        min_n: int = 1,
    ) -> list[RateRow]:
        groups: dict[tuple[str, ...], list[Outcome]] = {}
        for o in self._in(scope, selector, start, end):
            groups.setdefault(tuple(_value(o, c) for c in selector), []).append(o)
        return [
            RateRow(
                key=key,
                n=len(members),
                k=sum(o.differs for o in members),
                duty_difference_sum=sum(
                    (o.duty_difference for o in members if o.duty_difference is not None), Decimal("0.00")
                ),
                duty_known_n=sum(o.duty_difference is not None for o in members),
            )
            for key, members in sorted(groups.items())
            if len(members) >= max(min_n, 1)
        ]

    def monthly(
        self, scope: TargetingScope, selector: Sequence[SelectorColumn], start: date, end: date
    ) -> list[RateRow]:
        return self.rates(scope, ("month", *[c for c in selector if c != "month"]), start, end)

    def evidence(
        self,
        scope: TargetingScope,
        selector: Sequence[SelectorColumn],
        start: date,
        end: date,
        keys: Collection[tuple[str, ...]],
        per_key: int = 5,
    ) -> dict[tuple[str, ...], list[str]]:
        found: dict[tuple[str, ...], list[Outcome]] = {}
        for o in self._in(scope, selector, start, end):
            key = tuple(_value(o, c) for c in selector)
            if o.differs and key in keys:
                found.setdefault(key, []).append(o)
        newest = {
            key: sorted(m, key=lambda o: (o.decided_on, o.sample_id), reverse=True)
            for key, m in found.items()
        }
        return {key: [o.reference for o in members[:per_key]] for key, members in sorted(newest.items())}

    def currencies(self, scope: TargetingScope, start: date, end: date) -> list[str]:
        return sorted({o.currency for o in self._in(scope, (), start, end) if o.duty_difference is not None})
