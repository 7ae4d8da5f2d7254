"""What every `customslab` sub-command shares: reading the settings, refusing with exit code 2, and
units of work on the configured database.

It imports no other command module, so `cli.py` and the modules it registers can all import it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from customslab.config import Settings

if TYPE_CHECKING:
    from customslab.services.federation_delivery import UnitOfWorkFactory

DatabaseOption = Annotated[str | None, typer.Option(help="Overrides CUSTOMSLAB_DATABASE_URL")]


def fail(message: str) -> typer.Exit:
    """Print the message in red on standard error; the exit (code 2) for the caller to raise."""
    typer.secho(message, fg="red", err=True)
    return typer.Exit(2)


def load_settings(
    database_url: str | None = None, file_store: Path | None = None, **overrides: object
) -> Settings:
    """The settings from the environment, overridden by the options given; a bad one exits with 2."""
    if database_url:
        overrides["database_url"] = database_url
    if file_store:
        overrides["file_store"] = file_store
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as exc:
        raise fail(f"Configuration error: {exc}") from None


@contextmanager
def units(settings: Settings) -> Iterator[UnitOfWorkFactory]:
    """Units of work on the configured database (with the audit signer), closed at the end."""
    from customslab.adapters.audit_anchor import AuditKeyError
    from customslab.entrypoints import worker

    try:
        factory, close = worker.default_uow_factory(settings)
    except AuditKeyError as exc:
        raise fail(f"Configuration error: {exc}") from None
    try:
        yield factory
    finally:
        close()
