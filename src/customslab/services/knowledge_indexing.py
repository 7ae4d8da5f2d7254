"""Keeping the knowledge base's search index in step with its documents, and approved classification
opinions in the knowledge base as precedents.

Every function here runs inside the caller's unit of work: a document and its index rows are written in
the same transaction, so a search never finds a document that is not stored, nor misses one that is.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections import Counter

from customslab.domain.access import SharingLevel
from customslab.domain.enums import ResultKind, State
from customslab.domain.knowledge import (
    DocumentKind,
    format_hs,
    hs_index_text,
    opinion_source,
)
from customslab.domain.model import ClassificationOpinion, Sample
from customslab.knowledge.text import MAX_TERM_LENGTH, index_terms
from customslab.services.contract import MAX_INT
from customslab.services.knowledge_ports import IndexFilters, KnowledgeDocument, KnowledgeVersion
from customslab.services.ports import AbstractUnitOfWork
from customslab.substances.register import normalise_name

#: The text of an opinion's document is stored like an uploaded file's, as UTF-8 plain text.
OPINION_MEDIA_TYPE = "text/plain"
#: Large enough for any stored opinion (reasoning ≤ 20,000 characters, a few references).
OPINION_MAX_BYTES = 1024 * 1024
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
#: Before a substance's normalised name in the index (`substance_term`).
SUBSTANCE_TERM = "substance:"


def filters_of(doc: KnowledgeDocument) -> IndexFilters:
    return IndexFilters(
        owner_lab=doc.owner_lab,
        sharing=doc.sharing,
        kind=doc.kind,
        language=doc.language,
        year=doc.year,
        author_lab=doc.author_lab,
        hs_text=hs_index_text(doc.hs_codes),
    )


def metadata_text(doc: KnowledgeDocument) -> str:
    """What of the metadata is searchable with the text: title, author, codes, substances and tags."""
    return "\n".join([doc.title, doc.author_lab, " ".join(doc.hs_codes), *doc.substances, *doc.tags])


def substance_term(name: str) -> str:
    """The index term of a substance a document's metadata names: the register's normalised name
    ("Cocaine hydrochloride" and "(−)-cocaine" are both `cocaine`) behind a prefix no analysed word has
    (the analyser splits at the colon), so only a sample's identified substance asks for it."""
    return f"{SUBSTANCE_TERM}{normalise_name(name)}"[:MAX_TERM_LENGTH]


def bare_name(name: str) -> str:
    """A substance's name without the salt, hydrate or derivative words that end it ("Cocaine
    hydrochloride" → "Cocaine"): the shortest run of its first words that the register reads as the same
    substance; the whole name when there is none ("Citric acid" stays whole)."""
    key, words = normalise_name(name), name.split()
    for n in range(1, len(words)):
        if normalise_name(" ".join(words[:n])) == key:
            return " ".join(words[:n])
    return name


def document_terms(doc: KnowledgeDocument, body: str) -> Counter[str]:
    terms = index_terms(f"{metadata_text(doc)}\n{body}")
    terms.update(substance_term(name) for name in doc.substances if normalise_name(name))
    return terms


def current_version(uow: AbstractUnitOfWork, doc: KnowledgeDocument) -> KnowledgeVersion | None:
    found = uow.quality.find(KnowledgeVersion, document_id=doc.id, version=doc.current_version)
    return found[0] if found else None


def index_document(uow: AbstractUnitOfWork, doc: KnowledgeDocument, body: str | None = None) -> None:
    """(Re)index a document with the text of its current version (or `body`, just extracted)."""
    assert doc.id is not None
    if body is None:
        version = current_version(uow, doc)
        body = version.body if version is not None else ""
    uow.knowledge.replace(doc.id, document_terms(doc, body), filters_of(doc))


def reindex_all(uow: AbstractUnitOfWork) -> int:
    """Inside the caller's unit of work: index every approved opinion that has no document yet, then
    rebuild the whole index from the stored documents. How many documents are indexed."""
    every = uow.repo.search_opinions(None, "", "", MAX_INT)  # no laboratory, text or code: all of them
    for opinion in sorted(every, key=lambda o: o.id or 0):
        index_opinion(uow, opinion)
    uow.knowledge.clear()
    docs = uow.quality.find(KnowledgeDocument)
    for doc in docs:
        index_document(uow, doc)
    return len(docs)


