"""Targeting feedback's storage boundary: one decided outcome per sample, and the SQL aggregates over them.

An outcome is written when a classification opinion is approved (and replaced by a later approved one), so
that the figures over a million decided results are GROUP BY queries over one narrow table, never HS rules
evaluated again per result and never rows loaded into Python.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from customslab.hs.tariff import TariffLine

#: The columns a rate can be grouped by. `month` is the decision's month ("2026-03"); `lab` the laboratory.
SelectorColumn = Literal["heading", "origin", "importer", "declarant", "month", "lab"]
SELECTOR_COLUMNS: tuple[SelectorColumn, ...] = ("heading", "origin", "importer", "declarant", "month", "lab")
#: Selector columns that are declaration data: they never leave the request's administration.
DECLARATION_COLUMNS: frozenset[str] = frozenset({"importer", "declarant"})
PartyColumn = Literal["importer", "declarant"]


@dataclass(frozen=True)
class Outcome:
    """A declaration item's decided classification compared with its declaration: one row per request,
    stored under the sample whose approved opinion decides it (the latest approved of its samples)."""

    sample_id: int
    #: The sample's reference (its laboratory sample id): the evidence case reference of an export.
    reference: str
    lab_code: str
    #: The administration of the filing office (the request's): owner of the declaration data.
    administration_code: str
    #: As declared, digits only ("090421").
    declared_hs: str
    #: The approved opinion's determined code, digits only.
    determined_hs: str
    #: The declared code's heading (4 digits).
    heading: str
    #: Whether the determined subheading (6 digits) differs from the declared one.
    differs: bool
    origin: str
    importer: str
    declarant: str
    decided_on: date
    customs_value: Decimal | None
    currency: str
    #: Determined − declared duty (positive: revenue at stake); None when a rate or the value is unknown.
    duty_difference: Decimal | None


@dataclass(frozen=True)
class TargetingScope:
    """Which outcomes a query covers: those of `labs` (every laboratory when None), and, when
    `administration` is set, only those whose declaration belongs to that administration."""

    labs: frozenset[str] | None
    administration: str | None = None


@dataclass(frozen=True)
class RateRow:
    """One group's counts: n decided outcomes, k of them differing from the declaration, and the sum of
    the duty differences over the duty_known_n outcomes whose difference is known."""

    key: tuple[str, ...]
    n: int
    k: int
    duty_difference_sum: Decimal
    duty_known_n: int


class TargetingRepository(abc.ABC):
    """The outcomes table and its aggregates; every aggregate is computed by the database."""

    @abc.abstractmethod
    def record(self, outcome: Outcome) -> None:
        """Store the sample's outcome, replacing the one stored for the same sample_id."""

    @abc.abstractmethod
    def forget(self, sample_id: int) -> None:
        """Remove a sample's outcome (its approved opinion was withdrawn); nothing when there is none."""

    def forget_all(self, sample_ids: Collection[int]) -> None:
        """`forget` each of these samples' outcomes; an adapter may remove them at once."""
        for sample_id in sorted(set(sample_ids)):
            self.forget(sample_id)

    @abc.abstractmethod
    def clear(self) -> None:
        """Remove every outcome (a rebuild starts from nothing)."""

    @abc.abstractmethod
    def get(self, sample_id: int) -> Outcome | None: ...

    @abc.abstractmethod
    def spelling(self, administration: str, column: PartyColumn, key: str) -> str | None:
        """The importer (or declarant) name stored for `key` (`domain.targeting.party_key`) among the
        administration's outcomes, the lowest sample's; None when no outcome has it."""

    @abc.abstractmethod
    def decided_sample_ids(self) -> list[int]:
        """The samples with an approved classification opinion, ascending: what a rebuild records."""

    @abc.abstractmethod
    def tariff_lines(self, country: str, codes: Collection[str]) -> list[TariffLine]:
        """The lines of the country's newest national tariff edition at or beneath any of `codes`
        (enough for `hs.tariff.line_for` to find each code's single line); [] without a tariff."""

    @abc.abstractmethod
    def count(self) -> int: ...

    @abc.abstractmethod
    def rates(
        self,
        scope: TargetingScope,
        selector: Sequence[SelectorColumn],
        start: date,
        end: date,
        *,
        min_n: int = 1,
    ) -> list[RateRow]:
        """Outcomes decided in [start, end] grouped by the selector's columns (key in that order), groups
        with at least `min_n` outcomes, ordered by key. An empty selector gives the one overall row (or none
        when nothing was decided)."""

    def rates_many(
        self,
        scope: TargetingScope,
        selectors: Sequence[Sequence[SelectorColumn]],
        start: date,
        end: date,
    ) -> list[list[RateRow]]:
        """`rates` of each selector (min_n 1), in the order given; an adapter may read them in one pass."""
        return [self.rates(scope, selector, start, end) for selector in selectors]

    @abc.abstractmethod
    def monthly(
        self,
        scope: TargetingScope,
        selector: Sequence[SelectorColumn],
        start: date,
        end: date,
    ) -> list[RateRow]:
        """As `rates` with the month ("YYYY-MM") prepended to each key: the trend of every group."""

    @abc.abstractmethod
    def evidence(
        self,
        scope: TargetingScope,
        selector: Sequence[SelectorColumn],
        start: date,
        end: date,
        keys: Collection[tuple[str, ...]],
        per_key: int = 5,
    ) -> dict[tuple[str, ...], list[str]]:
        """Up to `per_key` references of differing outcomes per key, newest decision first."""

    @abc.abstractmethod
    def currencies(self, scope: TargetingScope, start: date, end: date) -> list[str]:
        """The distinct currencies of the known duty differences in scope (to tell whether sums add up)."""
