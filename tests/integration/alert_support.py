"""Helpers of the targeting alert tests: identity results approved, outcomes recorded, alerts read."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from customslab.adapters.uow import Database
from customslab.domain.access import Actor
from customslab.domain.enums import NotificationKind, Role
from customslab.domain.model import Identification
from customslab.services import analysis, auth, notifications
from customslab.services.analysis import ResultCreate, ReviewDecision, TestCreate
from customslab.services.notifications import NotificationQuery, NotificationView
from customslab.services.targeting_alert_ports import TargetingAlert
from customslab.services.targeting_alerts import AlertView
from customslab.services.targeting_ports import Outcome
from tests.factories import PASSWORD, Network, assigned_test, received_sample, unique

UowFactory = Callable[[], Any]
K = NotificationKind.TARGETING_ALERT


def told(uow_factory: UowFactory, actor: Actor) -> list[NotificationView]:
    items = notifications.list_notifications(uow_factory(), actor, NotificationQuery(limit=200)).items
    return [n for n in items if n.kind is K]


def alerts(uow_factory: UowFactory, **equal: object) -> list[AlertView]:
    with uow_factory() as uow:
        return [AlertView.of_record(a) for a in uow.quality.find(TargetingAlert, **equal)]


def identity_test(
    uow_factory: UowFactory, net: Network, name: str, inchikey: str = "", lab: str = "central"
) -> int:
    """A received sample of `lab` whose identity test names `name` (a stored identification with that
    hit), submitted for review; the test's id. At the RCL, a new analyst of its own does the work."""
    sample = received_sample(uow_factory, net, lab)
    if lab == "central":
        test = assigned_test(
            uow_factory, net, sample.id, determination="identity (GC-MS)", method_ref="GC-MS-7"
        )
        analyst = net["analyst"]
    else:
        analyst = rcl_analyst(uow_factory, net)
        cmd = TestCreate(determination="identity (GC-MS)", method_ref="GC-MS-7", analyst_id=analyst.user_id)
        test = analysis.add_test(uow_factory(), net["rcl_manager"], sample.id, cmd)
    with uow_factory() as uow:
        uow.act_as(analyst.username)
        hit = {"name": name, "inchikey": inchikey, "cas": "", "score": 0.93}
        found = Identification(test.id, "0" * 64, "ms", "default", "1", [hit], analyst.user_id, uow.clock())
        uow.repo.add(found)
        uow.repo.flush()
        identification_id = found.id
        uow.commit()
    result = ResultCreate(kind="identity", identification_id=identification_id, text_value=name)
    analysis.enter_result(uow_factory(), analyst, test.id, result)
    analysis.submit_test(uow_factory(), analyst, test.id)
    return int(test.id)


def rcl_analyst(uow_factory: UowFactory, net: Network) -> Actor:
    if "rcl_analyst" not in net.users:
        user = auth.UserCreate(
            username=unique("rclanalyst"),
            full_name="RCL analyst",
            org_code=net.rcl,
            roles=[Role.ANALYST],
            password=PASSWORD,
        )
        out = auth.add_user(uow_factory(), user)
        net.users["rcl_analyst"] = Actor(out.id, out.username, net.rcl, frozenset({Role.ANALYST}))
    return net["rcl_analyst"]


def approve(uow_factory: UowFactory, net: Network, test_id: int, reviewer: str = "reviewer") -> None:
    analysis.review_test(uow_factory(), net[reviewer], test_id, ReviewDecision(approve=True))


def until_a_backend_waits_on_a_lock(database: Database) -> None:
    from sqlalchemy import text

    waiting = threading.Event()
    with database.engine.connect() as conn:
        for _ in range(3000):
            query = (
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if conn.execute(text(query)).scalar_one():
                return
            conn.rollback()
            waiting.wait(0.01)  # polling a condition, with a bound: not a sleep standing in for one
    raise AssertionError("the rival approval never waited on the claim")


def backdate(uow_factory: UowFactory, alert_id: int | None, days: int) -> None:
    """Move a stored alert `days` back in time, as if an earlier run had raised it."""
    with uow_factory() as uow:
        uow.act_as("targeting-alerts")
        alert = uow.quality.get(TargetingAlert, alert_id or 0)
        assert alert is not None
        alert.raised_at -= timedelta(days=days)
        alert.key += f"~{days}"
        uow.commit()


def outcomes(
    uow_factory: UowFactory, net: Network, rows: list[tuple[int, bool, str, str, str]], lab: str = "central"
) -> None:
    """(days ago, differs, heading, origin, importer) as decided outcomes of the network's administration,
    decided at the network's `lab`."""
    with uow_factory() as uow:
        today = uow.clock().date()
        for days_ago, differs, heading, origin, importer in rows:
            sample_id = int(unique("")[:-4]) * 100 + len(heading) + 10_000_000
            uow.targeting.record(
                Outcome(
                    sample_id=sample_id,
                    reference=unique("S"),
                    lab_code=getattr(net, lab),
                    administration_code=net.home,
                    declared_hs=f"{heading}10",
                    determined_hs=f"{heading}90" if differs else f"{heading}10",
                    heading=heading,
                    differs=differs,
                    origin=origin,
                    importer=importer,
                    declarant="",
                    decided_on=today - timedelta(days=days_ago),
                    customs_value=Decimal("1000"),
                    currency="USD",
                    duty_difference=None,
                )
            )
        uow.commit()
