"""Knowledge search on both databases: the known document first for English and Korean queries, and
the same ranking, scores included, on SQLite and PostgreSQL (BM25 computed in SQL from the same
parameters)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from customslab.services.contract import parse
from customslab.services.knowledge_search import KnowledgeQuery, KnowledgeResults, search_knowledge
from tests.integration.knowledge_support import QUERIES, Corpus, corpus_on


@pytest.fixture(scope="module")
def sqlite_corpus(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[Corpus]:
    yield from corpus_on("sqlite", tmp_path_factory.mktemp("kb-sqlite"), shared_data)


@pytest.fixture(scope="module")
def pg_corpus(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[Corpus]:
    yield from corpus_on("postgresql", tmp_path_factory.mktemp("kb-pg"), shared_data)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def corpus(request: pytest.FixtureRequest) -> Corpus:
    found: Corpus = request.getfixturevalue(f"{'pg' if request.param == 'postgresql' else 'sqlite'}_corpus")
    return found


def search(corpus: Corpus, q: str, who: str = "analyst", **filters: object) -> KnowledgeResults:
    query = parse(KnowledgeQuery, {"q": q, **filters})
    return search_knowledge(corpus.factory(), corpus.net[who], query)


def ranking(corpus: Corpus, q: str) -> list[tuple[str, float]]:
    return [(corpus.key_of(h.id), h.score) for h in search(corpus, q).hits]


def test_typical_english_and_korean_queries_rank_the_known_document_first(corpus: Corpus) -> None:
    wrong = {}
    for q, expected in QUERIES:
        found = ranking(corpus, q)
        if not found or found[0][0] != expected:
            wrong[q] = (expected, found[:3])
    assert not wrong, wrong


def test_a_korean_word_with_a_particle_is_found_by_its_stem_and_highlighted_inside_it(corpus: Corpus) -> None:
    found = search(corpus, "고추")
    assert [corpus.key_of(h.id) for h in found.hits] == ["pepper_ko"]  # the rice guide has no 고추
    marked = [s.text for s in found.hits[0].snippet if s.highlighted]
    assert marked and set(marked) == {"고추"}
    text = "".join(s.text for s in found.hits[0].snippet)
    assert "고추를" in text or "고추장" in text


def test_the_english_snippet_highlights_the_stemmed_words_of_the_query(corpus: Corpus) -> None:
    hit = search(corpus, "red pepper preparations").hits[0]
    marked = {s.text.lower() for s in hit.snippet if s.highlighted}
    assert {"pepper", "preparation"} <= marked | {m.rstrip("s") for m in marked}


def test_filters_narrow_the_ranked_hits(corpus: Corpus) -> None:
    assert [corpus.key_of(h.id) for h in search(corpus, "pepper", hs="0904.22").hits] == ["pepper_en"]
    assert {corpus.key_of(h.id) for h in search(corpus, "", hs="09").hits} == {"pepper_en", "pepper_ko"}
    by_language = {corpus.key_of(h.id) for h in search(corpus, "", language="ko").hits}
    assert by_language == {"pepper_ko", "rice_ko"}
    assert {corpus.key_of(h.id) for h in search(corpus, "laboratory", year=2023).hits} == {"kashiwa2023"}
    seminar = {corpus.key_of(h.id) for h in search(corpus, "workshop", kind="seminar_paper").hits}
    assert seminar and all(
        k in ("workshop2013", "busan2018", "newsletter62", "global2021", "kashiwa2023") for k in seminar
    )
    assert search(corpus, "workshop", lab="NO-SUCH-LAB").total == 0
    assert search(corpus, "zzzqqqxxx").total == 0


def test_a_long_result_list_is_paged_in_a_stable_order(corpus: Corpus) -> None:
    whole = search(corpus, "customs laboratory", limit=50)
    assert whole.total == len(whole.hits) >= 5
    paged = [
        h.id
        for offset in range(0, whole.total, 2)
        for h in search(corpus, "customs laboratory", limit=2, offset=offset).hits
    ]
    assert paged == [h.id for h in whole.hits]
    scores = [h.score for h in whole.hits]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.postgres
def test_sqlite_and_postgresql_give_the_same_ranking_and_scores(
    sqlite_corpus: Corpus, pg_corpus: Corpus
) -> None:
    for q, _ in [*QUERIES, ("customs laboratory", ""), ("analysis", "")]:
        assert ranking(sqlite_corpus, q) == ranking(pg_corpus, q), q
