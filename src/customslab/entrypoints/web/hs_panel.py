"""HS evaluation of a sample: its approved (or, for staff, entered) results through customslab.hs."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, select

from customslab.adapters import orm
from customslab.hs.evaluate import evaluate
from customslab.hs.nomenclature import HsError
from customslab.hs.quantities import Measurement, QuantityError, make_measurement

DECISION_RULES = ("guarded", "simple")


def measurements(results: list[dict[str, Any]]) -> tuple[list[Measurement], list[dict[str, str]]]:
    """The results the HS rules understand, and the others with the reason they were left out."""
    usable: list[Measurement] = []
    skipped: list[dict[str, str]] = []
    for r in results:
        if r.get("value") in (None, ""):
            continue
        try:
            u = float(r["expanded_uncertainty"]) if r.get("expanded_uncertainty") else None
            usable.append(make_measurement(str(r["name"]), float(r["value"]), str(r.get("unit") or ""), u))
        except (QuantityError, ValueError) as exc:
            skipped.append({"name": str(r["name"]), "why": str(exc)})
    return usable, skipped


def evaluate_rows(conn: Connection, sample_ids: list[int]) -> list[tuple[str, str, str | None, str, str]]:
    """(lab, sample state, mismatch level or None, HS chapter, origin) per sample, from approved results."""
    if not sample_ids:
        return []
    s, t, r, rq = orm.samples.c, orm.tests.c, orm.results.c, orm.analysis_requests.c
    query = (
        select(
            s.id,
            s.lab_code,
            s.state,
            rq.declared_hs,
            rq.origin_country,
            r.name,
            r.value,
            r.unit,
            r.expanded_uncertainty,
        )
        .select_from(
            orm.results.join(orm.tests, t.id == r.test_id)
            .join(orm.samples, s.id == t.sample_id)
            .join(orm.analysis_requests, rq.id == s.request_id)
        )
        .where(s.id.in_(sample_ids), t.state.in_(["approved", "reported", "archived"]))
    )
    grouped: dict[int, dict[str, Any]] = defaultdict(lambda: {"results": []})
    for row in conn.execute(query):
        g = grouped[row.id]
        g.update(
            lab=row.lab_code,
            state=str(getattr(row.state, "value", row.state)),
            hs=row.declared_hs,
            origin=row.origin_country,
        )
        g["results"].append(
            {
                "name": row.name,
                "value": None if row.value is None else str(row.value),
                "unit": row.unit,
                "expanded_uncertainty": None
                if row.expanded_uncertainty is None
                else str(row.expanded_uncertainty),
            }
        )
    out: list[tuple[str, str, str | None, str, str]] = []
    for g in grouped.values():
        usable, _ = measurements(g["results"])
        outcome = None
        if usable:
            try:
                ev = evaluate(g["hs"], usable)
                outcome = ev.mismatch if ev.status == "decided" else None
            except (HsError, QuantityError, ValueError):
                outcome = None
        out.append((g["lab"], g["state"], outcome, str(g["hs"])[:2], str(g["origin"])))
    return out
