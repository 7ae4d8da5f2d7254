"""HS codes written without dots (0904221000, 090422) or in the Korean HSK form (0904.22-1000) are found
through their heading and subheading, in documents and in queries alike."""

from __future__ import annotations

import pytest

from customslab.knowledge.text import index_terms, query_terms, snippet


@pytest.mark.parametrize(
    ("written", "terms"),
    [
        ("0904221000", {"0904221000", "090422", "0904"}),
        ("09042210", {"09042210", "090422", "0904"}),
        ("090422", {"090422", "0904"}),
        ("0904.22-1000", {"0904.22-1000", "0904221000", "090422", "0904"}),
    ],
)
def test_an_hs_code_without_dots_or_in_the_hsk_form_is_found_by_its_heading_and_subheading(
    written: str, terms: set[str]
) -> None:
    assert terms <= set(index_terms(f"classified in {written} as dried pepper"))
    assert terms <= set(query_terms(written))
    assert set(query_terms("0904.22")) & set(index_terms(written)) >= {"0904", "090422"}


def test_a_year_and_numbers_of_other_lengths_stay_plain_numbers() -> None:
    assert set(index_terms("in 2024, lot 1234567 and 123456789")) == {"2024", "1234567", "123456789", "lot"}


def test_an_all_digit_code_before_a_korean_particle_is_still_a_code() -> None:
    assert {"0904221000", "0904", "090422"} <= set(index_terms("0904221000호로 분류"))


def test_the_snippet_highlights_a_code_written_without_dots() -> None:
    segments = snippet("dried peppers of subheading 090422 and 0904.22-1000 in the tariff", "0904")
    assert [t for t, marked in segments if marked] == ["090422", "0904.22-1000"]


def test_a_match_deep_inside_a_very_long_text_is_shown_with_ellipses_on_both_sides() -> None:
    filler = "plain words of a long report. " * 40_000  # 1.2 million characters
    segments = snippet(f"{filler}the dried peppers were ground. {filler}", "pepper")
    assert [t for t, marked in segments if marked] == ["peppers"]
    assert segments[0] == ("…", False) and segments[-1] == ("…", False)
    assert sum(len(t) for t, _ in segments) < 300
