"""The queue at scale: keyset pages that neither repeat nor skip a row, a count that stops, the sort keys
the samples carry for the queue's indexes, and (on PostgreSQL) a page read in index order, unsorted."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from customslab.adapters import orm
from customslab.adapters.uow import Database
from customslab.domain.enums import Priority, State
from customslab.domain.errors import ValidationFailed
from customslab.services import cases, queries
from customslab.services.cases import SampleCreate
from customslab.services.ports import QueueFilter
from tests.factories import Network, make_network, request_command
from tests.integration.conftest import signed_in
from tests.integration.test_pages import sign_in

SORTS = ["due", "priority", "registered", "reference"]
MIGRATION = (
    Path(__file__).resolve().parents[2] / "src/customslab/adapters/migrations/versions/0016_queue_indexes.py"
)


@pytest.fixture
def net(uow_factory: Any) -> Network:
    return make_network(uow_factory)


def _tied_queue(uow_factory: Any, net: Network) -> list[int]:
    """Eleven open samples at the local laboratory, four on each of three requests (the last sample approved,
    so no longer open): two due the same day, one urgent and one routine, and a third due later; so every
    order has ties that only the sample id breaks."""
    due = date.today() + timedelta(days=20)
    made = []
    for day, priority in ((due, Priority.URGENT), (due, Priority.ROUTINE), (due + timedelta(days=3), None)):
        req = cases.file_request(
            uow_factory(),
            net["officer"],
            request_command(net, due_date=day.isoformat(), priority=(priority or Priority.URGENT).value),
        )
        for _ in range(4):
            created = cases.register_sample(
                uow_factory(), net["local_manager"], req.id, SampleCreate(quantity="1", unit="L")
            )
            made.append(created.id)
    with uow_factory() as uow:
        uow.session.execute(text("UPDATE samples SET state = 'approved' WHERE id = :i"), {"i": made[-1]})
        uow.commit()
    return made[:-1]


def _walk(uow_factory: Any, net: Network, flt: QueueFilter) -> list[list[int]]:
    """Every page of the queue, following next_after from the first."""
    pages: list[list[int]] = []
    after = None
    while True:
        page = queries.lab_queue(uow_factory(), net["local_manager"], flt, after=after)
        pages.append([i.id for i in page.items])
        after = page.next_after
        if after is None:
            return pages
        assert len(pages) < 50, "the walk does not end"


def _key(sort: str, item: Any) -> tuple[Any, ...]:
    """The order's key of a listed item, from the fields the page shows (independently of the SQL)."""
    urgency = 0 if item.priority is Priority.URGENT else 1
    return {
        "due": (item.due_date, urgency, item.id),
        "priority": (urgency, item.due_date, item.id),
        "registered": (item.registered_at, item.id),
        "reference": (item.request_reference, item.id),
    }[sort]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("sort", SORTS)
def test_keyset_pages_list_every_open_sample_once_in_order_with_ties_broken_by_id(
    uow_factory: Any, net: Network, sort: str, descending: bool
) -> None:
    open_ids = _tied_queue(uow_factory, net)
    flt = QueueFilter(sort=sort, descending=descending, limit=5)
    pages = _walk(uow_factory, net, flt)
    walked = [i for p in pages for i in p]
    assert [len(p) for p in pages] == [5, 5, 1]
    assert len(walked) == len(set(walked)), "a row repeated across pages"
    assert sorted(walked) == sorted(open_ids), "a row skipped, or a closed one listed"
    whole = queries.lab_queue(uow_factory(), net["local_manager"], replace(flt, limit=200))
    assert [i.id for i in whole.items] == walked, "keyset and offset pages disagree on the order"
    keys = [_key(sort, i) for i in whole.items]
    natural_desc = sort == "registered"
    assert keys == sorted(keys, reverse=natural_desc != descending)
    by_offset = [
        i.id
        for off in range(0, 12, 5)
        for i in queries.lab_queue(uow_factory(), net["local_manager"], replace(flt, offset=off)).items
    ]
    assert by_offset == walked


