"""`customslab targeting export | rebuild`: the risk-indicator export, and the outcomes table's rebuild."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from customslab.entrypoints.cli_common import DatabaseOption, fail, load_settings, units

targeting_app = typer.Typer(
    help="Targeting feedback: the risk-indicator export, the outcomes table.", no_args_is_help=True
)


OutputOption = Annotated[Path | None, typer.Option("-o", "--output", help="Write here (default: stdout).")]


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


def _day(text: str | None, option: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(f"{option} {text!r} is not a date (YYYY-MM-DD).") from None


@targeting_app.command("export")
def export_command(
    as_user: Annotated[str, typer.Option("--as", help="Export as this user (their administration's data).")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or json.")] = ExportFormat.CSV,
    start: Annotated[str | None, typer.Option("--from", help="First decision day, YYYY-MM-DD.")] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last decision day, YYYY-MM-DD (inclusive).")
    ] = None,
    min_n: Annotated[int, typer.Option("--min-n", min=1, help="Leave out selectors with fewer cases.")] = 10,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here (default: stdout).")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Export the administration's risk indicators (docs/targeting.md; JSON schema in
    docs/risk-indicators.schema.json)."""
    from customslab.adapters.tabular_export import to_csv
    from customslab.domain.errors import DomainError
    from customslab.services.contract import parse
    from customslab.services.risk_export import CSV_COLUMNS, RiskExportQuery, csv_rows, risk_indicators
    from customslab.services.targeting import actor_named

    query = {"start": _day(start, "--from"), "end": _day(end, "--to"), "min_n": min_n}
    with units(load_settings(database_url)) as factory:
        try:
            actor = actor_named(factory(), as_user)
            export = risk_indicators(factory(), actor, parse(RiskExportQuery, query))
        except DomainError as exc:
            raise fail(exc.message) from None
    if fmt is ExportFormat.JSON:
        body = (json.dumps(export.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n").encode()
    else:
        body = to_csv(CSV_COLUMNS, csv_rows(export))
    if output is None:
        typer.echo(body.decode("utf-8-sig"), nl=False)
        return
    output.write_bytes(body)
    typer.echo(f"wrote {len(export.indicators)} indicators to {output}", err=True)


@targeting_app.command("rebuild")
def rebuild_command(database_url: DatabaseOption = None) -> None:
    """Recompute the targeting outcomes from the approved classification opinions (idempotent)."""
    from customslab.services.targeting_outcomes import rebuild_outcomes

    with units(load_settings(database_url)) as factory:
        summary = rebuild_outcomes(factory())
    typer.echo(f"recorded {summary.recorded} outcomes (the table held {summary.before} before)")


@targeting_app.command("schema")
def schema_command(output: OutputOption = None) -> None:
    """Print the JSON Schema (draft 2020-12) of the JSON export; docs/risk-indicators.schema.json is it."""
    from customslab.services.risk_export import risk_indicator_schema

    text = json.dumps(risk_indicator_schema(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
