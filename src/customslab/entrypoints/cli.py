"""The `customslab` command: serve, demo, database, users, audit, and the engines' sub-commands."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from customslab.config import Settings
from customslab.entrypoints.cli_checks import (
    AUDIT_EXIT_HELP,
    CheckCommand,
    CheckExit,
    check_settings,
    database_to_read,
    unusable,
)
from customslab.entrypoints.cli_common import DatabaseOption
from customslab.entrypoints.cli_common import fail as _fail
from customslab.entrypoints.cli_common import load_settings as _settings
from customslab.entrypoints.cli_users import PasswordStdin, read_new_password

if TYPE_CHECKING:
    from customslab.adapters.audit_anchor import AuditSigner
    from customslab.adapters.uow import Database
    from customslab.services.queries import AuditVerdict

app = typer.Typer(
    help="customslab — laboratory information system for customs laboratories.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="Users.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")


@db_app.command("upgrade")
def db_upgrade(
    database_url: DatabaseOption = None,
) -> None:
    """Create or migrate the schema to the newest version."""
    from customslab.adapters.db import upgrade

    settings = _settings(database_url)
    upgrade(settings.database_url)
    typer.echo(f"Schema is up to date at {settings.database_url}")


@user_app.command("add")
def user_add(
    username: str,
    org: Annotated[str, typer.Option(help="Code of the laboratory or customs office")],
    role: Annotated[list[str], typer.Option(help="Role; repeat for several")],
    full_name: Annotated[str, typer.Option()] = "",
    email: Annotated[str, typer.Option()] = "",
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a user to a laboratory or customs office (the password is prompted for, or read from stdin)."""
    from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
    from customslab.domain.errors import DomainError
    from customslab.services import auth
    from customslab.services.contract import parse

    settings = _settings()
    pw = read_new_password(password_stdin)
    fields = {"username": username, "full_name": full_name or username, "org_code": org, "email": email}
    db = Database(settings.database_url, audit_signer=_audit_signer(settings))
    try:
        cmd = parse(auth.UserCreate, fields | {"roles": role, "password": pw})
        out = auth.add_user(SqlAlchemyUnitOfWork(db, LocalFileStore(settings.file_store)), cmd)
    except DomainError as exc:
        raise _fail(exc.message) from None
    finally:
        db.dispose()
    typer.echo(f"Added user {out.username} (id {out.id}) to {org} as {', '.join(role)}")


def _audit_signer(settings: Settings) -> AuditSigner:
    from customslab.adapters.audit_anchor import AuditKeyError
    from customslab.entrypoints import wiring

    try:
        return wiring.audit_signer(settings)
    except AuditKeyError as exc:
        raise _fail(f"Configuration error: {exc}") from None


@contextmanager
def _signed_database(database_url: str | None) -> Iterator[tuple[Settings, AuditSigner, Database]]:
    """The settings, the audit signer and the database that signs with it, disposed of at the end."""
    from customslab.adapters.uow import Database

    settings = _settings(database_url)
    signer = _audit_signer(settings)
    db = Database(settings.database_url, audit_signer=signer)
    try:
        yield settings, signer, db
    finally:
        db.dispose()


def _verdict_lines(verdict: AuditVerdict) -> list[str]:
    if not verdict.ok:
        lines = [
            f"Audit chain BROKEN at entry {verdict.first_broken_seq}: {verdict.problem} "
            f"({verdict.checked} entries before it verified)."
        ]
        return lines + [f"Also: {problem}." for problem in verdict.problems[1:]]
    lines = [f"Audit chain intact: {verdict.checked} entries verified."]
    if verdict.last_checkpoint_at is not None:
        lines.append(
            f"Checked against {verdict.checkpoints} signed "
            f"checkpoint{'' if verdict.checkpoints == 1 else 's'}; the last one covers entry "
            f"{verdict.last_checkpoint_seq} ({verdict.last_checkpoint_at:%Y-%m-%d %H:%M:%S} UTC)."
        )
    else:
        lines.append("No signed checkpoint yet: nothing vouches for the end of the trail.")
    if verdict.unanchored:
        lines.append(
            f"{verdict.unanchored} newer "
            + ("entry is" if verdict.unanchored == 1 else "entries are")
            + " not yet anchored by a checkpoint."
        )
    if verdict.witness_seq is not None:
        lines.append(f"The witness head (entry {verdict.witness_seq}) matches the trail.")
    return lines


