"""Case API latency with 100,000 requests in PostgreSQL.

Seeds a fresh PostgreSQL database (bulk SQL, which bypasses the audit hook on purpose: the seed is
scenery), serves the real application with uvicorn in a separate process, and measures through HTTP:

- listing a laboratory's open queue (a page of 50),
- opening one case (a sample with its request, custody, tests),
- registering a sample (a write: custody event, audit entries, sequence number),

reporting median and p95 latency and registrations per second (sequential and with 2 clients).

    .venv/bin/python benchmarks/case_api.py [--requests 100000] [--samples-per-op 300]

Uses CUSTOMSLAB_TEST_DATABASE_URL or postgresql+psycopg://postgres@127.0.0.1:5432/postgres as the
admin connection; creates and drops its own database.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scratch_db import create_scratch_db, drop_scratch_db  # noqa: E402
from tests.factories import PASSWORD, make_network  # noqa: E402

from customslab.adapters import orm  # noqa: E402
from customslab.adapters.db import upgrade  # noqa: E402
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork  # noqa: E402
from customslab.domain.enums import State  # noqa: E402

#: The happy path, registered to archived: `State` declares its members in workflow order.
HAPPY_PATH = list(State)[: list(State).index(State.ARCHIVED) + 1]
#: A seeded case is at any step of the happy path, an old one more often approved or archived.
STATES = [*HAPPY_PATH, State.APPROVED, State.APPROVED, State.ARCHIVED]


def seed(url: str, n: int, tmp: Path) -> tuple[object, list[int]]:
    db = Database(url)
    net = make_network(lambda: SqlAlchemyUnitOfWork(db, LocalFileStore(tmp)))
    labs = [net.local, net.central, net.rcl, net.other_lab]
    officer = net["officer"].user_id
    rng = random.Random(7)
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    batch = 5000
    with db.engine.begin() as conn:
        for start in range(0, n, batch):
            reqs, samples = [], []
            for i in range(start, min(n, start + batch)):
                created = now - timedelta(days=rng.uniform(0, 720))
                lab = labs[i % len(labs)]
                reqs.append(
                    {
                        "id": i + 1,
                        "reference": f"B-{i:07d}",
                        "office_code": net.office,
                        "administration_code": net.home,
                        "requester_id": officer,
                        "lab_code": lab,
                        "declaration_number": f"D{i}",
                        "item_number": 1,
                        "declared_hs": "220840",
                        "goods_description": "rum",
                        "origin_country": "JM",
                        "reason": "classification",
                        "priority": "urgent" if rng.random() < 0.15 else "routine",
                        "due_date": (created + timedelta(days=14)).date(),
                        "requested_determinations": [],
                        "question": "",
                        "importer": "",
                        "created_at": created,
                    }
                )
                state = (
                    STATES[rng.randrange(len(STATES))]
                    if created < now - timedelta(days=30)
                    else rng.choice(STATES[:5])
                )
                samples.append(
                    {
                        "id": i + 1,
                        "lab_sample_id": f"{lab}-B-{i:07d}",
                        "request_id": i + 1,
                        "lab_code": lab,
                        "description": "rum",
                        "quantity": "700",
                        "unit": "mL",
                        "state": state.value,
                        "registered_at": created,
                        "seal_number": "",
                        "condition_on_receipt": "",
                        "storage_location": "",
                        "disposal_record": "",
                        "rejection_reason": "",
                    }
                )
            conn.execute(insert(orm.analysis_requests), reqs)
            conn.execute(insert(orm.samples), samples)
        conn.execute(
            text("SELECT setval('analysis_requests_id_seq', (SELECT max(id) FROM analysis_requests))")
        )
        conn.execute(text("SELECT setval('samples_id_seq', (SELECT max(id) FROM samples))"))
        conn.execute(text("ANALYZE"))
    print(f"seeded {n:,} requests and samples in {time.perf_counter() - t0:.1f} s")
    open_ids = [
        r[0]
        for r in db.engine.connect().execute(
            text("SELECT id FROM samples WHERE lab_code = :l LIMIT 2000"), {"l": net.local}
        )
    ]
    db.dispose()
    return net, open_ids


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stats(name: str, samples: list[float]) -> None:
    ms = sorted(x * 1000 for x in samples)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    print(f"{name:<34} n={len(ms):>4}  median {statistics.median(ms):7.2f} ms   p95 {p95:7.2f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--samples-per-op", type=int, default=300)
    args = ap.parse_args()
    url = create_scratch_db()
    tmp = Path(f"/tmp/customslab-bench-{uuid.uuid4().hex[:6]}")
    server = None
    try:
        upgrade(url)
        net, sample_ids = seed(url, args.requests, tmp)
        port = _port()
        env = dict(
            os.environ, CUSTOMSLAB_MODE="test", CUSTOMSLAB_DATABASE_URL=url, CUSTOMSLAB_FILE_STORE=str(tmp)
        )
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "customslab.entrypoints.asgi:api_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/api/health").status_code == 200:
                    break
            except httpx.TransportError:
                if server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.1)

        def client(who: str) -> httpx.Client:
            tok = httpx.post(
                f"{base}/api/auth/token", json={"username": net[who].username, "password": PASSWORD}
            )  # type: ignore[index]
            return httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {tok.json()['access_token']}"}
            )

        mgr = client("local_manager")
        officer = client("officer")
        n = args.samples_per_op
        for _ in range(20):  # warm-up
            mgr.get("/api/queue", params={"limit": 50})
        lat = []
        for i in range(n):
            t = time.perf_counter()
            r = mgr.get("/api/queue", params={"limit": 50, "offset": (i % 10) * 50})
            lat.append(time.perf_counter() - t)
            assert r.status_code == 200 and len(r.json()["items"]) == 50
        total = mgr.get("/api/queue", params={"limit": 1}).json()["total"]
        print(f"open queue of the local laboratory: {total:,} samples")
        _stats("queue page of 50 (GET /api/queue)", lat)
        lat = []
        for i in range(n):
            sid = sample_ids[i % len(sample_ids)]
            t = time.perf_counter()
            r = mgr.get(f"/api/samples/{sid}")
            lat.append(time.perf_counter() - t)
            assert r.status_code == 200
        _stats("open one case (GET /api/samples/N)", lat)
        req = officer.post(
            "/api/requests",
            json={
                "lab_code": net.local,
                "declaration_number": "BENCH",
                "declared_hs": "220840",  # type: ignore[attr-defined]
                "goods_description": "rum",
                "origin_country": "JM",
            },
        ).json()
        lat = []
        t_all = time.perf_counter()
        for _ in range(n):
            t = time.perf_counter()
            r = mgr.post(f"/api/requests/{req['id']}/samples", json={"quantity": "1", "unit": "L"})
            lat.append(time.perf_counter() - t)
            assert r.status_code == 201, r.text
        seq_rate = n / (time.perf_counter() - t_all)
        _stats("register a sample (POST)", lat)
        mgr2 = client("local_manager")
        t_all = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            list(
                pool.map(
                    lambda c: [
                        c.post(f"/api/requests/{req['id']}/samples", json={"quantity": "1", "unit": "L"})
                        for _ in range(n // 2)
                    ],
                    [mgr, mgr2],
                )
            )
        par_rate = (n // 2) * 2 / (time.perf_counter() - t_all)
        print(f"registrations per second: {seq_rate:.0f} (1 client), {par_rate:.0f} (2 clients)")
    finally:
        if server:
            server.terminate()
            server.wait(10)
        drop_scratch_db(url)


if __name__ == "__main__":
    main()
