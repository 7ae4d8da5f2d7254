"""Knowledge search latency over 10,000 documents of 20 pages, against two database full-text engines.

The corpus (`knowledge_corpus.py`) is generated once, deterministically: ~3,000 characters a page of
English-like words, Korean words with particles and HS codes; `--queries` documents are planted with two
mid-frequency words (and for one query in three an HS subheading) whose plain forms are their query, so
the planted document should rank first.

Measured on the same data in the same run, query by query in turn (each system once per query, in a
rotating order, so that load from other processes falls on all alike), `--rounds` times:

- ours, search service: `services.knowledge_search.search_knowledge`, what a user waits for (ranking,
  then the hits' records, their current versions' texts and the snippets);
- ours, ranking only: the service's steps up to the ranked ids (visibility, idf from the visible
  documents' frequencies, BM25 in SQL in `adapters.knowledge_index`), without the hits;
- SQLite FTS5 with the trigram tokenizer, ranked by bm25() (terms OR-ed; FTS5 cannot match a term of
  fewer than three characters, so a two-syllable Korean word is lost to it);
- PostgreSQL full-text search: to_tsvector('simple') stored, GIN index, ranked by ts_rank_cd (terms
  OR-ed as prefixes, 'pelato:* | 도사마:*', so a Korean word still finds its particle forms).

The seed bypasses the audit hook and the upload path on purpose (the corpus is scenery) but writes the
rows those paths write: documents, versions with their text (the service reads it for snippets), the
index's statistics and postings with the terms `knowledge_indexing.document_terms` gives (asserted on a
few documents). Bulk writes: COPY on PostgreSQL, executemany in large transactions (journal off) on
SQLite, the postings' secondary indexes and constraints dropped for the load and re-created from the
database's own definitions afterwards, then ANALYZE (and on PostgreSQL VACUUM, as autovacuum would).

    .venv/bin/python benchmarks/knowledge_search.py --backend postgresql     # 10,000 docs × 20 pages
    .venv/bin/python benchmarks/knowledge_search.py --docs 500 --backend sqlite   # a quick look

PostgreSQL: CUSTOMSLAB_BENCH_DATABASE_URL, else CUSTOMSLAB_TEST_DATABASE_URL, else the local server on
127.0.0.1:5432, as the admin connection; a scratch database is created and dropped.
"""

from __future__ import annotations

import argparse
import os
import queue
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from knowledge_corpus import (  # noqa: E402
    CHARS_PER_PAGE,
    Corpus,
    Postings,
    document,
    libpq,
    load_postings,
    record,
    version_row,
    write_versions,
)
from tests.factories import make_network  # noqa: E402

from customslab.adapters.db import upgrade  # noqa: E402
from customslab.adapters.knowledge_index import knowledge_doc_stats  # noqa: E402
from customslab.adapters.quality_tables import TABLE_OF  # noqa: E402
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork  # noqa: E402
from customslab.domain.access import Actor  # noqa: E402
from customslab.knowledge.text import query_terms  # noqa: E402
from customslab.services.knowledge_indexing import document_terms, filters_of  # noqa: E402
from customslab.services.knowledge_ports import KnowledgeDocument, SearchFilters  # noqa: E402
from customslab.services.knowledge_search import (  # noqa: E402
    KnowledgeQuery,
    bm25_weights,
    search_knowledge,
    visible_levels,
)