@audit_app.command("verify", cls=CheckCommand, epilog=AUDIT_EXIT_HELP)
def audit_verify(
    database_url: DatabaseOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    witness: Annotated[
        Path | None, typer.Option(help="A head written by `audit export-head`, kept outside this server")
    ] = None,
) -> None:
    """Recompute the audit hash chain, check it against its signed checkpoints, name the first problem.

    Read-only: it needs the audit key (CUSTOMSLAB_AUDIT_KEY_FILE in production), not the secret key.
    """
    from customslab.adapters.audit_anchor import AuditKeyError, SqlAuditAnchor, WitnessError, read_witness
    from customslab.adapters.uow import LocalFileStore, SqlAlchemyUnitOfWork
    from customslab.entrypoints import wiring
    from customslab.services import queries

    settings = check_settings(database_url)
    if problem := settings.audit_key_missing():
        raise unusable(f"Configuration error: {problem}")
    try:
        signer = wiring.audit_signer(settings)
        # Outside production the signer reads its key lazily: read it here, so an unusable key file is a
        # configuration error (4) rather than an internal one inside the verification (5).
        signer.existing_key()
    except AuditKeyError as exc:
        raise unusable(f"Configuration error: {exc}") from None
    try:
        pinned = read_witness(witness) if witness is not None else None
    except WitnessError as exc:
        raise unusable(str(exc)) from None
    with database_to_read(settings) as db:  # verifying writes nothing, so the database needs no signer
        uow = SqlAlchemyUnitOfWork(db, LocalFileStore(settings.file_store))
        verdict = queries.verify_audit(uow, SqlAuditAnchor(db.engine, signer), pinned)
    if as_json:
        typer.echo(verdict.model_dump_json())
    else:
        typer.secho("\n".join(_verdict_lines(verdict)), fg=None if verdict.ok else "red")
    raise typer.Exit(CheckExit.INTACT if verdict.ok else CheckExit.ALTERED)


@audit_app.command("checkpoint")
def audit_checkpoint(
    database_url: DatabaseOption = None,
) -> None:
    """Sign a checkpoint of the audit chain's head now (for cron; commits write one periodically too)."""
    from customslab.adapters.audit_log import checkpoint_now

    with _signed_database(database_url) as (_, signer, db):
        done = checkpoint_now(db.engine, signer)
    if done is None:
        typer.echo("The audit trail has no entries yet: there is nothing to anchor.")
        return
    checkpoint, written = done
    when = f"{checkpoint.at:%Y-%m-%d %H:%M:%S} UTC"
    head = f"entry {checkpoint.seq}, the head of the audit trail,"
    typer.echo(
        f"Signed a checkpoint of {head} at {when}."
        if written
        else f"{head.capitalize()} was already checkpointed at {when}."
    )


