"""Targeting alerts on SQLite and PostgreSQL: first identifications at approval, rising mismatch rates and
repeated importers on a run of the rules, who hears of them and who sees the importer."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient

from customslab.adapters.tables_base import metadata
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.config import Settings
from customslab.domain.enums import NotificationKind
from customslab.domain.targeting_alerts import NETWORK, AlertKind, AlertRules
from customslab.entrypoints import wiring
from customslab.entrypoints.api.app import create_app
from customslab.entrypoints.notification_worker import NotificationChores
from customslab.services.targeting_alerts import AlertQuery, run_alert_rules, visible_alerts
from customslab.substances.register import normalise_name
from tests.factories import Network, make_network, unique
from tests.integration.alert_support import (
    alerts,
    approve,
    backdate,
    identity_test,
    outcomes,
    told,
    until_a_backend_waits_on_a_lock,
)
from tests.integration.conftest import signed_in
from tests.integration.smtp_server import SmtpRecorder

UowFactory = Callable[[], Any]
K = NotificationKind.TARGETING_ALERT


@pytest.fixture
def net(uow_factory: UowFactory) -> Network:
    return make_network(uow_factory)


def test_the_tables_of_the_alerts_are_the_ones_migration_0015_creates(database: Database) -> None:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [
            d
            for d in compare_metadata(context, metadata)
            if any(t in str(d) for t in ("first_identifications", "targeting_alerts", "declarant"))
        ]
    assert diffs == []
    assert "declarant" in metadata.tables["analysis_requests"].c


# -- rule 1: first identification ------------------------------------------------------------------
def test_a_first_identification_alerts_once_and_a_repeat_stays_quiet(
    uow_factory: UowFactory, net: Network
) -> None:
    name = f"Novel cathinone {unique('N')}"
    approve(uow_factory, net, identity_test(uow_factory, net, name))

    mine = alerts(uow_factory, administration_code=net.home, rule=AlertKind.FIRST_IDENTIFICATION)
    assert [(a.substance_name, a.lab_code) for a in mine if a.substance_name == name] == [(name, net.central)]
    network = [a for a in alerts(uow_factory, administration_code=NETWORK) if a.substance_name == name]
    assert len(network) == 1 and "first time in the network" in network[0].summary
    # The central laboratory's manager and reviewer and the local manager hear once (of the network
    # first, which says it all); the coordinator of the RCL hears of the network first.
    for who in ("central_manager", "reviewer", "local_manager", "coordinator"):
        heard = [n for n in told(uow_factory, net[who]) if name in n.subject]
        assert len(heard) == 1, who
        assert heard[0].subject.startswith("Targeting alert: ") and heard[0].link == "/targeting#alerts"
    for who in ("analyst", "officer", "rcl_manager"):  # not managers or reviewers of KR's laboratories
        assert not [n for n in told(uow_factory, net[who]) if name in n.subject], who
    # The coordinators see figures only outside their own laboratory: the substance and the
    # administration, never the sample or the laboratory, in the notification or the alert list.
    reference = mine[-1].sample_reference
    (heard,) = [n for n in told(uow_factory, net["coordinator"]) if name in n.subject]
    assert net.home in heard.subject and reference not in heard.subject and net.central not in heard.subject
    (listed,) = [
        a for a in visible_alerts(uow_factory(), net["coordinator"], AlertQuery()) if a.substance_name == name
    ]
    assert (listed.lab_code, listed.sample_reference) == ("", "")
    (own,) = [
        a
        for a in visible_alerts(uow_factory(), net["central_manager"], AlertQuery())
        if a.substance_name == name and a.administration_code == net.home
    ]
    assert (own.lab_code, own.sample_reference) == (net.central, reference)
    # A local laboratory's manager hears of the administration's first too, but does not see the
    # central laboratory's cases: the laboratory, not the sample.
    (local,) = [
        a
        for a in visible_alerts(uow_factory(), net["local_manager"], AlertQuery())
        if a.substance_name == name and a.administration_code == net.home
    ]
    assert (local.lab_code, local.sample_reference) == (net.central, "")
    assert not [n for n in told(uow_factory, net["local_manager"]) if reference in n.subject]

    # The same substance again, as its salt: no alert, nobody hears of it again.
    before = len(alerts(uow_factory))
    approve(uow_factory, net, identity_test(uow_factory, net, f"{name} hydrochloride"))
    assert len(alerts(uow_factory)) == before
    assert len([n for n in told(uow_factory, net["reviewer"]) if name in n.subject]) == 1


def test_a_substance_known_in_the_network_is_still_a_first_in_another_administration(
    uow_factory: UowFactory, net: Network
) -> None:
    skeleton = "".join(chr(ord("A") + int(c, 16)) for c in uuid.uuid4().hex[:14])  # a fresh 14-letter block
    name = f"Protonitazepyne {unique('P')}"  # a fresh substance the UN lists do not know
    approve(uow_factory, net, identity_test(uow_factory, net, name, f"{skeleton}-UHFFFAOYSA-N"))
    # The RCL, in another administration, identifies it as one stereoisomer (another key of the skeleton).
    rcl_test = identity_test(uow_factory, net, f"(R)-{name}", f"{skeleton}-GHMZBOCLSA-N", lab="rcl")
    approve(uow_factory, net, rcl_test, reviewer="rcl_manager")

    key = f"name:{normalise_name(name)}"
    assert [a.administration_code for a in alerts(uow_factory, substance_key=key)] == [
        NETWORK,
        net.home,
        net.rcl_administration,
    ]
    (jp,) = alerts(uow_factory, substance_key=key, administration_code=net.rcl_administration)
    assert "first time in administration" in jp.summary and jp.lab_code == net.rcl
    assert [n.subject for n in told(uow_factory, net["rcl_manager"]) if "Protonitazepyne" in n.subject] == [
        f"Targeting alert: {jp.summary}"
    ]
    # The coordinator heard of the network first only.
    assert len([n for n in told(uow_factory, net["coordinator"]) if "Protonitazepyne" in n.subject]) == 1


@pytest.mark.postgres
def test_two_approvals_of_one_new_substance_at_the_same_moment_alert_once(
    pg_url: str, tmp_path: Path
) -> None:
    """The first approval has claimed the substance and not committed; the second, in another thread,
    waits on the unique key inside its claim; once the first commits, the second finds it taken, and both
    approvals stand."""
    database = Database(pg_url)
    files = LocalFileStore(tmp_path / "files")
    plain: UowFactory = lambda: SqlAlchemyUnitOfWork(database, files)  # noqa: E731
    net = make_network(plain)
    name = f"Raced nitazene {unique('R')}"
    first_test, second_test = identity_test(plain, net, name), identity_test(plain, net, name)
    outcome: list[BaseException | None] = []

    def rival() -> None:
        try:
            approve(plain, net, second_test)
            outcome.append(None)
        except BaseException as exc:  # reported by the assertion below
            outcome.append(exc)

    racer = threading.Thread(target=rival)

    class LetTheRivalIn(SqlAlchemyUnitOfWork):
        def __enter__(self) -> LetTheRivalIn:
            super().__enter__()
            claims, claim = self.first_identifications, self.first_identifications.claim

            def claim_then_wait(first: Any) -> bool:
                won = claim(first)
                if not racer.is_alive() and not outcome:
                    racer.start()
                    until_a_backend_waits_on_a_lock(database)
                return won

            claims.claim = claim_then_wait
            return self

    approve(lambda: LetTheRivalIn(database, files), net, first_test)
    racer.join(60)
    assert outcome == [None]
    assert (
        len([a for a in alerts(plain, rule=AlertKind.FIRST_IDENTIFICATION) if a.substance_name == name]) == 2
    )
    assert len([n for n in told(plain, net["reviewer"]) if name in n.subject]) == 1
    database.dispose()


# -- rules 2 and 3: rising rates and repeated importers --------------------------------------------
def test_a_rate_rising_above_its_history_alerts_and_a_flat_one_stays_quiet(
    uow_factory: UowFactory, net: Network
) -> None:
    history = [(100 + 8 * i, i < 4, h, "CN", "") for h in ("0904", "2106") for i in range(40)]
    rising = [(i * 7, i < 8, "0904", "CN", "") for i in range(10)]
    flat = [(i * 7, i < 1, "2106", "CN", "") for i in range(10)]
    outcomes(uow_factory, net, history + rising + flat)

    run = run_alert_rules(uow_factory, AlertRules())
    (alert,) = alerts(uow_factory, administration_code=net.home, rule=AlertKind.RISING_RATE)
    assert (
        alert.heading,
        alert.origin,
        alert.recent_k,
        alert.recent_n,
        alert.history_k,
        alert.history_n,
    ) == (
        "0904",
        "CN",
        8,
        10,
        4,
        40,
    )
    assert alert.key == f"rate:{net.home}:0904:CN:{date.today().isoformat()}" and len(alert.evidence) == 8
    assert run.rising_rates >= 1
    assert [n.subject for n in told(uow_factory, net["central_manager"])] == [
        f"Targeting alert: {alert.summary}"
    ]
    # The same day's run again raises nothing new.
    run_alert_rules(uow_factory, AlertRules())
    assert len(alerts(uow_factory, administration_code=net.home, rule=AlertKind.RISING_RATE)) == 1


def test_a_repeated_importer_alerts_its_administration_and_no_one_else_learns_its_name(
    uow_factory: UowFactory, net: Network
) -> None:
    importer, careful = f"Hanbit Trading {unique('I')}", f"Careful Imports {unique('C')}"
    rows = [(10 * i, True, "3004", "IN", importer) for i in range(3)] + [(200, True, "3004", "IN", importer)]
    rows += [(10 * i, i < 2, "3004", "IN", careful) for i in range(6)]
    outcomes(uow_factory, net, rows)

    run_alert_rules(uow_factory, AlertRules())
    (alert,) = alerts(uow_factory, administration_code=net.home, rule=AlertKind.REPEATED_IMPORTER)
    assert (alert.importer, alert.recent_k, alert.recent_n) == (importer, 3, 3)
    assert importer not in alert.summary

    (seen,) = visible_alerts(
        uow_factory(), net["central_manager"], AlertQuery(rule=AlertKind.REPEATED_IMPORTER)
    )
    assert seen.importer == importer
    # Of another administration: the RCL's manager and the coordinator see no alert of Korea's, and no
    # notification anywhere names the importer.
    for who in ("rcl_manager", "coordinator"):
        assert all(
            a.administration_code != net.home for a in visible_alerts(uow_factory(), net[who], AlertQuery())
        )
    with uow_factory() as uow:
        users = [u.id for u in uow.repo.users() if u.id]
        texts = [n.subject for u in users for n in uow.notifications.page(u, False, 500, 0)[0]]
    assert texts and not [t for t in texts if importer in t]


def test_the_alerts_api_shows_my_administrations_alerts_and_the_network_firsts_to_coordinators(
    database: Database, tmp_path: Path
) -> None:
    settings = Settings(mode="test", database_url=database.url, file_store=tmp_path / "files")
    app = create_app(settings, db=database)
    uow_factory = app.state.uow_factory
    net = make_network(uow_factory)
    importer = f"Daehan Metals {unique('D')}"
    outcomes(uow_factory, net, [(5 * i, True, "7208", "CN", importer) for i in range(3)])
    run_alert_rules(uow_factory, AlertRules())
    name = f"Novel opioid {unique('O')}"
    approve(uow_factory, net, identity_test(uow_factory, net, name))
    with TestClient(app) as client:
        assert client.get("/api/targeting/alerts").status_code == 401
        assert (
            client.get("/api/targeting/alerts", headers=signed_in(client, net, "officer")).status_code == 403
        )
        manager = client.get(
            "/api/targeting/alerts", headers=signed_in(client, net, "central_manager")
        ).json()
        assert {a["administration_code"] for a in manager} == {net.home}
        assert importer in {a["importer"] for a in manager}
        coordinator = client.get(
            "/api/targeting/alerts", headers=signed_in(client, net, "coordinator")
        ).json()
        assert {a["administration_code"] for a in coordinator} == {NETWORK}
        assert name in {a["substance_name"] for a in coordinator}
        assert importer not in str(coordinator)
        kinds = client.get(
            "/api/targeting/alerts?rule=repeated_importer", headers=signed_in(client, net, "central_manager")
        ).json()
        assert {a["rule"] for a in kinds} == {"repeated_importer"}
        assert (
            client.get(
                "/api/targeting/alerts?rule=nonsense", headers=signed_in(client, net, "reviewer")
            ).status_code
            == 422
        )


def test_with_smtp_configured_an_alert_is_emailed_without_the_importer(
    uow_factory: UowFactory, net: Network, database: Database, tmp_path: Path
) -> None:
    address = f"{unique('m').lower()}@customs.test"
    with uow_factory() as uow:
        user = uow.repo.user(net["central_manager"].user_id)
        assert user is not None
        user.email = address
        uow.commit()
    importer = f"Seoul Foods {unique('F')}"
    outcomes(uow_factory, net, [(3 * i, True, "1904", "BE", importer) for i in range(4)])

    with SmtpRecorder() as smtp:
        settings = Settings(
            mode="test",
            database_url=database.url,
            file_store=tmp_path / "files",
            public_url="https://lab.customs.test",
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_starttls=False,
            smtp_from="lab@customs.test",
        )
        # One pass of the worker's chores: the rules run, then the mail goes out.
        NotificationChores(settings, uow_factory, wiring.mailer(settings)).run()

    (mail,) = [m for m in smtp.received if address in m.recipients]
    (alert,) = alerts(uow_factory, administration_code=net.home, rule=AlertKind.REPEATED_IMPORTER)
    assert mail.message["Subject"] == f"customslab: Targeting alert: {alert.summary}"
    assert "https://lab.customs.test/targeting#alerts" in mail.message.get_content()
    assert importer.encode() not in mail.data


def test_a_base_and_its_salt_with_their_own_inchikeys_are_one_first_identification(
    uow_factory: UowFactory, net: Network
) -> None:
    # Cocaine and cocaine hydrochloride: different InChIKey first blocks, one substance of the UN lists.
    approve(uow_factory, net, identity_test(uow_factory, net, "Cocaine", "ZPUCINDJVBIVPJ-LJISPDSOSA-N"))
    salt = identity_test(uow_factory, net, "Cocaine hydrochloride", "PIQVDUKEQYOJNR-VZXSFKIWSA-N")
    approve(uow_factory, net, salt)
    # A synonym the register lists, with no InChIKey at all: still the same substance.
    approve(uow_factory, net, identity_test(uow_factory, net, "Benzoylmethylecgonine"))

    mine = alerts(uow_factory, administration_code=net.home, rule=AlertKind.FIRST_IDENTIFICATION)
    assert [a.substance_key for a in mine] == ["name:cocaine"]
    assert len([n for n in told(uow_factory, net["reviewer"]) if "ocaine" in n.subject]) == 1


def test_a_known_structure_under_a_name_the_register_does_not_list_stays_quiet(
    uow_factory: UowFactory, net: Network
) -> None:
    skeleton = "".join(chr(ord("A") + int(c, 16)) for c in uuid.uuid4().hex[:14])
    first, second = f"Novel amide {unique('A')}", f"Research chemical {unique('B')}"
    approve(uow_factory, net, identity_test(uow_factory, net, first, f"{skeleton}-UHFFFAOYSA-N"))
    approve(uow_factory, net, identity_test(uow_factory, net, second, f"{skeleton}-UHFFFAOYSA-N"))
    mine = alerts(uow_factory, administration_code=net.home, rule=AlertKind.FIRST_IDENTIFICATION)
    assert [a.substance_name for a in mine if a.substance_name in (first, second)] == [first]


def test_an_importer_alert_goes_to_the_labs_that_saw_its_cases_their_parent_and_the_administrator(
    uow_factory: UowFactory, net: Network
) -> None:
    importer = f"Local Traders {unique('L')}"
    outcomes(uow_factory, net, [(10 * i, True, "6109", "VN", importer) for i in range(3)], lab="local")
    run_alert_rules(uow_factory, AlertRules())
    (alert,) = alerts(uow_factory, administration_code=net.home, rule=AlertKind.REPEATED_IMPORTER)
    assert alert.labs == [net.local]

    for who in ("local_manager", "central_manager", "reviewer", "admin"):
        assert len([n for n in told(uow_factory, net[who]) if alert.summary in n.subject]) == 1, who
        (seen,) = visible_alerts(uow_factory(), net[who], AlertQuery(rule=AlertKind.REPEATED_IMPORTER))
        assert seen.importer == importer and len(seen.evidence) == 3, who
    # The manager of a sister laboratory under the same central one sees neither the importer nor the
    # cases: no notification, no alert listed.
    assert not [n for n in told(uow_factory, net["outsider"]) if alert.summary in n.subject]
    assert visible_alerts(uow_factory(), net["outsider"], AlertQuery(rule=AlertKind.REPEATED_IMPORTER)) == []


def test_the_same_evidence_is_not_alerted_again_within_the_rules_windows(
    uow_factory: UowFactory, net: Network
) -> None:
    history = [(100 + 8 * i, i < 4, "0904", "CN", "") for i in range(40)]
    rising = [(i * 7, i < 8, "0904", "CN", "") for i in range(10)]
    importer = f"Persistent Imports {unique('P')}"
    repeated = [(10 * i, True, "3004", "IN", importer) for i in range(3)]
    outcomes(uow_factory, net, history + rising + repeated)
    run_alert_rules(uow_factory, AlertRules())
    (rate,) = alerts(uow_factory, administration_code=net.home, rule=AlertKind.RISING_RATE)
    (person,) = alerts(uow_factory, administration_code=net.home, rule=AlertKind.REPEATED_IMPORTER)

    # Raised 40 days ago (last month): the rise persists and the same three cases are still in the
    # importer's 180 days, but both were alerted within their windows.
    backdate(uow_factory, rate.id, 40)
    backdate(uow_factory, person.id, 40)
    run = run_alert_rules(uow_factory, AlertRules())
    assert (run.rising_rates, run.repeated_importers) == (0, 0)

    # Once the rate's window (90 days) has passed since its alert, a rise still there alerts again.
    backdate(uow_factory, rate.id, 60)
    run = run_alert_rules(uow_factory, AlertRules())
    assert (run.rising_rates, run.repeated_importers) == (1, 0)
