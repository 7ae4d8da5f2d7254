"""Notifications without a database: subjects and their references, once per key, the mail pass, the
worker's pacing and the e-mail settings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from customslab.config import Settings
from customslab.domain.enums import NotificationKind, Priority, Reason, Role, State
from customslab.domain.model import AnalysisRequest, Sample, User
from customslab.entrypoints.notification_worker import NotificationChores
from customslab.entrypoints.web.routes_notifications import SUBJECTS as PAGE_SUBJECTS
from customslab.entrypoints.web.routes_notifications import TITLES
from customslab.services import notifications
from customslab.services.notification_mail import MAIL_WINDOW, mail_of, send_due_mail
from customslab.services.notification_ports import DueWork, MailDue, OutgoingMail
from customslab.services.notifications import SUBJECTS, notify, notify_approved, reference_in, subject_for
from tests.unit.fakes import FakeUnitOfWork

K = NotificationKind
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class RecordingMailer:
    """Takes every mail, or refuses those to `refused`."""

    def __init__(self, refused: frozenset[str] = frozenset()) -> None:
        self.sent: list[OutgoingMail] = []
        self.refused = refused

    def send(self, mails: Sequence[OutgoingMail]) -> list[str | None]:
        outcomes: list[str | None] = []
        for mail in mails:
            if mail.to in self.refused:
                outcomes.append("550 no such user")
            else:
                self.sent.append(mail)
                outcomes.append(None)
        return outcomes


def _user(uow: FakeUnitOfWork, email: str = "", active: bool = True) -> int:
    user = User("u", "Kim Analyst", "LAB", frozenset({Role.ANALYST}), email, active=active)
    uow.repo.add(user)
    assert user.id is not None
    return user.id


def test_the_page_translates_the_same_subjects_the_services_write_and_titles_every_kind() -> None:
    assert dict(PAGE_SUBJECTS) == {k.value: v for k, v in SUBJECTS.items()}
    assert set(TITLES) == {k.value for k in NotificationKind}


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_a_subjects_reference_is_read_back_and_any_other_text_has_none(kind: NotificationKind) -> None:
    assert reference_in(kind, subject_for(kind, "KCS-ICN-2026-00042")) == "KCS-ICN-2026-00042"
    assert reference_in(kind, "Something else entirely.") is None


def test_the_same_key_notifies_a_user_once_and_each_user_once() -> None:
    uow = FakeUnitOfWork(now=NOW)
    a, b = _user(uow), _user(uow)
    assert notify(uow, [a, b, a], K.WORK_DUE, "test:1:due:2026-11-02", "s", "/samples/1") == 2
    assert notify(uow, [a], K.WORK_DUE, "test:1:due:2026-11-02", "s", "/samples/1") == 0
    assert notify(uow, [a], K.WORK_DUE, "test:1:due:2026-11-03", "s", "/samples/1") == 1
    assert [uow.notifications.unread_count(u) for u in (a, b)] == [2, 1]


def test_the_approval_of_a_partners_sample_notifies_no_inactive_stand_in_user() -> None:
    uow = FakeUnitOfWork(now=NOW)
    stand_in = _user(uow, active=False)
    req = AnalysisRequest(
        "REQ-2026-000001", "BT-FP", stand_in, "RCL", "DCL-1", 1, "220840", "Rum", "JM",
        Reason.CLASSIFICATION, Priority.URGENT, date(2026, 11, 5), NOW,
    )  # fmt: skip
    uow.repo.add(req)
    sample = Sample("RCL-2026-00001", "RCL", "Rum", Decimal(1), "L", State.APPROVED, NOW, request_id=req.id)
    uow.repo.add(sample)
    assert notify_approved(uow, sample) == 0


def test_a_mail_pass_sends_each_due_notification_once_and_leaves_a_refused_one_for_later() -> None:
    uow = FakeUnitOfWork(now=NOW)
    kim, lee, nobody = _user(uow, "kim@lab.test"), _user(uow, "lee@lab.test"), _user(uow)
    for user in (kim, lee, nobody):
        notify(
            uow, [user], K.TEST_ASSIGNED, "test:7:assigned", subject_for(K.TEST_ASSIGNED, "L-1"), "/samples/3"
        )
    mailer = RecordingMailer(refused=frozenset({"lee@lab.test"}))

    first = send_due_mail(uow, mailer, base_url="https://lab.test/")
    assert (first.sent, first.failed) == (1, 1)
    assert [(m.to, m.subject) for m in mailer.sent] == [
        ("kim@lab.test", "customslab: A test on sample L-1 was assigned to you.")
    ]
    assert "https://lab.test/samples/3" in mailer.sent[0].body

    mailer.refused = frozenset()
    second = send_due_mail(uow, mailer)
    assert (second.sent, second.failed) == (1, 0)
    assert send_due_mail(uow, mailer).sent == 0


def test_a_notification_already_read_or_older_than_a_day_is_not_emailed() -> None:
    uow = FakeUnitOfWork(now=NOW)
    kim = _user(uow, "kim@lab.test")
    notify(uow, [kim], K.WORK_DUE, "read", "s", "/")
    uow.now = NOW + MAIL_WINDOW + timedelta(minutes=1)
    notify(uow, [kim], K.WORK_DUE, "fresh", "s", "/")
    first = uow.notifications.of_key(kim, "fresh")
    assert first is not None
    first.read_at = uow.now
    assert send_due_mail(uow, RecordingMailer()).sent == 0


def test_an_email_carries_the_subject_and_link_and_nothing_else_of_the_case() -> None:
    uow = FakeUnitOfWork(now=NOW)
    kim = _user(uow, "kim@lab.test")
    notify(uow, [kim], K.RESULT_APPROVED, "k", subject_for(K.RESULT_APPROVED, "L-1 (REQ-1)"), "/requests/9")
    (due,) = uow.notifications.due_for_email(NOW - MAIL_WINDOW, 10)
    mail = mail_of(due, "")
    assert mail.subject == "customslab: The results of sample L-1 (REQ-1) were approved."
    assert mail.body.startswith(
        "Kim Analyst,\n\nThe results of sample L-1 (REQ-1) were approved.\n\n/requests/9\n"
    )
    assert isinstance(due, MailDue)


def test_the_worker_runs_the_chores_at_once_then_not_before_the_poll_interval() -> None:
    uow = FakeUnitOfWork(now=NOW)
    settings = Settings(mode="test", notification_poll_seconds=60)
    clock = [1000.0]
    runs: list[float] = []
    chores = NotificationChores(settings, lambda: uow, None, clock=lambda: clock[0])
    chores.run = lambda: runs.append(clock[0])
    for t in (1000.0, 1030.0, 1059.9, 1060.0, 1100.0, 1125.0):
        clock[0] = t
        chores.tick()
    assert runs == [1000.0, 1060.0, 1125.0]


def test_a_failing_scan_is_logged_and_the_mail_pass_still_runs(caplog: pytest.LogCaptureFixture) -> None:
    uow = FakeUnitOfWork(now=NOW)
    kim = _user(uow, "kim@lab.test")
    notify(uow, [kim], K.TEST_ASSIGNED, "k", "s", "/")

    def broken(first_day: date, last_day: date) -> list[DueWork]:
        raise RuntimeError("database away")

    uow.notifications.due_work = broken  # type: ignore[method-assign]
    mailer = RecordingMailer()
    NotificationChores(Settings(mode="test"), lambda: uow, mailer).run()
    assert "scan for work due within a day failed" in caplog.text
    assert [m.to for m in mailer.sent] == ["kim@lab.test"]


def test_smtp_needs_a_sender_address_and_production_keeps_starttls_for_a_login() -> None:
    with pytest.raises(ValueError, match="CUSTOMSLAB_SMTP_FROM"):
        Settings(mode="test", smtp_host="mail.customs.test")
    secure = {"secret_key": "x" * 40, "audit_key_file": "/keys/audit.pem", "smtp_from": "lab@customs.test"}
    with pytest.raises(ValueError, match="in clear"):
        Settings(mode="production", smtp_host="mail", smtp_user="lab", smtp_starttls=False, **secure)
    assert Settings(mode="production", smtp_host="mail", smtp_user="lab", **secure).smtp_starttls
    assert Settings(mode="test").smtp_host is None


def test_listing_marks_and_counts_only_my_own() -> None:
    from customslab.domain.access import Actor
    from customslab.domain.errors import NotFound

    uow = FakeUnitOfWork(now=NOW)
    kim, lee = _user(uow), _user(uow)
    notify(uow, [kim], K.WORK_DUE, "a", "s", "/")
    notify(uow, [lee], K.WORK_DUE, "a", "s", "/")
    (lees,) = uow.notifications.page(lee, False, 10, 0)[0]
    me = Actor(kim, "kim", "LAB", frozenset({Role.ANALYST}))
    with pytest.raises(NotFound):
        notifications.mark_read(uow, me, lees.id or 0)
    assert notifications.mark_all_read(uow, me).marked == 1
    assert uow.notifications.unread_count(lee) == 1
