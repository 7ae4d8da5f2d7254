"""The knowledge base's search index in SQL: postings, document statistics, and BM25 ranking.

Two plain (unaudited) tables, laid out by migration 0012: `knowledge_postings` holds one row per distinct
term of a document with its frequency, keyed by (term, document), so a query reads only its terms' rows;
`knowledge_doc_stats` holds each document's length and the metadata a search filters on, copied from the
document so that a search never joins the audited records.

Ranking is BM25 (Robertson & Zaragoza 2009, eq. 3.3):

    score(d) = Σ_t idf(t) · tf(t,d) · (k1 + 1) / (tf(t,d) + k1 · (1 − b + b · |d| / avgdl))

The idf of each query term is computed in Python from the document frequencies (`knowledge.text.idf`) and
passed in as a parameter, as are k1, b and avgdl; the SQL does the arithmetic only. The same expression
on the same integers and the same parameters ranks alike on SQLite and PostgreSQL, which a database's own
full-text engine (FTS5's bm25, ts_rank) would not. Ties are broken by document id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from customslab.adapters.tables_base import metadata
from customslab.domain.access import SharingLevel
from customslab.domain.knowledge import hs_ancestors
from customslab.knowledge.text import K1, MAX_TERM_LENGTH, B
from customslab.services.knowledge_ports import (
    IndexedDocument,
    IndexFilters,
    KnowledgeIndex,
    SearchFilters,
    SearchPage,
)

knowledge_postings = Table(
    "knowledge_postings",
    metadata,
    Column("term", String(MAX_TERM_LENGTH), primary_key=True),
    Column("document_id", Integer, ForeignKey("knowledge_documents.id"), primary_key=True, index=True),
    Column("tf", Integer, nullable=False),
)

knowledge_doc_stats = Table(
    "knowledge_doc_stats",
    metadata,
    Column("document_id", Integer, ForeignKey("knowledge_documents.id"), primary_key=True),
    Column("length", Integer, nullable=False),
    Column("owner_lab", String(32), nullable=False, index=True),
    Column("sharing", String(16), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("language", String(35), nullable=False),
    Column("year", Integer, nullable=False),
    Column("author_lab", String(120), nullable=False),
    Column("hs_text", Text, nullable=False),
)

P = knowledge_postings.c
S = knowledge_doc_stats.c
Visible = Mapping[SharingLevel, Collection[str]]
#: Rows per INSERT batch of the bulk loader: large enough for few round trips, small enough for memory.
BATCH_ROWS = 20_000


def _postings(document_id: int, terms: Counter[str]) -> Iterator[dict[str, Any]]:
    for term, tf in terms.items():
        # The analyser drops longer terms; a term cut here would still match itself at query time.
        yield {"term": term[:MAX_TERM_LENGTH], "document_id": document_id, "tf": tf}


def _stats(document_id: int, terms: Counter[str], f: IndexFilters) -> dict[str, Any]:
    return {
        "document_id": document_id,
        "length": sum(terms.values()),
        "owner_lab": f.owner_lab,
        "sharing": f.sharing,
        "kind": f.kind,
        "language": f.language,
        "year": f.year,
        "author_lab": f.author_lab,
        "hs_text": f.hs_text,
    }


def _batches(rows: Iterable[dict[str, Any]], size: int = BATCH_ROWS) -> Iterator[list[dict[str, Any]]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def visible_clause(visible: Mapping[SharingLevel, Collection[str]]) -> Any:
    """(sharing = level AND owner_lab IN labs) OR …: the visibility table's answer, level by level."""
    parts = [
        and_(S.sharing == level.value, S.owner_lab.in_(sorted(labs)))
        for level, labs in visible.items()
        if labs
    ]
    return or_(*parts) if parts else false()


def filter_clauses(f: SearchFilters) -> list[Any]:
    clauses: list[Any] = []
    if f.hs:
        # hs_text is ' 09 090422 2208 ': a code under the asked one starts right after a space; the
        # chapter, heading or subheading it lies under stands between two spaces.
        above = [S.hs_text.like(f"% {code} %") for code in hs_ancestors(f.hs)]
        clauses.append(or_(S.hs_text.like(f"% {f.hs}%"), *above))
    if f.year is not None:
        clauses.append(S.year == f.year)
    if f.lab:
        clauses.append(or_(S.owner_lab == f.lab, S.author_lab == f.lab))
    if f.language:
        clauses.append(or_(S.language == f.language, S.language.like(f"{f.language}-%")))
    if f.kind:
        clauses.append(S.kind == f.kind)
    return clauses


