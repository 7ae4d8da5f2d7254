"""`customslab substances load | list | check`: the national lists of controlled substances, and a look-up.

The UN lists (1961 and 1971 schedules, the 1988 tables) ship with the project; an administration loads
its national lists into the database, where every server process reads them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from customslab.entrypoints.cli_common import DatabaseOption, fail, load_settings, units

substances_app = typer.Typer(
    help="The controlled substances register: national lists, look-ups.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@substances_app.command("load")
def load_command(
    file: Annotated[
        Path, typer.Argument(help="The national list, CSV in the register's format (docs/substances.md).")
    ],
    name: Annotated[str, typer.Option("--name", help="The list's name, as hits will show it.")],
    reference: Annotated[str, typer.Option("--reference", help="Its legal reference: act, decree, date.")],
    administration: Annotated[
        str, typer.Option("--administration", help="Whose list (default: this server's home administration).")
    ] = "",
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the list of that name already loaded.")
    ] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Load an administration's national list; a faulty file is refused with each fault's line, and
    nothing is loaded."""
    from customslab.domain.errors import DomainError
    from customslab.services.contract import parse
    from customslab.services.substances import NationalListLoad, load_national_list

    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{file} cannot be read as UTF-8 text: {exc}") from None
    fields = {
        "name": name,
        "reference": reference,
        "csv": text,
        "filename": file.name,
        "administration_code": administration,
        "replace": replace,
    }
    with units(load_settings(database_url)) as factory:
        try:
            out = load_national_list(factory(), None, parse(NationalListLoad, fields))
        except DomainError as exc:
            raise fail(exc.message) from None
    typer.echo(f"Loaded '{out.name}' for {out.administration_code}: {out.rows} substances ({out.reference}).")


@substances_app.command("list")
def list_command(
    administration: Annotated[
        str, typer.Option("--administration", help="Only this administration's lists.")
    ] = "",
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """The UN lists shipped with the project, and the national lists loaded into the database."""
    from customslab.services.substances import national_lists
    from customslab.substances.register import BUNDLED_FILES, Regime, bundled_register

    register = bundled_register()
    with units(load_settings(database_url)) as factory:
        loaded = national_lists(factory(), None, administration)
    if as_json:
        bundled = {
            r.value: sum(1 for s in register.substances if any(c.regime is r for c in s.controls))
            for r in Regime
            if r is not Regime.NATIONAL
        }
        typer.echo(json.dumps({"bundled": bundled, "national": [n.model_dump(mode="json") for n in loaded]}))
        return
    typer.echo(f"Bundled UN lists ({', '.join(BUNDLED_FILES)}): {len(register)} substances.")
    if not loaded:
        typer.echo("No national list is loaded.")
    for n in loaded:
        typer.echo(
            f"{n.administration_code}  {n.name}: {n.rows} substances ({n.reference}); "
            f"loaded {n.loaded_at:%Y-%m-%d %H:%M} by {n.loaded_by}"
        )


@substances_app.command("check")
def check_command(
    name: Annotated[
        str, typer.Argument(help="A name or synonym (case, spaces and hyphens do not matter).")
    ] = "",
    cas: Annotated[str, typer.Option("--cas", help="A CAS number.")] = "",
    inchikey: Annotated[str, typer.Option("--inchikey", help="An InChIKey.")] = "",
    as_json: JsonOption = False,
) -> None:
    """What the UN lists shipped with the project say of a substance (exit code 1: not listed)."""
    from customslab.domain.errors import ValidationFailed
    from customslab.services.substances import check_in_register
    from customslab.substances.register import bundled_register

    if not (name or cas or inchikey):
        raise fail("Give a name, --cas or --inchikey.")
    try:
        found = check_in_register(bundled_register(), name, cas, inchikey).controls
    except ValidationFailed as exc:
        raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps([c.model_dump() for c in found], ensure_ascii=False))
    else:
        for c in found:
            typer.echo(f"{c.label}  {c.substance} (by {c.matched_by}; {c.source})")
        if not found:
            typer.echo("Not in the bundled UN lists.")
    if not found:
        raise typer.Exit(1)
