"""What the read-only checks (`report verify`, `audit verify`) share: their exit codes, settings that
need no secret, a database opened only for reading, and a command class that keeps usage errors and
crashes off the codes that carry a verdict.

A script that runs a check acts on its exit code, so every code means one thing: Click answers a
usage error with 2 and Python a crash with 1, both of which are verdicts here; these commands answer
them with 4 and 5 instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import typer
from typer.core import TyperCommand

from customslab.config import CheckSettings

if TYPE_CHECKING:
    from customslab.adapters.uow import Database


class CheckExit(IntEnum):
    """The exit codes of `report verify` and `audit verify`."""

    INTACT = 0  # the report is issued and byte-identical; the audit trail is intact
    SUPERSEDED = 1  # the report was issued, then superseded by a newer version
    UNKNOWN = 2  # no report with this file's verification code is on record
    ALTERED = 3  # the file differs from the one issued, its signature fails, or the audit trail is broken
    UNUSABLE = 4  # the check could not run: a usage error, a missing or unreadable file, the configuration
    INTERNAL = 5  # an unexpected error (a bug): please report it


#: The codes each command can give, for its `--help` (4 and 5 are the same for both).
_COMMON_HELP = "4 usage or configuration error (the check could not run); 5 internal error (a bug)."
REPORT_EXIT_HELP = f"Exit codes: 0 issued; 1 superseded; 2 unknown; 3 altered; {_COMMON_HELP}"
AUDIT_EXIT_HELP = f"Exit codes: 0 intact; 3 broken; {_COMMON_HELP}"

# Typer ≥ 0.26 ships its own copy of Click, older versions use Click itself: take the classes from
# an exception Typer exports rather than from either module.
_USAGE_ERROR = cast(
    "type[Exception]", next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
)
_CLICK_ERROR = cast(
    "type[Exception]", next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
)


def unusable(message: str) -> typer.Exit:
    """Print the message in red on standard error; the exit (code 4) for the caller to raise."""
    typer.secho(message, fg="red", err=True)
    return typer.Exit(CheckExit.UNUSABLE)


class CheckCommand(TyperCommand):
    """A Typer command whose usage errors exit with 4 and whose unexpected errors exit with 5."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except _USAGE_ERROR as exc:
            cast(Any, exc).exit_code = CheckExit.UNUSABLE
            raise

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _USAGE_ERROR as exc:
            cast(Any, exc).exit_code = CheckExit.UNUSABLE
            raise
        except (typer.Abort, KeyboardInterrupt):
            # Ctrl-C: the check did not run to its end, so it has no verdict (not click's exit 1,
            # which `report verify` gives to a superseded report).
            typer.secho("Interrupted: the check did not finish.", fg="red", err=True)
            raise typer.Exit(CheckExit.UNUSABLE) from None
        except (typer.Exit, _CLICK_ERROR):
            raise
        except Exception as exc:
            typer.secho(
                f"Internal error ({type(exc).__name__}): {exc}. The check did not finish; please report it.",
                fg="red",
                err=True,
            )
            raise typer.Exit(CheckExit.INTERNAL) from exc


def check_settings(database_url: str | None = None) -> CheckSettings:
    """The settings a check needs (no secret key; see `CheckSettings`); a bad one exits with 4."""
    overrides: dict[str, Any] = {"database_url": database_url} if database_url else {}
    try:
        return CheckSettings(**overrides)
    except ValueError as exc:
        raise unusable(f"Configuration error: {exc}") from None


@contextmanager
def database_to_read(settings: CheckSettings) -> Iterator[Database]:
    """The configured database, without an audit signer (a check writes nothing), disposed of at the end.

    An SQLite file that does not exist is refused rather than created empty, and a database that cannot
    be reached or holds no customslab schema is a configuration error (exit 4), not a crash.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from customslab.adapters.uow import Database

    try:
        url = make_url(settings.database_url)
        file = url.database if url.get_backend_name() == "sqlite" and url.database != ":memory:" else None
        if file and not Path(file).is_file():
            raise unusable(
                f"There is no database at {file}: set CUSTOMSLAB_DATABASE_URL or --database-url "
                "(the demo's is sqlite:///var/demo.sqlite3)."
            )
        db = Database(settings.database_url)
    except ArgumentError as exc:  # a malformed URL, or one naming a driver that is not installed
        raise unusable(f"Configuration error: the database URL cannot be used ({exc}).") from None
    try:
        yield db
    # DBAPIError: also a database that cannot be read at all (an SQLite file that is not a database).
    except DBAPIError as exc:
        first = str(exc.orig if exc.orig is not None else exc).splitlines()[0]
        raise unusable(
            f"The database cannot be read ({first}); is it a customslab database at the newest schema "
            "(`customslab db upgrade`)?"
        ) from None
    finally:
        db.dispose()