def test_a_keyset_page_skips_nothing_when_a_row_joins_the_queue_before_it(
    uow_factory: Any, net: Network
) -> None:
    _tied_queue(uow_factory, net)
    flt = QueueFilter(limit=5)
    first = queries.lab_queue(uow_factory(), net["local_manager"], flt)
    # A request due earlier than any other: its sample goes to the top, before the cursor.
    early = cases.file_request(
        uow_factory(),
        net["officer"],
        request_command(net, due_date=(date.today() + timedelta(days=1)).isoformat()),
    )
    cases.register_sample(uow_factory(), net["local_manager"], early.id, SampleCreate(quantity="1", unit="L"))
    second = queries.lab_queue(uow_factory(), net["local_manager"], flt, after=first.next_after)
    whole = [
        i.id for i in queries.lab_queue(uow_factory(), net["local_manager"], QueueFilter(limit=200)).items
    ]
    shown = [i.id for i in first.items + second.items]
    assert shown == whole[1:11], "the second page starts right after the first page's last row"


def test_the_queue_counts_up_to_its_limit_and_says_more(
    uow_factory: Any, net: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tied_queue(uow_factory, net)
    monkeypatch.setattr(queries, "QUEUE_COUNT_LIMIT", 4)
    page = queries.lab_queue(uow_factory(), net["local_manager"], QueueFilter(limit=3))
    assert (page.total, page.total_exact, len(page.items)) == (4, False, 3)
    # The count always reaches past the page asked for: a deeper page counts further.
    deep = queries.lab_queue(uow_factory(), net["local_manager"], QueueFilter(limit=3, offset=6))
    assert (deep.total, deep.total_exact) == (9, False)
    last = queries.lab_queue(uow_factory(), net["local_manager"], QueueFilter(limit=5, offset=10))
    assert (last.total, last.total_exact, last.next_after) == (11, True, None)
    monkeypatch.setattr(queries, "QUEUE_COUNT_LIMIT", 50)
    assert queries.lab_queue(uow_factory(), net["local_manager"], QueueFilter()).total == 11


def test_the_queue_page_says_more_than_it_counted_and_offers_the_next_page(
    uow_factory: Any, net: Network, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tied_queue(uow_factory, net)
    monkeypatch.setattr(queries, "QUEUE_COUNT_LIMIT", 4)
    sign_in(client, net, "local_manager")
    page = client.get("/queue", params={"size": "2", "page": "2"})
    assert page.status_code == 200, page.text
    assert "Rows 3–4 of 4+" in page.text and 'rel="next"' in page.text
    exact = client.get("/queue", params={"size": "5", "page": "3"})
    assert "Rows 11–11 of 11<" in exact.text and 'rel="next"' not in exact.text


def test_the_repository_counts_at_most_one_row_past_the_count_limit(uow_factory: Any, net: Network) -> None:
    _tied_queue(uow_factory, net)
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    with uow_factory() as uow:
        engine = uow.session.get_bind()
        event.listen(engine, "before_cursor_execute", record)
        try:
            rows, total = uow.repo.queue(net["local_manager"], net.local, QueueFilter(limit=2, count_limit=3))
        finally:
            event.remove(engine, "before_cursor_execute", record)
    assert (len(rows), total) == (2, 4)
    [count] = [s for s in statements if "count(" in s.lower()]
    assert "LIMIT" in count.upper()


def test_a_cursor_that_is_malformed_or_of_another_order_is_refused(uow_factory: Any, net: Network) -> None:
    _tied_queue(uow_factory, net)
    page = queries.lab_queue(uow_factory(), net["local_manager"], QueueFilter(limit=5))
    assert page.next_after
    for flt, cursor in (
        (QueueFilter(sort="reference"), page.next_after),
        (QueueFilter(descending=True), page.next_after),
        (QueueFilter(), "not-a-cursor"),
        (QueueFilter(), page.next_after[:-4]),
    ):
        with pytest.raises(ValidationFailed):
            queries.lab_queue(uow_factory(), net["local_manager"], flt, after=cursor)


def test_the_api_pages_the_queue_by_cursor_and_refuses_a_bad_one(api: tuple[TestClient, Network]) -> None:
    client, net = api
    uow_factory = client.app.state.uow_factory  # type: ignore[attr-defined]
    for _ in range(3):
        req = cases.file_request(uow_factory(), net["officer"], request_command(net))
        cases.register_sample(
            uow_factory(), net["local_manager"], req.id, SampleCreate(quantity="1", unit="L")
        )
    headers = signed_in(client, net, "local_manager")
    first = client.get("/api/queue", params={"limit": 2}, headers=headers).json()
    assert first["total"] == 3 and first["total_exact"] is True and first["next_after"]
    second = client.get(
        "/api/queue", params={"limit": 2, "after": first["next_after"]}, headers=headers
    ).json()
    assert len(second["items"]) == 1 and second["next_after"] is None
    assert {i["id"] for i in first["items"]}.isdisjoint(i["id"] for i in second["items"])
    bad = client.get("/api/queue", params={"after": "garbage"}, headers=headers)
    assert bad.status_code == 422 and "cursor" in bad.text
    props = client.get("/openapi.json").json()["components"]["schemas"]["QueuePage"]["properties"]
    assert {"total_exact", "next_after"} <= props.keys()


def test_each_sample_carries_its_requests_due_date_and_urgency_and_follows_a_change(
    uow_factory: Any, net: Network
) -> None:
    open_ids = _tied_queue(uow_factory, net)
    with uow_factory() as uow:
        rows = uow.session.execute(
            text(
                "SELECT s.id, s.queue_due_date, s.queue_urgency, r.due_date, r.priority"
                " FROM samples s JOIN analysis_requests r ON r.id = s.request_id WHERE s.lab_code = :lab"
            ),
            {"lab": net.local},
        ).all()
        assert len(rows) == len(open_ids) + 1
        for _, copied_due, urgency, due, priority in rows:
            assert (str(copied_due), urgency) == (str(due), 0 if priority == "urgent" else 1)
        request_id = uow.session.execute(
            text("SELECT request_id FROM samples WHERE id = :i"), {"i": open_ids[0]}
        ).scalar_one()
        uow.session.execute(
            text("UPDATE analysis_requests SET due_date = :d, priority = 'routine' WHERE id = :r"),
            {"d": date(2030, 1, 2), "r": request_id},
        )
        uow.commit()
    with uow_factory() as uow:
        copies = uow.session.execute(
            text("SELECT DISTINCT queue_due_date, queue_urgency FROM samples WHERE request_id = :r"),
            {"r": request_id},
        ).all()
    assert [(str(d), u) for d, u in copies] == [("2030-01-02", 1)]


def test_the_orm_indexes_and_the_partial_index_predicate_match_the_migration(database: Database) -> None:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn)
        diffs = [d for d in compare_metadata(context, orm.metadata) if "samples" in str(d)]
    assert diffs == []
    spec = importlib.util.spec_from_file_location("m0016", MIGRATION)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.OPEN == orm._QUEUE_OPEN_SQL
    assert sorted(State(s) for s in orm.QUEUE_OPEN_STATES) == sorted(
        [State.REGISTERED, State.RECEIVED, State.IN_ANALYSIS, State.TO_BE_REVIEWED, State.RETEST]
    )


@pytest.mark.parametrize(
    "sort, index", [("due", "ix_samples_queue_due"), ("registered", "ix_samples_queue_registered")]
)
def test_on_postgresql_a_queue_page_is_read_in_index_order_without_a_sort(
    uow_factory: Any, net: Network, backend: str, sort: str, index: str
) -> None:
    if backend != "postgresql":
        pytest.skip("the plan checked is PostgreSQL's")
    _tied_queue(uow_factory, net)
    seen: list[tuple[str, Any]] = []
    with uow_factory() as uow:
        engine = uow.session.get_bind()

        def record(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
            seen.append((statement, params))

        event.listen(engine, "before_cursor_execute", record)
        try:
            uow.repo.queue(net["local_manager"], net.local, QueueFilter(sort=sort, limit=5, count_limit=100))
        finally:
            event.remove(engine, "before_cursor_execute", record)
        [(page_sql, params)] = [(s, p) for s, p in seen if "ORDER BY samples." in s and "LIMIT" in s]
        # The test database's rows are few, and its statistics whatever earlier tests left: the plan is
        # asked whether an index can give the page's order, not whether it is the cheapest on a few rows.
        uow.session.execute(text("SET LOCAL enable_seqscan = off"))
        uow.session.execute(text("SET LOCAL enable_sort = off"))
        uow.session.execute(text("SET LOCAL enable_bitmapscan = off"))
        conn = uow.session.connection()
        plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + page_sql, params))
    assert index in plan, plan
    assert "Sort" not in plan, plan
