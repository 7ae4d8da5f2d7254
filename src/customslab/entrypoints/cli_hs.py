"""`customslab hs ...`: search and browse the nomenclature, evaluate measurement rules, load, docs."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import SQLAlchemyError

from customslab.adapters import hs_store
from customslab.domain.errors import ValidationFailed
from customslab.hs.coverage import coverage_report, render_text, write_coverage_docs
from customslab.hs.decision import DecisionRule
from customslab.hs.docs import write_docs
from customslab.hs.nomenclature import DEFAULT_EDITION, HsError, cached_nomenclature, format_code
from customslab.hs.tariff import read_tariff_csv
from customslab.services import classification
from customslab.services.classification import EvaluationRequest
from customslab.services.contract import parse

hs_app = typer.Typer(help="HS classification: nomenclature search, measurement rules, decision support.")

DEFAULT_DATABASE_URL = "sqlite:///var/customslab.sqlite3"


def hs_data_dir() -> Path:
    """$CUSTOMSLAB_HS_DATA, else ../shared/data/hs relative to the working directory."""
    configured = os.environ.get("CUSTOMSLAB_HS_DATA")
    return Path(configured) if configured else Path.cwd().parent / "shared" / "data" / "hs"


def _database_url(given: str | None) -> str:
    return given or os.environ.get("CUSTOMSLAB_DATABASE_URL") or DEFAULT_DATABASE_URL


def _fail(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code=2)


DatabaseOption = Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy URL of the database.")]
EditionOption = Annotated[str, typer.Option("--edition", help="HS edition.")]
DataOption = Annotated[Path | None, typer.Option("--data", help="Folder with harmonized-system.csv.")]


def _engine(database_url: str | None) -> Engine:
    url = _database_url(database_url)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(url)


def _ready(database_url: str | None, edition: str, data: Path | None) -> Engine:
    """An engine whose database holds the edition, loading it on the fly (and saying so) if missing."""
    engine = _engine(database_url)
    with engine.begin() as conn:
        if not hs_store.is_loaded(conn, edition):
            hs_store.ensure_schema(conn)
            counts = hs_store.load_nomenclature(conn, data or hs_data_dir(), edition)
            typer.echo(f"Loaded {edition} into the database first: {_counts(counts)}.", err=True)
    return engine


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{value} {name}" for name, value in counts.items())


@hs_app.command()
def search(
    text: Annotated[str, typer.Argument(help="Words, or a code prefix such as 2208 or 22.08.")],
    database_url: DatabaseOption = None,
    edition: EditionOption = DEFAULT_EDITION,
    data: DataOption = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 10,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Search the nomenclature by full text (ranked by heading) or by code prefix."""
    try:
        engine = _ready(database_url, edition, data)
        with engine.connect() as conn:
            hits = hs_store.search(conn, text, edition, limit)
    except (HsError, SQLAlchemyError) as error:
        raise _fail(str(error).splitlines()[0]) from None
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "code": h.code,
                        "level": h.level,
                        "description": h.description,
                        "score": round(h.score, 6),
                        "matches": [c for c, _ in h.matches],
                    }
                    for h in hits
                ]
            )
        )
        return
    if not hits:
        typer.echo(f"No match for {text!r} in {edition}.")
    for hit in hits:
        typer.echo(f"{format_code(hit.code):<10} {hit.description}")
        for code, description in hit.matches[:5]:
            typer.echo(f"    {format_code(code):<10} {description}")


@hs_app.command()
def show(
    code: Annotated[str, typer.Argument(help="Chapter, heading or subheading, e.g. 2208 or 2208.40.")],
    database_url: DatabaseOption = None,
    edition: EditionOption = DEFAULT_EDITION,
    data: DataOption = None,
) -> None:
    """Show a code with its ancestors and children."""
    try:
        engine = _ready(database_url, edition, data)
        with engine.connect() as conn:
            node = hs_store.get_node(conn, code, edition)
            if node is None:
                raise HsError(f"{code} is not a code of {edition}")
            chain = [node]
            while chain[0].parent:
                parent = hs_store.get_node(conn, chain[0].parent, edition)
                if parent is None:
                    break
                chain.insert(0, parent)
            kids = hs_store.children(conn, node.code, edition)
    except (HsError, SQLAlchemyError) as error:
        raise _fail(str(error).splitlines()[0]) from None
    typer.echo(f"Section {node.section}  ({edition})")
    for depth, item in enumerate(chain):
        typer.echo(f"{'  ' * depth}{format_code(item.code):<10} {item.description}")
    for kid in kids:
        typer.echo(f"{'  ' * len(chain)}{format_code(kid.code):<10} {kid.description}")


class RulesLanguage(StrEnum):
    """The languages the rules catalogue is written in (services.classification.Language)."""

    EN = "en"
    KO = "ko"


