"""`customslab init --directory network.yaml`: set a deployment up from its directory file.

Migrates the schema, then creates or updates the home administration, the partners, the organisations
with their parents and contact points, and the first administrator (services/directory.py). Run again
with the same file, it changes nothing and says so. The administrator's first password comes from
`--admin-password-file`, the environment variable the file names (`administrator.password_env`), or a
hidden prompt, in that order; it is never written in the directory file.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from customslab.entrypoints.cli_common import fail, load_settings
from customslab.entrypoints.cli_users import RULES

DirectoryPath = Annotated[
    Path,
    typer.Option(
        "--directory",
        help="The directory file (YAML): administrations, organisations, contact points, administrator",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
]


def _first_password(file: Path | None, env_name: str) -> str | None:
    """The new administrator's password: a file's first line, the named variable, or a hidden prompt."""
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise fail(f"The password file could not be read: {exc.strerror}.") from None
        return text.splitlines()[0] if text.strip() else None
    if env_name and os.environ.get(env_name):
        return os.environ[env_name]
    if sys.stdin.isatty():
        typer.echo(RULES, err=True)
        typed: str = typer.prompt("First administrator's password", hide_input=True, confirmation_prompt=True)
        return typed
    return None


def init_command(
    directory: DirectoryPath,
    database_url: Annotated[
        str | None, typer.Option("--database", "--database-url", help="Overrides CUSTOMSLAB_DATABASE_URL")
    ] = None,
    admin_password_file: Annotated[
        Path | None,
        typer.Option(help="A file whose first line is the new administrator's password", dir_okay=False),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would change; write nothing")] = False,
) -> None:
    """Set up this server's administration from a directory file (idempotent; migrates the schema first)."""
    from customslab.adapters.audit_anchor import AuditKeyError
    from customslab.adapters.db import schema_is_current, upgrade
    from customslab.adapters.uow import LocalFileStore, SqlAlchemyUnitOfWork
    from customslab.domain.errors import DomainError
    from customslab.entrypoints import wiring
    from customslab.services import directory as service

    try:
        spec = service.read_directory(directory.read_text(encoding="utf-8"))
    except service.DirectoryInvalid as exc:
        raise fail(exc.message.replace("The directory file", directory.name, 1)) from None
    except UnicodeDecodeError:
        raise fail(f"{directory.name} is not UTF-8 text.") from None
    settings = load_settings(database_url)
    if not schema_is_current(settings.database_url):
        if dry_run:
            # A dry run writes nothing, not even the schema: the file is read against a current one.
            raise fail(
                "The database schema is not current; run `customslab db upgrade` first, then the dry run."
            )
        upgrade(settings.database_url)
        typer.echo("Migrated the database schema to the newest version.")
    try:
        db = wiring.database(settings)
    except AuditKeyError as exc:
        raise fail(f"Configuration error: {exc}") from None
    files = LocalFileStore(settings.file_store)
    try:
        password = None
        if service.needs_administrator_password(SqlAlchemyUnitOfWork(db, files), spec):
            password = _first_password(admin_password_file, spec.administrator.password_env)
        result = service.apply_directory(SqlAlchemyUnitOfWork(db, files), spec, password, dry_run)
    except service.DirectoryInvalid as exc:
        raise fail(exc.message.replace("The directory file", directory.name, 1)) from None
    except DomainError as exc:
        raise fail(exc.message) from None
    finally:
        db.dispose()
    if result.nothing_to_change:
        typer.echo(f"Nothing to change: the database already matches {directory.name}.")
        return
    typer.echo(
        ("Would make" if dry_run else "Made") + f" {len(result.changes)} changes from {directory.name}:"
    )
    for change in result.changes:
        typer.echo(f"  - {change}")
    if dry_run:
        typer.echo("Nothing was written (--dry-run).")
