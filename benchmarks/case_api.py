"""Case API latency with 100,000 requests in PostgreSQL.

Seeds a fresh PostgreSQL database (bulk SQL, which bypasses the audit hook on purpose: the seed is
scenery), serves the whole application with `customslab serve --workers N` for each N of `--workers`
(or, with `--server uvicorn`, uvicorn's own `--workers N`, to compare), and measures through HTTP:

- `GET /api/health` on a kept-alive connection (the server's own overhead),
- listing a laboratory's open queue (a page of 50),
- opening one case (a sample with its request, custody, tests),
- registering a sample (a write: custody event, audit entries, sequence number): on one request, then
  on a request of 1 sample against one of `--big-request` samples, interleaved,
- concurrency: 1, 2 and 4 clients (`--clients`), each on its own connection and its own fresh request,
  against each number of server processes, as a table of median and p95 latency and registrations/s.

The read phases and the request-size phase run against the first number of processes only.

    .venv/bin/python benchmarks/case_api.py [--requests 100000] [--samples-per-op 300] \
        [--workers 1,2] [--clients 1,2,4] [--per-client 100] [--big-request 200]

Uses CUSTOMSLAB_TEST_DATABASE_URL or postgresql+psycopg://postgres@127.0.0.1:5432/postgres as the
admin connection; creates and drops its own database.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scratch_db import create_scratch_db, drop_scratch_db  # noqa: E402
from tests.factories import PASSWORD, make_network  # noqa: E402

from customslab.adapters.db import upgrade  # noqa: E402
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork  # noqa: E402
from customslab.domain.enums import State  # noqa: E402

#: The happy path, registered to archived: `State` declares its members in workflow order.
HAPPY_PATH = list(State)[: list(State).index(State.ARCHIVED) + 1]
#: A seeded case is at any step of the happy path, an old one more often approved or archived.
STATES = [*HAPPY_PATH, State.APPROVED, State.APPROVED, State.ARCHIVED]


def seed(url: str, n: int, tmp: Path) -> tuple[object, list[int]]:
    """`n` requests of one sample each, spread over the four laboratories, two years and the workflow
    (an old case more often approved or archived), inserted by PostgreSQL itself in one INSERT ... SELECT
    over generate_series per table, so that 1,000,000 take a minute rather than an hour. The rows go
    through the tables' triggers like any insert (migration 0016 copies each request's due date and
    urgency onto its sample)."""
    db = Database(url)
    net = make_network(lambda: SqlAlchemyUnitOfWork(db, LocalFileStore(tmp)))
    labs = [net.local, net.central, net.rcl, net.other_lab]
    t0 = time.perf_counter()
    params = {
        "n": n,
        "labs": labs,
        "office": net.office,
        "home": net.home,
        "officer": net["officer"].user_id,
        "states": [s.value for s in STATES],
        "fresh": len(STATES[:5]),
    }
    with db.engine.begin() as conn:
        start = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM analysis_requests")).scalar_one())
        sample_start = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM samples")).scalar_one())
        conn.execute(text("SELECT setseed(0.7)"))
        # One row per case: its laboratory (in turn), when it was filed (up to 720 days ago), its priority
        # (15 % urgent) and its state (any step of STATES; one of the first five within 30 days).
        conn.execute(
            text(
                """CREATE TEMP TABLE seed_cases ON COMMIT DROP AS
                SELECT i, labs[1 + i % cardinality(labs)] AS lab, created, random() < 0.15 AS urgent,
                       states[1 + floor(random() * CASE WHEN created < now_utc - interval '30 days'
                                                        THEN cardinality(states) ELSE :fresh END)::int]
                           AS state
                  FROM (SELECT i, now_utc - random() * interval '720 days' AS created, now_utc
                          FROM generate_series(0, :n - 1) i,
                               LATERAL (SELECT now() AT TIME ZONE 'utc' AS now_utc) t) c,
                       LATERAL (SELECT CAST(:labs AS text[]) AS labs, CAST(:states AS text[]) AS states) a"""
            ),
            params,
        )
        conn.execute(
            text(
                """INSERT INTO analysis_requests (id, reference, office_code, administration_code,
                       requester_id, lab_code, declaration_number, item_number, declared_hs,
                       goods_description, origin_country, importer, reason, priority, due_date,
                       requested_determinations, question, created_at)
                SELECT :start + i + 1, 'B-' || lpad(i::text, 7, '0'), :office, :home, :officer, lab,
                       'D' || i, 1, '220840', 'rum', 'JM', '', 'classification',
                       CASE WHEN urgent THEN 'urgent' ELSE 'routine' END,
                       (created + interval '14 days')::date, '[]', '', created
                  FROM seed_cases"""
            ),
            {**params, "start": start},
        )
        conn.execute(
            text(
                """INSERT INTO samples (id, lab_sample_id, request_id, lab_code, description, quantity,
                       unit, state, registered_at, seal_number, condition_on_receipt, storage_location,
                       disposal_record, rejection_reason, control_mark, control_marked_by)
                SELECT :sample_start + i + 1, lab || '-B-' || lpad(i::text, 7, '0'), :start + i + 1, lab,
                       'rum', '700', 'mL', state, created, '', '', '', '', '', '', ''
                  FROM seed_cases"""
            ),
            {**params, "start": start, "sample_start": sample_start},
        )
        conn.execute(
            text("SELECT setval('analysis_requests_id_seq', (SELECT max(id) FROM analysis_requests))")
        )
        conn.execute(text("SELECT setval('samples_id_seq', (SELECT max(id) FROM samples))"))
    # As autovacuum leaves a table of that age: statistics, and the visibility map index-only scans use.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE analysis_requests"))
        conn.execute(text("VACUUM ANALYZE samples"))
    print(f"seeded {n:,} requests and samples in {time.perf_counter() - t0:.1f} s")
    with db.engine.connect() as conn:
        open_ids = [
            r[0]
            for r in conn.execute(
                text("SELECT id FROM samples WHERE lab_code = :l LIMIT 2000"), {"l": net.local}
            )
        ]
    db.dispose()
    return net, open_ids


def measure_queue(mgr: httpx.Client, n: int) -> None:
    """The local laboratory's open queue, a page of 50: the first ten pages by offset (the web page's
    pager), then walked by keyset (`after`) ten pages at a time from the first; both in the default order
    (due date), and `n` pages of each."""
    for _ in range(20):  # warm-up
        mgr.get("/api/queue", params={"limit": 50})
    lat = []
    for i in range(n):
        t = time.perf_counter()
        r = mgr.get("/api/queue", params={"limit": 50, "offset": (i % 10) * 50})
        lat.append(time.perf_counter() - t)
        assert r.status_code == 200 and len(r.json()["items"]) == 50
    first = mgr.get("/api/queue", params={"limit": 1}).json()
    counted = f"{first['total']:,}" if first.get("total_exact", True) else f"more than {first['total']:,}"
    print(f"open queue of the local laboratory: {counted} samples")
    _stats("queue page of 50 (GET /api/queue)", lat)
    lat, after = [], None
    for i in range(n):
        params: dict[str, object] = {"limit": 50} if i % 10 == 0 else {"limit": 50, "after": after}
        t = time.perf_counter()
        r = mgr.get("/api/queue", params=params)
        lat.append(time.perf_counter() - t)
        assert r.status_code == 200 and len(r.json()["items"]) == 50
        after = r.json()["next_after"]
    _stats("queue page of 50 by keyset (after=)", lat)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stats(name: str, samples: list[float]) -> None:
    ms = sorted(x * 1000 for x in samples)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    print(f"{name:<34} n={len(ms):>4}  median {statistics.median(ms):7.2f} ms   p95 {p95:7.2f} ms")


def _start_server(
    url: str, tmp: Path, port: int, workers: int, kind: str, log: Path
) -> subprocess.Popen[bytes]:
    """The whole application (pages and API) on `port` with `workers` processes: `customslab serve
    --workers N`, or (kind "uvicorn") uvicorn's own `--workers N` on the same factory, to compare."""
    env = dict(
        os.environ, CUSTOMSLAB_MODE="test", CUSTOMSLAB_DATABASE_URL=url, CUSTOMSLAB_FILE_STORE=str(tmp)
    )
    if kind == "serve":
        cmd = [sys.executable, "-c", "from customslab.entrypoints.cli import main; main()", "serve"]
        cmd += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    else:
        cmd = [sys.executable, "-m", "uvicorn", "--factory", "customslab.entrypoints.asgi:app"]
        cmd += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--log-level", "info"]
    with log.open("wb") as out:
        server = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    for _ in range(600):  # until every process has started (each logs its start-up)
        if log.read_text().count("Application startup complete") >= workers:
            return server
        if server.poll() is not None:
            raise SystemExit(f"the server did not start:\n{log.read_text()}")
        time.sleep(0.1)
    raise SystemExit(f"the server did not start in a minute:\n{log.read_text()}")


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(30)


