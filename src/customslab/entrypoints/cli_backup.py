"""`customslab backup OUT` and `customslab restore BACKUP` (registered by the main CLI).

The logic is in `customslab.adapters.backup`; these commands read the settings, print what happened and
turn a refusal into exit code 2 and a restored copy that differs from its backup into exit code 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from customslab.entrypoints.cli_common import DatabaseOption, fail, load_settings

FileStoreOption = Annotated[Path | None, typer.Option(help="Overrides CUSTOMSLAB_FILE_STORE")]
KEY_NOTE = "The audit signing key is not part of a backup: keep a copy of it apart, in a safe place."
RESTORE_KEY_NOTE = "Put the audit signing key back in place from its own copy: a backup does not carry it."


def backup_command(
    out: Annotated[Path, typer.Argument(help="New or empty folder to write the backup into")],
    database_url: DatabaseOption = None,
    file_store: FileStoreOption = None,
) -> None:
    """Write a consistent snapshot of the database and the file store, with a checksummed manifest."""
    from customslab.adapters.backup import BackupRefused, create_backup

    settings = load_settings(database_url, file_store)
    try:
        result = create_backup(settings.database_url, settings.file_store, out)
    except BackupRefused as exc:
        raise fail(exc.message) from None
    m = result.manifest
    head = f"entry {m.audit_head.seq}" if m.audit_head else "empty"
    typer.echo(
        f"Backup written: {m.database_kind} database at revision {m.alembic_revision}, "
        f"{sum(m.row_counts.values())} rows in {len(m.row_counts)} tables, "
        f"{len(m.files) - 1} files from the file store; audit chain head: {head}."
    )
    typer.echo(KEY_NOTE)
    if result.problems:
        for problem in result.problems:
            typer.secho(f"Incomplete: {problem}.", fg="red", err=True)
        raise typer.Exit(1)


def restore_command(
    backup: Annotated[Path, typer.Argument(help="Folder written by `customslab backup`")],
    database_url: DatabaseOption = None,
    file_store: FileStoreOption = None,
) -> None:
    """Restore a backup into an empty database and file store, then check it against its manifest."""
    from customslab.adapters.audit_anchor import AuditKeyError, SqlAuditAnchor
    from customslab.adapters.backup import BackupRefused, restore_backup
    from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
    from customslab.entrypoints import wiring
    from customslab.services import queries

    settings = load_settings(database_url, file_store)
    try:
        result = restore_backup(backup, settings.database_url, settings.file_store)
    except BackupRefused as exc:
        raise fail(exc.message) from None
    try:
        signer = wiring.audit_signer(settings)
    except AuditKeyError as exc:
        raise fail(f"Restored, but the audit trail cannot be checked: {exc}") from None
    db = Database(settings.database_url)  # verifying writes nothing, so it needs no signer
    try:
        # Against the signed checkpoints, with the key kept apart from the backup (put it back first).
        anchor = SqlAuditAnchor(db.engine, signer)
        verdict = queries.verify_audit(SqlAlchemyUnitOfWork(db, LocalFileStore(settings.file_store)), anchor)
    finally:
        db.dispose()
    m = result.manifest
    typer.echo(
        f"Restored the {m.database_kind} backup of {m.created_at:%Y-%m-%d %H:%M} UTC: "
        f"{len(m.row_counts)} tables, {len(m.files) - 1} files."
    )
    for difference in result.differences:
        typer.secho(f"Differs: {difference}.", fg="red")
    if not result.differences:
        typer.echo("Row counts, schema revision and audit head match the backup's manifest.")
    if verdict.ok:
        typer.echo(f"Audit chain intact: {verdict.checked} entries verified.")
    else:
        typer.secho(f"Audit chain BROKEN: {verdict.problem} ({verdict.checked} entries verified).", fg="red")
    if result.differences or not verdict.ok:
        typer.secho("The restored copy does NOT match the backup.", fg="red")
        raise typer.Exit(1)
    typer.echo("The restored copy matches the backup.")
    typer.echo(RESTORE_KEY_NOTE)