ADMIN = os.environ.get("CUSTOMSLAB_BENCH_DATABASE_URL") or os.environ.get(
    "CUSTOMSLAB_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BATCH_DOCS = 100
TOP = 10
DOCS = TABLE_OF[KnowledgeDocument]

Searcher = Callable[[str], list[int]]


# -- seeding --------------------------------------------------------------------------------------------


@dataclass
class Peer:
    """A database full-text engine fed the same texts (title and body, as our index has them)."""

    name: str
    add: Callable[[list[tuple[int, str]]], None]
    finish: Callable[[], None]
    search: Searcher
    close: Callable[[], None]
    writers: int = 1  # threads that may call add at once
    seconds: float = 0.0


def seed(db: Database, corpus: Corpus, postings: list[Postings], owner: str, peer: Peer) -> dict[str, float]:
    """Documents, versions (and the peer's texts), statistics and postings; seconds per phase."""
    took: dict[str, float] = {}
    t0 = time.perf_counter()
    docs = [document(corpus, i, owner) for i in range(corpus.docs)]
    with db.engine.begin() as conn:
        conn.execute(insert(DOCS), [record(d) for d in docs])
        stats = [
            {"document_id": d.id, "length": p.length} | vars(filters_of(d))
            for d, p in zip(docs, postings, strict=True)
        ]
        conn.execute(insert(knowledge_doc_stats), stats)
    took["documents and statistics"] = time.perf_counter() - t0
    postgres = db.engine.dialect.name == "postgresql"
    # The peer digests the texts in threads of its own (its database's work is in other processes) while
    # ours are written: on two shared cores, the whole seed would otherwise take too long.
    feed: queue.Queue[list[tuple[int, str]] | None] = queue.Queue(maxsize=4)

    def consume() -> None:
        while (rows := feed.get()) is not None:
            peer.add(rows)

    def put(item: list[tuple[int, str]] | None) -> None:
        """Queue for the peer; a failed peer raises here rather than leaving the seed waiting."""
        while True:
            try:
                return feed.put(item, timeout=1.0)
            except queue.Full:
                if all(c.done() for c in consumers):
                    for c in consumers:
                        c.result()  # raises the peer's error
                    return

    started = time.perf_counter()
    with ThreadPoolExecutor(peer.writers) as pool:
        consumers = [pool.submit(consume) for _ in range(peer.writers)]
        try:
            t0 = time.perf_counter()
            for start in range(0, corpus.docs, BATCH_DOCS):
                texts = [(i + 1, corpus.text(i)) for i in range(start, min(start + BATCH_DOCS, corpus.docs))]
                put([(i, f"{corpus.title(i - 1)}\n{body}") for i, body in texts])
                write_versions(db, [version_row(i, corpus, body) for i, body in texts])
            took["versions (document texts)"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            load_postings(db, corpus, postings)
            took["postings"] = time.perf_counter() - t0
        finally:
            for _ in consumers:
                put(None)
        for c in consumers:
            c.result()
    t0 = time.perf_counter()
    tables = ("knowledge_documents", "knowledge_versions", "knowledge_doc_stats", "knowledge_postings")
    if postgres:
        # VACUUM as well: it sets the visibility map that index-only scans (the df count) rely on, as
        # autovacuum would after a bulk insert, and autovacuum then does not start in mid-measurement.
        with psycopg.connect(libpq(db.url), autocommit=True) as conn:
            for table in ("knowledge_documents", "knowledge_versions"):
                conn.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
            for table in tables:
                conn.execute(f"VACUUM (ANALYZE) {table}")
    else:
        with db.engine.begin() as conn:
            for table in tables:
                conn.execute(text(f"ANALYZE {table}"))
    took["vacuum and analyze" if postgres else "analyze"] = time.perf_counter() - t0
    peer.finish()
    peer.seconds = time.perf_counter() - started
    return took


# -- the peers ------------------------------------------------------------------------------------------


def fts5_peer(path: Path) -> Peer:
    """SQLite FTS5, trigram tokenizer, in a file of its own beside ours."""
    conn = sqlite3.connect(path, check_same_thread=False)  # fed by the seed's peer thread
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("CREATE VIRTUAL TABLE docs USING fts5(body, tokenize='trigram')")

    def add(rows: list[tuple[int, str]]) -> None:
        with conn:
            conn.executemany("INSERT INTO docs(rowid, body) VALUES (?, ?)", rows)

    def finish() -> None:
        conn.execute("INSERT INTO docs(docs) VALUES ('optimize')")
        conn.commit()

    def search(query: str) -> list[int]:
        match = " OR ".join(f'"{word}"' for word in query.split())
        rows = conn.execute("SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT ?", (match, TOP))
        return [int(r[0]) for r in rows]

    return Peer("SQLite FTS5 trigram", add, finish, search, conn.close)


def postgres_peer(url: str) -> Peer:
    """PostgreSQL full-text search: to_tsvector('simple') stored, GIN index, ts_rank_cd, in our database."""
    conn = psycopg.connect(libpq(url), autocommit=True)
    conn.execute(
        "CREATE TABLE peer_fts (id integer PRIMARY KEY, body text, "
        "tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED)"
    )

    def add(rows: list[tuple[int, str]]) -> None:
        with (
            psycopg.connect(libpq(url)) as writer,
            writer.cursor() as cur,
            cur.copy("COPY peer_fts (id, body) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def finish() -> None:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("CREATE INDEX peer_fts_tsv ON peer_fts USING gin (tsv)")
        conn.execute("VACUUM (ANALYZE) peer_fts")

    def search(query: str) -> list[int]:
        tsquery = " | ".join(f"{word}:*" for word in query.lower().split())
        rows = conn.execute(
            "SELECT id FROM peer_fts, to_tsquery('simple', %s) q WHERE tsv @@ q "
            "ORDER BY ts_rank_cd(tsv, q) DESC, id LIMIT %s",
            (tsquery, TOP),
        )
        return [int(r[0]) for r in rows]

    return Peer("PostgreSQL tsvector+GIN", add, finish, search, conn.close, writers=2)


# -- ours -----------------------------------------------------------------------------------------------


def our_searchers(db: Database, files: LocalFileStore, actor: Actor) -> dict[str, Searcher]:
    """The service's search (what a user waits for), and the same steps up to the ranked ids alone."""

    def service(query: str) -> list[int]:
        found = search_knowledge(SqlAlchemyUnitOfWork(db, files), actor, KnowledgeQuery(q=query, limit=TOP))
        return [hit.id for hit in found.hits]

    def ranking(query: str) -> list[int]:
        with SqlAlchemyUnitOfWork(db, files) as uow:
            visible = visible_levels(actor, uow.repo.directory())
            weights = bm25_weights(uow, query_terms(query), visible)
            return [d for d, _ in uow.knowledge.search(weights, visible, SearchFilters(), TOP).hits]

    return {"search service": service, "ranking only": ranking}


# -- measuring ------------------------------------------------------------------------------------------


@dataclass
class Figures:
    name: str
    latencies: list[float] = field(default_factory=list)
    first: int = 0
    asked: int = 0

    def p(self, q: float) -> float:
        ms = sorted(x * 1000 for x in self.latencies)
        return ms[min(len(ms) - 1, round(q * (len(ms) - 1)))]

    def line(self) -> str:
        return (
            f"{self.name:<52} p50 {self.p(0.5):8.1f} ms   p95 {self.p(0.95):8.1f} ms   "
            f"known document first {self.first}/{self.asked}"
        )


def measure(systems: dict[str, Searcher], corpus: Corpus, rounds: int) -> list[Figures]:
    """Every planted query, each system once in turn (the order rotating from query to query), `rounds`
    times after a warm-up pass over five queries; the top hit checked in the first round."""
    queries = [(doc + 1, plant.query) for doc, plant in corpus.plants.items()]
    names = list(systems)
    figures = {name: Figures(name, asked=len(queries)) for name in names}
    for _, query in queries[:5]:
        for search in systems.values():
            search(query)
    for r in range(rounds):
        for n, (expected, query) in enumerate(queries):
            for k in range(len(names)):
                name = names[(n + k) % len(names)]
                t0 = time.perf_counter()
                hits = systems[name](query)
                figures[name].latencies.append(time.perf_counter() - t0)
                if r == 0 and hits[:1] == [expected]:
                    figures[name].first += 1
    return list(figures.values())


def statements(db: Database, search: Searcher, corpus: Corpus) -> None:
    """The SQL one service search runs, by statement, over the planted queries (one pass)."""
    spent: dict[str, list[float]] = defaultdict(list)
    started: list[float] = []

    def before(*_: Any) -> None:
        started.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        spent[" ".join(statement.split())[:70]].append(time.perf_counter() - started.pop())

    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "after_cursor_execute", after)
    t0 = time.perf_counter()
    queries = [plant.query for plant in corpus.plants.values()]
    for query in queries:
        search(query)
    wall = time.perf_counter() - t0
    event.remove(db.engine, "before_cursor_execute", before)
    event.remove(db.engine, "after_cursor_execute", after)
    n = len(queries)
    total = sum(len(v) for v in spent.values())
    print(f"  search service: {total / n:.1f} SQL statements a search, {wall / n * 1000:.1f} ms a search:")
    for sql, times in sorted(spent.items(), key=lambda kv: -sum(kv[1]))[:6]:
        print(f"    {len(times) / n:5.1f}×  {sum(times) / n * 1000:7.1f} ms a search  {sql}")


def run(
    label: str, url: str, corpus: Corpus, postings: list[Postings], peer: Peer, work: Path, rounds: int
) -> list[Figures]:
    db = Database(url)
    files = LocalFileStore(work / "files")
    try:
        net = make_network(lambda: SqlAlchemyUnitOfWork(db, files))
        t0 = time.perf_counter()
        took = seed(db, corpus, postings, net.central, peer)
        wall = time.perf_counter() - t0
        with db.engine.connect() as conn:
            n_postings = conn.execute(text("SELECT count(*) FROM knowledge_postings")).scalar_one()
        phases = ", ".join(f"{k} {v:.0f} s" for k, v in took.items())
        print(
            f"[{label}] seeded {corpus.docs:,} documents × {corpus.pages} pages in {wall:.0f} s "
            f"({n_postings:,} postings; ours: {phases}; {peer.name} {peer.seconds:.0f} s)"
        )
        searchers = our_searchers(db, files, net["analyst"])
        statements(db, searchers["search service"], corpus)
        systems = {f"ours on {label}, {name}": s for name, s in searchers.items()} | {peer.name: peer.search}
        return measure(systems, corpus, rounds)
    finally:
        peer.close()
        db.dispose()


def run_sqlite(corpus: Corpus, postings: list[Postings], work: Path, rounds: int) -> list[Figures]:
    url = f"sqlite:///{work / 'ours.sqlite3'}"
    upgrade(url)
    try:
        return run("SQLite", url, corpus, postings, fts5_peer(work / "fts5.sqlite3"), work, rounds)
    finally:
        for name in ("ours.sqlite3", "fts5.sqlite3"):
            for suffix in ("", "-wal", "-shm", "-journal"):
                (work / (name + suffix)).unlink(missing_ok=True)


def run_postgresql(corpus: Corpus, postings: list[Postings], work: Path, rounds: int) -> list[Figures]:
    admin = make_url(ADMIN)
    name = f"customslab_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        return run("PostgreSQL", url, corpus, postings, postgres_peer(url), work, rounds)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def report(figures: list[Figures]) -> None:
    for f in figures:
        print(f.line())
    ours = [f for f in figures if f.name.startswith("ours")]
    peers = [f for f in figures if not f.name.startswith("ours")]
    for mine in ours:
        for peer in peers:
            if mine.name.split(",")[0].endswith(peer.name.split()[0]):  # the same database
                print(
                    f"{mine.name} / {peer.name}: p50 ×{mine.p(0.5) / peer.p(0.5):.2f}, "
                    f"p95 ×{mine.p(0.95) / peer.p(0.95):.2f}"
                )


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--pages", type=int, default=20)
    ap.add_argument("--queries", type=int, default=100, help="planted documents, one query each")
    ap.add_argument("--rounds", type=int, default=3, help="times each query is run")
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = ap.parse_args()
    print(f"start: {uptime()}")
    t0 = time.perf_counter()
    corpus = Corpus(args.docs, args.pages, args.queries)
    postings = [corpus.postings(i) for i in range(corpus.docs)]
    owner = "CHECK"
    corpus.check(
        [0, 1, *sorted(corpus.plants)[:3]],
        lambda i, body: document_terms(document(corpus, i, owner), body),
    )
    print(
        f"corpus: {args.docs:,} documents of {args.pages} pages "
        f"(~{args.pages * CHARS_PER_PAGE:,} characters), "
        f"{sum(p.length for p in postings):,} term occurrences, {len(corpus.terms):,} distinct terms, "
        f"{len(corpus.plants)} planted queries × {args.rounds} rounds, top {TOP}; "
        f"generated in {time.perf_counter() - t0:.0f} s (summed token analyses checked on 5 documents)"
    )
    figures: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="customslab-knowledge-bench-") as tmp:
        work = Path(tmp)
        if args.backend in ("postgresql", "both"):
            figures += run_postgresql(corpus, postings, work, args.rounds)
        if args.backend in ("sqlite", "both"):
            figures += run_sqlite(corpus, postings, work, args.rounds)
    report(figures)
    print(f"end: {uptime()}")


if __name__ == "__main__":
    main()