@audit_app.command("export-head")
def audit_export_head(
    out: Annotated[Path, typer.Argument(help="The JSON file to write, for a witness outside this server")],
    database_url: DatabaseOption = None,
) -> None:
    """Verify the trail, checkpoint its head and write it with the public key, for an outside witness."""
    from customslab.adapters.audit_anchor import SqlAuditAnchor, write_head
    from customslab.adapters.audit_log import checkpoint_now
    from customslab.adapters.uow import LocalFileStore, SqlAlchemyUnitOfWork
    from customslab.services import queries

    with _signed_database(database_url) as (settings, signer, db):
        uow = SqlAlchemyUnitOfWork(db, LocalFileStore(settings.file_store))
        verdict = queries.verify_audit(uow, SqlAuditAnchor(db.engine, signer))
        # A witness must never be handed the head of a trail that is already broken.
        done = checkpoint_now(db.engine, signer) if verdict.ok else None
    if not verdict.ok:
        typer.secho("\n".join(_verdict_lines(verdict)), fg="red")
        typer.secho("No head was exported.", fg="red")
        raise typer.Exit(1)
    if done is None:
        raise _fail("The audit trail has no entries yet: there is no head to export.")
    checkpoint, _ = done
    write_head(out, checkpoint, signer.key())
    typer.echo(
        f"Wrote the head of the audit trail (entry {checkpoint.seq}, signed "
        f"{checkpoint.at:%Y-%m-%d %H:%M:%S} UTC) to {out.name}. Keep it outside this server, and check "
        "the trail against it with `customslab audit verify --witness`."
    )


@audit_app.command("new-key")
def audit_new_key(
    path: Annotated[Path, typer.Argument(help="Where to write the key: off the database's volume")],
) -> None:
    """Create the audit signing key (Ed25519, PEM, readable by its owner only); never replaces one."""
    from customslab.adapters.audit_anchor import AuditKey, new_key_file

    try:
        new_key_file(path)
    except FileExistsError:
        raise _fail(
            "A key file already exists there and is kept: replacing it would orphan every checkpoint "
            "it signed."
        ) from None
    except OSError:
        raise _fail("The key file could not be written there (check the folder and its rights).") from None
    typer.echo(
        f"Created the audit signing key {path.name} (key id {AuditKey.load(path).key_id}). "
        "Set CUSTOMSLAB_AUDIT_KEY_FILE to it, and back it up apart from the database."
    )


def _serve(settings: Settings) -> None:
    import uvicorn
    from sqlalchemy.engine import make_url

    from customslab.adapters.audit_anchor import AuditKeyError
    from customslab.entrypoints.asgi import serve_processes
    from customslab.entrypoints.web.app import create_web_app

    if settings.workers > 1 and make_url(settings.database_url).get_backend_name() != "postgresql":
        raise _fail(
            f"--workers {settings.workers} needs PostgreSQL: SQLite takes one writer at a time, so "
            "serve it with one process (--workers 1)."
        )
    try:
        # Built here even for several processes: a configuration fault stops the start with one message
        # rather than a traceback per process, and the audit key (created on first use outside
        # production) exists before the processes could race to create it.
        web = create_web_app(settings)
        if settings.workers > 1:
            web.state.audit_anchor.signer.key()
    except AuditKeyError as exc:
        raise _fail(f"Configuration error: {exc}") from None
    if settings.workers > 1:
        serve_processes(settings)
    else:
        uvicorn.run(web, host=settings.host, port=settings.port, log_level="info")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=32,
            help="Server processes sharing the port (PostgreSQL only); overrides CUSTOMSLAB_WORKERS "
            "(default 1)",
        ),
    ] = None,
) -> None:
    """Serve the web interface and the API (migrating the schema first)."""
    from customslab.adapters.db import upgrade

    overrides: dict[str, Any] = {}
    if host:
        overrides["host"] = host
    if port:
        overrides["port"] = port
    if workers is not None:
        overrides["workers"] = workers
    settings = _settings(**overrides)
    upgrade(settings.database_url)
    _serve(settings)


@app.command()
def demo(
    database: Annotated[Path, typer.Option(help="Demo SQLite file")] = Path("var/demo.sqlite3"),
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port to serve on (`make demo PORT=8080`)")
    ] = 8000,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    requests: Annotated[int, typer.Option(help="How many requests to generate")] = 300,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Only set up the database and the library")
    ] = False,
) -> None:
    """Set up (or reuse) the demo: network database, HS nomenclature, spectral library; then serve it."""
    from customslab.entrypoints.demo_setup import DEMO_PASSWORD, DEMO_USERS, set_up_demo

    os.environ.setdefault("CUSTOMSLAB_MODE", "demo")
    settings = _settings(
        mode="demo",
        database_url=f"sqlite:///{database}",
        file_store=database.parent / "demo-files",
        host=host,
        port=port,
    )
    done = set_up_demo(settings, n_requests=requests, say=typer.echo)
    typer.echo(("Created" if done.created else "Reusing") + f" the demo database {database}")
    typer.echo(f"\n  customslab demo: http://{host}:{port}/   (API contract at /openapi.json)\n")
    typer.echo(f"  Demo logins (password for all: {DEMO_PASSWORD}):")
    for username, org, roles, _name in DEMO_USERS:
        typer.echo(f"    {username:<14} {org:<10} {', '.join(roles)}")
    if not no_serve:
        _serve(settings)


