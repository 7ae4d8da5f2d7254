"""Notifications: what needs each user, written in the same transaction as the event that causes it.

A new referral to my laboratory, a test assigned to me, a result approved on my request, work of mine
due within a day. Each has a key naming its event, so that it reaches a user once, however often the
event's code runs (a retried request, two workers scanning at once).

A subject names the laboratory's own references (the lab sample id, the request reference) and nothing
of the declaration (importer, value, declaration number, the officer's question): it may leave the
server by e-mail (`notification_mail`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import Field

from customslab.domain.access import LAB_STAFF, Actor
from customslab.domain.enums import NotificationKind, State
from customslab.domain.errors import NotFound
from customslab.domain.model import AnalysisTest, Notification, Referral, Sample
from customslab.services.contract import MAX_INT, Command, Flag, View
from customslab.services.notification_ports import due_work_key
from customslab.services.ports import AbstractUnitOfWork

K = NotificationKind
#: Each kind's subject; `{ref}` is the lab sample id (and the request reference for an approval). The
#: pages show them translated (entrypoints/web/routes_notifications.py marks the same texts).
SUBJECTS: dict[NotificationKind, str] = {
    K.NEW_REFERRAL: "Sample {ref} was referred to your laboratory.",
    K.TEST_ASSIGNED: "A test on sample {ref} was assigned to you.",
    K.RESULT_APPROVED: "The results of sample {ref} were approved.",
    K.WORK_DUE: "Your test on sample {ref} is due within a day.",
    K.CONTROLLED_SUBSTANCE: (
        "Sample {ref} was identified as a controlled substance: the goods may have to be held."
    ),
    K.TARGETING_ALERT: "Targeting alert: {ref}",
    K.TRAINING_COMPLETION: "A completed training awaits your acceptance: {ref}.",
}


class NotificationView(View):
    """One notification as its user sees it; `reference` is what the subject names (a lab sample id)."""

    id: int
    kind: NotificationKind
    subject: str
    reference: str | None
    link: str
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, n: Notification) -> NotificationView:
        return cls.of_record(n, reference=reference_in(n.kind, n.subject))


class NotificationPage(View):
    """A page of the user's notifications, unread first, and how many are unread in all."""

    total: int
    unread: int
    limit: int
    offset: int
    items: list[NotificationView]


class NotificationsRead(View):
    """What marking every notification read did."""

    marked: int
    unread: int


class NotificationQuery(Command):
    """Which of my notifications to list: all, or only the unread ones; and the page."""

    unread_only: Flag = False
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    offset: Annotated[int, Field(ge=0, le=MAX_INT)] = 0


def subject_for(kind: NotificationKind, ref: str) -> str:
    return SUBJECTS[kind].format(ref=ref)


def reference_in(kind: NotificationKind, subject: str) -> str | None:
    """What `{ref}` stands for in a subject written by `subject_for`; None for any other text."""
    head, _, tail = SUBJECTS[kind].partition("{ref}")
    if len(subject) > len(head) + len(tail) and subject.startswith(head) and subject.endswith(tail):
        return subject[len(head) : len(subject) - len(tail)]
    return None


# -- writing them, inside the event's unit of work (none of these commits) -------------------------
def notify(
    uow: AbstractUnitOfWork,
    user_ids: Iterable[int],
    kind: NotificationKind,
    key: str,
    subject: str,
    link: str,
) -> int:
    """Notify each user once per key, in the caller's transaction; how many were new."""
    now = uow.clock()
    added = 0
    for user_id in sorted(set(user_ids)):
        added += uow.notifications.add(Notification(user_id, kind, key, subject, link, now))
    return added


def notify_referral(uow: AbstractUnitOfWork, referral: Referral, sample: Sample) -> int:
    """The receiving laboratory's active staff (analysts, reviewers, managers) hear of a new referral."""
    staff = [u.id for u in uow.repo.users(referral.to_lab) if u.active and u.roles & LAB_STAFF and u.id]
    subject = subject_for(K.NEW_REFERRAL, sample.lab_sample_id)
    return notify(uow, staff, K.NEW_REFERRAL, f"referral:{referral.id}", subject, f"/samples/{sample.id}")


