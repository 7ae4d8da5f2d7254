"""The queue page's SQL, before and after migration 0016, side by side on the same seeded database.

Seeds PostgreSQL as benchmarks/case_api.py does (--requests cases), then for the local laboratory's open
queue (a page of 50, the first ten pages in turn) times, interleaved and in the same process:

- "before": the former query pair, an exact count over the join of samples and requests, and the page
  sorted on the request's due date across that join (LIMIT/OFFSET);
- "after (SQL)": the new statements alone (limited count, page in index order, the rows' requests);
- "after": the use case itself (services.queries.lab_queue), whose SQL reads the page in the order of
  the partial index, counts at most 10,001 rows, and loads the rows' samples and requests;
- "after, keyset": the same, walking `next_after` instead of the offset.

and prints EXPLAIN ANALYZE of the first page's statements of both. Through HTTP, the queue page is timed by
benchmarks/case_api.py.

    .venv/bin/python benchmarks/queue_plans.py [--requests 100000] [--pages 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from case_api import seed  # noqa: E402
from scratch_db import create_scratch_db, drop_scratch_db  # noqa: E402

from customslab.adapters.db import upgrade  # noqa: E402
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork  # noqa: E402
from customslab.services import queries  # noqa: E402
from customslab.services.ports import QueueFilter  # noqa: E402

OPEN = "('in_analysis', 'received', 'registered', 'retest', 'to_be_reviewed')"
#: The former statements (adapters/repository.py before 0016), for the staff of the laboratory itself.
BEFORE_COUNT = f"""SELECT count(*) FROM samples JOIN analysis_requests r ON r.id = samples.request_id
 WHERE samples.lab_code = :lab AND samples.state IN {OPEN}"""
BEFORE_PAGE = f"""SELECT samples.id, r.id FROM samples JOIN analysis_requests r ON r.id = samples.request_id
 WHERE samples.lab_code = :lab AND samples.state IN {OPEN}
 ORDER BY r.due_date, CASE WHEN r.priority = 'urgent' THEN 0 ELSE 1 END, samples.id
 LIMIT 50 OFFSET :offset"""
AFTER_COUNT = f"""SELECT count(*) FROM (SELECT samples.id FROM samples
 WHERE samples.lab_code = :lab AND samples.state IN {OPEN} LIMIT 10001) c"""
AFTER_PAGE = f"""SELECT samples.* FROM samples WHERE samples.lab_code = :lab AND samples.state IN {OPEN}
 ORDER BY samples.queue_due_date, samples.queue_urgency, samples.id LIMIT 51 OFFSET :offset"""


def _ms(samples: list[float]) -> str:
    ms = sorted(x * 1000 for x in samples)
    return f"median {statistics.median(ms):7.2f} ms   p95 {ms[int(0.95 * (len(ms) - 1))]:7.2f} ms"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--pages", type=int, default=200, help="pages timed in each way")
    args = ap.parse_args()
    url = create_scratch_db()
    tmp = Path(f"/tmp/customslab-bench-{uuid.uuid4().hex[:6]}")
    try:
        upgrade(url)
        net: Any
        net, _ = seed(url, args.requests, tmp)
        db = Database(url)
        lab, actor = net.local, net["local_manager"]

        def uow() -> SqlAlchemyUnitOfWork:
            return SqlAlchemyUnitOfWork(db, LocalFileStore(tmp))

        before: list[float] = []
        after_sql: list[float] = []
        after: list[float] = []
        keyset: list[float] = []
        cursor: str | None = None
        for i in range(20 + args.pages):  # the first 20 of each: warm-up
            offset = (i % 10) * 50
            t = time.perf_counter()
            with db.engine.connect() as conn:
                conn.execute(text(BEFORE_COUNT), {"lab": lab}).scalar_one()
                conn.execute(text(BEFORE_PAGE), {"lab": lab, "offset": offset}).all()
            before.append(time.perf_counter() - t)
            t = time.perf_counter()
            with db.engine.connect() as conn:
                conn.execute(text(AFTER_COUNT), {"lab": lab}).scalar_one()
                rows = conn.execute(text(AFTER_PAGE), {"lab": lab, "offset": offset}).all()
                conn.execute(
                    text("SELECT * FROM analysis_requests WHERE id = ANY(:ids)"),
                    {"ids": [r.request_id for r in rows]},
                ).all()
            after_sql.append(time.perf_counter() - t)
            t = time.perf_counter()
            page = queries.lab_queue(uow(), actor, QueueFilter(limit=50, offset=offset))
            after.append(time.perf_counter() - t)
            assert len(page.items) == 50
            t = time.perf_counter()
            walked = queries.lab_queue(uow(), actor, QueueFilter(limit=50), after=cursor if i % 10 else None)
            keyset.append(time.perf_counter() - t)
            cursor = walked.next_after
        with db.engine.connect() as conn:
            open_n = conn.execute(text(BEFORE_COUNT), {"lab": lab}).scalar_one()
        print(f"{args.requests:,} cases; the local laboratory's open queue: {open_n:,} samples")
        print(f"before: count + sorted join (SQL only)            {_ms(before[20:])}")
        print(f"after:  limited count + index page + requests (SQL) {_ms(after_sql[20:])}")
        print(f"after:  lab_queue, offset pages (whole use case)  {_ms(after[20:])}")
        print(f"after:  lab_queue, keyset pages (whole use case)  {_ms(keyset[20:])}")
        ratio = statistics.median(before[20:]) / statistics.median(after_sql[20:])
        print(f"SQL median, before / after: {ratio:.1f}x")
        with db.engine.connect() as conn:
            for name, sql in (
                ("before: count", BEFORE_COUNT),
                ("before: page at offset 450", BEFORE_PAGE),
                ("after: count, at most 10,001", AFTER_COUNT),
                ("after: page at offset 450", AFTER_PAGE),
            ):
                plan = conn.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql), {"lab": lab, "offset": 450})
                print(f"\n-- {name}\n" + "\n".join(r[0] for r in plan))
        db.dispose()
    finally:
        drop_scratch_db(url)


if __name__ == "__main__":
    main()
