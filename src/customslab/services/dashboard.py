"""Read-side use cases of the network: the dashboard figures and the requests awaiting a sample.

Computed once here; the dashboard page draws the view and /dashboard.json serves it unchanged.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date

from pydantic import Field

from customslab.domain.access import Action, Actor, Kind, Relation, orgs_seen, relations_seen, require
from customslab.domain.enums import OPEN_STATES, Priority
from customslab.hs.evaluate import evaluate
from customslab.hs.nomenclature import HsError
from customslab.hs.quantities import Measurement
from customslab.services.classification import result_measurement
from customslab.services.contract import View
from customslab.services.ports import AbstractUnitOfWork, DashboardRow, ReleasedResult
from customslab.services.views import RELEASED

TURNAROUND_BINS = [0, 1, 2, 3, 5, 7, 10, 14, 21, 30]
#: Small-cell suppression, as statistical offices do: another administration's laboratory with fewer
#: cases than this has its figures left out (null in the JSON, "<3" on the page); when that would leave
#: a single hidden laboratory in its administration, the next smallest is hidden too (complementary
#: suppression), so the administration's row minus the shown laboratories gives only a sum. An
#: administration row with fewer cases, a median over fewer samples and a cross-border referral count
#: below it are hidden the same way. Network totals stay exact.
SMALL_CELL = 3


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


class AdministrationFigures(View):
    """One administration's cases, open and overdue work, turnaround and referrals across its border:
    counts and a median, never a case."""

    code: str
    name: str
    labs: int = Field(description="Laboratories in the figures: with cases, or samples they referred out.")
    cases: int | None = Field(description="Null when hidden as a small cell (see suppressed_below).")
    open: int | None
    overdue: int | None
    median_turnaround_days: float | None
    referrals_out: int = Field(description="Referrals from its laboratories to another administration's.")
    referrals_in: int = Field(description="Referrals from another administration to its laboratories.")


class Dashboard(View):
    """The figures of the network dashboard, aggregated and de-identified: counts, rates and turnaround
    per laboratory and per administration, never a sample, a reference or declaration data.

    Per-laboratory lists follow the order of `labs`. A laboratory of another administration than the
    reader's with fewer than `suppressed_below` cases has its per-laboratory figures suppressed (null)."""

    generated_on: date
    scope: str = Field(
        description="'network'; the administration's code, when the figures cover the reader's "
        "administration; or the reader's laboratory's code (with the laboratories under it)."
    )
    labs: list[str]
    cases_per_lab: list[int | None] = Field(
        description="Samples each laboratory holds: a referred sample counts at the laboratory it went to."
    )
    referred_out_per_lab: list[int | None] = Field(
        description="Samples each laboratory referred to another laboratory (counted in the receiving "
        "laboratory's cases); suppressed with the laboratory's other figures, and, for another "
        "administration's laboratory, when fewer than suppressed_below or when one of its referral "
        "flows is hidden."
    )
    open_per_lab: list[int | None]
    overdue_per_lab: list[int | None]
    median_turnaround_per_lab: list[float | None]
    suppressed_below: int
    turnaround_days: Turnaround
    referrals: list[ReferralFlow]
    administrations: list[AdministrationFigures]
    referrals_between_administrations: list[ReferralFlow]
    declared_vs_determined: DeclaredVsDetermined
    totals: DashboardTotals


def incoming_requests(uow: AbstractUnitOfWork, actor: Actor, limit: int = 20) -> list[IncomingRequest]:
    """Requests addressed to the actor's laboratory that have no sample registered yet (for those whom the
    visibility table shows their own organisation's requests, and who hold samples)."""
    if actor.is_requester_only or Relation.OWN not in relations_seen(actor, Kind.REQUEST):
        return []
    with uow:
        return [
            IncomingRequest.of_record(r) for r in uow.repo.requests_without_samples(actor.org_code, limit)
        ]


def _measurements(results: Iterable[ReleasedResult]) -> list[Measurement]:
    usable = []
    for r in results:
        try:
            found = result_measurement(r.name, r.value, r.unit, r.expanded_uncertainty, r.kind, r.text_value)
        except (HsError, ValueError):
            continue  # a result the HS rules cannot read (a unit of another kind...)
        if found is not None:
            usable.append(found)
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


