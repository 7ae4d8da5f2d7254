"""The worker's notification chores: the scan for work due within a day, the targeting alert rules that
run on a schedule (rising mismatch rates, repeated importers; every `alert_poll_seconds`), and the
e-mail of notifications of every kind.

`run_worker` (entrypoints/worker.py) calls `tick` on every turn of its loop; the chores run at most every
`notification_poll_seconds`. Nothing needs remembering between runs or processes (rule 15 of the guide):
a due-work notification's key makes it once per test and due date however many workers scan, and a
notification e-mailed is stamped in the database (and locked while it is sent, on PostgreSQL).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

from customslab.config import Settings
from customslab.services.federation_delivery import UnitOfWorkFactory
from customslab.services.notification_mail import MAIL_BATCH, send_due_mail
from customslab.services.notification_ports import Mailer
from customslab.services.notifications import notify_due_work
from customslab.services.targeting_alerts import run_alert_rules

log = logging.getLogger("customslab.notifications")
#: The most batches of e-mail one tick sends.
MAX_MAIL_PASSES = 20


class NotificationChores:
    """Runs the scan and the mail pass when due; a failure is logged, and tried again next time."""

    def __init__(
        self,
        settings: Settings,
        uow_factory: UnitOfWorkFactory,
        mailer: Mailer | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings, self.uow_factory, self.mailer, self.clock = settings, uow_factory, mailer, clock
        self.next_at = 0.0
        self.next_alerts_at = 0.0

    def tick(self) -> None:
        """Run the chores if their time has come (the first call runs them at once)."""
        now = self.clock()
        if now < self.next_at:
            return
        self.next_at = now + self.settings.notification_poll_seconds
        self.run()

    def run(self) -> None:
        self.run_alert_rules()  # first, so that the alerts' notifications go out in this tick's mail
        try:
            added = notify_due_work(self.uow_factory())
            if added:
                log.info("work due within a day: %d notification%s", added, "" if added == 1 else "s")
        except Exception:
            with contextlib.suppress(Exception):  # a broken log handler must not end the worker
                log.exception("the scan for work due within a day failed; it runs again next time")
        if self.mailer is None:
            return
        try:
            for _ in range(MAX_MAIL_PASSES):
                done = send_due_mail(self.uow_factory(), self.mailer, base_url=self.settings.public_url)
                if done.sent or done.failed:
                    log.info("notification e-mail: %d sent, %d to try again", done.sent, done.failed)
                if done.failed or done.sent < MAIL_BATCH:
                    break  # all sent, or the server is in trouble: the rest waits for the next tick
        except Exception:
            with contextlib.suppress(Exception):
                log.exception("the notification e-mail pass failed; it runs again next time")

    def run_alert_rules(self) -> None:
        """The rate and importer alert rules, if their time has come; a failure is logged, tried again
        at the next time."""
        from customslab.entrypoints.wiring import alert_rules

        now = self.clock()
        if now < self.next_alerts_at:
            return
        self.next_alerts_at = now + self.settings.alert_poll_seconds
        try:
            done = run_alert_rules(self.uow_factory, alert_rules(self.settings))
            if done.rising_rates or done.repeated_importers:
                log.info(
                    "targeting alerts: %d rising rate(s), %d repeated importer(s)",
                    done.rising_rates,
                    done.repeated_importers,
                )
        except Exception:
            with contextlib.suppress(Exception):
                log.exception("the targeting alert rules failed; they run again next time")


def notification_chores(settings: Settings, uow_factory: UnitOfWorkFactory) -> NotificationChores:
    """The chores with the configured mailer (none without an SMTP server)."""
    from customslab.entrypoints import wiring

    return NotificationChores(settings, uow_factory, wiring.mailer(settings))
