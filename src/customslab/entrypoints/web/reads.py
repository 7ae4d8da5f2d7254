"""Read-only views the pages need and the services do not offer yet (see the report to the lead).

They query the tables directly, in one place, so they can move into services/queries.py unchanged.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, and_, exists, select

from customslab.adapters import orm
from customslab.domain.access import Action, Actor, require
from customslab.domain.enums import OPEN_STATES, State

RQ = orm.analysis_requests.c
S = orm.samples.c


def incoming_requests(engine: Engine, actor: Actor, limit: int = 20) -> list[dict[str, Any]]:
    """Requests addressed to the actor's laboratory that have no sample registered yet."""
    if actor.is_requester_only:
        return []
    no_sample = ~exists().where(S.request_id == RQ.id)
    query = (
        select(RQ.id, RQ.reference, RQ.goods_description, RQ.priority, RQ.due_date)
        .where(and_(RQ.lab_code == actor.org_code, no_sample))
        .order_by(RQ.due_date, RQ.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [
            {
                "id": r.id,
                "reference": r.reference,
                "goods_description": r.goods_description,
                "priority": str(getattr(r.priority, "value", r.priority)),
                "due_date": r.due_date.isoformat(),
            }
            for r in conn.execute(query)
        ]


def _value(v: Any) -> str:
    return str(getattr(v, "value", v))


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    return (end - start).total_seconds() / 3600


def dashboard_data(engine: Engine, actor: Actor, today: date | None = None) -> dict[str, Any]:
    """Network figures computed once; the page draws them and /dashboard.json serves the same dict.

    Turnaround is registration → approval of a sample, in days; its distribution is shown as
    counts per bin and summarised by the median and the 90th percentile (statistics.quantiles,
    method 'inclusive').
    """
    require(actor, Action.VIEW_DASHBOARD)
    today = today or datetime.now(UTC).date()
    query = select(
        S.id,
        S.lab_code,
        S.state,
        S.registered_at,
        S.approved_at,
        RQ.due_date,
        RQ.declared_hs,
        RQ.id.label("rid"),
    ).select_from(orm.samples.join(orm.analysis_requests, RQ.id == S.request_id))
    if not actor.sees_network:
        query = query.where(S.lab_code == actor.org_code)
    open_values = {s.value for s in OPEN_STATES}
    cases: Counter[str] = Counter()
    open_by: Counter[str] = Counter()
    overdue_by: Counter[str] = Counter()
    turnaround: list[float] = []
    with engine.connect() as conn:
        rows = list(conn.execute(query))
        sample_ids = [r.id for r in rows]
        refs = list(conn.execute(select(orm.referrals.c.from_lab, orm.referrals.c.to_lab)))
        tests = orm.tests.c
        res = orm.results.c
        ident_rows = conn.execute(
            select(tests.sample_id, res.name).select_from(
                orm.results.join(orm.tests, tests.id == res.test_id)
            )
        )
        measured = {r.sample_id for r in ident_rows}
    for r in rows:
        state = _value(r.state)
        cases[r.lab_code] += 1
        if state in open_values:
            open_by[r.lab_code] += 1
            if r.due_date < today:
                overdue_by[r.lab_code] += 1
        hours = _hours(r.registered_at, r.approved_at)
        if hours is not None:
            turnaround.append(hours / 24)
    bins = [0, 1, 2, 3, 5, 7, 10, 14, 21, 30]
    counts = [0] * len(bins)
    for days in turnaround:
        i = max(j for j, edge in enumerate(bins) if days >= edge)
        counts[i] += 1
    labels = [f"{a}–{b}" for a, b in itertools.pairwise(bins)] + [f"≥{bins[-1]}"]
    flows: Counter[tuple[str, str]] = Counter((f, t) for f, t in refs)
    if not actor.sees_network:
        flows = Counter({k: v for k, v in flows.items() if actor.org_code in k})
    mismatch = _declared_vs_determined(engine, [i for i in sample_ids if i in measured])
    labs = sorted(cases)
    quantiles = statistics.quantiles(turnaround, n=10, method="inclusive") if len(turnaround) >= 2 else []
    return {
        "generated_on": today.isoformat(),
        "scope": "network" if actor.sees_network else actor.org_code,
        "labs": labs,
        "cases_per_lab": [cases[lab] for lab in labs],
        "open_per_lab": [open_by[lab] for lab in labs],
        "overdue_per_lab": [overdue_by[lab] for lab in labs],
        "turnaround_days": {
            "bins": labels,
            "counts": counts,
            "n": len(turnaround),
            "median": round(statistics.median(turnaround), 1) if turnaround else None,
            "p90": round(quantiles[-1], 1) if quantiles else None,
        },
        "referrals": [{"from": f, "to": t, "count": n} for (f, t), n in sorted(flows.items())],
        "declared_vs_determined": mismatch,
        "totals": {
            "cases": sum(cases.values()),
            "open": sum(open_by.values()),
            "overdue": sum(overdue_by.values()),
            "referrals": sum(flows.values()),
        },
    }


def _declared_vs_determined(engine: Engine, sample_ids: list[int]) -> dict[str, Any]:
    """Share of approved samples whose HS evaluation contradicts the declared code."""
    from customslab.entrypoints.web.hs_panel import evaluate_rows

    per_lab: dict[str, Counter[str]] = defaultdict(Counter)
    per_chapter: dict[str, Counter[str]] = defaultdict(Counter)
    per_origin: dict[str, Counter[str]] = defaultdict(Counter)
    approved = {State.APPROVED.value, State.REPORTED.value, State.ARCHIVED.value}
    with engine.connect() as conn:
        rows = evaluate_rows(conn, sample_ids)
    for lab, state, outcome, chapter, origin in rows:
        if state not in approved or outcome is None:
            continue
        for bucket in (per_lab[lab], per_chapter[chapter], per_origin[origin]):
            bucket["evaluated"] += 1
            if outcome != "none":
                bucket["differs"] += 1
    evaluated = sum(c["evaluated"] for c in per_lab.values())
    differs = sum(c["differs"] for c in per_lab.values())
    return {
        "evaluated": evaluated,
        "differs": differs,
        "rate": round(differs / evaluated, 3) if evaluated else None,
        "per_lab": {lab: dict(c) for lab, c in sorted(per_lab.items())},
        "per_chapter": _rates(per_chapter),
        "per_origin": _rates(per_origin),
    }


def _rates(groups: dict[str, Counter[str]]) -> list[dict[str, Any]]:
    return [
        {
            "key": key,
            "evaluated": c["evaluated"],
            "differs": c["differs"],
            "rate": round(c["differs"] / c["evaluated"], 3),
        }
        for key, c in sorted(groups.items())
        if c["evaluated"]
    ]
