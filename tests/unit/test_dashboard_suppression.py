"""Small-cell suppression of the network figures: no hidden cell can be recovered by subtraction."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from customslab.domain.access import Actor, Directory
from customslab.domain.enums import Role, State
from customslab.services.dashboard import SMALL_CELL, _median, _suppressed, network_dashboard
from customslab.services.ports import DashboardRow

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


class _Figures:
    """Just the reads of the network dashboard: two laboratories' samples and their referrals."""

    def __init__(self, admin_of: dict[str, str], cases: Counter[str], pairs: list[tuple[str, str]]) -> None:
        moment = datetime(2026, 3, 2, tzinfo=UTC)
        self.repo = self
        self.clock = lambda: moment
        self._admin_of, self._pairs = admin_of, pairs
        self._rows = [
            DashboardRow(i, lab, State.RECEIVED, moment, None, moment.date(), "220840", "JM")
            for i, lab in enumerate(cases.elements(), start=1)
        ]

    def __enter__(self) -> _Figures:
        return self

    def __exit__(self, *args: object) -> None:
        pass

    def directory(self) -> Directory:
        return Directory(self._admin_of, dict.fromkeys(self._admin_of))

    def administrations(self) -> list[object]:
        return []

    def dashboard_rows(self, lab_codes: object) -> list[DashboardRow]:
        return self._rows

    def referral_pairs(self) -> list[tuple[str, str]]:
        return self._pairs

    def released_results(self, sample_ids: object) -> list[object]:
        return []


def test_a_laboratorys_referred_out_figure_is_hidden_when_one_of_its_referral_flows_is() -> None:
    # B1 referred 4 samples to B2 (shown) and 2 to B3 (hidden): its total of 6 would give the 2 away.
    cases = Counter({"A1": 9, "B1": 9, "B2": 9, "B3": 9})
    pairs = [("B1", "B2")] * 4 + [("B1", "B3")] * (SMALL_CELL - 1) + [("B2", "B3")] * 4
    uow = _Figures(ADMIN_OF | {"B3": "B"}, cases, pairs)
    viewer = Actor(1, "coordinator", "A1", frozenset({Role.NETWORK_COORDINATOR}))
    figures = network_dashboard(uow, viewer)  # type: ignore[arg-type]
    out = dict(zip(figures.labs, figures.referred_out_per_lab, strict=True))
    assert {(f.from_, f.to) for f in figures.referrals} == {("B1", "B2"), ("B2", "B3")}
    assert out["B1"] is None, "B1's total minus the flow shown would be the flow hidden"
    assert out["B2"] == 4 and out["A1"] == 0
