"""E-mailing notifications: the worker's job, never a request's (an SMTP server that is slow or away must
not hold up anyone's page).

A pass takes the unread notifications not yet e-mailed, of users with an address, sends them and stamps
the ones the server took; a failure is logged and the notification is tried again on the next pass, for
a day (`MAIL_WINDOW`): a deployment that turns e-mail on later does not flood its users with old news.
The mail carries the subject and a link, never declaration data: the details stay behind the sign-in.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from customslab.services.contract import View
from customslab.services.notification_ports import MailDue, Mailer, OutgoingMail
from customslab.services.ports import AbstractUnitOfWork

log = logging.getLogger("customslab.notifications")

#: Who the records name for what a mail pass writes.
MAILER = "notification-mailer"
#: Notifications older than this are no longer e-mailed (they stay in the user's list).
MAIL_WINDOW = timedelta(days=1)
#: The most e-mails one pass sends (over one connection).
MAIL_BATCH = 50


class MailPass(View):
    """What one pass did: e-mails the server took, and e-mails to try again later."""

    sent: int = 0
    failed: int = 0


def mail_of(due: MailDue, base_url: str) -> OutgoingMail:
    """The e-mail of one notification: its subject and where to read it, addressed to its user."""
    n = due.notification
    where = f"{base_url.rstrip('/')}{n.link}" if base_url else n.link
    body = (
        f"{due.full_name},\n\n{n.subject}\n\n{where}\n\n"
        "Sign in to customslab to see the details; they stay on the server.\n"
        "This message was sent automatically; replies are not read.\n"
    )
    return OutgoingMail(to=due.email, subject=f"customslab: {n.subject}", body=body)


def send_due_mail(
    uow: AbstractUnitOfWork, mailer: Mailer, *, base_url: str = "", limit: int = MAIL_BATCH
) -> MailPass:
    """E-mail up to `limit` due notifications and stamp those the server took."""
    with uow:
        uow.act_as(MAILER)
        due = uow.notifications.due_for_email(uow.clock() - MAIL_WINDOW, limit)
        if not due:
            return MailPass()
        outcomes = mailer.send([mail_of(d, base_url) for d in due])
        sent: list[int] = []
        for d, error in zip(due, outcomes, strict=True):
            if error is None and d.notification.id is not None:
                sent.append(d.notification.id)
            else:
                # The address and subject stay out of the log: the id is enough to find the row.
                log.warning("notification %s not e-mailed, tried again later: %s", d.notification.id, error)
        uow.notifications.stamp_emailed(sent, uow.clock())
        uow.commit()
        return MailPass(sent=len(sent), failed=len(due) - len(sent))
