"""`customslab worker [--once]`: deliver the federation outbox in the foreground, and the outbox commands.

A deployment that sets CUSTOMSLAB_WORKER_IN_PROCESS=false runs this beside its servers (several may run
against one PostgreSQL database). The worker migrates nothing: a schema older than the code is refused
(run `customslab db upgrade` first), so that a worker never races a server's migration.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from typing import Annotated, Any

import typer

from customslab.domain.errors import DomainError
from customslab.domain.federation import OutboxState
from customslab.entrypoints.cli_common import DatabaseOption, fail, load_settings

#: The most messages `--once` sends before it exits.
ONCE_LIMIT = 1000


def _shown(url: str) -> str:
    """A database URL as printed: without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _checked_settings(database_url: str | None) -> Any:
    from customslab.adapters.db import schema_is_current

    settings = load_settings(database_url)
    try:
        current = schema_is_current(settings.database_url)
    except Exception as exc:  # an unreachable server, a bad URL: say which, briefly
        raise fail(f"The database at {_shown(settings.database_url)} cannot be read: {exc}") from None
    if not current:
        raise fail(
            f"The database at {_shown(settings.database_url)} is not at this version's schema. The "
            "worker migrates nothing: run `customslab db upgrade` (or start `customslab serve`, which "
            "migrates) first."
        )
    return settings


def worker_command(
    once: Annotated[bool, typer.Option("--once", help="Send what is due now, then exit")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Deliver the federation outbox to partner deployments until stopped (Ctrl-C or SIGTERM)."""
    from customslab.adapters.audit_anchor import AuditKeyError
    from customslab.adapters.federation.courier import HttpCourier
    from customslab.entrypoints import worker
    from customslab.services.federation_delivery import deliver_due

    settings = _checked_settings(database_url)
    try:
        uow_factory, close = worker.default_uow_factory(settings)
    except AuditKeyError as exc:
        raise fail(f"Configuration error: {exc}") from None
    if once:
        courier = HttpCourier(settings.federation_timeout_seconds)
        try:
            done = deliver_due(
                uow_factory,
                worker.message_encoder(settings, uow_factory),
                courier,
                limit=ONCE_LIMIT,
                retry_base=settings.federation_retry_base_seconds,
                retry_cap=settings.federation_retry_cap_seconds,
            )
        finally:
            courier.close()
            close()
        typer.echo(
            f"Delivered {done.delivered}, {done.retrying} to retry later, {done.failed} failed "
            f"({done.encoded} signed for their first sending)."
        )
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    typer.echo(f"Delivering the outbox of {_shown(settings.database_url)}; Ctrl-C stops.")
    try:
        worker.run_worker(settings, stop, uow_factory)
    finally:
        close()


# -- `customslab federation messages` and `retry` (registered on the `federation` app by cli.py) --
def messages_command(
    state: Annotated[OutboxState | None, typer.Option(help="Only messages in this state")] = None,
    partner: Annotated[str | None, typer.Option(help="Only messages to this administration")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """List the messages to partner deployments, newest first: state, attempts and last error."""
    from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
    from customslab.services.contract import parse
    from customslab.services.federation_delivery import OutboxQuery, outbox_page

    settings = load_settings(database_url)
    db = Database(settings.database_url)  # reading writes nothing, so it needs no audit signer
    try:
        query = parse(OutboxQuery, {"state": state, "partner": partner, "limit": limit})
        page = outbox_page(SqlAlchemyUnitOfWork(db, LocalFileStore(settings.file_store)), None, query)
    except DomainError as exc:
        raise fail(exc.message) from None
    finally:
        db.dispose()
    if as_json:
        typer.echo(page.model_dump_json())
        return
    counts = ", ".join(f"{n} {s}" for s, n in page.counts.items())
    typer.echo(f"{page.total} message{'s' if page.total != 1 else ''} listed ({counts} in all).")
    for m in page.items:
        when = (
            f"delivered {m.delivered_at:%Y-%m-%d %H:%M}"
            if m.delivered_at
            else f"next try {m.next_attempt_at:%Y-%m-%d %H:%M:%S}"
            if m.state is OutboxState.PENDING
            else "waits for a retry"
        )
        typer.echo(
            f"{m.id:>6}  {m.state.value:<9} {m.partner:<10} {m.kind.value:<18} {m.stream} #{m.seq}  "
            f"attempts {m.attempts}, {when}"
        )
        if m.last_error:
            typer.echo(f"        last error: {m.last_error}")


def retry_command(
    message_pk: Annotated[
        int | None, typer.Argument(help="The message's id (first column of `messages`)")
    ] = None,
    partner: Annotated[
        str | None, typer.Option(help="Instead of one message: every failed message to this administration")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Send a failed or waiting message again now (the same signed bytes), or every failed one to a
    partner (`--partner`)."""
    from customslab.adapters.audit_anchor import AuditKeyError
    from customslab.adapters.uow import LocalFileStore, SqlAlchemyUnitOfWork
    from customslab.entrypoints import wiring
    from customslab.services.federation_delivery import FailedRetried, retry_failed, retry_message

    if (message_pk is None) == (partner is None):
        raise fail("Give either a message id or --partner ADMINISTRATION (one of them, not both).")
    settings = load_settings(database_url)
    try:
        db = wiring.database(settings)
    except AuditKeyError as exc:
        raise fail(f"Configuration error: {exc}") from None
    try:
        uow = SqlAlchemyUnitOfWork(db, LocalFileStore(settings.file_store))
        if partner is not None:
            retried = FailedRetried(partner=partner.strip().upper(), retried=retry_failed(uow, None, partner))
        else:
            entry = retry_message(uow, None, message_pk or 0)
    except DomainError as exc:
        raise fail(exc.message) from None
    finally:
        db.dispose()
    if partner is not None:
        if as_json:
            typer.echo(retried.model_dump_json())
        else:
            n = retried.retried
            typer.echo(
                f"{n} failed message{'s' if n != 1 else ''} to {retried.partner} will be sent again now."
            )
        return
    if as_json:
        typer.echo(json.dumps(entry.model_dump(mode="json")))
        return
    typer.echo(
        f"Message {entry.id} ({entry.kind.value} to {entry.partner}) will be sent again now; "
        f"it had {entry.attempts} attempt{'s' if entry.attempts != 1 else ''}."
    )
