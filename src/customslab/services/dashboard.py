"""Read-side use cases of the network: the dashboard figures and the requests awaiting a sample.

Computed once here; the dashboard page draws the view and /dashboard.json serves it unchanged.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date

from pydantic import Field

from customslab.domain.access import Action, Actor, require
from customslab.domain.enums import OPEN_STATES, Priority
from customslab.hs.evaluate import evaluate
from customslab.hs.nomenclature import HsError
from customslab.hs.quantities import Measurement, make_measurement
from customslab.services.contract import View
from customslab.services.ports import AbstractUnitOfWork, DashboardRow, ReleasedResult
from customslab.services.views import RELEASED

TURNAROUND_BINS = [0, 1, 2, 3, 5, 7, 10, 14, 21, 30]


class IncomingRequest(View):
    """A request addressed to the laboratory, waiting for its sample to be registered."""

    id: int | None
    reference: str
    goods_description: str
    priority: Priority
    due_date: date | None


class MismatchCount(View):
    evaluated: int
    differs: int


class MismatchRate(MismatchCount):
    key: str = Field(description="The HS chapter or the country of origin.")
    rate: float


class DeclaredVsDetermined(View):
    """Released samples whose HS evaluation decides a code, and how many differ from the declaration."""

    evaluated: int
    differs: int
    rate: float | None
    per_lab: dict[str, MismatchCount]
    per_chapter: list[MismatchRate]
    per_origin: list[MismatchRate]


class Turnaround(View):
    """Registration to approval, in days: counts per bin, median and 90th percentile."""

    bins: list[str]
    counts: list[int]
    n: int
    median: float | None
    p90: float | None


class ReferralFlow(View):
    from_: str = Field(serialization_alias="from")
    to: str
    count: int


class DashboardTotals(View):
    cases: int
    open: int
    overdue: int
    referrals: int


class Dashboard(View):
    """The figures of the network dashboard; per-laboratory lists follow the order of `labs`."""

    generated_on: date
    scope: str = Field(description="'network', or the code of the laboratory the figures are limited to.")
    labs: list[str]
    cases_per_lab: list[int]
    open_per_lab: list[int]
    overdue_per_lab: list[int]
    turnaround_days: Turnaround
    referrals: list[ReferralFlow]
    declared_vs_determined: DeclaredVsDetermined
    totals: DashboardTotals


def incoming_requests(uow: AbstractUnitOfWork, actor: Actor, limit: int = 20) -> list[IncomingRequest]:
    """Requests addressed to the actor's laboratory that have no sample registered yet."""
    if actor.is_requester_only:
        return []
    with uow:
        return [
            IncomingRequest.of_record(r) for r in uow.repo.requests_without_samples(actor.org_code, limit)
        ]


def _measurements(results: Iterable[ReleasedResult]) -> list[Measurement]:
    usable = []
    for r in results:
        if r.value is None:
            continue
        try:
            u = float(r.expanded_uncertainty) if r.expanded_uncertainty else None
            usable.append(make_measurement(r.name, float(r.value), "" if r.unit in ("1", "-") else r.unit, u))
        except (HsError, ValueError):
            continue  # a result the HS rules do not use (colour, moisture...)
    return usable


def _rates(groups: dict[str, Counter[str]]) -> list[MismatchRate]:
    return [
        MismatchRate(
            key=key,
            evaluated=c["evaluated"],
            differs=c["differs"],
            rate=round(c["differs"] / c["evaluated"], 3),
        )
        for key, c in sorted(groups.items())
        if c["evaluated"]
    ]


