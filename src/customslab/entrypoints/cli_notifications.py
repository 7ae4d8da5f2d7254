"""`customslab notifications scan | send-mail`: the worker's notification chores, once, from the shell.

For deployments that run them from cron rather than from the worker (which runs both every
CUSTOMSLAB_NOTIFICATION_POLL_SECONDS). Either is safe to run beside a worker: a due-work notification is
made once per test and due date, and an e-mailed notification is stamped (and locked while it is sent).
"""

from __future__ import annotations

from typing import Annotated

import typer

from customslab.entrypoints.cli_common import DatabaseOption, fail, load_settings, units

notifications_app = typer.Typer(help="Users' notifications.", no_args_is_help=True)


@notifications_app.command("scan")
def scan_command(database_url: DatabaseOption = None) -> None:
    """Notify analysts of their open tests due within a day (once per test and due date)."""
    from customslab.services.notifications import notify_due_work

    with units(load_settings(database_url)) as factory:
        added = notify_due_work(factory())
    typer.echo(f"{added} new notification{'' if added == 1 else 's'} of work due within a day.")


@notifications_app.command("send-mail")
def send_mail_command(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="The most e-mails to send")] = 200,
    database_url: DatabaseOption = None,
) -> None:
    """E-mail the unread notifications of the last day not yet e-mailed (needs CUSTOMSLAB_SMTP_HOST)."""
    from customslab.entrypoints import wiring
    from customslab.services.notification_mail import send_due_mail

    settings = load_settings(database_url)
    mailer = wiring.mailer(settings)
    if mailer is None:
        raise fail("No SMTP server is configured (CUSTOMSLAB_SMTP_HOST); nothing was sent.")
    with units(settings) as factory:
        done = send_due_mail(factory(), mailer, base_url=settings.public_url, limit=limit)
    typer.echo(f"{done.sent} e-mail{'' if done.sent == 1 else 's'} sent, {done.failed} to try again later.")