def _median(values: list[float], exact: bool = True) -> float | None:
    """The median in days; None without values, or (unless `exact`) over fewer than SMALL_CELL of them."""
    if not values or (not exact and len(values) < SMALL_CELL):
        return None
    return round(statistics.median(values), 1)


def _suppressed(
    labs: list[str], admin_of: Mapping[str, str], mine: str | None, cases: Counter[str]
) -> set[str]:
    """Other administrations' laboratories whose figures are hidden (see SMALL_CELL)."""
    hidden = {lab for lab in labs if admin_of.get(lab) != mine and cases[lab] < SMALL_CELL}
    for code in {admin_of.get(lab) for lab in hidden}:
        members = [lab for lab in labs if admin_of.get(lab) == code]
        shown = sorted((cases[lab], lab) for lab in members if lab not in hidden)
        # A laboratory listed for the samples it referred out, with no case of its own, hides nothing:
        # it does not keep a lone small cell from being recovered by subtraction.
        with_cases = [lab for lab in members if lab in hidden and cases[lab]]
        if len(with_cases) == 1 and shown:
            hidden.add(shown[0][1])
    return hidden


def network_dashboard(uow: AbstractUnitOfWork, actor: Actor, today: date | None = None) -> Dashboard:
    """Cases, open and overdue work and turnaround per laboratory and per administration, referrals,
    declared ≠ determined; over the laboratories the visibility table gives the actor figures of.

    Turnaround is registration → approval of a sample, in days; its distribution is shown as counts
    per bin and summarised by the median and the 90th percentile (statistics.quantiles, 'inclusive').
    """
    require(actor, Action.VIEW_DASHBOARD)
    with uow:
        today = today or uow.clock().date()
        directory = uow.repo.directory()
        names = {a.code: a.name for a in uow.repo.administrations()}
        scope_orgs = orgs_seen(actor, Kind.DASHBOARD, directory, figures=True)
        rows = uow.repo.dashboard_rows(scope_orgs)
        pairs = uow.repo.referral_pairs()
        results = uow.repo.released_results([r.sample_id for r in rows if r.state in RELEASED])
    admin_of = directory.administration_of
    mine = admin_of.get(actor.org_code)
    if scope_orgs >= set(admin_of):
        scope = "network"
    elif mine is not None and scope_orgs >= directory.members_of(mine):
        scope = mine
    else:
        scope = actor.org_code
    cases: Counter[str] = Counter()
    open_by: Counter[str] = Counter()
    overdue_by: Counter[str] = Counter()
    turnaround: list[float] = []
    turnaround_by: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        cases[r.lab_code] += 1
        if r.state in OPEN_STATES:
            open_by[r.lab_code] += 1
            overdue_by[r.lab_code] += int(r.due_date < today)
        if r.approved_at is not None:
            days = (r.approved_at - r.registered_at).total_seconds() / 86400
            turnaround.append(days)
            turnaround_by[r.lab_code].append(days)
    counts = [0] * len(TURNAROUND_BINS)
    for days in turnaround:
        counts[max(j for j, edge in enumerate(TURNAROUND_BINS) if days >= edge)] += 1
    labels = [f"{a}–{b}" for a, b in itertools.pairwise(TURNAROUND_BINS)] + [f"≥{TURNAROUND_BINS[-1]}"]
    flows: Counter[tuple[str, str]] = Counter(pairs)
    flows = Counter({k: v for k, v in flows.items() if set(k) & scope_orgs})
    # A referred sample counts at the laboratory that holds it; the referring one counts it here, so
    # that a laboratory which refers most of its intake does not look idle.
    referred_out: Counter[str] = Counter(src for src, _ in pairs if src in scope_orgs)
    labs = sorted(set(cases) | set(referred_out))
    suppressed = _suppressed(labs, admin_of, mine, cases)
    every_flow = flows
    flows = Counter(
        {k: n for k, n in flows.items() if n >= SMALL_CELL or any(admin_of.get(lab) == mine for lab in k)}
    )
    # Another administration's laboratory with a hidden outgoing flow shows no referred-out total: the
    # total less the flows shown would give the hidden one away (6 shown to Y, 8 in all: 2 to Z).
    hidden_flow_from = {src for src, _ in every_flow.keys() - flows.keys()}

    def shown(figure: Counter[str]) -> list[int | None]:
        return [None if lab in suppressed else figure[lab] for lab in labs]

    quantiles = statistics.quantiles(turnaround, n=10, method="inclusive") if len(turnaround) >= 2 else []
    mismatch = declared_vs_determined(rows, results)
    mismatch = mismatch.model_copy(
        update={"per_lab": {lab: m for lab, m in mismatch.per_lab.items() if lab not in suppressed}}
    )
    return Dashboard(
        generated_on=today,
        scope=scope,
        labs=labs,
        cases_per_lab=shown(cases),
        referred_out_per_lab=[
            None
            if lab in suppressed
            or (admin_of.get(lab) != mine and (0 < referred_out[lab] < SMALL_CELL or lab in hidden_flow_from))
            else referred_out[lab]
            for lab in labs
        ],
        open_per_lab=shown(open_by),
        overdue_per_lab=shown(overdue_by),
        median_turnaround_per_lab=[
            None if lab in suppressed else _median(turnaround_by[lab], admin_of.get(lab) == mine)
            for lab in labs
        ],
        suppressed_below=SMALL_CELL,
        turnaround_days=Turnaround(
            bins=labels,
            counts=counts,
            n=len(turnaround),
            median=_median(turnaround),
            p90=round(quantiles[-1], 1) if quantiles else None,
        ),
        referrals=[ReferralFlow(from_=f, to=t, count=n) for (f, t), n in sorted(flows.items())],
        administrations=_per_administration(
            labs, admin_of, mine, names, (cases, open_by, overdue_by), turnaround_by, flows
        ),
        referrals_between_administrations=[
            ReferralFlow(from_=f, to=t, count=n)
            for (f, t), n in sorted(_between(admin_of, flows).items())
            if n >= SMALL_CELL or mine in (f, t)
        ],
        declared_vs_determined=mismatch,
        totals=DashboardTotals(
            cases=sum(cases.values()),
            open=sum(open_by.values()),
            overdue=sum(overdue_by.values()),
            referrals=sum(flows.values()),
        ),
    )


