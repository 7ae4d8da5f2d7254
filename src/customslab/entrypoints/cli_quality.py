"""`customslab report verify FILE`: check a test report PDF against the register of issued reports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from customslab.entrypoints.cli_checks import (
    REPORT_EXIT_HELP,
    CheckCommand,
    CheckExit,
    check_settings,
    database_to_read,
)
from customslab.entrypoints.cli_common import DatabaseOption

if TYPE_CHECKING:
    from customslab.services.reports import Verdict

report_app = typer.Typer(help="ISO/IEC 17025 test reports.", no_args_is_help=True)

EXIT = {"issued": CheckExit.INTACT, "superseded": CheckExit.SUPERSEDED, "unknown": CheckExit.UNKNOWN}


def outcome(verdict: Verdict) -> CheckExit:
    """The exit code of a verdict: a file that is not byte for byte the one issued (or received), or a
    received report whose issuer's signature fails, is altered whatever the register says of its code."""
    if verdict.identical_file is False or verdict.signature_valid is False:
        return CheckExit.ALTERED
    return EXIT[verdict.status]


def verdict_line(verdict: Verdict) -> str:
    """One line for the terminal, starting with the outcome in capitals."""
    code = outcome(verdict)
    if verdict.status == "unknown" and code is CheckExit.UNKNOWN:
        return f"UNKNOWN: {verdict.problem or 'no report with this verification code was issued'}"
    issued = verdict.issued_at.isoformat() if verdict.issued_at else "at an unknown time"
    word = "ALTERED" if code is CheckExit.ALTERED else verdict.status.upper()
    line = (
        f"{word}: report {verdict.report_id} version {verdict.version}, {verdict.laboratory}, issued {issued}"
    )
    if verdict.status == "superseded" and verdict.superseded_by:
        line += f"; superseded by version {verdict.superseded_by.version}"
    if verdict.received_from:
        line += f"; received from {verdict.received_from}'s server, {verdict.signed_by}"
    if verdict.identical_file is False:
        line += " (the file differs from the one issued: compare it with the laboratory's copy)"
    return line


@report_app.command("verify", cls=CheckCommand, epilog=REPORT_EXIT_HELP)
def verify(
    file: Annotated[
        Path,
        typer.Argument(help="The report PDF to check", exists=True, dir_okay=False, readable=True),
    ],
    database_url: DatabaseOption = None,
) -> None:
    """Say whether a report PDF is ISSUED, SUPERSEDED, UNKNOWN or ALTERED (its sha256 against the register).

    Read-only: it needs the database, not the secret key.
    """
    from customslab.adapters.federation.gate import FhirMessageGate
    from customslab.adapters.uow import LocalFileStore, SqlAlchemyUnitOfWork
    from customslab.services import reports

    settings = check_settings(database_url)
    try:
        pdf = file.read_bytes()
    except OSError:
        raise typer.BadParameter("the file cannot be read", param_hint="FILE") from None
    with database_to_read(settings) as db:
        verdict = reports.verify_report(
            SqlAlchemyUnitOfWork(db, LocalFileStore(settings.file_store)),
            pdf,
            FhirMessageGate().report_signature_valid,
        )
    typer.echo(verdict_line(verdict))
    raise typer.Exit(outcome(verdict))
