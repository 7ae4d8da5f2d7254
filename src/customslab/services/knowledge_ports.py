"""The knowledge base's stored records, and the port of its search index.

A document's metadata and each of its versions are low-volume records kept like the quality registers
(`adapters/quality_tables` derives their tables from these classes), so every upload and every metadata
edit is in the hash-chained audit trail with its before and after. A version's file is in the file
store by its sha256; its extracted text is kept with it (for snippets and reindexing) in `body`, a
column the audit trail leaves out, as it does a federation message's bytes: the trail has the file's
sha256, from which the text is derived.

The search index is bulk data (one posting per distinct term per document), so it has plain tables and
its own repository (`adapters/knowledge_index.py`), with an in-memory fake for unit tests.
"""

from __future__ import annotations

import abc
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, ClassVar

from customslab.domain.access import SharingLevel
from customslab.services.quality_ports import Lab, Ref, Size, Unique, Username

DocumentRef = Annotated[int, Ref("knowledge_documents.id", index=True)]


@dataclass(eq=False)
class KnowledgeDocument:
    """A guidebook, research material, seminar paper, method, committee decision, classification opinion
    or training material: its metadata, and which version is current."""

    stored_in: ClassVar = "knowledge_documents"
    owner_lab: Lab
    kind: Annotated[str, Size(32)]  # domain.knowledge.DocumentKind
    title: Annotated[str, Size(300)]
    language: Annotated[str, Size(35)]  # BCP-47: en, ko, zh-Hans
    year: int
    #: Who wrote it: an organisation code, or free text ("KCS Central Customs Laboratory").
    author_lab: Annotated[str, Size(120)]
    hs_codes: list[str]  # as the nomenclature writes them: 0904, 0904.22
    substances: list[str]
    tags: list[str]
    licence: str
    sharing: Annotated[str, Size(16)]  # access.SharingLevel
    current_version: int
    created_by: Username
    created_at: datetime
    updated_by: Username
    updated_at: datetime
    #: "upload", or "opinion:<id>" for an approved classification opinion (it follows the opinion).
    source: Annotated[str, Size(40, index=True)] = "upload"
    id: int | None = None


@dataclass(eq=False)
class KnowledgeVersion:
    """One uploaded file of a document; a new upload adds a version, nothing is overwritten."""

    stored_in: ClassVar = "knowledge_versions"
    unique: ClassVar = Unique("uq_knowledge_versions_document_version", ("document_id", "version"))
    document_id: DocumentRef
    version: int
    filename: Annotated[str, Size(255)]
    media_type: Annotated[str, Size(100)]
    size: int
    sha256: Annotated[str, Size(64)]
    pages: int
    #: The extracted text (not audited: derived from the file, whose sha256 is).
    body: str
    note: Annotated[str, Size(500)]
    uploaded_by: Username
    uploaded_at: datetime
    id: int | None = None


#: The entry classes of this feature, stored like the quality registers' (see `quality_tables`).
KNOWLEDGE_ENTRIES = (KnowledgeDocument, KnowledgeVersion)


@dataclass(frozen=True)
class IndexFilters:
    """What a document is filtered by in a search, copied from its metadata into the index."""

    owner_lab: str
    sharing: str
    kind: str
    language: str
    year: int
    author_lab: str
    hs_text: str  # domain.knowledge.hs_index_text


@dataclass(frozen=True)
class SearchFilters:
    """A search's narrowing: HS code (digits: the documents on codes beneath it and on the chapter, heading
    or subheading it lies under), year, laboratory (owner or author), language, kind; `all_terms`: only
    documents holding every weighted term (a substance's name as a whole, not any word of it)."""

    hs: str = ""
    year: int | None = None
    lab: str = ""
    language: str = ""
    kind: str = ""
    all_terms: bool = False


@dataclass(frozen=True)
class IndexedDocument:
    """One document as the bulk loader takes it."""

    document_id: int
    terms: Counter[str]
    filters: IndexFilters


@dataclass(frozen=True)
class SearchPage:
    total: int
    hits: list[tuple[int, float]] = field(default_factory=list)  # (document id, BM25 score)


class KnowledgeIndex(abc.ABC):
    """The full-text index: postings (term, document, tf), each document's length and filter columns.

    `visible` maps each sharing level to the owner laboratories whose documents at that level the
    searcher sees (computed by the service from the visibility table); a document is a candidate only
    where its level and owner are listed."""

    @abc.abstractmethod
    def replace(self, document_id: int, terms: Counter[str], filters: IndexFilters) -> None:
        """Index a document (again): its postings, its length and its filter columns."""

    @abc.abstractmethod
    def update_filters(self, document_id: int, filters: IndexFilters) -> None:
        """New metadata for an indexed document whose text did not change."""

    @abc.abstractmethod
    def remove(self, document_id: int) -> None: ...

    @abc.abstractmethod
    def bulk_load(self, documents: Iterable[IndexedDocument]) -> int:
        """Index many new documents at once (a benchmark, a reindex); how many were loaded."""

    @abc.abstractmethod
    def clear(self) -> None:
        """Drop the whole index (before a full reindex)."""

    # The BM25 statistics count the documents `visible` lists (all when None): a score then says nothing
    # of how many documents the searcher may not see hold a term.
    @abc.abstractmethod
    def df(
        self, terms: Collection[str], visible: Mapping[SharingLevel, Collection[str]] | None = None
    ) -> dict[str, int]:
        """How many (visible) documents hold each term (absent: none)."""

    @abc.abstractmethod
    def n_docs(self, visible: Mapping[SharingLevel, Collection[str]] | None = None) -> int: ...

    @abc.abstractmethod
    def avg_length(self, visible: Mapping[SharingLevel, Collection[str]] | None = None) -> float:
        """The mean (visible) document length in terms (1.0 when there is none)."""

    @abc.abstractmethod
    def search(
        self,
        weights: Mapping[str, float],
        visible: Mapping[SharingLevel, Collection[str]],
        filters: SearchFilters,
        limit: int,
        offset: int = 0,
    ) -> SearchPage:
        """The visible documents matching the filters, ranked by BM25 over `weights` (term → idf), best
        first, ties by document id; with no weights, every match, newest year first (score 0)."""

    @abc.abstractmethod
    def indexed_ids(self) -> Sequence[int]:
        """The ids of the indexed documents, ascending."""
