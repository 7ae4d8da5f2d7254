"""The boundaries notifications depend on: their repository, and the mailer that sends them on.

The SQL adapter (`adapters/notification_repository.py`) implements `NotificationRepository`; the unit of
work carries it as `uow.notifications`. `Mailer` is implemented by `adapters/mailer.py` (SMTP) and built
from the settings in `entrypoints/wiring.py`; only the worker sends, never a request.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from customslab.domain.model import Notification


@dataclass(frozen=True)
class DueWork:
    """An open test of an analyst whose request is due on `due_date`."""

    test_id: int
    analyst_id: int
    sample_id: int
    lab_sample_id: str
    due_date: date


def due_work_key(test_id: int, due_date: date) -> str:
    """The key of the notification of a test's due date: once per test and due date."""
    return f"test:{test_id}:due:{due_date.isoformat()}"


@dataclass(frozen=True)
class MailDue:
    """A notification to e-mail, with where it goes."""

    notification: Notification
    email: str
    full_name: str


@dataclass(frozen=True)
class OutgoingMail:
    """One e-mail as the mailer sends it: plain text, one recipient."""

    to: str
    subject: str
    body: str


class Mailer(Protocol):
    """Sends e-mail (an SMTP server, a fake in tests)."""

    def send(self, mails: Sequence[OutgoingMail]) -> list[str | None]:
        """Send each mail, over one connection where it can: per mail, None once the server has taken it,
        or why it was not sent (it is tried again on a later pass)."""
        ...


class NotificationRepository(abc.ABC):
    """Each user's notifications, and the queries that create and e-mail them."""

    @abc.abstractmethod
    def add(self, notification: Notification) -> bool:
        """Store it unless the user already has one with the same key (then nothing changes, even when
        another transaction stores the same one at the same moment); True when it was stored."""

    @abc.abstractmethod
    def of_user(self, user_id: int, notification_id: int) -> Notification | None:
        """The user's notification of this id; None when it does not exist or is someone else's."""

    @abc.abstractmethod
    def page(
        self, user_id: int, unread_only: bool, limit: int, offset: int
    ) -> tuple[list[Notification], int]:
        """The user's notifications, unread first, then newest first; and how many in all."""

    @abc.abstractmethod
    def unread_count(self, user_id: int) -> int: ...

    @abc.abstractmethod
    def mark_all_read(self, user_id: int, at: datetime) -> int:
        """Stamp every unread notification of the user as read at `at`; how many were unread."""

    @abc.abstractmethod
    def due_work(self, first_day: date, last_day: date) -> list[DueWork]:
        """Assigned, open tests (registered, received, in analysis, retest) of open samples whose request
        is due between the two days (both included), whose analyst has no notification keyed
        `due_work_key` for them yet (so that a scan every minute does not try them all again)."""

    @abc.abstractmethod
    def due_for_email(self, since: datetime, limit: int) -> list[MailDue]:
        """Unread notifications created since `since`, not yet e-mailed, of active users with an e-mail
        address, oldest first. On PostgreSQL they stay locked until the transaction ends, and another
        worker skips them (so no two workers send the same one)."""

    @abc.abstractmethod
    def stamp_emailed(self, notification_ids: Sequence[int], at: datetime) -> None: ...
