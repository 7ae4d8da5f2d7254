"""The outbox worker: delivers messages to partner deployments, in a thread of the server or on its own.

`run_worker` loops over `services.federation_delivery.deliver_due` until told to stop, and runs the
notification chores (the due-work scan, e-mail) every `notification_poll_seconds`. The served
application starts one in its lifespan (`lifespan`, when `Settings.delivers_in_process()`); `customslab
worker` runs one in the foreground for deployments that turn the in-process one off. Any number may run
against one PostgreSQL database: a message is locked by the worker sending it (rule 15 of the guide).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from customslab.config import Settings
from customslab.entrypoints.notification_worker import notification_chores
from customslab.services.federation_delivery import DeliveryPass, UnitOfWorkFactory, deliver_due
from customslab.services.federation_ports import Courier, MessageEncoder

log = logging.getLogger("customslab.worker")

#: After a pass that failed (the database away, say), the worker waits longer each time, up to this.
MAX_ERROR_PAUSE_SECONDS = 60.0


def error_pause(poll_seconds: float, errors: int) -> float:
    """How long to wait after `errors` failed passes in a row: doubling from the poll, up to a minute
    (the exponent is capped: a float power overflows after about a thousand failures)."""
    return float(min(MAX_ERROR_PAUSE_SECONDS, poll_seconds * 2 ** min(max(errors, 0), 10)))


def default_uow_factory(settings: Settings) -> tuple[UnitOfWorkFactory, Callable[[], None]]:
    """Units of work on the configured database (with the audit signer), and how to close it."""
    from customslab.adapters.uow import LocalFileStore, SqlAlchemyUnitOfWork
    from customslab.entrypoints import wiring

    db = wiring.database(settings)
    files = LocalFileStore(settings.file_store)
    return (lambda: SqlAlchemyUnitOfWork(db, files)), db.dispose


def message_encoder(settings: Settings, uow_factory: UnitOfWorkFactory) -> MessageEncoder:
    """Encodes and signs with this deployment's current key, read when a message first needs it."""
    from customslab.adapters.federation.encoder import BundleEncoder
    from customslab.entrypoints import wiring

    return BundleEncoder(
        current_key=lambda: wiring.signing_key(settings, uow_factory),
        key_folder=wiring.key_folder(settings),
        sender_url=settings.public_url,
    )


def deliver_pass(
    settings: Settings, uow_factory: UnitOfWorkFactory, encoder: MessageEncoder, courier: Courier
) -> DeliveryPass:
    """One pass: send what is due now (at most 50 messages), with the configured backoff."""
    return deliver_due(
        uow_factory,
        encoder,
        courier,
        retry_base=settings.federation_retry_base_seconds,
        retry_cap=settings.federation_retry_cap_seconds,
    )


def run_worker(
    settings: Settings,
    stop: threading.Event,
    uow_factory: UnitOfWorkFactory | None = None,
    *,
    courier: Courier | None = None,
    encoder: MessageEncoder | None = None,
) -> None:
    """Deliver the outbox until `stop` is set: every `worker_poll_seconds`, at once again after work."""
    from customslab.adapters.federation.courier import HttpCourier

    close_db: Callable[[], None] | None = None
    if uow_factory is None:
        uow_factory, close_db = default_uow_factory(settings)
    carrier = courier if courier is not None else HttpCourier(settings.federation_timeout_seconds)
    encode = encoder or message_encoder(settings, uow_factory)
    chores = notification_chores(settings, uow_factory)
    errors = 0
    log.info("outbox worker started (every %.1f s)", settings.worker_poll_seconds)
    try:
        while not stop.is_set():
            chores.tick()  # due-work scan and notification e-mail, at most every notification_poll_seconds
            try:
                done = deliver_pass(settings, uow_factory, encode, carrier)
            except Exception:
                errors += 1
                pause = error_pause(settings.worker_poll_seconds, errors)
                with contextlib.suppress(Exception):  # a broken log handler must not end the worker
                    log.exception("an outbox pass failed; the worker tries again in %.0f s", pause)
                stop.wait(pause)
                continue
            errors = 0
            if done.sent or done.encoded:
                if done.sent:
                    log.info(
                        "outbox pass: %d delivered, %d to retry, %d failed",
                        done.delivered,
                        done.retrying,
                        done.failed,
                    )
                continue  # more may be due already (the stream's next message, a woken partner)
            stop.wait(settings.worker_poll_seconds)
    finally:
        if isinstance(carrier, HttpCourier) and courier is None:
            carrier.close()
        if close_db is not None:
            close_db()
        log.info("outbox worker stopped")


def start_in_process_worker(settings: Settings, uow_factory: UnitOfWorkFactory) -> Callable[[], None]:
    """Run the worker in a daemon thread; the returned function stops it and waits for its last send."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker, args=(settings, stop, uow_factory), name="customslab-outbox-worker", daemon=True
    )
    thread.start()

    def halt() -> None:
        stop.set()
        # A send in flight ends within the partner's timeout; its outcome is then written.
        thread.join(settings.federation_timeout_seconds + 5)

    return halt


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The served application's lifespan: the in-process worker runs while it serves (see config)."""
    settings: Settings = app.state.settings
    halt = (
        start_in_process_worker(settings, app.state.uow_factory) if settings.delivers_in_process() else None
    )
    try:
        yield
    finally:
        if halt is not None:
            # Off the event loop: a send in flight may take up to the partner's timeout to finish.
            await asyncio.to_thread(halt)
