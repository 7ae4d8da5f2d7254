"""The knowledge base after review: who may change a widely shared document, how HS codes nest in a
filter, what a sample's substances match, how far a hit's snippet reads, what the ranking statistics
count. Against the in-memory fakes (the SQL index is checked in tests/integration)."""

from __future__ import annotations

import pytest

from customslab.domain.access import Actor
from customslab.domain.enums import OrgKind, Role
from customslab.domain.errors import PermissionDenied, ValidationFailed
from customslab.domain.model import Organisation
from customslab.services import knowledge
from customslab.services.contract import parse
from customslab.services.knowledge import DocumentCreate, DocumentEdit, UploadedFile, VersionCreate
from customslab.services.knowledge_search import KnowledgeQuery, search_knowledge
from tests.unit.fakes import FakeUnitOfWork

ANALYST = Actor(1, "ana", "LAB", frozenset({Role.ANALYST}))
MANAGER = Actor(2, "max", "LAB", frozenset({Role.LAB_MANAGER}))
ELSEWHERE = Actor(3, "eve", "OTHER", frozenset({Role.ANALYST}))


def _uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.repo.add(Organisation("LAB", "Lab", OrgKind.CENTRAL, "KR", administration_code="KR"))
    uow.repo.add(Organisation("OTHER", "Other", OrgKind.CENTRAL, "JP", administration_code="JP"))
    return uow


def _file(text: str = "red pepper") -> UploadedFile:
    return UploadedFile("a.txt", "text/plain", text.encode(), 10_000_000)


def _add(uow: FakeUnitOfWork, actor: Actor, sharing: str, text: str = "red pepper", **more: object) -> int:
    form = {"title": "Doc", "kind": "guidebook", "language": "en", "year": 2024, "sharing": sharing}
    form["licence"] = "CC-BY-4.0"
    return knowledge.add_document(uow, actor, parse(DocumentCreate, form | more), _file(text)).id


@pytest.mark.parametrize("sharing", ["network", "partners"])
def test_an_analyst_may_neither_version_nor_edit_a_document_shared_beyond_the_administration(
    sharing: str,
) -> None:
    uow = _uow()
    doc = _add(uow, MANAGER, sharing)
    assert knowledge.get_document(uow, ANALYST, doc).can_edit is False
    with pytest.raises(PermissionDenied, match="beyond the administration"):
        knowledge.add_version(uow, ANALYST, doc, VersionCreate(), _file("black pepper"))
    with pytest.raises(PermissionDenied, match="beyond the administration"):
        knowledge.edit_metadata(uow, ANALYST, doc, parse(DocumentEdit, {"row_version": 1, "title": "X"}))
    seen = knowledge.get_document(uow, MANAGER, doc)
    assert (seen.title, seen.current_version, seen.can_edit) == ("Doc", 1, True)


def test_an_analyst_still_versions_and_edits_a_document_shared_within_the_administration() -> None:
    uow = _uow()
    doc = _add(uow, MANAGER, "administration")
    assert (
        knowledge.add_version(uow, ANALYST, doc, VersionCreate(), _file("black pepper")).current_version == 2
    )
    edited = knowledge.edit_metadata(uow, ANALYST, doc, parse(DocumentEdit, {"row_version": 1, "title": "X"}))
    assert edited.title == "X" and edited.can_edit


def test_a_document_tagged_with_a_chapter_or_heading_is_found_by_a_code_beneath_it() -> None:
    uow = _uow()
    chapter = _add(uow, MANAGER, "network", hs_codes=["09"])
    heading = _add(uow, MANAGER, "network", hs_codes=["0904"])
    line = _add(uow, MANAGER, "network", hs_codes=["0904.22.10"])
    other = _add(uow, MANAGER, "network", hs_codes=["0910", "2103"])

    def found(hs: str) -> set[int]:
        return {h.id for h in search_knowledge(uow, ELSEWHERE, parse(KnowledgeQuery, {"hs": hs})).hits}

    assert found("0904.22") == {chapter, heading, line}
    assert found("0904") == {chapter, heading, line}
    assert found("09") == {chapter, heading, line, other}
    assert found("0910") == {chapter, other}


def test_hidden_documents_do_not_change_the_score_of_a_visible_one() -> None:
    alone, crowded = _uow(), _uow()
    seen = _add(alone, MANAGER, "network", "red pepper and rice")
    _add(crowded, MANAGER, "network", "red pepper and rice")
    for _ in range(3):
        _add(crowded, MANAGER, "laboratory", "pepper pepper pepper, a long private note on pepper")
    query = parse(KnowledgeQuery, {"q": "pepper"})
    score = search_knowledge(alone, ELSEWHERE, query).hits[0].score
    assert [(h.id, h.score) for h in search_knowledge(crowded, ELSEWHERE, query).hits] == [(seen, score)]


def test_a_page_of_more_than_fifty_hits_is_refused_with_the_reason() -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse(KnowledgeQuery, {"q": "pepper", "limit": 51})
    assert refused.value.field == "limit"
    assert parse(KnowledgeQuery, {"limit": 50}).limit == 50
