"""Targeting feedback: how often decided samples differ from their declaration, by HS heading, origin,
importer, declarant and month, each rate with its count and 95 % Wilson interval, and the revenue at stake.

Computed once here from the SQL aggregates of `uow.targeting` (never from the results themselves); the
dashboard page, /api/targeting and the risk-indicator export all read these figures.

Who sees what is the visibility table's (Kind.TARGETING): as a record (a laboratory manager or reviewer over
their laboratories, an administrator over the administration), every selector, importers and declarants
included, over the reader's own administration's declarations only; as figures (an RCL coordinator over the
network), the rates by heading and origin, small cells suppressed, no importer, declarant, reference or duty.
"""

from __future__ import annotations

import calendar
import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from customslab.domain.access import Action, Actor, Kind, orgs_seen, require
from customslab.domain.errors import NotFound, PermissionDenied, ValidationFailed
from customslab.domain.targeting import (
    SMALL_N,
    Rate,
    rate,
    revenue_impact,
    suppress_small_cells,
    suppress_table,
    wilson_lows,
)
from customslab.services.contract import Command, View
from customslab.services.dashboard import SMALL_CELL
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.targeting_ports import DECLARATION_COLUMNS, RateRow, SelectorColumn, TargetingScope

ScopeName = Literal["administration", "network"]
IMPORTER: tuple[SelectorColumn, ...] = ("importer",)
DECLARANT: tuple[SelectorColumn, ...] = ("declarant",)
MONTH: tuple[SelectorColumn, ...] = ("month",)
#: The groupings of the figures: overall, each selector, and the month (the trend).
TABLES: tuple[tuple[SelectorColumn, ...], ...] = (
    (),
    ("heading",),
    ("origin",),
    ("heading", "origin"),
    IMPORTER,
    DECLARANT,
    MONTH,
)
#: The longest period one query covers (ten years): the figures are one query per table whatever the
#: period, but a typing mistake in a year should not read the whole history by accident.
MAX_PERIOD_DAYS = 3660


def default_period(today: date) -> tuple[date, date]:
    """The twelve calendar months up to and including today's."""
    year, month = (today.year, today.month - 11) if today.month == 12 else (today.year - 1, today.month + 1)
    return date(year, month, 1), today


class TargetingQuery(Command):
    """Which decided samples the figures cover; every field is optional."""

    start: date | None = Field(default=None, description="First decision day; default: 12 months back.")
    end: date | None = Field(default=None, description="Last decision day (inclusive); default: today.")
    scope: Literal["auto", "administration", "network"] = Field(
        default="auto",
        description="'administration': the reader's administration, importers included; 'network': "
        "the network's aggregated figures (coordinators); 'auto': network for those who see it.",
    )
    min_n: int = Field(default=1, ge=1, le=1_000_000, description="Leave out groups with fewer cases.")
    top: int = Field(default=50, ge=1, le=1000, description="Rows per table, highest interval floor first.")

    @model_validator(mode="after")
    def _ordered(self) -> TargetingQuery:
        check_period(self.start, self.end)
        return self


def check_period(start: date | None, end: date | None) -> None:
    """The rule of a period given in full (a command's validator: a 422 where it enters)."""
    if start is not None and end is not None:
        if start > end:
            raise ValueError("the period's start must not be after its end")
        if (end - start).days > MAX_PERIOD_DAYS:
            raise ValueError(f"a period covers at most {MAX_PERIOD_DAYS} days")