@app.command()
def screenshots(
    out: Annotated[Path, typer.Option(help="Folder for the PNGs")] = Path("docs/screenshots"),
) -> None:
    """Regenerate the README screenshots from a fresh demo database, in Debian's Chromium."""
    from customslab.entrypoints.web.screenshots import take_screenshots

    for path in take_screenshots(out):
        typer.echo(f"wrote {path}")


ACCESS_TABLE_START, ACCESS_TABLE_END = "<!-- access-table:start -->", "<!-- access-table:end -->"


@app.command("access-table")
def access_table(
    docs: Annotated[
        Path | None, typer.Option(help="Rewrite the table between the access-table markers of this page")
    ] = None,
) -> None:
    """Print the visibility table (domain.access) as Markdown, or refresh it in docs/access.md."""
    from customslab.domain.access import visibility_table_markdown

    table = visibility_table_markdown()
    if docs is None:
        typer.echo(table, nl=False)
        return
    page = docs.read_text(encoding="utf-8")
    head, start, rest = page.partition(ACCESS_TABLE_START)
    _, end, tail = rest.partition(ACCESS_TABLE_END)
    if not (start and end):
        raise _fail(f"{docs} has no {ACCESS_TABLE_START} … {ACCESS_TABLE_END} block.")
    docs.write_text(f"{head}{start}\n{table}{end}{tail}", encoding="utf-8")
    typer.echo(f"wrote the visibility table to {docs}")


def _register_engines() -> None:
    from customslab.entrypoints.cli_chem_hs import cas_app
    from customslab.entrypoints.cli_hs import hs_app
    from customslab.entrypoints.cli_quality import report_app
    from customslab.entrypoints.cli_spectra import identify_command, library_app

    hs_app.add_typer(cas_app, name="cas")
    app.add_typer(hs_app, name="hs")
    app.add_typer(report_app, name="report")
    app.add_typer(library_app, name="library")
    app.command("identify")(identify_command)
    from customslab.entrypoints.cli_users import sessions_command, set_password_command

    user_app.command("set-password")(set_password_command)
    user_app.command("sessions")(sessions_command)
    from customslab.entrypoints.cli_backup import backup_command, restore_command

    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
    from customslab.entrypoints.cli_directory import init_command

    app.command("init")(init_command)
    from customslab.entrypoints.cli_federation import federation_app

    app.add_typer(federation_app, name="federation")
    from customslab.entrypoints.cli_worker import messages_command, retry_command, worker_command

    app.command("worker")(worker_command)
    federation_app.command("messages")(messages_command)
    federation_app.command("retry")(retry_command)
    from customslab.entrypoints.cli_notifications import notifications_app

    app.add_typer(notifications_app, name="notifications")
    from customslab.entrypoints.cli_import import results_app

    app.add_typer(results_app, name="results")
    from customslab.entrypoints.cli_substances import substances_app

    app.add_typer(substances_app, name="substances")
    from customslab.entrypoints.cli_knowledge import knowledge_app

    app.add_typer(knowledge_app, name="knowledge")
    from customslab.entrypoints.cli_targeting import targeting_app

    app.add_typer(targeting_app, name="targeting")
    from customslab.entrypoints.cli_targeting_alerts import alerts_command

    targeting_app.command("alerts")(alerts_command)


_register_engines()


def main() -> None:
    app()
