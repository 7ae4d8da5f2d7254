"""The analysis behind knowledge search: Korean words found through their particles, English words
through their stems, HS codes through their headings, and snippets that show why a document matched."""

from __future__ import annotations

import math

from customslab.knowledge.text import (
    MAX_TERM_LENGTH,
    idf,
    index_terms,
    query_terms,
    snippet,
    term_count,
)


def _highlighted(segments: list[tuple[str, bool]]) -> list[str]:
    return [text for text, marked in segments if marked]


def test_a_korean_word_with_a_particle_is_found_by_its_stem() -> None:
    assert query_terms("고추") == ["고추"]
    assert set(query_terms("고추")) <= set(index_terms("고추를 건조한 것"))
    assert {"고추", "추를"} <= set(index_terms("고추를"))


def test_a_one_syllable_korean_word_is_found_through_its_particle() -> None:
    assert query_terms("쌀") == ["쌀"]
    assert "쌀" in index_terms("쌀을 수입하였다")


def test_a_two_syllable_query_does_not_match_on_a_lone_syllable() -> None:
    assert query_terms("고추장") == ["고추", "추장"]
    assert "고" not in query_terms("고추장")


def test_japanese_and_chinese_runs_are_split_into_bigrams() -> None:
    assert {"唐辛", "辛子"} <= set(index_terms("唐辛子を乾燥した"))
    assert query_terms("唐辛子") == ["唐辛", "辛子"]


def test_english_words_are_found_by_their_stem() -> None:
    assert query_terms("Peppers") == ["pepper"]
    assert index_terms("dried peppers and a pepper")["pepper"] == 2


def test_common_english_words_are_neither_indexed_nor_asked_for() -> None:
    assert "the" not in index_terms("the analysis of the sample")
    assert query_terms("the of and") == []


def test_an_hs_code_is_found_by_itself_its_heading_and_its_subheading() -> None:
    terms = index_terms("classified in 0904.22.10 (HS 2103.90)")
    assert {"0904.22.10", "0904", "090422", "09042210", "2103.90", "2103", "210390"} <= set(terms)
    assert query_terms("0904.22") == ["0904.22", "0904", "090422"]


def test_a_decimal_number_is_not_taken_for_an_hs_code() -> None:
    terms = index_terms("the value was 12.5 and 1.0904.22")
    assert "0904.22" not in terms
    assert "12" in terms


def test_full_width_digits_and_letters_are_folded_before_analysis() -> None:
    assert set(index_terms("ＨＳ ０９０４.２２")) >= {"hs", "0904.22", "0904"}


def test_terms_are_counted_for_bm25_and_overlong_words_are_dropped() -> None:
    terms = index_terms("pepper pepper salt " + "x" * (MAX_TERM_LENGTH + 1))
    assert terms["pepper"] == 2
    assert term_count(terms) == 3
    assert all(len(term) <= MAX_TERM_LENGTH for term in terms)


def test_idf_follows_the_bm25_formula_and_is_never_negative() -> None:
    assert math.isclose(idf(100, 10), math.log(1 + (100 - 10 + 0.5) / (10 + 0.5)))
    assert idf(100, 100) > 0
    assert idf(100, 1) > idf(100, 50)


def test_a_snippet_highlights_english_words_by_stem_and_korean_stems_inside_words() -> None:
    text = "건조한 고추를 분쇄한 것은 dried peppers, ground, of heading 0904.22"
    segments = snippet(text, "고추 pepper 0904")
    assert "".join(s for s, _ in segments) == text
    assert _highlighted(segments) == ["고추", "peppers", "0904.22"]


def test_a_snippet_shows_the_window_with_most_matches_of_a_long_text() -> None:
    filler = "Lorem ipsum dolor sit amet. " * 2_500
    text = filler + "A lone pepper. " + filler + "Pepper, peppers and more peppered pepper. " + filler
    segments = snippet(text, "pepper", width=120)
    shown = "".join(s for s, _ in segments)
    assert segments[0] == ("…", False) and segments[-1] == ("…", False)
    assert shown.strip("…") in text
    assert len(_highlighted(segments)) >= 4
    assert len(shown) <= 120 + 2


def test_a_snippet_without_a_match_is_the_start_of_the_text() -> None:
    segments = snippet("A report about rice. " * 50, "고추")
    assert not _highlighted(segments)
    assert "".join(s for s, _ in segments).startswith("A report about rice.")


def test_a_snippet_of_an_empty_text_is_empty() -> None:
    assert snippet("", "pepper") == []


def test_a_snippet_highlights_words_whatever_their_case_and_inflection_but_not_word_middles() -> None:
    segments = snippet("Dried PEPPERS, a peppered sauce, and bell-pepper; not a salt-peppermill", "pepper")
    assert _highlighted(segments) == ["PEPPERS", "peppered", "pepper"]


def test_a_snippet_highlights_overlapping_korean_bigrams_as_one_span() -> None:
    assert _highlighted(snippet("고추장을 담갔다", "고추장")) == ["고추장"]