# -- approved classification opinions as precedents ------------------------------------------------


def identified_substances(sample: Sample, *, approved_only: bool) -> list[str]:
    """The substances the sample's identity results name (active tests; approved ones only for a reader
    who does not see work in progress), each once."""
    names: dict[str, str] = {}
    for test in sample.tests:
        if not test.active or (approved_only and test.state is not State.APPROVED):
            continue
        for r in test.results:
            if r.kind is ResultKind.IDENTITY and r.text_value.strip():
                names.setdefault(r.text_value.strip().casefold(), r.text_value.strip())
    return list(names.values())


def opinion_text(opinion: ClassificationOpinion) -> str:
    """The precedent as its document's text: goods, codes, reasoning, references."""
    lines = [
        opinion.goods_description,
        f"Declared: {format_hs(opinion.declared_code)}",
        f"Determined: {format_hs(opinion.determined_code)}",
        "",
        opinion.reasoning,
    ]
    if opinion.references:
        lines += ["", "References:", *opinion.references]
    return "\n".join(lines)


def _opinion_codes(opinion: ClassificationOpinion) -> list[str]:
    digits = [c for c in (opinion.declared_code, opinion.determined_code) if c]
    return list(dict.fromkeys(format_hs(d) for d in digits))


def _title(opinion: ClassificationOpinion) -> str:
    goods = " ".join(opinion.goods_description.split())
    goods = goods if len(goods) <= 200 else goods[:199] + "…"
    return f"Classification opinion: {format_hs(opinion.determined_code)} — {goods}"[:300]


def index_opinion(uow: AbstractUnitOfWork, opinion: ClassificationOpinion) -> KnowledgeDocument | None:
    """Inside the caller's unit of work: the approved opinion as a document of kind classification_opinion
    (created, or brought up to date: sharing follows `opinion.shared`), stored and indexed. None for an
    opinion not approved."""
    if opinion.state != "approved" or opinion.id is None:
        return None
    source = opinion_source(opinion.id)
    reviewer = uow.repo.user(opinion.reviewer_id or 0)
    who = reviewer.username if reviewer is not None else "system"
    now = uow.clock()
    sample = uow.repo.sample(opinion.sample_id)
    substances = identified_substances(sample, approved_only=True) if sample is not None else []
    sharing = SharingLevel.NETWORK if opinion.shared else SharingLevel.LABORATORY
    text = opinion_text(opinion)
    found = uow.quality.find(KnowledgeDocument, source=source)
    if found:
        doc = found[0]
        if doc.sharing != sharing.value or doc.substances != substances:
            doc.sharing, doc.substances = sharing.value, substances
            doc.updated_by, doc.updated_at = who, now
        index_document(uow, doc, text)
        return doc
    year = (opinion.reviewed_at or now).year
    doc = KnowledgeDocument(
        owner_lab=opinion.lab_code,
        kind=DocumentKind.CLASSIFICATION_OPINION.value,
        title=_title(opinion),
        language="ko" if _HANGUL.search(text) else "en",
        year=year,
        author_lab=opinion.lab_code,
        hs_codes=_opinion_codes(opinion),
        substances=substances,
        tags=[],
        licence="",
        sharing=sharing.value,
        current_version=1,
        created_by=who,
        created_at=now,
        updated_by=who,
        updated_at=now,
        source=source,
    )
    uow.quality.add(doc)
    data = text.encode("utf-8")
    stored = uow.files.put(io.BytesIO(data), OPINION_MAX_BYTES)
    assert doc.id is not None and stored.sha256 == hashlib.sha256(data).hexdigest()
    uow.quality.add(
        KnowledgeVersion(
            document_id=doc.id,
            version=1,
            filename=f"opinion-{opinion.id}.txt",
            media_type=OPINION_MEDIA_TYPE,
            size=stored.size,
            sha256=stored.sha256,
            pages=1,
            body=text,
            note="Approved classification opinion",
            uploaded_by=who,
            uploaded_at=now,
        )
    )
    index_document(uow, doc, text)
    return doc


def reindex_knowledge(uow: AbstractUnitOfWork, by: str = "cli") -> int:
    """Rebuild the search index (the command line's `knowledge reindex`); how many documents it holds."""
    with uow:
        uow.act_as(by)
        count = reindex_all(uow)
        uow.commit()
        return count
