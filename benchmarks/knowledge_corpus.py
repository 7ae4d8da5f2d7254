"""The generated corpus of the knowledge-search benchmark (`knowledge_search.py`), its index terms, and
the bulk writing of its rows.

Every document is drawn word by word from a fixed vocabulary, so its index terms need not come from
running the analyser over its 60,000 characters (`index_terms` takes about 140 ms a document, 25 minutes
for 10,000): each distinct token (a word, a Korean word with one of its particles, an English word with
its plural -s, an HS code) is analysed once, and a document's term frequencies are the sum of its tokens'
analyses weighted by how often each occurs. That sum is exact because the tokens are separated by spaces
and `index_terms` counts each whitespace-separated token on its own (no bigram, HS code or stem spans a
space); `Corpus.check` asserts it against `document_terms` on real documents before any seeding.

The postings are written in bulk (COPY on PostgreSQL, executemany in large transactions with the journal
off on SQLite) with the table's secondary indexes and constraints dropped for the load and re-created
afterwards from the definitions the database itself reports, so the tables searched are the migration's.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import psycopg
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from customslab.adapters.quality_tables import TABLE_OF
from customslab.adapters.uow import Database
from customslab.domain.access import SharingLevel
from customslab.knowledge.text import index_terms
from customslab.services.knowledge_ports import KnowledgeDocument, KnowledgeVersion

CHARS_PER_PAGE = 3_000
PARTICLES = ["을", "를", "이", "가", "은", "는", "의", "에", "에서", "으로", "과", "와"]
#: A token is word * VARIANTS + variant: 0 the plain word, 1… a Korean particle, 1 an English plural.
VARIANTS = 1 + len(PARTICLES)
#: Planted words come from this band of frequency ranks.
PLANT_RANKS = (1_500, 6_000)
#: Every document's metadata text (`knowledge_indexing.metadata_text`) but for its title's number.
AUTHOR = "KCS Central Customs Laboratory"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
#: Concurrent COPY streams for the postings on PostgreSQL.
COPY_STREAMS = 2


@dataclass(frozen=True)
class Plant:
    query: str
    text: str


@dataclass(frozen=True)
class Postings:
    """One document's index terms, as ids into `Corpus.terms`, with their frequencies."""

    term_ids: np.ndarray
    tf: np.ndarray

    @property
    def length(self) -> int:
        return int(self.tf.sum())


