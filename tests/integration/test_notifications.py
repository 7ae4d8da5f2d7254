"""Notifications on real databases: who hears of what, once; the due-work scan; and e-mail through a real
SMTP conversation (or none, without a server)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from customslab.adapters.mailer import SmtpMailer
from customslab.adapters.uow import Database, SqlAlchemyUnitOfWork
from customslab.config import Settings
from customslab.domain.access import Actor
from customslab.domain.enums import NotificationKind
from customslab.entrypoints import wiring, worker
from customslab.entrypoints.cli import app as cli_app
from customslab.entrypoints.notification_worker import NotificationChores
from customslab.services import analysis, cases, notifications, referrals
from customslab.services.analysis import ResultCreate, ReviewDecision, TestAssign, TestCreate
from customslab.services.cases import SampleCreate, SampleReceipt
from customslab.services.notification_mail import send_due_mail
from customslab.services.notifications import NotificationQuery, NotificationView
from customslab.services.referrals import ReferralCreate
from tests.factories import Network, assigned_test, make_network, received_sample, request_command, unique
from tests.integration.smtp_server import SmtpRecorder

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
K = NotificationKind
#: The declaration data of the factories' rum request: none of it may leave in an e-mail or a subject.
DECLARATION_TEXTS = (
    "DCL",
    "Hanbit Trading",
    "12000",
    "Rum in 700 mL bottles",
    "Is this rum of heading 2208?",
)


@pytest.fixture
def net(uow_factory: UowFactory) -> Network:
    return make_network(uow_factory)


def mine(
    uow_factory: UowFactory, actor: Actor, kind: NotificationKind | None = None
) -> list[NotificationView]:
    items = notifications.list_notifications(uow_factory(), actor, NotificationQuery(limit=200)).items
    return [n for n in items if kind in (None, n.kind)]


def submitted_test(uow_factory: UowFactory, net: Network) -> tuple[Any, int]:
    """A received sample of the central laboratory with its test submitted for review: (sample, test id)."""
    sample = received_sample(uow_factory, net, "central")
    test = assigned_test(uow_factory, net, sample.id, determination="alcoholic strength", method_ref="M-1")
    result = ResultCreate(name="alcoholic strength", value="40.1", unit="%vol")
    analysis.enter_result(uow_factory(), net["analyst"], test.id, result)
    analysis.submit_test(uow_factory(), net["analyst"], test.id)
    return sample, test.id


def with_email(uow_factory: UowFactory, actor: Actor) -> str:
    address = f"{unique('u').lower()}@customs.test"
    with uow_factory() as uow:
        user = uow.repo.user(actor.user_id)
        assert user is not None
        user.email = address
        uow.commit()
    return address


def smtp_settings(database: Database, tmp_path: Path, port: int | None) -> Settings:
    smtp: dict[str, Any] = {}
    if port is not None:
        smtp = {
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_starttls": False,
            "smtp_from": "lab@customs.test",
        }
    return Settings(
        mode="test",
        database_url=database.url,
        file_store=tmp_path / "files",
        public_url="https://lab.customs.test",
        **smtp,
    )


# -- who hears of what -------------------------------------------------------------------------------
def test_assigning_a_test_notifies_the_analyst_once_and_not_the_manager_who_assigned_it(
    uow_factory: UowFactory, net: Network
) -> None:
    sample = received_sample(uow_factory, net, "central")
    test = assigned_test(uow_factory, net, sample.id, determination="alcoholic strength", method_ref="M-1")
    again = TestAssign(analyst_id=net["analyst"].user_id)
    analysis.assign_test(uow_factory(), net["central_manager"], test.id, again)

    (notice,) = mine(uow_factory, net["analyst"])
    assert (notice.kind, notice.link, notice.reference) == (
        K.TEST_ASSIGNED,
        f"/samples/{sample.id}",
        sample.lab_sample_id,
    )
    assert notice.read_at is None
    assert mine(uow_factory, net["central_manager"]) == []


def test_an_analyst_who_plans_a_test_for_themselves_is_not_notified(
    uow_factory: UowFactory, net: Network
) -> None:
    sample = received_sample(uow_factory, net, "central")
    cmd = TestCreate(determination="moisture", method_ref="M-2", analyst_id=net["analyst"].user_id)
    analysis.add_test(uow_factory(), net["analyst"], sample.id, cmd)
    assert mine(uow_factory, net["analyst"]) == []


def test_a_referral_notifies_the_receiving_laboratorys_staff_and_no_one_else(
    uow_factory: UowFactory, net: Network
) -> None:
    sample = received_sample(uow_factory, net, "local")
    cmd = ReferralCreate(to_lab=net.central, reason="needs GC-MS")
    referral = referrals.refer_sample(uow_factory(), net["local_manager"], sample.id, cmd)

    for who in ("central_manager", "analyst", "reviewer"):
        (notice,) = mine(uow_factory, net[who])
        assert (notice.kind, notice.link) == (K.NEW_REFERRAL, f"/samples/{referral.sample_id}"), who
        assert notice.reference == sample.lab_sample_id
    for who in ("local_manager", "local_analyst", "outsider", "officer", "admin", "rcl_manager"):
        assert mine(uow_factory, net[who]) == [], who


def test_approving_the_sample_notifies_whoever_filed_its_request_and_names_no_declaration_data(
    uow_factory: UowFactory, net: Network
) -> None:
    sample, test_id = submitted_test(uow_factory, net)
    analysis.review_test(uow_factory(), net["reviewer"], test_id, ReviewDecision(approve=True))

    (notice,) = mine(uow_factory, net["officer"])
    assert (notice.kind, notice.link) == (K.RESULT_APPROVED, f"/requests/{sample.request_id}")
    assert notice.reference == f"{sample.lab_sample_id} ({sample.request_reference})"
    assert not [
        text for text in DECLARATION_TEXTS if text in notice.subject.replace(sample.lab_sample_id, "")
    ]
    assert mine(uow_factory, net["analyst"], K.RESULT_APPROVED) == []
    assert mine(uow_factory, net["officer_b"]) == []


def test_a_test_returned_for_retest_does_not_notify_the_requester(
    uow_factory: UowFactory, net: Network
) -> None:
    _, test_id = submitted_test(uow_factory, net)
    analysis.review_test(
        uow_factory(), net["reviewer"], test_id, ReviewDecision(approve=False, reason="redo")
    )
    assert mine(uow_factory, net["officer"]) == []


# -- work due within a day ---------------------------------------------------------------------------
def _test_due(uow_factory: UowFactory, net: Network, due: datetime) -> int:
    """An open test of the central analyst on a request due on `due`'s day: its sample id."""
    manager = net["central_manager"]
    filed = request_command(net, lab_code=net.central, due_date=due.date().isoformat())
    req = cases.file_request(uow_factory(), net["officer"], filed)
    created = cases.register_sample(uow_factory(), manager, req.id, SampleCreate(quantity="1", unit="L"))
    cases.receive_sample(uow_factory(), manager, created.id, SampleReceipt())
    assigned_test(uow_factory, net, created.id, determination="moisture", method_ref="M-1")
    return created.id