@hs_app.command("evaluate")
def evaluate_command(
    declared: Annotated[str, typer.Option("--declared", help="Declared code, 2–10 digits.")],
    result: Annotated[list[str], typer.Option("--result", help="NAME=VALUE[UNIT][±U]; repeat.")],
    decision_rule: Annotated[DecisionRule, typer.Option("--decision-rule")] = DecisionRule.GUARDED,
    data: DataOption = None,
    tariff: Annotated[
        Path | None,
        typer.Option("--tariff", help="National tariff CSV (code, description, ad_valorem, ...)."),
    ] = None,
    customs_value: Annotated[
        float | None, typer.Option("--value", min=0, help="Customs value, for the duty difference.")
    ] = None,
    quantity: Annotated[
        float | None, typer.Option("--quantity", min=0, help="Quantity in the tariff's unit (specific duty).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    lang: Annotated[
        RulesLanguage, typer.Option("--lang", help="Language of the rules' titles, explanations and reasons.")
    ] = RulesLanguage.EN,
) -> None:
    """Apply the measurement rules to a declared code and laboratory results (no database needed).

    With --tariff and --value, also the duty under the declared and the determined national line.
    """
    if (tariff is None) != (customs_value is None):
        raise _fail("the duty difference needs both --tariff and --value")
    try:
        cmd = parse(
            EvaluationRequest, {"declared": declared, "results": result, "decision_rule": decision_rule}
        )
        outcome = classification.evaluate_values(
            cmd,
            nomenclature=cached_nomenclature(str(data or hs_data_dir())),
            tariff=read_tariff_csv(tariff) if tariff is not None else None,
            customs_value=customs_value,
            quantity=quantity,
            language="ko" if lang is RulesLanguage.KO else "en",
        )
    except HsError as error:
        raise _fail(str(error)) from None
    except ValidationFailed as error:
        raise _fail(error.message) from None
    if as_json:
        typer.echo(outcome.model_dump_json())
        return
    typer.echo(outcome.message)
    typer.echo(f"Decision rule: {outcome.decision_rule.statement}")
    for firing in outcome.rules:
        typer.echo(f"- {firing.id} [{firing.status}] {firing.source}: {' '.join(firing.reasons)}")
    for skipped in outcome.not_evaluated:
        typer.echo(f"- {skipped.id} would apply but needs: {', '.join(skipped.missing)}")
    if tariff is not None:
        duty = outcome.duty
        if duty is None:
            typer.echo(
                "Duty difference: not computed; it needs a decided outcome with one determined code "
                "and a national line for both codes in the tariff file."
            )
        else:
            typer.echo(
                f"Duty: declared line {duty.declared_line} {duty.declared_duty:,.2f}; determined line "
                f"{duty.determined_line} {duty.determined_duty:,.2f}; difference {duty.difference:+,.2f}"
            )


@hs_app.command()
def load(
    database_url: DatabaseOption = None,
    edition: EditionOption = DEFAULT_EDITION,
    data: DataOption = None,
) -> None:
    """Load (or reload) the nomenclature into the database."""
    try:
        with _engine(database_url).begin() as conn:
            hs_store.ensure_schema(conn)
            counts = hs_store.load_nomenclature(conn, data or hs_data_dir(), edition)
    except (HsError, SQLAlchemyError) as error:
        raise _fail(str(error).splitlines()[0]) from None
    typer.echo(f"Loaded {edition}: {_counts(counts)}.")


@hs_app.command()
def docs(
    out: Annotated[Path, typer.Option("--out", help="Where to write the page.")] = Path("docs/hs-rules.md"),
    coverage_out: Annotated[
        Path | None,
        typer.Option("--coverage-out", help="Where to write the coverage page (default: next to --out)."),
    ] = None,
) -> None:
    """Regenerate the rules catalogue documentation, evaluating every worked example, and the page of
    HS notes with a measurable criterion and what the rules encode of them (hs-coverage.md)."""
    try:
        path = write_docs(out)
        typer.echo(f"Wrote {path}.")
        coverage_path = write_coverage_docs(coverage_out or out.with_name("hs-coverage.md"))
        typer.echo(f"Wrote {coverage_path}.")
    except HsError as error:
        raise _fail(str(error)) from None


class CoverageStatus(StrEnum):
    """A coverage entry's status (customslab.hs.coverage.STATUSES)."""

    ENCODED = "encoded"
    EVIDENCE = "evidence"
    NOT_YET = "not-yet"


@hs_app.command("coverage")
def coverage_command(
    status: Annotated[
        CoverageStatus | None, typer.Option("--status", help="Only entries of this status.")
    ] = None,
    chapter: Annotated[
        int | None,
        typer.Option("--chapter", min=1, max=97, help="Only this chapter's notes (and its Section's)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List the HS notes with a measurable criterion: encoded, cited by an evidence rule, or not yet.

    Exits 1 when a rule cites a note key that rules/coverage.yaml does not list.
    """
    try:
        report = coverage_report()
        rows = report.select(status.value if status else None, chapter)
    except HsError as error:
        raise _fail(str(error)) from None
    if as_json:
        typer.echo(json.dumps(report.to_dict(rows), ensure_ascii=False))
    else:
        typer.echo(render_text(report, rows))
    if report.unlisted:
        typer.echo(f"Error: {report.unlisted_message()}", err=True)
        raise typer.Exit(code=1)
