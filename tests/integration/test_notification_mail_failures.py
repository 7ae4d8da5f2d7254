"""One e-mail that cannot be sent (a subject that would break the header, an address the server cannot
take) costs only that e-mail: the others go, are stamped, and are never sent twice."""

from __future__ import annotations

from collections.abc import Callable

from customslab.adapters.mailer import SmtpMailer
from customslab.adapters.uow import SqlAlchemyUnitOfWork
from customslab.domain.access import Actor
from customslab.domain.enums import NotificationKind
from customslab.services import notifications
from customslab.services.notification_mail import send_due_mail
from customslab.services.notification_ports import OutgoingMail
from tests.factories import make_network, unique
from tests.integration.smtp_server import SmtpRecorder

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
#: A mailbox name the test server cannot take: it does not offer SMTPUTF8.
NON_ASCII = "분석"


def mailer_for(smtp: SmtpRecorder) -> SmtpMailer:
    return SmtpMailer("127.0.0.1", smtp.port, "lab@customs.test", starttls=False, timeout=5)


def notified(uow_factory: UowFactory, actor: Actor, email: str, subject: str) -> int:
    """A fresh notification of `actor`, who is given `email`; its id."""
    key = unique("mail-test")
    with uow_factory() as uow:
        user = uow.repo.user(actor.user_id)
        assert user is not None
        user.email = email
        notifications.notify(uow, [actor.user_id], NotificationKind.TEST_ASSIGNED, key, subject, "/queue")
        uow.commit()
    with uow_factory() as uow:
        page, _ = uow.notifications.page(actor.user_id, True, 200, 0)
        (stored,) = [n for n in page if n.key == key]
        assert stored.id is not None
        return stored.id


def emailed(uow_factory: UowFactory, actor: Actor, notification_id: int) -> bool:
    with uow_factory() as uow:
        stored = uow.notifications.of_user(actor.user_id, notification_id)
        assert stored is not None
        return stored.emailed_at is not None


def test_the_mailer_sends_the_others_when_one_address_is_refused_and_puts_a_subject_on_one_line() -> None:
    mails = [
        OutgoingMail(f"{NON_ASCII}@customs.test", "first", "body"),
        OutgoingMail("b@customs.test", "second\r\nBcc: someone@else.test\tend", "body"),
        OutgoingMail("c@customs.test", "third", "body"),
    ]
    with SmtpRecorder() as smtp:
        outcomes = mailer_for(smtp).send(mails)
    assert outcomes[0] and outcomes[1:] == [None, None]
    assert [m.recipients for m in smtp.received] == [["b@customs.test"], ["c@customs.test"]]
    second = smtp.received[0].message
    assert second["Subject"] == "second  Bcc: someone@else.test end" and second["Bcc"] is None


def test_a_pass_stamps_the_mails_sent_though_another_fails_and_sends_none_twice(
    uow_factory: UowFactory,
) -> None:
    net = make_network(uow_factory)
    refused = notified(uow_factory, net["analyst"], f"{NON_ASCII}{unique('a').lower()}@customs.test", "one")
    broken = notified(uow_factory, net["reviewer"], f"{unique('r').lower()}@customs.test", "two\nlines")
    plain = notified(uow_factory, net["central_manager"], f"{unique('m').lower()}@customs.test", "three")

    with SmtpRecorder() as smtp:
        send_due_mail(uow_factory(), mailer_for(smtp), limit=500)
        send_due_mail(uow_factory(), mailer_for(smtp), limit=500)

    assert not emailed(uow_factory, net["analyst"], refused)
    assert emailed(uow_factory, net["reviewer"], broken) and emailed(
        uow_factory, net["central_manager"], plain
    )
    subjects = [m.message["Subject"] for m in smtp.received]
    assert subjects.count("customslab: two lines") == 1 and subjects.count("customslab: three") == 1
