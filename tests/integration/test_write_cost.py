"""Writes at constant cost: registering, receiving, entering a result and approving a classification
opinion on a request that holds 500 samples issue no more SQL statements, and load no more records, than
on a request that holds one.

Statements are counted on the engine (`before_cursor_execute`), records on the session factory
(`loaded_as_persistent`); nothing is timed. The 500 samples are written in bulk, each received with two
tests and a result on each, and a draft opinion, as a seizure's items are: loading them would show in
both counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event

from customslab.adapters import orm
from customslab.adapters.uow import Database, SqlAlchemyUnitOfWork
from customslab.domain.enums import CustodyKind, State
from customslab.services import analysis, cases, classification
from customslab.services.analysis import TestCreate
from customslab.services.cases import SampleCreate, SampleReceipt
from customslab.services.classification import OpinionCreate
from customslab.services.result_entry import ResultCreate
from tests.factories import Network, make_network, request_command, rum_result

SEEDED = 500
REASONING = "Rum of 40 %vol, as declared: heading 22.08 by the alcoholic strength measured."


@dataclass
class Cost:
    statements: int = 0
    loaded: int = 0
    sql: list[str] = field(default_factory=list)


@contextmanager
def counted(database: Database) -> Iterator[Cost]:
    """The statements sent to the database and the records loaded into sessions while the block runs."""
    cost = Cost()

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        cost.statements += 1
        cost.sql.append(sql.split("\n")[0][:120])

    def loaded(_session: Any, _instance: Any) -> None:
        cost.loaded += 1

    event.listen(database.engine, "before_cursor_execute", statement)
    event.listen(database.sessions, "loaded_as_persistent", loaded)
    try:
        yield cost
    finally:
        event.remove(database.engine, "before_cursor_execute", statement)
        event.remove(database.sessions, "loaded_as_persistent", loaded)


def _request_with_a_test(
    uow_factory: Callable[[], SqlAlchemyUnitOfWork], net: Network
) -> tuple[int, int, int]:
    """A request to the central laboratory with one received sample and a test for the analyst: the
    request's, the sample's and the test's ids."""
    manager = net["central_manager"]
    req = cases.file_request(uow_factory(), net["officer"], request_command(net, lab_code=net.central))
    sample = cases.register_sample(uow_factory(), manager, req.id, SampleCreate(quantity="1", unit="L"))
    cases.receive_sample(uow_factory(), manager, sample.id, SampleReceipt())
    test = analysis.add_test(
        uow_factory(),
        manager,
        sample.id,
        TestCreate(
            determination="alcoholic strength", method_ref="EU 2870/2000", analyst_id=net["analyst"].user_id
        ),
    )
    return req.id, sample.id, test.id


def _seed_samples(database: Database, net: Network, request_id: int, count: int) -> None:
    """`count` received samples on the request, each with its custody events, two tests and a result on
    each, and the analyst's draft classification opinion, written in bulk (they are the setting, not what
    is measured)."""
    now = datetime.now(UTC)
    user = net["central_manager"].user_id
    analyst = net["analyst"].user_id
    with database.engine.begin() as conn:
        first = (
            conn.execute(
                orm.samples.insert().returning(orm.samples.c.id, sort_by_parameter_order=True),
                [
                    {
                        "lab_sample_id": f"{net.central}-SEED-{request_id}-{i:05d}",
                        "request_id": request_id,
                        "lab_code": net.central,
                        "description": f"Item {i} of the seizure",
                        "quantity": "1",
                        "unit": "L",
                        "state": State.IN_ANALYSIS,
                        "registered_at": now,
                        "received_at": now,
                    }
                    for i in range(count)
                ],
            )
            .scalars()
            .all()
        )
        conn.execute(
            orm.custody_events.insert(),
            [
                {"sample_id": sid, "kind": kind, "at": now, "by_user_id": user, "to_party": net.central}
                for sid in first
                for kind in (CustodyKind.REGISTERED, CustodyKind.RECEIPT)
            ],
        )
        tests = (
            conn.execute(
                orm.tests.insert().returning(orm.tests.c.id, sort_by_parameter_order=True),
                [
                    {
                        "sample_id": sid,
                        "determination": what,
                        "method_ref": "in-house",
                        "state": State.IN_ANALYSIS,
                        "created_at": now,
                        "analyst_id": analyst,
                    }
                    for sid in first
                    for what in ("alcoholic strength", "density")
                ],
            )
            .scalars()
            .all()
        )
        conn.execute(
            orm.results.insert(),
            [
                {
                    "test_id": tid,
                    "name": "alcohol_strength",
                    "value": "40.0",
                    "unit": "%vol",
                    "entered_by": analyst,
                    "entered_at": now,
                }
                for tid in tests
            ],
        )
        conn.execute(
            orm.classification_opinions.insert(),
            [
                {
                    "sample_id": sid,
                    "lab_code": net.central,
                    "declared_code": "220840",
                    "determined_code": "220840",
                    "reasoning": REASONING,
                    "references": [],
                    "evaluation": {},
                    "goods_description": "Rum in 700 mL bottles",
                    "author_id": analyst,
                    "created_at": now,
                    "state": "draft",
                }
                for sid in first
            ],
        )


def _costs(
    database: Database,
    uow_factory: Callable[[], SqlAlchemyUnitOfWork],
    net: Network,
    request_id: int,
    sample_id: int,
    test_id: int,
) -> dict[str, Cost]:
    """What registering a sample on the request, receiving it, entering a result on its test, and
    approving the classification opinion written on that result cost."""
    manager, analyst, reviewer = net["central_manager"], net["analyst"], net["reviewer"]
    costs: dict[str, Cost] = {}
    with counted(database) as costs["registration"]:
        sample = cases.register_sample(
            uow_factory(), manager, request_id, SampleCreate(quantity="2", unit="L")
        )
    with counted(database) as costs["receipt"]:
        cases.receive_sample(uow_factory(), manager, sample.id, SampleReceipt(storage_location="B-2"))
    with counted(database) as costs["result entry"]:
        analysis.enter_result(
            uow_factory(), analyst, test_id, ResultCreate.model_validate(rum_result("40.1"))
        )
    opinion = classification.write_opinion(
        uow_factory(), analyst, sample_id, OpinionCreate(determined_code="2208.40", reasoning=REASONING)
    )
    assert opinion.id is not None
    with counted(database) as costs["opinion approval"]:
        approved = classification.approve_opinion(uow_factory(), reviewer, opinion.id)
    assert approved.state == "approved"
    return costs


def test_registration_receipt_result_entry_and_approval_cost_the_same_on_500_samples_as_on_one(
    database: Database, uow_factory: Callable[[], SqlAlchemyUnitOfWork]
) -> None:
    net = make_network(uow_factory)
    small = _request_with_a_test(uow_factory, net)
    large = _request_with_a_test(uow_factory, net)
    _seed_samples(database, net, large[0], SEEDED - 1)

    one = _costs(database, uow_factory, net, *small)
    many = _costs(database, uow_factory, net, *large)

    grew = [
        f"{step}: {many[step].statements} statements and {many[step].loaded} records loaded on a request "
        f"of {SEEDED} samples, {one[step].statements} and {one[step].loaded} on a request of one"
        for step in one
        if many[step].statements > one[step].statements or many[step].loaded > one[step].loaded
    ]
    assert not grew, "\n".join(grew)
