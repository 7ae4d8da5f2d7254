"""`customslab user set-password | sessions`, and how every user command reads a password.

A password never comes from the argument list, where the shell history, `ps` and /proc of every local
user would see it: it is typed at a hidden prompt (twice), or read from standard input with
`--password-stdin` (for scripts: `printf %s "$PW" | customslab user add ... --password-stdin`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from customslab.config import Settings
from customslab.entrypoints.cli_common import fail as _fail
from customslab.entrypoints.cli_common import load_settings
from customslab.services.ports import AbstractUnitOfWork

RULES = (
    "At least 12 characters, not based on the username, and not a common password "
    "(a few unrelated words make a strong one)."
)

PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from standard input instead of a prompt"),
]


def read_new_password(from_stdin: bool) -> str:
    """The new password: standard input's text without its final line break, or a hidden prompt, twice."""
    if from_stdin:
        given = sys.stdin.read().removesuffix("\n").removesuffix("\r")
        if not given:
            typer.secho("No password on standard input.", fg="red", err=True)
            raise typer.Exit(2)
        return given
    typer.echo(RULES, err=True)
    typed: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return typed


@contextmanager
def _units() -> Iterator[tuple[Callable[[], AbstractUnitOfWork], Settings]]:
    """Units of work on the configured database, and the settings; a domain error exits with 2."""
    from customslab.adapters.audit_anchor import AuditKeyError
    from customslab.adapters.uow import LocalFileStore, SqlAlchemyUnitOfWork
    from customslab.domain.errors import DomainError
    from customslab.entrypoints import wiring

    settings = load_settings()
    try:
        db = wiring.database(settings)
    except AuditKeyError as exc:
        raise _fail(f"Configuration error: {exc}") from None
    files = LocalFileStore(settings.file_store)
    try:
        yield (lambda: SqlAlchemyUnitOfWork(db, files)), settings
    except DomainError as exc:
        raise _fail(exc.message) from None
    finally:
        db.dispose()


def set_password_command(
    username: Annotated[str, typer.Argument(help="Whose password to set")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a user's password (an administrator's reset); all their sessions end."""
    from customslab.entrypoints.api.deps import sign_in_policy
    from customslab.services import auth

    password = read_new_password(password_stdin)
    with _units() as (uow, settings):
        ended = auth.set_password(uow(), username, password, sign_in_policy(settings))
    typer.echo(f"Password of {username} set; {ended.ended} sessions ended.")


def sessions_command(
    username: Annotated[str, typer.Argument(help="Whose sessions to list")],
    end: Annotated[bool, typer.Option("--end", help="End all of them at once")] = False,
) -> None:
    """List a user's sessions (API tokens and page sign-ins), or end them all with --end."""
    from customslab.entrypoints.api.deps import sign_in_policy
    from customslab.services import auth

    with _units() as (uow, settings):
        policy = sign_in_policy(settings)
        user = auth.user_named(uow(), username)
        if end:
            ended = auth.end_user_sessions(uow(), user.id, policy)
            typer.echo(f"Ended {ended.ended} sessions of {username}.")
            return
        listing = auth.user_sessions(uow(), user.id, policy)
    typer.echo(f"{username}: {listing.active} active sessions")
    for s in listing.sessions:
        state = "active" if s.active else f"ended {s.ended_at:%Y-%m-%d %H:%M} ({s.ended_reason})"
        typer.echo(
            f"  #{s.id:<6} {s.kind:<4} since {s.created_at:%Y-%m-%d %H:%M} "
            f"last seen {s.last_seen_at:%Y-%m-%d %H:%M}  {s.address or '-':<15} {state}"
        )
