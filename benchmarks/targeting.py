"""Targeting dashboard and risk-indicator export over 1,000,000 decided results in PostgreSQL.

Seeds a scratch PostgreSQL database with synthetic outcomes by COPY (scenery: it bypasses the audit hook
and the approval workflow on purpose), then times, each call repeated:

- the targeting dashboard: `targeting_figures` through the production service and unit of work, as a
  laboratory manager of the central laboratory sees it (heading, origin, heading × origin, importer,
  declarant, monthly trend, revenue impact);
- the risk-indicator export (CSV and JSON) through the production service;
- the peer, on the same data in the same run: every row in scope loaded into Python and grouped there
  (dicts and Counters), with the same Wilson intervals, the way a report script would do it.

Distributions: ~300 HS headings (Zipf), ~60 origins (Zipf), ~20,000 importers (Zipf), ~5,000 declarants,
decisions over 3 years, a mismatch rate of 8–15 % varying by heading, and duty differences on most
mismatches.

    .venv/bin/python benchmarks/targeting.py [--rows 1000000] [--repeat 5]

Uses CUSTOMSLAB_BENCH_DATABASE_URL, else CUSTOMSLAB_TEST_DATABASE_URL, else
postgresql+psycopg://postgres@127.0.0.1:5432/postgres as the admin connection; creates and drops its
own database.
"""

from __future__ import annotations

import argparse
import io
import math
import statistics
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scratch_db import create_scratch_db, drop_scratch_db  # noqa: E402
from tests.factories import Network, make_network  # noqa: E402

from customslab.adapters.db import upgrade  # noqa: E402
from customslab.adapters.tabular_export import to_csv  # noqa: E402
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork  # noqa: E402
from customslab.services.risk_export import (  # noqa: E402
    CSV_COLUMNS,
    RiskExportQuery,
    csv_rows,
    risk_indicators,
)
from customslab.services.targeting import TargetingFigures, TargetingQuery, targeting_figures  # noqa: E402

END = date(2026, 10, 31)
START = END - timedelta(days=3 * 365)
Z95 = 1.959963984540054


def _zipf_weights(count: int, s: float) -> Any:
    weights = 1.0 / np.arange(1, count + 1) ** s
    return weights / weights.sum()