def _between(admin_of: Mapping[str, str], flows: Counter[tuple[str, str]]) -> Counter[tuple[str, str]]:
    """Referrals from one administration's laboratories to another's, counted per pair."""
    out: Counter[tuple[str, str]] = Counter()
    for (a, b), n in flows.items():
        pair = (admin_of.get(a, "?"), admin_of.get(b, "?"))
        if pair[0] != pair[1]:
            out[pair] += n
    return out


def _per_administration(
    labs: list[str],
    admin_of: Mapping[str, str],
    mine: str | None,
    names: Mapping[str, str],
    figures: tuple[Counter[str], Counter[str], Counter[str]],
    turnaround_by: Mapping[str, list[float]],
    flows: Counter[tuple[str, str]],
) -> list[AdministrationFigures]:
    """The per-laboratory figures summed per administration with laboratories in `labs`; the median
    over its samples' turnaround; the referrals across its border (`referrals_between_administrations`
    lists every pair, also of administrations without a case here)."""
    cases, open_by, overdue_by = figures
    between = _between(admin_of, flows)
    by_admin: dict[str, list[str]] = defaultdict(list)
    for lab in labs:
        by_admin[admin_of.get(lab, "?")].append(lab)
    figures_of = []
    for code, members in sorted(by_admin.items()):
        exact = code == mine
        total = sum(cases[lab] for lab in members)
        small = not exact and total < SMALL_CELL

        def summed(figure: Counter[str], members: list[str] = members, small: bool = small) -> int | None:
            return None if small else sum(figure[lab] for lab in members)

        figures_of.append(
            AdministrationFigures(
                code=code,
                name=names.get(code, code),
                labs=len(members),
                cases=summed(cases),
                open=summed(open_by),
                overdue=summed(overdue_by),
                median_turnaround_days=_median(
                    [d for lab in members for d in turnaround_by.get(lab, [])], exact
                ),
                referrals_out=sum(n for (a, _), n in between.items() if a == code),
                referrals_in=sum(n for (_, b), n in between.items() if b == code),
            )
        )
    return figures_of