def _signed_in(base: str, username: str) -> httpx.Client:
    tok = httpx.post(f"{base}/api/auth/token", json={"username": username, "password": PASSWORD})
    assert tok.status_code == 200, tok.text
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {tok.json()['access_token']}"})


def _new_request(officer: httpx.Client, lab: str) -> int:
    r = officer.post(
        "/api/requests",
        json={
            "lab_code": lab,
            "declaration_number": f"BENCH-{uuid.uuid4().hex[:8]}",
            "declared_hs": "220840",
            "goods_description": "rum",
            "origin_country": "JM",
        },
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _register(client: httpx.Client, request_id: int) -> float:
    """Register one sample on the request; its latency in seconds."""
    t = time.perf_counter()
    r = client.post(f"/api/requests/{request_id}/samples", json={"quantity": "1", "unit": "L"})
    took = time.perf_counter() - t
    assert r.status_code == 201, r.text
    return took


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ms = sorted(x * 1000 for x in samples)
    return statistics.median(ms), ms[int(0.95 * (len(ms) - 1))]


def measure_request_size(mgr: httpx.Client, officer: httpx.Client, lab: str, k: int, big: int) -> None:
    """A registration on a request holding 1 sample against one holding `big` (and growing by k): k of
    each, interleaved, so that both see the same server and database state."""
    large = _new_request(officer, lab)
    for _ in range(big):
        _register(mgr, large)
    small_lat, large_lat = [], []
    for _ in range(k):
        small = _new_request(officer, lab)
        _register(mgr, small)  # the request's first sample; the one timed is its second
        small_lat.append(_register(mgr, small))
        large_lat.append(_register(mgr, large))
    _stats("register on a request of 1 sample", small_lat)
    _stats(f"register on a request of {big}+ samples", large_lat)
    ratio = _percentiles(large_lat)[0] / _percentiles(small_lat)[0]
    print(
        f"  {big}-sample request / 1-sample request: median {ratio:.2f}x, registrations/s "
        f"{len(small_lat) / sum(small_lat):.0f} vs {len(large_lat) / sum(large_lat):.0f}"
    )


def measure_clients(
    base: str, username: str, officer: httpx.Client, lab: str, clients: int, each: int
) -> tuple[list[float], float]:
    """`clients` threads, each with its own connection and its own fresh request, registering `each`
    samples at once: every latency, and registrations per second over the whole run."""
    sessions = [_signed_in(base, username) for _ in range(clients)]
    requests = [_new_request(officer, lab) for _ in range(clients)]
    for session, request_id in zip(sessions, requests, strict=True):
        _register(session, request_id)  # warms the connection; the request holds 1 sample
    start = threading.Barrier(clients)

    def run(i: int) -> tuple[float, float, list[float]]:
        start.wait()
        t0 = time.perf_counter()
        lat = [_register(sessions[i], requests[i]) for _ in range(each)]
        return t0, time.perf_counter(), lat

    with ThreadPoolExecutor(clients) as pool:
        runs = list(pool.map(run, range(clients)))
    for session in sessions:
        session.close()
    wall = max(r[1] for r in runs) - min(r[0] for r in runs)
    return [x for r in runs for x in r[2]], clients * each / wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=100_000, help="cases seeded")
    ap.add_argument("--samples-per-op", type=int, default=300, help="measurements of each read phase")
    ap.add_argument("--workers", default="1,2", help="server processes to compare (comma-separated)")
    ap.add_argument("--clients", default="1,2,4", help="concurrent clients to compare (comma-separated)")
    ap.add_argument("--per-client", type=int, default=100, help="registrations of each client")
    ap.add_argument("--big-request", type=int, default=200, help="samples on the large request")
    ap.add_argument("--size-samples", type=int, default=50, help="registrations timed on each request")
    ap.add_argument(
        "--server",
        choices=["serve", "uvicorn"],
        default="serve",
        help="`customslab serve --workers N` (default) or uvicorn's own --workers, to compare",
    )
    args = ap.parse_args()
    process_counts = [int(x) for x in args.workers.split(",")]
    client_counts = [int(x) for x in args.clients.split(",")]
    url = create_scratch_db()
    tmp = Path(f"/tmp/customslab-bench-{uuid.uuid4().hex[:6]}")
    tmp.mkdir(parents=True)
    server = None
    try:
        upgrade(url)
        net, sample_ids = seed(url, args.requests, tmp)
        manager = net["local_manager"].username  # type: ignore[index]
        lab = net.local  # type: ignore[attr-defined]
        n = args.samples_per_op
        grid: dict[tuple[int, int], tuple[list[float], float]] = {}
        health: dict[int, list[float]] = {}
        for workers in process_counts:
            port = _port()
            server = _start_server(url, tmp, port, workers, args.server, tmp / f"server-{workers}.log")
            base = f"http://127.0.0.1:{port}"
            print(f"\n--- {workers} server process(es) ({args.server}) ---")
            mgr = _signed_in(base, manager)
            officer = _signed_in(base, net["officer"].username)  # type: ignore[index]
            lat = []
            for _ in range(20 + n):  # the first 20: warm-up
                t = time.perf_counter()
                assert mgr.get("/api/health").status_code == 200
                lat.append(time.perf_counter() - t)
            health[workers] = lat[20:]
            _stats("GET /api/health (keep-alive)", health[workers])
            if workers == process_counts[0]:
                measure_queue(mgr, n)
                lat = []
                for i in range(n):
                    sid = sample_ids[i % len(sample_ids)]
                    t = time.perf_counter()
                    r = mgr.get(f"/api/samples/{sid}")
                    lat.append(time.perf_counter() - t)
                    assert r.status_code == 200
                _stats("open one case (GET /api/samples/N)", lat)
                one = _new_request(officer, lab)
                lat = [_register(mgr, one) for _ in range(n)]
                _stats(f"register a sample (POST), {n} on one request", lat)
                measure_request_size(mgr, officer, lab, args.size_samples, args.big_request)
            for clients in client_counts:
                grid[workers, clients] = measure_clients(
                    base, manager, officer, lab, clients, args.per_client
                )
                lat, rate = grid[workers, clients]
                median, p95 = _percentiles(lat)
                print(f"{clients} client(s): median {median:.2f} ms, p95 {p95:.2f} ms, {rate:.1f}/s")
            mgr.close()
            officer.close()
            _stop(server)
            server = None
        first = grid[process_counts[0], client_counts[0]][1]
        print(
            f"\nRegistrations, each client on its own fresh request ({args.per_client} each), "
            f"server: {args.server}"
        )
        print(
            "| processes | clients | median ms | p95 ms | registrations/s | vs first row | health median ms |"
        )
        print("|---|---|---|---|---|---|---|")
        for (workers, clients), (lat, rate) in grid.items():
            median, p95 = _percentiles(lat)
            print(
                f"| {workers} | {clients} | {median:.1f} | {p95:.1f} | {rate:.1f} | {rate / first:.2f}x "
                f"| {_percentiles(health[workers])[0]:.2f} |"
            )
    finally:
        if server:
            _stop(server)
        drop_scratch_db(url)


if __name__ == "__main__":
    main()