def test_the_due_work_scan_notifies_each_open_test_once_however_often_it_runs(
    uow_factory: UowFactory, net: Network
) -> None:
    now = datetime.now(UTC)
    soon = _test_due(uow_factory, net, now)
    later = _test_due(uow_factory, net, now + timedelta(days=5))

    notifications.notify_due_work(uow_factory(), now)
    assert notifications.notify_due_work(uow_factory(), now) == 0
    assert [n.link for n in mine(uow_factory, net["analyst"], K.WORK_DUE)] == [f"/samples/{soon}"]

    notifications.notify_due_work(uow_factory(), now + timedelta(days=4, hours=12))
    due = sorted(n.link for n in mine(uow_factory, net["analyst"], K.WORK_DUE))
    assert due == sorted([f"/samples/{soon}", f"/samples/{later}"])


@pytest.mark.postgres
def test_a_notification_written_by_two_transactions_at_once_on_postgresql_is_stored_once(
    pg_url: str, tmp_path: Path
) -> None:
    from customslab.adapters.uow import LocalFileStore
    from customslab.domain.model import Notification

    db = Database(pg_url)
    factory = lambda: SqlAlchemyUnitOfWork(db, LocalFileStore(tmp_path))  # noqa: E731
    net = make_network(factory)
    analyst = net["analyst"]
    at = datetime.now(UTC)
    key = unique("race:")

    def one() -> Notification:
        return Notification(
            analyst.user_id, K.WORK_DUE, key, "Your test on sample X is due within a day.", "/", at
        )

    outcome: list[bool] = []
    with factory() as first:
        assert first.notifications.add(one())

        def second() -> None:
            with factory() as uow:
                outcome.append(uow.notifications.add(one()))  # waits for the first transaction
                uow.commit()

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive(), "the second insert should wait for the first transaction"
        first.commit()
    thread.join(10)
    assert outcome == [False]
    assert [n.kind for n in mine(factory, analyst)] == [K.WORK_DUE]

    # Two whole scans at once: each test still gets one notification.
    now = datetime.now(UTC)
    sample_id = _test_due(factory, net, now)
    barrier = threading.Barrier(2)

    def scan() -> None:
        barrier.wait()
        notifications.notify_due_work(factory(), now)

    scans = [threading.Thread(target=scan) for _ in range(2)]
    for t in scans:
        t.start()
    for t in scans:
        t.join(20)
    assert [n.link for n in mine(factory, analyst, K.WORK_DUE) if n.link != "/"] == [f"/samples/{sample_id}"]
    db.dispose()