def bm25_score(weights: Mapping[str, float], avg_length: float) -> Any:
    """The BM25 sum over a document's posting rows, as an SQL expression (module docstring)."""
    idf = case({t: literal(w, Float) for t, w in weights.items()}, value=P.term, else_=literal(0.0, Float))
    k1, b = literal(K1, Float), literal(B, Float)
    length_norm = literal(1.0 - B, Float) + b * S.length / literal(avg_length, Float)
    return func.sum(idf * P.tf * literal(K1 + 1.0, Float) / (P.tf + k1 * length_norm))


class SqlKnowledgeIndex(KnowledgeIndex):
    def __init__(self, session: Session) -> None:
        self.session = session

    def replace(self, document_id: int, terms: Counter[str], filters: IndexFilters) -> None:
        self.remove(document_id)
        for batch in _batches(_postings(document_id, terms)):
            self.session.execute(insert(knowledge_postings), batch)
        self.session.execute(insert(knowledge_doc_stats), [_stats(document_id, terms, filters)])

    def update_filters(self, document_id: int, filters: IndexFilters) -> None:
        values = _stats(document_id, Counter(), filters)
        del values["document_id"], values["length"]
        self.session.execute(update(knowledge_doc_stats).where(S.document_id == document_id).values(values))

    def remove(self, document_id: int) -> None:
        self.session.execute(delete(knowledge_postings).where(P.document_id == document_id))
        self.session.execute(delete(knowledge_doc_stats).where(S.document_id == document_id))

    def bulk_load(self, documents: Iterable[IndexedDocument]) -> int:
        count = 0
        stats: list[dict[str, Any]] = []
        postings: list[dict[str, Any]] = []
        for doc in documents:
            count += 1
            stats.append(_stats(doc.document_id, doc.terms, doc.filters))
            postings.extend(_postings(doc.document_id, doc.terms))
            if len(postings) >= BATCH_ROWS:
                self._flush_bulk(stats, postings)
                stats, postings = [], []
        self._flush_bulk(stats, postings)
        return count

    def _flush_bulk(self, stats: list[dict[str, Any]], postings: list[dict[str, Any]]) -> None:
        if stats:
            self.session.execute(insert(knowledge_doc_stats), stats)
        for batch in _batches(postings):
            self.session.execute(insert(knowledge_postings), batch)

    def clear(self) -> None:
        self.session.execute(delete(knowledge_postings))
        self.session.execute(delete(knowledge_doc_stats))

    def df(self, terms: Collection[str], visible: Visible | None = None) -> dict[str, int]:
        if not terms:
            return {}
        counted = select(P.term, func.count()).where(P.term.in_(sorted(set(terms))))
        if visible is not None:  # the same (term, document) rows the search reads, joined to the filters
            counted = counted.join(knowledge_doc_stats, S.document_id == P.document_id).where(
                visible_clause(visible)
            )
        return {term: int(n) for term, n in self.session.execute(counted.group_by(P.term))}

    def n_docs(self, visible: Visible | None = None) -> int:
        counted = select(func.count()).select_from(knowledge_doc_stats)
        if visible is not None:
            counted = counted.where(visible_clause(visible))
        return int(self.session.scalar(counted) or 0)

    def avg_length(self, visible: Visible | None = None) -> float:
        # AVG of an integer is NUMERIC on PostgreSQL and REAL on SQLite: both read back as float.
        averaged = select(func.avg(S.length))
        if visible is not None:
            averaged = averaged.where(visible_clause(visible))
        found = self.session.scalar(averaged)
        return float(found) if found else 1.0

    def search(
        self,
        weights: Mapping[str, float],
        visible: Mapping[SharingLevel, Collection[str]],
        filters: SearchFilters,
        limit: int,
        offset: int = 0,
    ) -> SearchPage:
        where = [visible_clause(visible), *filter_clauses(filters)]
        if not weights:
            listed = select(S.document_id).where(*where)
            total = self.session.scalar(select(func.count()).select_from(listed.subquery())) or 0
            ids = self.session.scalars(
                listed.order_by(S.year.desc(), S.document_id.desc()).limit(limit).offset(offset)
            )
            return SearchPage(int(total), [(int(i), 0.0) for i in ids])
        score = bm25_score(weights, self.avg_length(visible)).label("score")
        ranked = (
            select(P.document_id, score)
            .join(knowledge_doc_stats, S.document_id == P.document_id)
            .where(P.term.in_(sorted(weights)), *where)
            .group_by(P.document_id)
        )
        if filters.all_terms:  # one posting row per (term, document): every term matched
            ranked = ranked.having(func.count() == len(weights))
        total = self.session.scalar(select(func.count()).select_from(ranked.subquery())) or 0
        rows = self.session.execute(
            ranked.order_by(score.desc(), P.document_id).limit(limit).offset(offset)
        ).all()
        return SearchPage(int(total), [(int(d), float(s)) for d, s in rows])

    def indexed_ids(self) -> Sequence[int]:
        return [int(i) for i in self.session.scalars(select(S.document_id).order_by(S.document_id))]
