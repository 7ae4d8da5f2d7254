"""The `customslab` command: serve, demo, database, users, audit, and the engines' sub-commands."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from customslab.config import Settings

app = typer.Typer(
    help="customslab — laboratory information system for customs laboratories.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="Users.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")


def _settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as exc:
        typer.secho(f"Configuration error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg="red", err=True)
    return typer.Exit(2)


@db_app.command("upgrade")
def db_upgrade(
    database_url: Annotated[str | None, typer.Option(help="Overrides CUSTOMSLAB_DATABASE_URL")] = None,
) -> None:
    """Create or migrate the schema to the newest version."""
    from customslab.adapters.db import upgrade

    settings = _settings(**({"database_url": database_url} if database_url else {}))
    upgrade(settings.database_url)
    typer.echo(f"Schema is up to date at {settings.database_url}")


@user_app.command("add")
def user_add(
    username: str,
    org: Annotated[str, typer.Option(help="Code of the laboratory or customs office")],
    role: Annotated[list[str], typer.Option(help="Role; repeat for several")],
    full_name: Annotated[str, typer.Option()] = "",
    email: Annotated[str, typer.Option()] = "",
    password: Annotated[str | None, typer.Option(help="Prompted when omitted")] = None,
) -> None:
    """Add a user to a laboratory or customs office."""
    from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
    from customslab.domain.errors import DomainError
    from customslab.services import auth
    from customslab.services.contract import parse

    settings = _settings()
    pw = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    fields = {"username": username, "full_name": full_name or username, "org_code": org, "email": email}
    db = Database(settings.database_url)
    try:
        cmd = parse(auth.UserCreate, fields | {"roles": role, "password": pw})
        out = auth.add_user(SqlAlchemyUnitOfWork(db, LocalFileStore(settings.file_store)), cmd)
    except DomainError as exc:
        raise _fail(exc.message) from None
    finally:
        db.dispose()
    typer.echo(f"Added user {out.username} (id {out.id}) to {org} as {', '.join(role)}")


@audit_app.command("verify")
def audit_verify(
    database_url: Annotated[str | None, typer.Option(help="Overrides CUSTOMSLAB_DATABASE_URL")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Recompute the audit hash chain and name the first broken entry."""
    from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
    from customslab.services import queries

    settings = _settings(**({"database_url": database_url} if database_url else {}))
    db = Database(settings.database_url)
    try:
        verdict = queries.verify_audit(SqlAlchemyUnitOfWork(db, LocalFileStore(settings.file_store)))
    finally:
        db.dispose()
    if as_json:
        typer.echo(verdict.model_dump_json())
    elif verdict.ok:
        typer.echo(f"Audit chain intact: {verdict.checked} entries verified.")
    else:
        typer.secho(
            f"Audit chain BROKEN at entry {verdict.first_broken_seq}: {verdict.problem} "
            f"({verdict.checked} entries before it verified).",
            fg="red",
        )
    if not verdict.ok:
        raise typer.Exit(1)


def _serve(settings: Settings) -> None:
    import uvicorn

    from customslab.entrypoints.web.app import create_web_app

    uvicorn.run(create_web_app(settings), host=settings.host, port=settings.port, log_level="info")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Serve the web interface and the API (migrating the schema first)."""
    from customslab.adapters.db import upgrade

    overrides: dict[str, object] = {}
    if host:
        overrides["host"] = host
    if port:
        overrides["port"] = port
    settings = _settings(**overrides)
    upgrade(settings.database_url)
    _serve(settings)


@app.command()
def demo(
    database: Annotated[Path, typer.Option(help="Demo SQLite file")] = Path("var/demo.sqlite3"),
    port: Annotated[int, typer.Option()] = 8000,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    requests: Annotated[int, typer.Option(help="How many requests to generate")] = 300,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Only create the database")] = False,
) -> None:
    """Create (or reuse) the demo network database and serve it."""
    from customslab.entrypoints.demo_setup import DEMO_PASSWORD, DEMO_USERS, load_demo

    os.environ.setdefault("CUSTOMSLAB_MODE", "demo")
    settings = _settings(
        mode="demo",
        database_url=f"sqlite:///{database}",
        file_store=database.parent / "demo-files",
        host=host,
        port=port,
    )
    created = load_demo(settings, n_requests=requests)
    typer.echo(("Created" if created else "Reusing") + f" the demo database {database}")
    typer.echo(f"\n  customslab demo: http://{host}:{port}/   (API docs at /docs)\n")
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


def _register_engines() -> None:
    from customslab.entrypoints.cli_hs import hs_app
    from customslab.entrypoints.cli_quality import report_app
    from customslab.entrypoints.cli_spectra import identify_command, library_app

    app.add_typer(hs_app, name="hs")
    app.add_typer(report_app, name="report")
    app.add_typer(library_app, name="library")
    app.command("identify")(identify_command)


_register_engines()


def main() -> None:
    app()
