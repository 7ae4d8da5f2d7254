"""The demo seeding is a service: it runs on whatever unit of work it is given, here the in-memory fakes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from customslab.domain.enums import State
from customslab.domain.model import Sample
from customslab.services.demo import seed_demo
from tests.unit.fakes import FakeQualityRepository, FakeRepository, FakeUnitOfWork


def test_the_demo_network_loads_through_the_unit_of_work_it_is_given_and_only_once() -> None:
    repo, quality = FakeRepository(), FakeQualityRepository()
    clocks_seen: list[datetime] = []

    def make_uow(clock: Callable[[], datetime]) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(repo, quality=quality)
        uow.clock = clock
        clocks_seen.append(clock())
        return uow

    assert seed_demo(make_uow, n_requests=40) is True
    states = {s.state for s in repo.objects if isinstance(s, Sample)}
    assert {State.RECEIVED, State.APPROVED} <= states
    # The loader backdates the work through the clock it passes, so turnaround times look real.
    assert min(clocks_seen) < max(clocks_seen)
    assert seed_demo(make_uow, n_requests=40) is False
