"""Federation between two real deployments on loopback: delivery rate, result latency and catch-up.

    .venv/bin/python benchmarks/federation.py [--messages 500] [--backlog 1000] [--referrals 5]

Two `customslab serve` processes (tests/federation_pair.py): Bhutan's member deployment on SQLite, the
Japanese RCL's on PostgreSQL (127.0.0.1:5432, or CUSTOMSLAB_TEST_DATABASE_URL), each with its in-process
worker. It prints:
1. messages per second delivered member → RCL, both online: `--messages` signed FHIR bundles (published
   knowledge, one stream each) written to the member's outbox in one transaction, timed until the
   member's outbox says all are delivered (each one verified, checked and stored by the RCL);
2. the time from the RCL's approval and report to the member's officer seeing the result on the
   request, for `--referrals` referrals (median and worst);
3. the catch-up time after the RCL was down with `--backlog` messages queued: from the RCL's restart to
   the last one delivered.

There is no peer to run side by side: neither OpenELIS Global nor SENAITE ships a referral between two
of its own instances that a script could drive (see the closing note of issue #13).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.federation_pair import Server, eventually, federation_pair  # noqa: E402
from tests.integration.conftest import create_pg_database, drop_pg_database  # noqa: E402

from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork  # noqa: E402
from customslab.domain.federation import KnowledgeShared, OutboxState, SharedKind  # noqa: E402
from customslab.services.federation_outbox import broadcast  # noqa: E402


def _uow(server: Server) -> SqlAlchemyUnitOfWork:
    return SqlAlchemyUnitOfWork(Database(server.database_url), LocalFileStore(server.root / "files"))


def queue_knowledge(server: Server, n: int, tag: str) -> None:
    """Write `n` published-knowledge messages to every partner of `server`, in one transaction."""
    uow = _uow(server)
    with uow:
        now = datetime.now(UTC)
        for i in range(n):
            body = KnowledgeShared(
                kind=SharedKind.OPINION,
                origin_ref=f"bench/{tag}/{i}",
                version="1",
                author_lab="Bhutan Customs focal point",
                licence="CC-BY-4.0",
                title=f"Benchmark opinion {i}",
                published_at=now,
                content={"determined_code": "2208.40", "reasoning": f"Rum of heading 2208, entry {i}"},
            )
            broadcast(uow, f"knowledge/bench/{tag}/{i}", body)
        uow.commit()
    uow.db.dispose()


def undelivered(server: Server) -> int:
    uow = _uow(server)
    with uow:
        counts = uow.federation.outbox_counts()
    uow.db.dispose()
    if counts.get(OutboxState.FAILED.value):
        raise SystemExit(f"{counts['failed']} messages failed; see the outbox of {server.name}")
    return counts[OutboxState.PENDING.value]


def rate(member: Server, n: int) -> float:
    queue_knowledge(member, n, f"rate-{time.time_ns()}")
    start = time.perf_counter()
    eventually(lambda: undelivered(member) == 0, timeout=600, every=0.05)
    return n / (time.perf_counter() - start)


def catch_up(member: Server, rcl: Server, n: int) -> float:
    rcl.stop()
    queue_knowledge(member, n, f"backlog-{time.time_ns()}")
    time.sleep(3)  # every stream head has failed at least once and waits for its retry
    rcl.start()
    start = time.perf_counter()
    eventually(lambda: undelivered(member) == 0, timeout=900, every=0.05)
    return time.perf_counter() - start


def result_latency(member: Server, rcl: Server, referrals: int) -> list[float]:
    from tests.federation_story import approve_and_report, refer_from_member, result_seen

    waits = []
    for i in range(referrals):
        at_rcl = refer_from_member(member, rcl, f"BENCH-{time.time_ns()}-{i}")
        start = approve_and_report(rcl, at_rcl)
        eventually(lambda at_rcl=at_rcl: result_seen(member, at_rcl), timeout=120, every=0.02)
        waits.append(time.perf_counter() - start)
    return waits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=500)
    ap.add_argument("--backlog", type=int, default=1000)
    ap.add_argument("--referrals", type=int, default=5)
    args = ap.parse_args()
    pg = create_pg_database()
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            federation_pair(Path(tmp), f"sqlite:///{tmp}/member.sqlite3", pg) as (member, rcl),
        ):
            figures: dict[str, Any] = {}
            figures["rate"] = rate(member, args.messages)
            waits = result_latency(member, rcl, args.referrals)
            figures["catch_up"] = catch_up(member, rcl, args.backlog)
        print(
            f"messages delivered member → RCL, both online: {figures['rate']:.0f} per second "
            f"({args.messages} signed bundles)"
        )
        print(
            f"RCL approval and report → member's officer sees the result: median "
            f"{statistics.median(waits):.2f} s, worst {max(waits):.2f} s ({len(waits)} referrals)"
        )
        print(
            f"catch-up after the RCL was down with {args.backlog} messages queued: "
            f"{figures['catch_up']:.1f} s ({args.backlog / figures['catch_up']:.0f} per second)"
        )
    finally:
        drop_pg_database(pg)


if __name__ == "__main__":
    main()