def test_the_scan_command_notifies_due_work_and_send_mail_says_when_no_smtp_server_is_set(
    uow_factory: UowFactory, net: Network, database: Database, tmp_path: Path
) -> None:
    sample_id = _test_due(uow_factory, net, datetime.now(UTC))
    env = {
        "CUSTOMSLAB_MODE": "test",
        "CUSTOMSLAB_DATABASE_URL": database.url,
        "CUSTOMSLAB_FILE_STORE": str(tmp_path / "f"),
    }
    scanned = CliRunner().invoke(cli_app, ["notifications", "scan"], env=env)
    assert scanned.exit_code == 0, scanned.output
    assert "of work due within a day" in scanned.output
    assert [n.link for n in mine(uow_factory, net["analyst"], K.WORK_DUE)] == [f"/samples/{sample_id}"]

    no_server = CliRunner().invoke(cli_app, ["notifications", "send-mail"], env=env)
    assert no_server.exit_code == 2 and "No SMTP server is configured" in no_server.output


# -- e-mail ------------------------------------------------------------------------------------------
def test_with_smtp_configured_the_worker_emails_a_notification_once_without_declaration_data(
    uow_factory: UowFactory, net: Network, database: Database, tmp_path: Path
) -> None:
    address = with_email(uow_factory, net["analyst"])
    sample = received_sample(uow_factory, net, "central")
    assigned_test(uow_factory, net, sample.id, determination="alcoholic strength", method_ref="M-1")

    with SmtpRecorder() as smtp:
        settings = smtp_settings(database, tmp_path, smtp.port)
        stop = threading.Event()
        running = threading.Thread(target=worker.run_worker, args=(settings, stop, uow_factory))
        running.start()
        try:
            assert smtp.arrived.wait(15), "the worker sent no e-mail"
        finally:
            stop.set()
            running.join(20)
        NotificationChores(settings, uow_factory, wiring.mailer(settings)).run()  # a second pass

    (mail,) = [m for m in smtp.received if address in m.recipients]
    message = mail.message
    assert message["To"] == address and message["From"] == "lab@customs.test"
    assert message["Subject"] == f"customslab: A test on sample {sample.lab_sample_id} was assigned to you."
    assert f"https://lab.customs.test/samples/{sample.id}" in message.get_content()
    assert not [text for text in DECLARATION_TEXTS if text.encode() in mail.data]
    (notice,) = mine(uow_factory, net["analyst"])
    with uow_factory() as uow:
        stored = uow.notifications.of_user(net["analyst"].user_id, notice.id)
        assert stored is not None and stored.emailed_at is not None


def test_without_an_smtp_server_nothing_is_emailed_and_the_notification_stays_in_the_list(
    uow_factory: UowFactory, net: Network, database: Database, tmp_path: Path
) -> None:
    with_email(uow_factory, net["analyst"])
    sample = received_sample(uow_factory, net, "central")
    assigned_test(uow_factory, net, sample.id, determination="alcoholic strength", method_ref="M-1")
    settings = smtp_settings(database, tmp_path, None)
    assert wiring.mailer(settings) is None

    with SmtpRecorder() as smtp:
        NotificationChores(settings, uow_factory, wiring.mailer(settings)).run()
    assert smtp.conversations == 0
    (notice,) = mine(uow_factory, net["analyst"])
    with uow_factory() as uow:
        stored = uow.notifications.of_user(net["analyst"].user_id, notice.id)
        assert stored is not None and stored.emailed_at is None


def test_a_refused_email_is_not_stamped_and_goes_on_a_later_pass(
    uow_factory: UowFactory, net: Network, database: Database, tmp_path: Path
) -> None:
    address = with_email(uow_factory, net["analyst"])
    sample = received_sample(uow_factory, net, "central")
    assigned_test(uow_factory, net, sample.id, determination="alcoholic strength", method_ref="M-1")

    with SmtpRecorder(refuse_recipients=True) as smtp:
        mailer = SmtpMailer("127.0.0.1", smtp.port, "lab@customs.test", starttls=False, timeout=5)
        refused = send_due_mail(uow_factory(), mailer)
        assert refused.failed >= 1 and not [m for m in smtp.received if address in m.recipients]
        smtp.refuse_recipients = False
        sent = send_due_mail(uow_factory(), mailer)
    assert sent.sent >= 1
    assert len([m for m in smtp.received if address in m.recipients]) == 1


def test_an_smtp_server_that_does_not_answer_leaves_every_mail_to_try_again() -> None:
    from customslab.services.notification_ports import OutgoingMail

    mailer = SmtpMailer("127.0.0.1", 9, "lab@customs.test", starttls=False, timeout=2)  # discard port: closed
    outcomes = mailer.send(
        [OutgoingMail("a@customs.test", "s", "b"), OutgoingMail("b@customs.test", "s", "b")]
    )
    assert len(outcomes) == 2 and all(outcomes)
