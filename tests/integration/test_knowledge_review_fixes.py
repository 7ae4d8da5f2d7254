"""The knowledge base's search on SQLite after review: HS codes nest (a chapter's guidebook bears on its
headings), a sample's substances match as whole names and by the register's normalised name, and the
ranking statistics count only what the searcher sees."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from customslab.adapters.uow import SqlAlchemyUnitOfWork
from customslab.domain.enums import ResultKind
from customslab.domain.model import Result
from customslab.services.contract import parse
from customslab.services.knowledge_search import KnowledgeQuery, related_to_sample, search_knowledge
from tests.factories import Network, assigned_test, received_sample
from tests.integration.knowledge_support import add

Factory = Callable[[], SqlAlchemyUnitOfWork]


def _word() -> str:
    """A word no other test's document holds (letters only, so that it is one index term)."""
    return "zq" + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:10])


def test_a_chapter_or_heading_guidebook_is_found_by_a_code_beneath_it_and_not_by_a_sibling(
    kb: tuple[Factory, Network],
) -> None:
    factory, net = kb
    manager = net["central_manager"]
    chapter = add(factory, manager, "Chapter 9", "Coffee, tea, spices.", hs_codes=["09"]).id
    heading = add(factory, manager, "Pepper", "Pepper of the genus Piper.", hs_codes=["0904"]).id
    line = add(factory, manager, "Capsicum", "Dried capsicum.", hs_codes=["0904.22.10"]).id
    sibling = add(factory, manager, "Ginger", "Ginger and saffron.", hs_codes=["0910"]).id

    def found(hs: str) -> set[int]:
        query = parse(KnowledgeQuery, {"hs": hs, "lab": net.central, "limit": 50})
        return {h.id for h in search_knowledge(factory(), net["analyst"], query).hits}

    assert found("0904.22") == {chapter, heading, line}
    assert found("0904221000") == {chapter, heading, line}
    assert found("09") == {chapter, heading, line, sibling}
    assert found("0910") == {chapter, sibling}


def test_hidden_documents_do_not_change_the_score_of_a_visible_one(kb: tuple[Factory, Network]) -> None:
    factory, net = kb
    word = _word()
    seen = add(factory, net["central_manager"], "Shared", f"{word} and rice", sharing="network").id
    query = parse(KnowledgeQuery, {"q": word})
    before = search_knowledge(factory(), net["rcl_manager"], query).hits
    for _ in range(3):
        add(factory, net["central_manager"], "Private", f"{word} {word} {word} in a long private note")
    after = search_knowledge(factory(), net["rcl_manager"], query).hits
    assert [(h.id, h.score) for h in after] == [(h.id, h.score) for h in before] == [(seen, before[0].score)]
    assert len(search_knowledge(factory(), net["central_manager"], query).hits) == 4


def _sample_identifying(factory: Factory, net: Network, *names: str) -> int:
    sample = received_sample(factory, net, declared_hs="2918.14", goods_description="Powder")
    test = assigned_test(factory, net, sample.id, determination="identity (GC-MS)", method_ref="GC-MS-7")
    with factory() as uow:
        uow.act_as("test-setup")
        found = uow.repo.test(test.id)
        assert found is not None
        for name in names:
            found.results.append(
                Result(
                    "identity",
                    None,
                    "",
                    net["analyst"].user_id,
                    datetime.now(UTC),
                    kind=ResultKind.IDENTITY,
                    text_value=name,
                )
            )
        uow.commit()
    return sample.id


def test_a_sample_finds_documents_on_its_substances_by_whole_name_not_by_a_common_word(
    kb: tuple[Factory, Network],
) -> None:
    factory, net = kb
    m = net["central_manager"]
    tagged = add(factory, m, "Juice method", "A method note.", substances=["citric acid"]).id
    texted = add(factory, m, "Juices", "The citric acid content of juices.").id
    cocaine_tagged = add(factory, m, "Screening", "Alkaloid screening.", substances=["(−)-Cocaine"]).id
    cocaine_texted = add(factory, m, "Coca", "Cocaine in coca leaves.").id
    acid = add(factory, m, "Acids", "Sulfuric acid and hydrochloric acid in sodium salts.").id
    salts = add(factory, m, "Salts", "Hydrochloride salts of amines.").id
    sample_id = _sample_identifying(factory, net, "Citric acid", "Cocaine hydrochloride")
    related = related_to_sample(factory(), net["analyst"], sample_id, limit=50)
    ids = {d.id for d in related.documents}
    assert {tagged, texted, cocaine_tagged, cocaine_texted} <= ids
    assert not {acid, salts} & ids
