"""Each pair of conflicting actions fired at the same instant from two threads against a real server,
on PostgreSQL and on SQLite: exactly one succeeds, the other gets a 409 that says what happened, and
the record and its audit trail are consistent.

Whether the two requests overlap inside the database or the second starts after the first committed
depends on scheduling; either way the answer must be one success and one 409 (the interleaved case is
forced deterministically in test_concurrency.py).
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from customslab.domain.audit import verify_chain
from tests.factories import make_network
from tests.integration.races import RACES, Http
from tests.integration.test_api_story import _client, server  # noqa: F401  (fixture)

Caller = tuple[httpx.Client, Http]


def _fire_together(first: Caller, second: Caller) -> list[httpx.Response]:
    start = threading.Barrier(2)
    answers: list[httpx.Response | None] = [None, None]

    def fire(slot: int, client: httpx.Client, call: Http) -> None:
        request = client.build_request("POST", call.path, json=call.body)
        start.wait()
        answers[slot] = client.send(request)

    threads = [threading.Thread(target=fire, args=(i, *pair)) for i, pair in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(a is not None for a in answers)
    return [a for a in answers if a is not None]


@pytest.mark.parametrize("race_name", list(RACES))
def test_two_threads_one_success_and_one_409(race_name: str, server: tuple[str, Any]) -> None:  # noqa: F811
    base, uow_factory = server
    net = make_network(uow_factory)
    race = RACES[race_name](uow_factory, net)
    with uow_factory() as uow:
        before = sum(1 for _ in uow.repo.audit_chain())
    clients = {who: _client(base, net, who) for who in {race.first_http.who, race.second_http.who}}
    # Two sessions even for one person: a double click, or two tabs.
    other = _client(base, net, race.second_http.who)
    answers = _fire_together((clients[race.first_http.who], race.first_http), (other, race.second_http))
    codes = sorted(a.status_code for a in answers)
    assert codes[0] in (200, 201) and codes[1] == 409, [(a.status_code, a.text) for a in answers]
    loser = next(a for a in answers if a.status_code == 409)
    assert loser.json()["error"], loser.text
    race.check(uow_factory)
    with uow_factory() as uow:
        chain = list(uow.repo.audit_chain())
    assert verify_chain(chain).ok
    assert len(chain) > before
