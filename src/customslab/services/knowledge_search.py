"""Searching the knowledge base: ranked full text with filters, and what bears on a case.

Ranking is BM25 over the analysed terms (`knowledge.text`); the idf of each query term is computed here
from the index's document frequencies and the index ranks in SQL (`adapters/knowledge_index`). What the
searcher may see is decided here too, from the visibility table: for each sharing level, the owner
laboratories whose documents at that level the searcher sees (`access.sees_document`); the index filters
on exactly those pairs, so a hidden document is neither listed nor counted.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from customslab.domain.access import Action, Actor, Directory, SharingLevel, require, sees_document
from customslab.domain.errors import ValidationFailed
from customslab.domain.knowledge import DocumentKind, heading_of, normalise_language, opinion_source
from customslab.knowledge.text import idf, query_terms, snippet
from customslab.services.common import visible_sample
from customslab.services.contract import Command, View
from customslab.services.knowledge_domain_rules import field_rule
from customslab.services.knowledge_indexing import bare_name, identified_substances, substance_term
from customslab.services.knowledge_ports import KnowledgeDocument, KnowledgeVersion, SearchFilters
from customslab.services.ports import AbstractUnitOfWork

#: The most terms a query is ranked by: a pasted paragraph is cut here rather than making a huge query.
MAX_QUERY_TERMS = 32
#: The most hits a page holds: each reads its document's text for a snippet.
MAX_PAGE = 50
#: The most identified substances a sample's related documents are looked up by (two searches each).
MAX_SUBSTANCES = 10


HS_PREFIX_PATTERN = r"^[\s.\-]*(?:(?:[0-9][\s.\-]*){2,10})?$"
LANGUAGE_OR_EMPTY = r"^\s*(?:[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*)?\s*$"
NO_NUL = r"^[^\x00]*$"


def _hs_prefix(raw: str) -> str:
    digits = re.sub(r"[.\s-]", "", raw)
    if not digits:
        return ""
    if not (digits.isascii() and digits.isdigit() and 2 <= len(digits) <= 10):
        raise ValidationFailed(
            f"'{raw}' is not an HS code or the start of one: give 2 to 10 digits (09, 0904, 0904.22).",
            field="hs",
        )
    return digits


def _language_or_empty(raw: str) -> str:
    return normalise_language(raw) if raw.strip() else ""


class KnowledgeQuery(Command):
    """A search: words (English, Korean…) and filters; every part may be left out."""

    # Checked as given, not stripped first: the schema's maxLength and pattern say exactly what passes.
    q: Annotated[str, StringConstraints(max_length=500, pattern=NO_NUL)] = Field(
        default="", description="Words to search for, in any language."
    )
    # The pattern is the schema's (what the contract promises); the check itself is `_hs_prefix`, which
    # accepts exactly the same texts and says in words what an HS code is.
    hs: Annotated[str, StringConstraints(max_length=20), AfterValidator(field_rule(_hs_prefix))] = Field(
        default="",
        description="Documents bearing on HS codes that start so: 09, 0904, 0904.22.",
        json_schema_extra={"pattern": HS_PREFIX_PATTERN},
    )
    year: Annotated[int, Field(ge=1900, le=2199)] | None = None
    lab: Annotated[str, StringConstraints(max_length=32, pattern=NO_NUL)] = Field(
        default="", description="Owning or authoring laboratory."
    )
    language: Annotated[
        str,
        StringConstraints(max_length=35, pattern=LANGUAGE_OR_EMPTY),
        AfterValidator(field_rule(_language_or_empty)),
    ] = Field(default="", description="A BCP-47 tag: en, ko (ko also finds ko-KR).")
    kind: DocumentKind | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = Field(
        default=20, description=f"Hits per page, at most {MAX_PAGE} (each carries a snippet)."
    )
    offset: Annotated[int, Field(ge=0, le=10_000)] = 0


class SnippetSegment(View):
    text: str
    highlighted: bool


class DocumentHit(View):
    id: int
    title: str
    kind: DocumentKind
    language: str
    year: int
    owner_lab: str
    author_lab: str
    hs_codes: list[str]
    sharing: SharingLevel
    source: str
    score: float = Field(description="BM25 score (0 when no words were asked for).")
    snippet: list[SnippetSegment] = Field(description="The passage with the most matches, highlighted.")


class KnowledgeResults(View):
    total: int
    limit: int
    offset: int
    terms: list[str] = Field(description="The terms the words were analysed into (stems, bigrams, codes).")
    hits: list[DocumentHit]


class RelatedKnowledge(View):
    """What bears on a case: documents and precedents by HS heading and by the substances identified."""

    sample_id: int
    headings: list[str]
    substances: list[str]
    documents: list[DocumentHit]
    precedents: list[DocumentHit]


def visible_levels(actor: Actor, directory: Directory) -> dict[SharingLevel, frozenset[str]]:
    """For each sharing level, the laboratories whose documents at that level the actor sees."""
    return {
        level: frozenset(c for c in directory.administration_of if sees_document(actor, directory, c, level))
        for level in SharingLevel
    }


def bm25_weights(
    uow: AbstractUnitOfWork,
    terms: Iterable[str],
    visible: Mapping[SharingLevel, Collection[str]] | None = None,
) -> dict[str, float]:
    """Each term's idf from the index, counting the documents `visible` lists (all when None); a term no
    such document holds is left out (it can match nothing)."""
    wanted = list(dict.fromkeys(terms))[:MAX_QUERY_TERMS]
    found = uow.knowledge.df(wanted, visible)
    n = uow.knowledge.n_docs(visible)
    return {t: idf(n, found[t]) for t in wanted if found.get(t)}


def _documents(uow: AbstractUnitOfWork, ids: Collection[int]) -> dict[int, KnowledgeDocument]:
    """The documents of a page of hits, read in one query."""
    return {d.id: d for d in uow.quality.find_any(KnowledgeDocument, id=ids) if d.id is not None}


def _hits(
    uow: AbstractUnitOfWork, scored: list[tuple[KnowledgeDocument, float]], words: str
) -> list[DocumentHit]:
    """The hits, in order, with their snippets; the current versions are read in one query (not one per
    hit), and `snippet` reads a bounded stretch of each text, however long."""
    wanted = {doc.id: doc.current_version for doc, _ in scored}
    versions = {
        v.document_id: v
        for v in uow.quality.find_any(
            KnowledgeVersion, document_id=list(wanted), version=set(wanted.values())
        )
        if wanted.get(v.document_id) == v.version
    }
    hits = []
    for doc, score in scored:
        version = versions.get(doc.id or 0)
        segments = snippet(version.body, words) if version is not None else []
        hit = DocumentHit.of_record(
            doc,
            id=doc.id,
            score=round(score, 6),
            snippet=[SnippetSegment(text=t, highlighted=h) for t, h in segments],
        )
        hits.append(hit)
    return hits


def search_knowledge(uow: AbstractUnitOfWork, actor: Actor, query: KnowledgeQuery) -> KnowledgeResults:
    """The documents the actor sees that match the words and filters, best first, with snippets."""
    with uow:
        require(actor, Action.READ_KNOWLEDGE)
        terms = query_terms(query.q)
        filters = SearchFilters(
            hs=query.hs,
            year=query.year,
            lab=query.lab.strip(),
            language=query.language,
            kind=query.kind.value if query.kind else "",
        )
        visible = visible_levels(actor, uow.repo.directory())
        weights = bm25_weights(uow, terms, visible)
        if terms and not weights:
            # Words that no document holds: nothing matches (rather than every document).
            return KnowledgeResults(total=0, limit=query.limit, offset=query.offset, terms=terms, hits=[])
        page = uow.knowledge.search(weights, visible, filters, query.limit, query.offset)
        docs = _documents(uow, [d for d, _ in page.hits])
        hits = _hits(uow, [(docs[d], s) for d, s in page.hits if d in docs], query.q)
        return KnowledgeResults(
            total=page.total, limit=query.limit, offset=query.offset, terms=terms, hits=hits
        )


def _substance_searches(
    uow: AbstractUnitOfWork, substances: list[str], visible: Mapping[SharingLevel, Collection[str]]
) -> list[tuple[dict[str, float], bool]]:
    """The searches for each substance: the documents whose metadata names it (the register's
    normalised name, so "Cocaine HCl" finds "cocaine"), and those whose text holds every word of its
    name without salt or derivative words (all of "citric acid", never "acid" alone)."""
    searches: list[tuple[dict[str, float], bool]] = []
    for name in substances:
        tagged = bm25_weights(uow, [substance_term(name)], visible)
        if tagged:
            searches.append((tagged, False))
        terms = list(dict.fromkeys(query_terms(bare_name(name))))[:MAX_QUERY_TERMS]
        named = bm25_weights(uow, terms, visible)
        if terms and len(named) == len(terms):  # a word no document holds: none holds the whole name
            searches.append((named, True))
    return searches


def related_to_sample(
    uow: AbstractUnitOfWork, actor: Actor, sample_id: int, limit: int = 10
) -> RelatedKnowledge:
    """Documents and precedents bearing on a sample: those under its declared heading or the headings its
    opinions determined, ranked first when they also name the substances identified on it; then the
    others under those headings; then those that name the substances anywhere."""
    with uow:
        require(actor, Action.READ_KNOWLEDGE)
        sample = visible_sample(uow, actor, sample_id)
        request = uow.repo.request(sample.request_id or 0)
        in_progress = actor.sees_work_in_progress
        opinions = [o for o in uow.repo.opinions_for(sample_id) if in_progress or o.state == "approved"]
        codes = [request.declared_hs if request is not None else "", *(o.determined_code for o in opinions)]
        headings = [h for h in dict.fromkeys(heading_of(c) for c in codes) if h]
        substances = identified_substances(sample, approved_only=not in_progress)
        visible = visible_levels(actor, uow.repo.directory())
        by_substance = _substance_searches(uow, substances[:MAX_SUBSTANCES], visible)
        words = " ".join(bare_name(s) for s in substances[:MAX_SUBSTANCES])
        own = {opinion_source(o.id) for o in opinions if o.id is not None}

        found: dict[int, float] = {}
        wide = 4 * limit  # room for the split into documents and precedents, and for the sample's own

        def take(weights_: dict[str, float], hs: str, all_terms: bool = False) -> None:
            narrowing = SearchFilters(hs=hs, all_terms=all_terms)
            for d, s in uow.knowledge.search(weights_, visible, narrowing, wide).hits:
                found.setdefault(d, s)

        for heading in headings:
            for weights, whole in by_substance:
                take(weights, heading, whole)
        for heading in headings:
            take({}, heading)
        for weights, whole in by_substance:
            take(weights, "", whole)
        docs = _documents(uow, list(found))
        shelves: dict[bool, list[tuple[KnowledgeDocument, float]]] = {True: [], False: []}
        for d, s in found.items():
            doc = docs.get(d)
            if doc is None or doc.source in own:
                continue
            shelf = shelves[doc.kind == DocumentKind.CLASSIFICATION_OPINION.value]
            if len(shelf) < limit:
                shelf.append((doc, s))
        documents, precedents = _hits(uow, shelves[False], words), _hits(uow, shelves[True], words)
        return RelatedKnowledge(
            sample_id=sample_id,
            headings=headings,
            substances=substances,
            documents=documents,
            precedents=precedents,
        )
