"""`customslab results import FILE --mapping NAME [--commit]` and `customslab results mappings`.

The command acts as a signed-in analyst: it signs in with the user's password (typed at a hidden prompt
or read with `--password-stdin`; throttled and audited like every sign-in) and signs out at the end, so
the results are entered, and audited, under that analyst's name. Without `--commit` it only previews.
With `--commit` it writes what the preview printed; with `--fingerprint` too, only if that is still the
preview an earlier run printed. Exit code 2 for every refusal, with the reason.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from customslab.entrypoints.cli_common import DatabaseOption, load_settings
from customslab.entrypoints.cli_common import fail as _fail

if TYPE_CHECKING:
    from customslab.domain.access import Actor
    from customslab.services.ports import AbstractUnitOfWork
    from customslab.services.result_import import ImportPreview

results_app = typer.Typer(help="Results imported from instrument exports.", no_args_is_help=True)

User = Annotated[str, typer.Option("--user", help="The analyst the results are entered as (signs in)")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the user's password from standard input, not a prompt")
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        given = sys.stdin.read().removesuffix("\n").removesuffix("\r")
        if not given:
            raise _fail("No password on standard input.")
        return given
    typed: str = typer.prompt("Password", hide_input=True)
    return typed


@contextmanager
def _signed_in(
    user: str, password_stdin: bool, database_url: str | None
) -> Iterator[tuple[Callable[[], AbstractUnitOfWork], Actor]]:
    """Units of work on the configured database and the user, signed in for the block's length; a
    refusal of the domain or the quality rules exits with 2."""
    from customslab.adapters.audit_anchor import AuditKeyError
    from customslab.adapters.uow import LocalFileStore, SqlAlchemyUnitOfWork
    from customslab.domain.errors import DomainError
    from customslab.domain.quality.errors import QualityError
    from customslab.entrypoints import wiring
    from customslab.entrypoints.api.deps import sign_in_policy
    from customslab.services import auth

    settings = load_settings(database_url)
    try:
        db = wiring.database(settings)
    except AuditKeyError as exc:
        raise _fail(f"Configuration error: {exc}") from None
    files = LocalFileStore(settings.file_store)

    def uow() -> AbstractUnitOfWork:
        return SqlAlchemyUnitOfWork(db, files)

    policy = sign_in_policy(settings)
    token = None
    try:
        creds = auth.TokenRequest(username=user, password=_password(password_stdin))
        token = auth.sign_in(uow(), creds, "api", auth.ClientInfo("command line", "customslab"), policy)
        actor = auth.session_user(uow(), token.access_token, "api", policy).actor
        yield uow, actor
    except DomainError as exc:
        raise _fail(exc.message) from None
    except QualityError as exc:
        raise _fail(str(exc)) from None
    finally:
        if token is not None:
            auth.sign_out(uow(), token.access_token, policy)
        db.dispose()


def preview_lines(preview: ImportPreview) -> list[str]:
    """The preview as the terminal shows it: one line a row, written or not, then the fingerprint."""
    lines = [
        f"{preview.file_name}: mapping '{preview.instrument_model}', header on line {preview.header_line}"
    ]
    for r in preview.rows:
        if r.kind == "quantity":
            stated = f"{r.value} {r.unit}".strip()
            if r.expanded_uncertainty is not None:
                stated += f" ± {r.expanded_uncertainty} (k={r.coverage_factor})"
        else:
            stated = r.text_value.replace("_", " ")
        lines.append(
            f"WRITE line {r.line:>4}  {r.sample}  {r.analyte} → {r.measurand}  {stated}  "
            f"on test {r.test_id} ({r.determination})"
        )
    lines.extend(
        f"SKIP  line {s.line:>4}  {s.sample or '-'}  {s.analyte or '-'}  {s.reason.value}: {s.detail}"
        for s in preview.skipped
    )
    lines.append(f"{len(preview.rows)} results to write, {len(preview.skipped)} rows not.")
    lines.append(f"Fingerprint: {preview.fingerprint}")
    return lines


@results_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="The instrument's export (CSV or XLSX)", dir_okay=False)],
    mapping: Annotated[str, typer.Option("--mapping", help="The laboratory's mapping (instrument model)")],
    user: User,
    instrument: Annotated[
        str, typer.Option("--instrument", help="The instrument's equipment code (ICPMS-01)")
    ] = "",
    qc_batch: Annotated[int | None, typer.Option("--qc-batch", help="The QC batch's id", min=1)] = None,
    commit: Annotated[bool, typer.Option("--commit", help="Write what the preview shows")] = False,
    fingerprint: Annotated[
        str, typer.Option("--fingerprint", help="Write only if the preview is still this one")
    ] = "",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the preview (or the commit) as JSON")
    ] = False,
    password_stdin: PasswordStdin = False,
    database_url: DatabaseOption = None,
) -> None:
    """Preview the results an instrument export holds, and with --commit write them (all or none)."""
    from customslab.services import instrument_mappings as mappings
    from customslab.services import result_import
    from customslab.services.result_import import ImportConfirm, ImportFile, ImportOptions
    from customslab.services.result_import_files import MAX_FILE_BYTES
    from customslab.services.result_import_views import equipment_by_code

    try:
        # The size first: a file of gigabytes is refused before it is read (at most one byte past the
        # limit is read, should it grow in between; `read_table` refuses that too).
        if file.stat().st_size > MAX_FILE_BYTES:
            raise _fail(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: not a result export.")
        with file.open("rb") as stream:
            content = stream.read(MAX_FILE_BYTES + 1)
    except OSError:
        raise typer.BadParameter("the file cannot be read", param_hint="FILE") from None
    with _signed_in(user, password_stdin, database_url) as (uow, actor):
        mapping_id = mappings.mapping_named(uow(), actor, mapping).id
        equipment_id = equipment_by_code(uow(), actor, instrument) if instrument else None
        options = ImportOptions(mapping_id=mapping_id, equipment_id=equipment_id, qc_batch_id=qc_batch)
        export = ImportFile(file.name, content)
        preview = result_import.preview_import(uow(), actor, options, export)
        if not commit:
            typer.echo(preview.model_dump_json(indent=2) if as_json else "\n".join(preview_lines(preview)))
            return
        if fingerprint and fingerprint != preview.fingerprint:
            raise _fail(
                "The preview is no longer the one with that fingerprint (the file, the mapping or a test "
                "changed): nothing was written. Run the preview again."
            )
        if not as_json:
            typer.echo("\n".join(preview_lines(preview)))
        confirm = ImportConfirm(**options.model_dump(), fingerprint=preview.fingerprint)
        done = result_import.commit_import(uow(), actor, confirm, export)
    if as_json:
        typer.echo(json.dumps({"preview": preview.model_dump(mode="json"), "committed": done.model_dump()}))
        return
    typer.echo(f"Wrote {done.written} results on {len(done.tests)} tests.")


@results_app.command("mappings")
def mappings_command(
    user: User, password_stdin: PasswordStdin = False, database_url: DatabaseOption = None
) -> None:
    """List the laboratory's mappings of instrument exports, one per instrument model."""
    from customslab.services import instrument_mappings as mappings

    with _signed_in(user, password_stdin, database_url) as (uow, actor):
        listed = mappings.list_mappings(uow(), actor)
    typer.echo(f"{listed.lab_code}: {len(listed.mappings)} instrument mappings")
    for m in listed.mappings:
        layout = "one row per sample and analyte" if m.layout == "long" else "one column per analyte"
        typer.echo(f"  #{m.id:<5} {m.instrument_model}  ({layout}; sample id in '{m.sample_column}')")