def period(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """The period asked for: its own days, else the twelve calendar months up to its end (or today)."""
    end = last or max(today, first or today)
    start = first or (default_period(end)[0] if end.year > 1 else date.min)
    if start > end:
        raise ValidationFailed("The period's start must not be after its end.", field="start")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise ValidationFailed(f"A period covers at most {MAX_PERIOD_DAYS} days.", field="start")
    return start, end


def whole_quarters(start: date, end: date) -> tuple[date, date]:
    """The period widened to whole calendar quarters: the network's figures are shown only so, because
    two overlapping day ranges (or a single day) would reveal a small cell by subtraction of their shown
    totals; quarters leave only quarter-sized differences, each itself suppressed below SMALL_CELL."""
    last_month = 3 * ((end.month - 1) // 3) + 3
    return (
        date(start.year, 3 * ((start.month - 1) // 3) + 1, 1),
        date(end.year, last_month, calendar.monthrange(end.year, last_month)[1]),
    )


class RateView(View):
    """One group's mismatch rate: k of n decided samples differ from the declared subheading."""

    key: dict[str, str] = Field(description="The group's selector values, e.g. {'heading': '0904'}.")
    label: str = Field(description="The key as people read it: '0904 × CN'.")
    n: int
    k: int
    rate: float
    wilson_low: float = Field(description="Lower bound of the 95 % Wilson score interval.")
    wilson_high: float
    small: bool = Field(description=f"Fewer than {SMALL_N} cases: show 'k of n', not a percentage.")
    text: str = Field(description="'3 of 4', or '31.0 % (95 % CI 25.5–36.6 %), n = 263'.")
    duty_difference_sum: Decimal | None = Field(
        description="Determined − declared duty over duty_known_n cases; null in network figures."
    )
    duty_known_n: int


class RateTable(View):
    selector: list[SelectorColumn]
    rows: list[RateView]
    groups: int = Field(description="Groups with at least min_n cases (rows holds the first `top`).")
    suppressed: int = Field(description="Small cells left out of network figures (see suppressed_below).")


class RevenueView(View):
    """Determined − declared duty summed where the national tariff lines and the value are known."""

    total: Decimal | None = Field(description="Null when the known differences are in several currencies.")
    currency: str | None
    currencies: list[str]
    known: int = Field(description="Cases whose duty difference is known.")
    cases: int


class TargetingFigures(View):
    """The targeting feedback of a period: overall, per selector, the monthly trend and revenue impact."""

    scope: ScopeName
    administration: str | None = Field(description="Whose declarations (administration scope).")
    labs: list[str]
    period_start: date
    period_end: date
    generated_at: datetime
    small_n: int
    suppressed_below: int | None = Field(description="Network figures: groups under this are left out.")
    overall: RateView | None
    by_heading: RateTable
    by_origin: RateTable
    by_heading_origin: RateTable
    by_importer: RateTable | None = Field(description="Declaration data: administration scope only.")
    by_declarant: RateTable | None
    trend: list[RateView] = Field(description="The overall rate per month, in calendar order.")
    revenue: RevenueView | None


@dataclass(frozen=True)
class Reach:
    """Which outcomes the reader's figures cover and how."""

    scope: ScopeName
    outcomes: TargetingScope
    labs: frozenset[str]


def reach(uow: AbstractUnitOfWork, actor: Actor, wanted: str = "auto") -> Reach:
    """The reader's targeting scope from the visibility table (inside an open unit of work)."""
    directory = uow.repo.directory()
    record = orgs_seen(actor, Kind.TARGETING, directory)
    everything = orgs_seen(actor, Kind.TARGETING, directory, figures=True)
    network = everything - record
    if wanted == "network" and not network:
        raise PermissionDenied("The network's targeting figures are for network coordinators.")
    if network and wanted in ("auto", "network"):
        return Reach("network", TargetingScope(labs=everything), everything)
    mine = directory.administration_of.get(actor.org_code)
    if not record or mine is None:
        raise PermissionDenied("No targeting figures are visible to you.")
    # Declaration data stays in its administration: only its own declarations, analysed at laboratories
    # the reader sees as records.
    return Reach("administration", TargetingScope(labs=record, administration=mine), record)


def actor_named(uow: AbstractUnitOfWork, username: str) -> Actor:
    """The active user the command line acts as (`--as`), with the roles the visibility table reads."""
    with uow:
        user = uow.repo.user_by_name(username)
        if user is None or not user.active or user.id is None:
            raise NotFound(f"There is no active user '{username}'.", field="as")
        return Actor(user.id, user.username, user.org_code, user.roles)


def _label(key: tuple[str, ...]) -> str:
    return " × ".join(key)


def rate_view(selector: Sequence[str], row: RateRow, with_duty: bool) -> RateView:
    found = rate(row.k, row.n)
    assert found is not None  # a group has at least one case
    return _view(selector, row, found, with_duty)


def _view(selector: Sequence[str], row: RateRow, found: Rate, with_duty: bool) -> RateView:
    return RateView(
        key=dict(zip(selector, row.key, strict=True)),
        label=_label(row.key),
        n=found.n,
        k=found.k,
        rate=round(found.rate, 4),
        wilson_low=round(found.low, 4),
        wilson_high=round(found.high, 4),
        small=found.small,
        text=found.text(),
        duty_difference_sum=row.duty_difference_sum if with_duty else None,
        duty_known_n=row.duty_known_n if with_duty else 0,
    )


def riskiest(rows: Sequence[RateRow], top: int | None = None) -> list[RateRow]:
    """The `top` riskiest groups (all when None), highest interval floor first: a rate that is surely high
    outranks a high rate on three cases; then the larger group, then the label.

    Ranked on the counts, before any view is built: a table keeps 50 of tens of thousands of importers,
    so the floors are computed for all at once (`wilson_lows`) and views only for the rows kept. The floor
    is compared as the view shows it (4 decimals), so that the order is the one its readers see."""
    if not rows:
        return []
    size = len(rows)
    lows = wilson_lows(
        np.fromiter((r.k for r in rows), np.int64, size), np.fromiter((r.n for r in rows), np.int64, size)
    ).tolist()
    ranks = [
        (-round(low, 4), -r.n, _label(r.key), i) for i, (low, r) in enumerate(zip(lows, rows, strict=True))
    ]
    ranks = sorted(ranks) if top is None or top >= size else heapq.nsmallest(top, ranks)
    return [rows[rank[-1]] for rank in ranks]


def _table(
    rows: list[RateRow],
    selector: Sequence[SelectorColumn],
    query: TargetingQuery,
    hidden: Callable[[list[RateRow]], set[tuple[str, ...]]] | None,
    with_duty: bool,
) -> RateTable:
    gone = hidden(rows) if hidden else set()
    kept = [r for r in rows if r.n >= query.min_n and r.key not in gone]
    shown = [rate_view(selector, r, with_duty) for r in riskiest(kept, query.top)]
    return RateTable(selector=list(selector), rows=shown, groups=len(kept), suppressed=len(gone))


def _hide_list(rows: list[RateRow]) -> set[tuple[str, ...]]:
    return suppress_small_cells({r.key: r.n for r in rows}, SMALL_CELL)


def _hide_table(rows: list[RateRow]) -> set[tuple[str, ...]]:
    found = suppress_table({(r.key[0], r.key[1]): r.n for r in rows}, SMALL_CELL)
    return {tuple(k) for k in found}


def targeting_figures(uow: AbstractUnitOfWork, actor: Actor, query: TargetingQuery) -> TargetingFigures:
    """Mismatch rates with Wilson intervals by heading, origin, heading × origin, importer, declarant and
    month, and the revenue impact, over the decided samples the reader's scope covers."""
    require(actor, Action.VIEW_TARGETING)
    with uow:
        now = uow.clock()
        start, end = period(query.start, query.end, now.date())
        where = reach(uow, actor, query.scope)
        network = where.scope == "network"
        if network:
            start, end = whole_quarters(start, end)
        scope = where.outcomes
        t = uow.targeting
        # Every table in one read (min_n applies after: network figures' suppression must see every cell).
        wanted = TABLES if not network else tuple(s for s in TABLES if not DECLARATION_COLUMNS & set(s))
        read = dict(zip(wanted, t.rates_many(scope, wanted, start, end), strict=True))

        def rows(selector: tuple[SelectorColumn, ...]) -> list[RateRow]:
            return read[selector]

        overall_rows = read[()]
        currencies = [] if network else t.currencies(scope, start, end)
        one_currency = len(currencies) <= 1
        with_duty = not network and one_currency
        list_hider = _hide_list if network else None
        figures = TargetingFigures(
            scope=where.scope,
            administration=where.outcomes.administration,
            labs=sorted(where.labs),
            period_start=start,
            period_end=end,
            generated_at=now,
            small_n=SMALL_N,
            suppressed_below=SMALL_CELL if network else None,
            overall=_overall(overall_rows, network, with_duty),
            by_heading=_table(rows(("heading",)), ("heading",), query, list_hider, with_duty),
            by_origin=_table(rows(("origin",)), ("origin",), query, list_hider, with_duty),
            by_heading_origin=_table(
                rows(("heading", "origin")),
                ("heading", "origin"),
                query,
                _hide_table if network else None,
                with_duty,
            ),
            by_importer=None if network else _table(rows(IMPORTER), IMPORTER, query, None, with_duty),
            by_declarant=None if network else _table(rows(DECLARANT), DECLARANT, query, None, with_duty),
            trend=_trend(read[MONTH], network, with_duty),
            revenue=None if network else _revenue(overall_rows, currencies),
        )
    return figures


def _overall(rows: list[RateRow], network: bool, with_duty: bool) -> RateView | None:
    # A network total under SMALL_CELL is itself a small cell (a quiet quarter's one or two cases). An
    # empty period may still bring a row of n = 0: PostgreSQL's GROUPING SETS give the () set one.
    if not rows or rows[0].n == 0 or (network and rows[0].n < SMALL_CELL):
        return None
    return rate_view((), rows[0], with_duty)


def _trend(rows: list[RateRow], network: bool, with_duty: bool) -> list[RateView]:
    gone = _hide_list(rows) if network else set()
    return [rate_view(("month",), r, with_duty) for r in rows if r.key not in gone]


def _revenue(overall: list[RateRow], currencies: list[str]) -> RevenueView:
    row = overall[0] if overall else None
    impact = (
        revenue_impact(row.duty_difference_sum, row.duty_known_n, row.n)
        if row
        else revenue_impact(Decimal("0.00"), 0, 0)
    )
    return RevenueView(
        # Amounts in several currencies do not add up: the total is left out rather than converted.
        total=impact.total if len(currencies) <= 1 else None,
        currency=currencies[0] if len(currencies) == 1 else None,
        currencies=currencies,
        known=impact.known,
        cases=impact.cases,
    )