def seed(url: str, rows: int, net: Network) -> float:
    """COPY `rows` synthetic outcomes into targeting_outcomes; returns the seconds it took."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(17)
    labs = np.array([net.central, net.local, net.other_lab])
    headings = np.array(sorted({f"{h:04d}" for h in rng.integers(101, 9706, 400)})[:300])
    origins = np.array(
        [a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"][:60]
    )
    heading_i = rng.choice(len(headings), rows, p=_zipf_weights(len(headings), 1.1))
    origin_i = rng.choice(len(origins), rows, p=_zipf_weights(len(origins), 1.0))
    importer_i = rng.choice(20_000, rows, p=_zipf_weights(20_000, 1.05))
    declarant_i = rng.integers(0, 5_000, rows)
    lab_i = rng.choice(len(labs), rows, p=[0.5, 0.3, 0.2])
    day = rng.integers(0, (END - START).days + 1, rows)
    # 8–15 % by heading, a few origins twice as often wrong: something for the heading × origin list.
    heading_rate = rng.uniform(0.08, 0.15, len(headings))
    origin_factor = np.where(rng.random(len(origins)) < 0.1, 2.0, 1.0)
    differs = rng.random(rows) < heading_rate[heading_i] * origin_factor[origin_i]
    value = np.round(rng.lognormal(15.5, 1.2, rows), 0)  # KRW, a few million won typically
    duty = np.round(value * rng.uniform(-0.03, 0.12, rows), 0)
    duty_known = rng.random(rows) < 0.85
    sub = rng.integers(10, 100, rows)
    other_sub = (sub + rng.integers(1, 89, rows)) % 90 + 10
    start_ordinal = START.toordinal()
    db = Database(url)
    conn_url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    db.dispose()
    columns = (
        "sample_id, reference, lab_code, administration_code, declared_hs, determined_hs, heading, "
        "differs, origin, importer, declarant, importer_key, declarant_key, decided_on, month, "
        "customs_value, currency, duty_difference_cents"
    )
    with psycopg.connect(conn_url) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY targeting_outcomes ({columns}) FROM STDIN") as copy:
            chunk = 50_000
            for lo in range(0, rows, chunk):
                buf = io.StringIO()
                for i in range(lo, min(rows, lo + chunk)):
                    h = headings[heading_i[i]]
                    d = bool(differs[i])
                    declared = f"{h}{sub[i]}"
                    determined = f"{h}{other_sub[i]}" if d else declared
                    decided = date.fromordinal(start_ordinal + int(day[i])).isoformat()
                    # Whole won, stored in hundredths (the table's unit).
                    difference = (f"{duty[i]:.0f}00" if d else "0") if duty_known[i] else "\\N"
                    # The names, then their keys as `domain.targeting.party_key` spells them (case-folded).
                    buf.write(
                        f"{i + 1}\tB-{i + 1:07d}\t{labs[lab_i[i]]}\t{net.home}\t{declared}\t{determined}\t"
                        f"{h}\t{'t' if d else 'f'}\t{origins[origin_i[i]]}\tIMP{importer_i[i]:05d}\t"
                        f"DCL{declarant_i[i]:04d}\timp{importer_i[i]:05d}\tdcl{declarant_i[i]:04d}\t"
                        f"{decided}\t{decided[:7]}\t{value[i]:.0f}\tKRW\t{difference}\n"
                    )
                copy.write(buf.getvalue())
        conn.execute("ANALYZE targeting_outcomes")
    return time.perf_counter() - t0


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson score interval, z = 1.96 (Wilson 1927), for the peer's rows."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    denominator = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denominator
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def naive_figures(url: str, labs: list[str], start: date, end: date, evidence: bool) -> dict[str, Any]:
    """The peer: every outcome in scope loaded into Python and grouped with dicts, a Wilson interval per
    group; with `evidence`, the newest five differing references per selector too (what the export needs)."""
    conn_url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    names = ("heading", "origin", "pair", "importer", "declarant", "month")
    groups: dict[str, dict[Any, list[int]]] = {g: defaultdict(lambda: [0, 0, 0, 0]) for g in names}
    refs: dict[str, dict[Any, list[tuple[date, str]]]] = {g: defaultdict(list) for g in names[:5]}
    with psycopg.connect(conn_url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT reference, heading, origin, importer, declarant, decided_on, differs, "
            "duty_difference_cents "
            "FROM targeting_outcomes WHERE lab_code = ANY(%s) AND decided_on BETWEEN %s AND %s",
            (labs, start, end),
        )
        for reference, heading, origin, importer, declarant, decided_on, differs, duty in cur:
            keys = {
                "heading": heading,
                "origin": origin,
                "pair": (heading, origin),
                "importer": importer,
                "declarant": declarant,
                "month": decided_on.strftime("%Y-%m"),
            }
            for name, key in keys.items():
                cell = groups[name][key]
                cell[0] += 1
                if differs:
                    cell[1] += 1
                if duty is not None:
                    cell[2] += duty
                    cell[3] += 1
                if evidence and differs and name != "month":
                    refs[name][key].append((decided_on, reference))
    out: dict[str, Any] = {}
    for name, cells in groups.items():
        out[name] = sorted(
            ((key, n, k, k / n, *wilson(k, n), duty, known) for key, (n, k, duty, known) in cells.items()),
            key=lambda row: (-row[4], -row[1], str(row[0])),
        )
    if evidence:
        out["evidence"] = {
            name: {key: [r for _, r in sorted(found, reverse=True)[:5]] for key, found in by_key.items()}
            for name, by_key in refs.items()
        }
    return out


def _production_calls(
    uow_factory: Callable[[], SqlAlchemyUnitOfWork], net: Network
) -> tuple[Callable[[], TargetingFigures], Callable[[], bytes], Callable[[], str]]:
    """The production use cases as a laboratory manager of the central laboratory calls them."""
    actor = net["central_manager"]
    query = TargetingQuery(start=START, end=END)
    export_query = RiskExportQuery(start=START, end=END)

    def dashboard() -> TargetingFigures:
        return targeting_figures(uow_factory(), actor, query)

    def export_csv() -> bytes:
        return to_csv(CSV_COLUMNS, csv_rows(risk_indicators(uow_factory(), actor, export_query)))

    def export_json() -> str:
        return risk_indicators(uow_factory(), actor, export_query).model_dump_json()

    return dashboard, export_csv, export_json


def _check_agreement(figures: TargetingFigures, peer: dict[str, Any]) -> None:
    """The service and the peer count the same: overall n and k, and every heading row shown."""
    by_key = {row[0]: row for row in peer["heading"]}
    assert figures.overall is not None
    assert figures.overall.n == sum(row[1] for row in peer["heading"])
    assert figures.overall.k == sum(row[2] for row in peer["heading"])
    for r in figures.by_heading.rows:
        _, n, k, *_ = by_key[r.key["heading"]]
        assert (r.n, r.k) == (n, k), (r, n, k)
    print(
        f"agreement: overall {figures.overall.k:,} of {figures.overall.n:,} and all "
        f"{len(figures.by_heading.rows)} heading rows shown match the peer"
    )


def timed(call: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    call()  # warm-up: connection pool, plans, the page cache
    laps, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = call()
        laps.append(time.perf_counter() - t)
    return laps, result


def report(name: str, laps: list[float]) -> float:
    ms = sorted(x * 1000 for x in laps)
    p95 = ms[min(len(ms) - 1, math.ceil(0.95 * len(ms)) - 1)]
    median = statistics.median(ms)
    print(f"{name:<46} n={len(ms):>3}  median {median:9.1f} ms   p95 {p95:9.1f} ms")
    return median


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    url = create_scratch_db()
    tmp = Path(f"/tmp/customslab-bench-{uuid.uuid4().hex[:6]}")
    try:
        upgrade(url)
        db = Database(url)
        uow_factory = lambda: SqlAlchemyUnitOfWork(db, LocalFileStore(tmp))  # noqa: E731
        net = make_network(uow_factory)
        seconds = seed(url, args.rows, net)
        print(f"seeded {args.rows:,} outcomes by COPY in {seconds:.1f} s")
        run_dashboard, run_export_csv, run_export_json = _production_calls(uow_factory, net)
        labs = [net.central, net.local, net.other_lab]
        dash_laps, figures = timed(run_dashboard, args.repeat)
        dash = report("targeting dashboard (targeting_figures)", dash_laps)
        peer_laps, peer = timed(lambda: naive_figures(url, labs, START, END, False), args.repeat)
        naive = report("peer: every row into Python, grouped", peer_laps)
        csv_laps, csv_bytes = timed(run_export_csv, args.repeat)
        csv_ms = report("risk-indicator export, CSV", csv_laps)
        json_laps, _ = timed(run_export_json, args.repeat)
        report("risk-indicator export, JSON", json_laps)
        peer_export_laps, _ = timed(lambda: naive_figures(url, labs, START, END, True), args.repeat)
        naive_export = report("peer: every row into Python, with evidence", peer_export_laps)
        print(
            f"in scope: {figures.overall.n if figures.overall else 0:,} outcomes, "
            f"{len(peer['importer']):,} importers, {len(peer['pair']):,} heading × origin cells; "
            f"CSV export {len(csv_bytes.splitlines()) - 1:,} indicator rows, {len(csv_bytes) / 1e6:.1f} MB"
        )
        print(
            f"ratio peer / dashboard: {naive / dash:.1f}×   peer with evidence / CSV export: "
            f"{naive_export / csv_ms:.1f}×"
        )
        _check_agreement(figures, peer)
        db.dispose()
    finally:
        drop_scratch_db(url)


if __name__ == "__main__":
    main()
