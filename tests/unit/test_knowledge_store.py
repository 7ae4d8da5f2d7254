"""The knowledge base's rules and use cases against in-memory fakes: metadata checks, who may change and
share a document, and search through the fake index (the same BM25 formula as the SQL)."""

from __future__ import annotations

import pytest

from customslab.domain.access import Actor, SharingLevel
from customslab.domain.enums import OrgKind, Role
from customslab.domain.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from customslab.domain.knowledge import (
    check_sharing,
    format_hs,
    hs_digits,
    hs_index_text,
    may_manage,
    normalise_hs_codes,
    normalise_language,
    normalise_names,
    refuse_if_opinion,
)
from customslab.domain.model import Organisation
from customslab.services import knowledge
from customslab.services.contract import parse
from customslab.services.knowledge import DocumentCreate, UploadedFile
from customslab.services.knowledge_search import KnowledgeQuery, search_knowledge
from tests.unit.fakes import FakeUnitOfWork

ANALYST = Actor(1, "ana", "LAB", frozenset({Role.ANALYST}))
MANAGER = Actor(2, "max", "LAB", frozenset({Role.LAB_MANAGER}))
ELSEWHERE = Actor(3, "eve", "OTHER", frozenset({Role.ANALYST}))
OFFICER = Actor(4, "ody", "LAB", frozenset({Role.REQUESTER}))


@pytest.mark.parametrize(
    ("raw", "tag"), [("en", "en"), (" KO ", "ko"), ("zh-Hans", "zh-Hans"), ("pt_BR", "pt-BR")]
)
def test_a_language_tag_is_normalised_to_bcp_47(raw: str, tag: str) -> None:
    assert normalise_language(raw) == tag


@pytest.mark.parametrize("raw", ["", "english", "e", "en-", "12", "ko kr"])
def test_a_language_that_is_no_bcp_47_tag_is_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed, match="language tag"):
        normalise_language(raw)


def test_hs_codes_are_checked_written_as_the_nomenclature_writes_them_and_kept_once() -> None:
    assert normalise_hs_codes(["0904.22", "090422", "21", "2103 90 10", ""]) == [
        "0904.22",
        "21",
        "2103.90.10",
    ]
    assert (hs_digits("0904.22"), format_hs("0904")) == ("090422", "0904")
    assert hs_index_text(["0904.22", "21"]) == " 090422 21 "
    for bad in ("9999", "0904.2", "abc", "7701"):
        with pytest.raises(ValidationFailed, match="HS"):
            hs_digits(bad)


def test_substances_and_tags_are_trimmed_and_kept_once_whatever_their_case() -> None:
    assert normalise_names(["  Capsaicin ", "capsaicin", "", "Red  pepper"], "tags") == [
        "Capsaicin",
        "Red pepper",
    ]
    with pytest.raises(ValidationFailed, match="at most"):
        normalise_names([f"t{i}" for i in range(51)], "tags")


def test_only_the_owning_laboratorys_staff_change_a_document_and_only_senior_staff_share_it_widely() -> None:
    may_manage(ANALYST, "LAB", SharingLevel.ADMINISTRATION)
    with pytest.raises(PermissionDenied, match="owns this document"):
        may_manage(ELSEWHERE, "LAB", SharingLevel.LABORATORY)
    with pytest.raises(PermissionDenied):
        may_manage(OFFICER, "LAB", SharingLevel.LABORATORY)
    assert check_sharing(ANALYST, SharingLevel.ADMINISTRATION) is SharingLevel.ADMINISTRATION
    assert check_sharing(MANAGER, SharingLevel.PARTNERS) is SharingLevel.PARTNERS
    with pytest.raises(PermissionDenied, match="beyond the administration"):
        check_sharing(ANALYST, SharingLevel.NETWORK)
    refuse_if_opinion("upload", 1)
    with pytest.raises(InvalidTransition, match="opinion"):
        refuse_if_opinion("opinion:7", 1)


def _uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.repo.add(Organisation("LAB", "Lab", OrgKind.CENTRAL, "KR", administration_code="KR"))
    uow.repo.add(Organisation("OTHER", "Other", OrgKind.CENTRAL, "JP", administration_code="JP"))
    return uow


def _add(uow: FakeUnitOfWork, actor: Actor, title: str, text: str, sharing: str) -> int:
    cmd = parse(
        DocumentCreate,
        {"title": title, "kind": "guidebook", "language": "en", "year": 2024, "sharing": sharing},
    )
    return knowledge.add_document(
        uow, actor, cmd, UploadedFile("a.txt", "text/plain", text.encode(), 1000)
    ).id


def test_a_search_ranks_the_better_match_first_and_hides_another_administrations_private_document() -> None:
    uow = _uow()
    best = _add(uow, MANAGER, "Red pepper", "red pepper, crushed red pepper, pepper paste", "network")
    other = _add(uow, MANAGER, "Rice", "cooked rice and a little pepper", "network")
    private = _add(uow, MANAGER, "Private pepper", "pepper pepper pepper", "laboratory")
    found = search_knowledge(uow, ELSEWHERE, parse(KnowledgeQuery, {"q": "red pepper"}))
    assert [h.id for h in found.hits] == [best, other]
    assert found.hits[0].score > found.hits[1].score > 0
    assert uow.committed == 3
    with pytest.raises(NotFound):
        knowledge.get_document(uow, ELSEWHERE, private)
    assert knowledge.get_document(uow, ANALYST, private).can_edit
