"""The targeting statistics against values worked by hand: Wilson intervals, small counts, suppression."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customslab.domain.targeting import (
    SMALL_N,
    party_key,
    party_name,
    rate,
    revenue_impact,
    subheading_differs,
    suppress_small_cells,
    suppress_table,
    wilson_interval,
)
from customslab.domain.targeting_alerts import importer_token

# Worked by hand with z = 1.959964, z² = 3.841459, z²/2 = 1.920729, z²/4 = 0.960365:
#   centre = (k + z²/2) / (n + z²),  half = z / (n + z²) · √(k(n − k)/n + z²/4)
#
# k = 0, n = 10:   n + z² = 13.841459
#   centre = 1.920729 / 13.841459 = 0.138767
#   half   = 1.959964 · √0.960365 / 13.841459 = 1.959964 · 0.979982 / 13.841459 = 0.138767
#   → (0, 0.277534)
# k = 5, n = 10:
#   centre = 6.920729 / 13.841459 = 0.5
#   half   = 1.959964 · √(2.5 + 0.960365) / 13.841459 = 1.959964 · 1.860206 / 13.841459 = 0.263410
#   → (0.236590, 0.763410)
# k = 81, n = 263: n + z² = 266.841459
#   centre = 82.920729 / 266.841459 = 0.310749
#   k(n − k)/n = 81 · 182 / 263 = 56.053232; + 0.960365 = 57.013597; √ = 7.550735
#   half   = 1.959964 · 7.550735 / 266.841459 = 0.055461
#   → (0.255288, 0.366210)
# k = 10, n = 10 (the mirror of k = 0): → (0.722466, 1)
WORKED = [
    (0, 10, 0.0, 0.2775),
    (5, 10, 0.2366, 0.7634),
    (81, 263, 0.2553, 0.3662),
    (10, 10, 0.7225, 1.0),
]


@pytest.mark.parametrize(("k", "n", "low", "high"), WORKED)
def test_the_wilson_interval_matches_the_values_worked_by_hand(
    k: int, n: int, low: float, high: float
) -> None:
    found = wilson_interval(k, n)
    assert found is not None
    assert found == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


def test_no_case_has_no_interval_and_an_impossible_count_is_refused() -> None:
    assert wilson_interval(0, 0) is None
    assert rate(0, 0) is None
    with pytest.raises(ValueError, match="0 ≤ k ≤ n"):
        wilson_interval(4, 3)


def test_all_of_a_few_cases_differing_is_written_as_a_count_not_as_100_percent() -> None:
    three = rate(3, 3)
    assert three is not None and three.small
    assert three.text() == "3 of 3"
    assert "%" not in three.text()
    assert three.high == 1.0 and three.low == pytest.approx(0.4385, abs=5e-4)


def test_a_rate_over_enough_cases_is_written_with_its_interval_and_n() -> None:
    found = rate(81, 263)
    assert found is not None and not found.small
    assert found.text() == "30.8 % (95 % CI 25.5–36.6 %), n = 263"
    assert rate(0, SMALL_N) is not None and not rate(0, SMALL_N).small  # type: ignore[union-attr]
    assert rate(0, SMALL_N - 1).small  # type: ignore[union-attr]


def test_the_revenue_impact_counts_only_the_cases_whose_difference_is_known() -> None:
    impact = revenue_impact(Decimal("1520.50"), 3, 7)
    assert (impact.total, impact.known, impact.cases, impact.complete) == (Decimal("1520.50"), 3, 7, False)
    assert revenue_impact(Decimal("0"), 0, 0).complete
    with pytest.raises(ValueError, match="between 0 and the cases"):
        revenue_impact(Decimal("1"), 4, 3)


@pytest.mark.parametrize(
    ("declared", "determined", "differs"),
    [
        ("090421", "090421", False),
        ("0904211000", "090421", False),  # national digits are not compared
        ("090421", "090422", True),
        ("090421", "0904", False),  # decided only to the heading, which agrees
        ("090421", "2103", True),
    ],
)
def test_a_determination_differs_when_its_subheading_does(
    declared: str, determined: str, differs: bool
) -> None:
    assert subheading_differs(declared, determined) is differs


def test_a_lone_small_cell_takes_the_next_smallest_with_it() -> None:
    # The total (2 + 5 + 9 + 40) is published: hiding only the 2 would leave it recoverable.
    assert suppress_small_cells({"CN": 2, "VN": 5, "TH": 9, "US": 40}, 3) == {"CN", "VN"}
    assert suppress_small_cells({"CN": 2, "VN": 1, "US": 40}, 3) == {"CN", "VN"}
    assert suppress_small_cells({"CN": 3, "US": 40}, 3) == set()


def test_a_two_way_table_hides_complementary_cells_in_rows_and_columns() -> None:
    counts = {("0904", "CN"): 2, ("0904", "VN"): 8, ("2208", "CN"): 6, ("2208", "VN"): 30}
    hidden = suppress_table(counts, 3)
    # Row 0904 and column CN would each show all but the 2; the smallest shown of each goes too, and the
    # columns and rows that then hold one hidden cell are completed the same way.
    assert ("0904", "CN") in hidden
    for axis in (0, 1):
        for line in {key[axis] for key in counts}:
            assert len([k for k in hidden if k[axis] == line]) != 1


def test_the_figures_and_the_alerts_take_two_spellings_of_one_importer_as_one() -> None:
    assert party_name("  Hanbit \t Trading ") == "Hanbit Trading"
    assert party_key("Hanbit Trading") == party_key("HANBIT  TRADING") == party_key("Ｈａｎｂｉｔ Trading")
    assert importer_token("Hanbit Trading") == importer_token("HANBIT  TRADING")
    assert party_key("Hanbit Trading") != party_key("Hanbit Tradings")
