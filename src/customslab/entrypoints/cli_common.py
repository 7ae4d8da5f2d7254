"""What every `customslab` sub-command shares: reading the settings and refusing with exit code 2.

It imports no other command module, so `cli.py` and the modules it registers can all import it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from customslab.config import Settings

DatabaseOption = Annotated[str | None, typer.Option(help="Overrides CUSTOMSLAB_DATABASE_URL")]


def fail(message: str) -> typer.Exit:
    """Print the message in red on standard error; the exit (code 2) for the caller to raise."""
    typer.secho(message, fg="red", err=True)
    return typer.Exit(2)


def load_settings(
    database_url: str | None = None, file_store: Path | None = None, **overrides: object
) -> Settings:
    """The settings from the environment, overridden by the options given; a bad one exits with 2."""
    if database_url:
        overrides["database_url"] = database_url
    if file_store:
        overrides["file_store"] = file_store
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as exc:
        raise fail(f"Configuration error: {exc}") from None