def declared_vs_determined(rows: list[DashboardRow], results: list[ReleasedResult]) -> DeclaredVsDetermined:
    """Share of released samples whose HS evaluation decides a code other than the declared one."""
    by_sample: dict[int, list[ReleasedResult]] = defaultdict(list)
    for r in results:
        by_sample[r.sample_id].append(r)
    groups: dict[str, dict[str, Counter[str]]] = {
        "lab": defaultdict(Counter),
        "chapter": defaultdict(Counter),
        "origin": defaultdict(Counter),
    }
    for row in rows:
        if row.state not in RELEASED or row.sample_id not in by_sample:
            continue
        usable = _measurements(by_sample[row.sample_id])
        if not usable:
            continue
        try:
            ev = evaluate(row.declared_hs, usable)
        except HsError:
            continue
        if ev.status != "decided":
            continue
        for kind, key in (
            ("lab", row.lab_code),
            ("chapter", row.declared_hs[:2]),
            ("origin", row.origin_country),
        ):
            groups[kind][key]["evaluated"] += 1
            groups[kind][key]["differs"] += int(ev.mismatch != "none")
    evaluated = sum(c["evaluated"] for c in groups["lab"].values())
    differs = sum(c["differs"] for c in groups["lab"].values())
    return DeclaredVsDetermined(
        evaluated=evaluated,
        differs=differs,
        rate=round(differs / evaluated, 3) if evaluated else None,
        per_lab={
            lab: MismatchCount(evaluated=c["evaluated"], differs=c["differs"])
            for lab, c in sorted(groups["lab"].items())
        },
        per_chapter=_rates(groups["chapter"]),
        per_origin=_rates(groups["origin"]),
    )


def network_dashboard(uow: AbstractUnitOfWork, actor: Actor, today: date | None = None) -> Dashboard:
    """Cases, open and overdue work per laboratory, turnaround, referrals, declared ≠ determined.

    Turnaround is registration → approval of a sample, in days; its distribution is shown as counts
    per bin and summarised by the median and the 90th percentile (statistics.quantiles, 'inclusive').
    """
    require(actor, Action.VIEW_DASHBOARD)
    with uow:
        today = today or uow.clock().date()
        rows = uow.repo.dashboard_rows(None if actor.sees_network else actor.org_code)
        pairs = uow.repo.referral_pairs()
        results = uow.repo.released_results([r.sample_id for r in rows if r.state in RELEASED])
    cases: Counter[str] = Counter()
    open_by: Counter[str] = Counter()
    overdue_by: Counter[str] = Counter()
    turnaround: list[float] = []
    for r in rows:
        cases[r.lab_code] += 1
        if r.state in OPEN_STATES:
            open_by[r.lab_code] += 1
            overdue_by[r.lab_code] += int(r.due_date < today)
        if r.approved_at is not None:
            turnaround.append((r.approved_at - r.registered_at).total_seconds() / 86400)
    counts = [0] * len(TURNAROUND_BINS)
    for days in turnaround:
        counts[max(j for j, edge in enumerate(TURNAROUND_BINS) if days >= edge)] += 1
    labels = [f"{a}–{b}" for a, b in itertools.pairwise(TURNAROUND_BINS)] + [f"≥{TURNAROUND_BINS[-1]}"]
    flows: Counter[tuple[str, str]] = Counter(pairs)
    if not actor.sees_network:
        flows = Counter({k: v for k, v in flows.items() if actor.org_code in k})
    labs = sorted(cases)
    quantiles = statistics.quantiles(turnaround, n=10, method="inclusive") if len(turnaround) >= 2 else []
    return Dashboard(
        generated_on=today,
        scope="network" if actor.sees_network else actor.org_code,
        labs=labs,
        cases_per_lab=[cases[lab] for lab in labs],
        open_per_lab=[open_by[lab] for lab in labs],
        overdue_per_lab=[overdue_by[lab] for lab in labs],
        turnaround_days=Turnaround(
            bins=labels,
            counts=counts,
            n=len(turnaround),
            median=round(statistics.median(turnaround), 1) if turnaround else None,
            p90=round(quantiles[-1], 1) if quantiles else None,
        ),
        referrals=[ReferralFlow(from_=f, to=t, count=n) for (f, t), n in sorted(flows.items())],
        declared_vs_determined=declared_vs_determined(rows, results),
        totals=DashboardTotals(
            cases=sum(cases.values()),
            open=sum(open_by.values()),
            overdue=sum(overdue_by.values()),
            referrals=sum(flows.values()),
        ),
    )
