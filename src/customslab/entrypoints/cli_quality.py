"""`customslab report verify FILE`: check a test report PDF against the register of issued reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from customslab.entrypoints.cli_common import DatabaseOption, fail, load_settings

report_app = typer.Typer(help="ISO/IEC 17025 test reports.", no_args_is_help=True)

EXIT = {"issued": 0, "superseded": 1, "unknown": 2}


@report_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="The report PDF to check")],
    database_url: DatabaseOption = None,
) -> None:
    """Print ISSUED, SUPERSEDED or UNKNOWN for a report PDF (exit 0, 1 or 2)."""
    from customslab.adapters.federation.gate import FhirMessageGate
    from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
    from customslab.services import reports

    if not file.is_file():
        raise fail(f"No such file: {file}")
    settings = load_settings(database_url)
    db = Database(settings.database_url)
    try:
        verdict = reports.verify_report(
            SqlAlchemyUnitOfWork(db, LocalFileStore(settings.file_store)),
            file.read_bytes(),
            FhirMessageGate().report_signature_valid,
        )
    finally:
        db.dispose()
    status = verdict.status
    if status == "unknown":
        typer.echo(f"UNKNOWN: {verdict.problem or 'no report with this verification code was issued'}")
    else:
        issued = verdict.issued_at.isoformat() if verdict.issued_at else "at an unknown time"
        line = f"{status.upper()}: report {verdict.report_id} version {verdict.version}"
        line += f", {verdict.laboratory}, issued {issued}"
        if status == "superseded" and verdict.superseded_by:
            line += f"; superseded by version {verdict.superseded_by.version}"
        if verdict.received_from:
            line += f"; received from {verdict.received_from}'s server, {verdict.signed_by}"
        if verdict.identical_file is False:
            line += " (the file differs from the one issued: compare it with the laboratory's copy)"
        typer.echo(line)
    raise typer.Exit(EXIT[status])