def notify_assigned(uow: AbstractUnitOfWork, actor: Actor, test: AnalysisTest) -> int:
    """The analyst a test was given to hears of it, unless they gave it to themselves."""
    if test.analyst_id is None or test.analyst_id == actor.user_id or test.sample_id is None:
        return 0
    sample = uow.repo.sample(test.sample_id)
    assert sample is not None  # the caller holds the test's sample
    subject = subject_for(K.TEST_ASSIGNED, sample.lab_sample_id)
    key = f"test:{test.id}:assigned:{test.analyst_id}"
    return notify(uow, [test.analyst_id], K.TEST_ASSIGNED, key, subject, f"/samples/{sample.id}")


def notify_approved(uow: AbstractUnitOfWork, sample: Sample) -> int:
    """Once a sample is approved, whoever filed its request hears of it (not a partner's stand-in user,
    which is inactive: the partner hears through the federation)."""
    if sample.state is not State.APPROVED or sample.request_id is None:
        return 0
    req = uow.repo.request(sample.request_id)
    requester = uow.repo.user(req.requester_id) if req is not None else None
    if req is None or requester is None or not requester.active:
        return 0
    ref = f"{sample.lab_sample_id} ({req.reference})"
    key = f"sample:{sample.id}:approved"
    subject = subject_for(K.RESULT_APPROVED, ref)
    return notify(uow, [req.requester_id], K.RESULT_APPROVED, key, subject, f"/requests/{req.id}")


def notify_due_work(uow: AbstractUnitOfWork, now: datetime | None = None) -> int:
    """Notify each analyst of their open tests whose request is due within a day (today or tomorrow);
    once per test and due date, however often it runs. How many notifications were new."""
    with uow:
        uow.act_as("notifications")
        at = now or uow.clock()
        today = at.date()
        added = 0
        for work in uow.notifications.due_work(today, (at + timedelta(days=1)).date()):
            key = due_work_key(work.test_id, work.due_date)
            subject = subject_for(K.WORK_DUE, work.lab_sample_id)
            link = f"/samples/{work.sample_id}"
            added += notify(uow, [work.analyst_id], K.WORK_DUE, key, subject, link)
        uow.commit()
        return added


# -- reading them: each user their own --------------------------------------------------------------
def list_notifications(uow: AbstractUnitOfWork, actor: Actor, query: NotificationQuery) -> NotificationPage:
    """My notifications, unread first, then newest first."""
    with uow:
        rows, total = uow.notifications.page(actor.user_id, query.unread_only, query.limit, query.offset)
        return NotificationPage(
            total=total,
            unread=uow.notifications.unread_count(actor.user_id),
            limit=query.limit,
            offset=query.offset,
            items=[NotificationView.of(n) for n in rows],
        )


def unread_count(uow: AbstractUnitOfWork, actor: Actor) -> int:
    """How many of my notifications are unread (the count beside the bell)."""
    with uow:
        return uow.notifications.unread_count(actor.user_id)


def mark_read(uow: AbstractUnitOfWork, actor: Actor, notification_id: int) -> NotificationView:
    """Mark one of my notifications read; another user's is not found."""
    with uow:
        uow.act_as(actor.username)
        found = uow.notifications.of_user(actor.user_id, notification_id)
        if found is None:
            raise NotFound(f"Notification {notification_id} was not found.")
        if found.read_at is None:
            found.read_at = uow.clock()
        view = NotificationView.of(found)
        uow.commit()
        return view


def mark_all_read(uow: AbstractUnitOfWork, actor: Actor) -> NotificationsRead:
    """Mark every one of my notifications read."""
    with uow:
        uow.act_as(actor.username)
        marked = uow.notifications.mark_all_read(actor.user_id, uow.clock())
        unread = uow.notifications.unread_count(actor.user_id)  # any written meanwhile stay unread
        uow.commit()
        return NotificationsRead(marked=marked, unread=unread)