class Corpus:
    """`docs` documents of `pages` pages, document i generated from the seed (seed, i) alone.

    About 3,000 characters a page of words drawn with Zipf-like frequencies (p ∝ 1/(rank + 2.7),
    Zipf–Mandelbrot) from 30,000 English-like words, 10,000 Korean words (70% written with a particle,
    as Korean is) and 300 HS codes. `queries` documents are planted (see `_plant`)."""

    def __init__(self, docs: int, pages: int, queries: int, seed: int = 17) -> None:
        self.docs, self.pages, self.seed = docs, pages, seed
        rng = np.random.default_rng(seed)
        english = _english_words(rng, 30_000)
        korean = _korean_words(rng, 10_000)
        codes = sorted(
            {f"{rng.integers(1, 98):02d}{rng.integers(1, 99):02d}.{rng.integers(10, 99)}" for _ in range(400)}
        )[:300]
        words = np.array([*english, *korean, *codes], dtype=object)
        kinds = np.array(["en"] * len(english) + ["ko"] * len(korean) + ["hs"] * len(codes), dtype=object)
        order = rng.permutation(len(words))
        self.words, self.kinds = words[order], kinds[order]
        self.is_ko, self.is_en = self.kinds == "ko", self.kinds == "en"
        ranks = np.arange(1, len(words) + 1)
        weights = 1.0 / (ranks + 2.7)
        self.cdf = np.cumsum(weights / weights.sum())
        self.n_words = int(pages * CHARS_PER_PAGE / 7.6)  # 7.6 characters a word with its space
        self.plants = self._plant(rng, min(queries, docs))
        self._analyse_tokens()

    # -- text ------------------------------------------------------------------------------------------

    def _plant(self, rng: np.random.Generator, n: int) -> dict[int, Plant]:
        """Planted document: besides its ordinary text, four inflected occurrences of each of two words
        from the middle of the frequency range (common enough to be in many documents, rare enough to
        mean something). Queries of three shapes in turn: English and Korean words; two Korean words
        (what a Korean officer types); English and Korean words and an HS heading (its subheading is
        planted twice). The query is the words' plain forms; its document should rank first."""
        lo, hi = PLANT_RANKS
        band = [int(i) for i in rng.permutation(np.arange(lo, hi))]
        pick = {k: iter([i for i in band if self.kinds[i] == k]) for k in ("en", "ko")}
        codes = iter([int(i) for i in rng.permutation(len(self.words)) if self.kinds[i] == "hs" and i > 300])
        plants: dict[int, Plant] = {}
        for q in range(n):
            doc = (q * self.docs) // n + (self.docs // n) // 2
            first = str(self.words[next(pick["ko" if q % 3 == 1 else "en"])])
            ko = str(self.words[next(pick["ko"])])
            if q % 3 == 1:
                forms = [first + "을", first + "은", first + "의", first + "에"]
            else:
                forms = [first, f"{first}s", f"{first}ed", f"{first}s"]
            forms += [ko + "를", ko + "이", ko + "의", ko + "에서"]
            query = [first, ko]
            if q % 3 == 2:
                code = str(self.words[next(codes)])
                forms += [code, code]
                query.append(code[:4])
            plants[doc] = Plant(" ".join(query), " ".join(forms))
        return plants

    def title(self, i: int) -> str:
        return f"Document {i:05d}"

    def tokens(self, i: int) -> np.ndarray:
        """Document i's words as token numbers (see VARIANTS), in order."""
        rng = np.random.default_rng([self.seed, i])
        picked = np.searchsorted(self.cdf, rng.random(self.n_words) * self.cdf[-1], side="right")
        picked = np.minimum(picked, len(self.words) - 1)
        variant = np.zeros(self.n_words, dtype=np.int64)
        korean = self.is_ko[picked] & (rng.random(self.n_words) < 0.7)
        variant[korean] = 1 + rng.integers(len(PARTICLES), size=int(korean.sum()))
        english = self.is_en[picked] & (rng.random(self.n_words) < 0.15)
        variant[english] = 1
        return picked * VARIANTS + variant

    def text(self, i: int) -> str:
        body = " ".join(self.token_text[self.tokens(i)].tolist())
        plant = self.plants.get(i)
        if plant is None:
            return body
        middle = body.find(" ", len(body) // 3)
        return f"{body[:middle]} {plant.text}{body[middle:]}"

    # -- index terms -----------------------------------------------------------------------------------

    def _analyse_tokens(self) -> None:
        """Every possible token analysed once, as a CSR table token → (term ids, multiplicities)."""
        n = len(self.words)
        text: list[str | None] = [None] * (n * VARIANTS)
        for w, word in enumerate(self.words.tolist()):
            text[w * VARIANTS] = word
            if self.is_ko[w]:
                for k, particle in enumerate(PARTICLES):
                    text[w * VARIANTS + 1 + k] = word + particle
            elif self.is_en[w]:
                text[w * VARIANTS + 1] = word + "s"
        self.token_text = np.array(text, dtype=object)
        self.terms: list[str] = []
        self.term_id: dict[str, int] = {}
        ptr = np.zeros(len(text) + 1, dtype=np.int64)
        ids: list[int] = []
        mult: list[int] = []
        for t, token in enumerate(text):
            if token is not None:
                for term, count in index_terms(token).items():
                    ids.append(self._id(term))
                    mult.append(count)
            ptr[t + 1] = len(ids)
        self.ptr, self.ids, self.mult = ptr, np.array(ids, dtype=np.int64), np.array(mult, dtype=np.int64)

    def _id(self, term: str) -> int:
        found = self.term_id.get(term)
        if found is None:
            found = self.term_id[term] = len(self.terms)
            self.terms.append(term)
        return found

    def metadata_text(self, i: int) -> str:
        """What `knowledge_indexing.metadata_text` makes of document i's record (title, author, no codes,
        substances or tags)."""
        return "\n".join([self.title(i), AUTHOR, ""])

    def postings(self, i: int) -> Postings:
        """Document i's index terms (`knowledge_indexing.document_terms` of its record and text)."""
        tokens, counts = np.unique(self.tokens(i), return_counts=True)
        lengths = self.ptr[tokens + 1] - self.ptr[tokens]
        ends = np.cumsum(lengths)
        at = np.repeat(self.ptr[tokens] - (ends - lengths), lengths) + np.arange(int(ends[-1]))
        extra = index_terms(self.metadata_text(i))
        if i in self.plants:
            extra += index_terms(self.plants[i].text)
        term_ids = np.concatenate([self.ids[at], [self._id(t) for t in extra]]).astype(np.int64)
        weights = np.concatenate([self.mult[at] * np.repeat(counts, lengths), list(extra.values())])
        unique, inverse = np.unique(term_ids, return_inverse=True)
        tf = np.bincount(inverse, weights=weights).astype(np.int64)
        return Postings(unique.astype(np.int32), tf.astype(np.int32))

    def counter(self, postings: Postings) -> Counter[str]:
        return Counter(
            dict(zip([self.terms[t] for t in postings.term_ids.tolist()], postings.tf.tolist(), strict=True))
        )

    def check(self, samples: list[int], analyse: object) -> None:
        """Assert that the summed token analyses equal the analyser's own answer on documents `samples`
        (`analyse(i, text)` is `document_terms` of document i's record and text)."""
        assert callable(analyse)
        for i in samples:
            expected = analyse(i, self.text(i))
            got = self.counter(self.postings(i))
            assert got == expected, (
                f"document {i}: {len(set(got.items()) ^ set(expected.items()))} terms differ"
            )


# -- its rows -------------------------------------------------------------------------------------------


def document(corpus: Corpus, i: int, owner: str) -> KnowledgeDocument:
    return KnowledgeDocument(
        owner_lab=owner,
        kind="research",
        title=corpus.title(i),
        language="ko",
        year=2000 + i % 26,
        author_lab=AUTHOR,
        hs_codes=[],
        substances=[],
        tags=[],
        licence="",
        sharing=SharingLevel.NETWORK.value,
        current_version=1,
        created_by="bench",
        created_at=NOW,
        updated_by="bench",
        updated_at=NOW,
        id=i + 1,
    )


def version_row(doc_id: int, corpus: Corpus, body: str) -> dict[str, Any]:
    return {
        "id": doc_id,
        "document_id": doc_id,
        "version": 1,
        "filename": f"document-{doc_id}.txt",
        "media_type": "text/plain",
        "size": len(body.encode()),
        "sha256": f"{doc_id:064d}",
        "pages": corpus.pages,
        "body": body,
        "note": "",
        "uploaded_by": "bench",
        "uploaded_at": NOW,
    }


def record(entry: object) -> dict[str, Any]:
    table = TABLE_OF[type(entry)]
    return {c.name: getattr(entry, c.name) for c in table.columns if c.name != "row_version"}


def write_versions(db: Database, rows: list[dict[str, Any]]) -> None:
    if db.engine.dialect.name == "postgresql":
        columns = list(rows[0])
        with (
            psycopg.connect(libpq(db.url)) as conn,
            conn.cursor() as cur,
            cur.copy(f"COPY knowledge_versions ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(
                    [row[c].replace(tzinfo=None) if c == "uploaded_at" else row[c] for c in columns]
                )
    else:
        with db.engine.begin() as conn:
            conn.execute(insert(TABLE_OF[KnowledgeVersion]), rows)


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _copy_lines(corpus: Corpus, doc_id: int, p: Postings) -> str:
    terms = corpus.terms
    return "".join(
        f"{terms[t]}\t{doc_id}\t{f}\n" for t, f in zip(p.term_ids.tolist(), p.tf.tolist(), strict=True)
    )


def load_postings(db: Database, corpus: Corpus, postings: list[Postings]) -> None:
    """The postings, with the table's secondary indexes (and on PostgreSQL its primary key and foreign
    key) dropped for the load and re-created from the definitions read back from the database."""
    assert not any(set(t) & {"\\", "\t", "\n", "\r"} for t in corpus.terms)  # COPY text needs no escapes
    if db.engine.dialect.name == "postgresql":
        with psycopg.connect(libpq(db.url)) as conn, conn.cursor() as cur:
            before = _pg_definitions(cur)
            for name, _ in sorted(before["constraint"], key=lambda c: "PRIMARY" in c[1]):  # FK first
                cur.execute(f"ALTER TABLE knowledge_postings DROP CONSTRAINT {name}")
            for name, _ in before["index"]:
                cur.execute(f"DROP INDEX {name}")
        # Two COPY streams, each on its own connection: the server's parsing is most of the work.
        with ThreadPoolExecutor(COPY_STREAMS) as pool:
            list(pool.map(lambda k: _copy_postings(db.url, corpus, postings, k), range(COPY_STREAMS)))
        with psycopg.connect(libpq(db.url)) as conn, conn.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '1GB'")
            for name, definition in sorted(before["constraint"], key=lambda c: "PRIMARY" not in c[1]):
                cur.execute(f"ALTER TABLE knowledge_postings ADD CONSTRAINT {name} {definition}")
            for _, definition in before["index"]:
                cur.execute(definition)
            assert _pg_definitions(cur) == before
        return
    db.dispose()  # journal_mode may change only with no other connection open
    conn = sqlite3.connect(make_url(db.url).database or "", isolation_level=None)
    try:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-2000000")  # 2 GB: the primary key's B-tree stays in memory
        query = (
            "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'knowledge_postings' AND sql IS NOT NULL"
        )
        before = conn.execute(query + " AND type = 'index'").fetchall()
        for name, _ in before:
            conn.execute(f"DROP INDEX {name}")
        terms = corpus.terms
        for start in range(0, len(postings), 1_000):
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO knowledge_postings (term, document_id, tf) VALUES (?, ?, ?)",
                (
                    (terms[t], i + 1, f)
                    for i in range(start, min(start + 1_000, len(postings)))
                    for t, f in zip(postings[i].term_ids.tolist(), postings[i].tf.tolist(), strict=True)
                ),
            )
            conn.execute("COMMIT")
        for _, definition in before:
            conn.execute(definition)
        assert conn.execute(query + " AND type = 'index'").fetchall() == before
        conn.execute(f"PRAGMA journal_mode={mode}")
    finally:
        conn.close()


def _copy_postings(url: str, corpus: Corpus, postings: list[Postings], stream: int) -> None:
    with (
        psycopg.connect(libpq(url)) as conn,
        conn.cursor() as cur,
        cur.copy("COPY knowledge_postings (term, document_id, tf) FROM STDIN") as copy,
    ):
        for i in range(stream, len(postings), COPY_STREAMS):
            copy.write(_copy_lines(corpus, i + 1, postings[i]))


def _pg_definitions(cur: psycopg.Cursor[Any]) -> dict[str, list[tuple[str, str]]]:
    cur.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'knowledge_postings'::regclass AND contype IN ('p', 'f') ORDER BY conname"
    )
    constraints = [(str(n), str(d)) for n, d in cur.fetchall()]
    cur.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'knowledge_postings' "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname"
    )
    return {"constraint": constraints, "index": [(str(n), str(d)) for n, d in cur.fetchall()]}


def _english_words(rng: np.random.Generator, n: int) -> list[str]:
    onsets = [*"bcdfghjklmnprstvwz", "ch", "sh", "th", "tr", "pl", "gr", "st"]
    vowels = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "io"]
    found: dict[str, None] = {}
    while len(found) < n:
        syllables = "".join(
            onsets[rng.integers(len(onsets))] + vowels[rng.integers(len(vowels))]
            for _ in range(rng.integers(2, 4))
        )
        found[syllables + (onsets[rng.integers(len(onsets))] if rng.random() < 0.5 else "")] = None
    return list(found)


def _korean_words(rng: np.random.Generator, n: int) -> list[str]:
    # 1,200 of the 11,172 Hangul syllables, spread over the block, make words of 2 or 3 syllables.
    syllables = [chr(0xAC00 + i) for i in range(0, 11_172, 9)][:1_200]
    found: dict[str, None] = {}
    while len(found) < n:
        found["".join(syllables[rng.integers(len(syllables))] for _ in range(rng.integers(2, 4)))] = None
    return list(found)
