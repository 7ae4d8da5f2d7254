"""Small-cell suppression of the network figures: no hidden cell can be recovered by subtraction."""

from __future__ import annotations

from collections import Counter

from customslab.services.dashboard import SMALL_CELL, _median, _suppressed

ADMIN_OF = {"A1": "A", "A2": "A", "A3": "A", "B1": "B", "B2": "B", "C1": "C"}


def test_a_lone_small_cell_of_another_administration_takes_the_next_smallest_laboratory_with_it():
    cases = Counter({"A1": 1, "A2": 7, "A3": 4, "B1": 9, "B2": 12, "C1": 5})
    hidden = _suppressed(sorted(cases), ADMIN_OF, "B", cases)
    assert hidden == {"A1", "A3"}, "A1 is small; A3 is the smallest of the rest, so A's row gives a sum only"


def test_the_viewers_own_administration_is_never_suppressed():
    cases = Counter({"A1": 1, "A2": 1, "B1": 1, "B2": 2})
    assert _suppressed(sorted(cases), ADMIN_OF, "B", cases) == {"A1", "A2"}


def test_two_small_cells_hide_each_other_and_a_lone_laboratory_stays_hidden_alone():
    cases = Counter({"A1": 2, "A2": 1, "A3": 30, "C1": 1})
    assert _suppressed(sorted(cases), ADMIN_OF, "B", cases) == {"A1", "A2", "C1"}


def test_another_administrations_median_needs_enough_samples():
    assert _median([1.0] * (SMALL_CELL - 1), exact=False) is None
    assert _median([1.0, 2.0, 9.0], exact=False) == 2.0
    assert _median([4.0], exact=True) == 4.0
