"""`customslab hs cas ...`: check a laboratory's CAS → HS table as the server will load it, and look a
substance up as the HS evaluation does (docs/chemical-hs.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from customslab.config import CheckSettings
from customslab.entrypoints import wiring
from customslab.entrypoints.cli_common import fail
from customslab.substances.chem_hs import ChemHsError, ChemHsTable

cas_app = typer.Typer(help="The CAS → HS table behind the HS evaluation's proposals (docs/chemical-hs.md).")

FileOption = Annotated[
    Path | None,
    typer.Option("--file", help="A laboratory's own table, added as CUSTOMSLAB_CAS_HS_FILE adds it."),
]


def _table(file: Path | None) -> ChemHsTable:
    """The table the server would load: the seed table, plus `file` (else CUSTOMSLAB_CAS_HS_FILE), both
    checked against the HS 2022 nomenclature in CUSTOMSLAB_SHARED_DATA/hs."""
    try:
        settings = CheckSettings(**({"cas_hs_file": file} if file else {}))  # type: ignore[arg-type]
        table = wiring.chem_hs_table(settings)
    except (ChemHsError, ValueError) as exc:
        raise fail(str(exc)) from None
    if table is None:
        raise fail(f"No HS 2022 nomenclature in {settings.shared_data / 'hs'}: set CUSTOMSLAB_SHARED_DATA.")
    return table


@cas_app.command("check")
def check_command(file: Annotated[Path, typer.Argument(help="The laboratory's table (CSV).")]) -> None:
    """Check a table (CAS check digits, HS 2022 subheadings, duplicates, sources) without loading it."""
    table = _table(file)
    own = sum(1 for e in table.entries if e.table == file.name)
    typer.echo(
        f"{file.name}: {own} row(s), every code an HS 2022 subheading; {len(table)} rows with the seed table."
    )


@cas_app.command("propose")
def propose_command(
    cas: Annotated[str, typer.Option(help="A CAS number, e.g. 58-08-2.")] = "",
    name: Annotated[str, typer.Option(help="A name, synonym or polymer label (PE, PET...).")] = "",
    file: FileOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The code(s) the table proposes for a substance: by CAS number first, then by name."""
    if not (cas or name):
        raise fail("Give --cas or --name.")
    # A person asking by hand may give a polymer label (PE, PA) where a library hit could not.
    found = _table(file).propose(cas=cas, name=name, label=name or None)
    rows = [
        {
            "substance": p.entry.name,
            "cas": p.entry.cas,
            "matched_by": p.matched_by,
            "codes": [
                {"code": c.code, "dotted": c.dotted, "description": c.description} for c in p.entry.codes
            ],
            "source": p.entry.source,
            "notes": p.entry.notes,
            "table": p.entry.table,
        }
        for p in found
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not found:
        raise fail(f"The table proposes no code for {cas or name!r}.")
    for p in found:
        entry = p.entry
        typer.echo(f"{entry.name} (CAS {entry.cas or '—'}, found by {p.matched_by}; {entry.table})")
        for code in entry.codes:
            typer.echo(f"  {code.dotted:<12} {code.description}")
        typer.echo(f"  source: {entry.source}")
        if entry.notes:
            typer.echo(f"  notes: {entry.notes}")
