"""Optimistic concurrency: two people acting on the same record at once, exactly one succeeds.

The first test interleaves the two use cases deterministically: the second runs to its commit in the
middle of the first (from the first one's clock, which every use case reads after loading its record
and before changing it), so the first acts on what it read before the second committed. It must get a
Conflict (409) that names who changed the record, and nothing of it may be written. The HTTP test
with two threads against a real server is in test_concurrency_http.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.domain.audit import verify_chain
from customslab.domain.errors import Conflict
from tests.factories import make_network
from tests.integration.races import RACES


@pytest.mark.parametrize("race_name", list(RACES))
def test_the_second_of_two_interleaved_actions_gets_a_conflict_naming_the_winner(
    race_name: str, database: Database, tmp_path: Path
) -> None:
    files = LocalFileStore(tmp_path / "files")

    def factory(clock: Callable[[], datetime] | None = None) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(database, files, clock=clock or (lambda: datetime.now(UTC)))

    net = make_network(factory)
    race = RACES[race_name](factory, net)
    with factory() as uow:
        entries_before = sum(1 for _ in uow.repo.audit_chain())

    rival: list[Any] = []

    def clock_that_lets_the_rival_in() -> datetime:
        if not rival:
            rival.append(race.second(factory()))
        return datetime.now(UTC)

    with pytest.raises(Conflict) as refused:
        race.first(factory(clock_that_lets_the_rival_in))
    assert rival, "the rival action ran and succeeded"
    assert race.second_actor in refused.value.message
    assert "nothing" in refused.value.message
    race.check(factory)
    with factory() as uow:
        chain = list(uow.repo.audit_chain())
    assert verify_chain(chain).ok
    assert len(chain) > entries_before
    # No entry from the losing action: every new entry is the rival's, none is written twice.
    assert {e.actor for e in chain[entries_before:]} == {race.second_actor}


def test_a_conflict_with_another_laboratory_does_not_name_its_staff(
    database: Database, tmp_path: Path
) -> None:
    """Two participants of one PT round submit at the same moment: the round moved, so one must retry,
    but a participant may not learn who the other participants are (ISO/IEC 17043 confidentiality)."""
    from customslab.services import proficiency
    from customslab.services.proficiency import PtResultCreate, PtRoundCreate

    files = LocalFileStore(tmp_path / "files")

    def factory(clock: Callable[[], datetime] | None = None) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(database, files, clock=clock or (lambda: datetime.now(UTC)))

    net = make_network(factory)
    created = proficiency.create_round(
        factory(),
        net["coordinator"],
        PtRoundCreate.model_validate(
            {
                "title": "Alcoholic strength",
                "participants": [net.central, net.local],
                "measurands": [{"measurand": "alcohol_strength", "unit": "%vol"}],
            }
        ),
    )
    result = PtResultCreate(measurand="alcohol_strength", value="40.1")
    rival: list[Any] = []

    def clock() -> datetime:
        if not rival:
            rival.append(proficiency.submit_result(factory(), net["analyst"], created.id, result))
        return datetime.now(UTC)

    with pytest.raises(Conflict) as refused:
        proficiency.submit_result(factory(clock), net["local_manager"], created.id, result)
    assert rival
    assert "another organisation" in refused.value.message
    assert net["analyst"].username not in refused.value.message
    # Retrying is all it takes: the local laboratory's result goes in.
    proficiency.submit_result(factory(), net["local_manager"], created.id, result)
