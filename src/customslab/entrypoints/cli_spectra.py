"""Typer commands for spectral libraries and identification (registered by the main CLI)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from customslab.spectra.library import LibraryError, build_library, open_library
from customslab.spectra.library_store import Library
from customslab.spectra.model import SpectrumFormatError

library_app = typer.Typer(help="Build and inspect spectral libraries.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code=2)


def _shared_data() -> Path:
    configured = os.environ.get("CUSTOMSLAB_SHARED_DATA")
    if configured:
        return Path(configured)
    for base in (Path.cwd(), *Path.cwd().parents):
        candidate = base.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return Path.cwd().parent / "shared" / "data"


def default_library_path() -> Path:
    """$CUSTOMSLAB_LIBRARY_PATH, else var/library/default under the current directory."""
    configured = os.environ.get("CUSTOMSLAB_LIBRARY_PATH")
    return Path(configured) if configured else Path("var/library/default")


def _default_library() -> Library:
    from customslab.spectra.reference_sets import open_reference_library

    path = default_library_path()
    if not (path / "manifest.json").is_file():
        typer.echo(f"Building the default library at {path} (first use only)...", err=True)
    try:
        return open_reference_library(path, _shared_data())
    except LibraryError as exc:
        raise _fail(f"{exc}; use --library") from None


@library_app.command("build")
def build_command(
    sources: list[Path] = typer.Argument(
        ..., help="Spectrum files or folders (MassBank, MSP, JCAMP-DX, CSV)."
    ),
    out: Path = typer.Option(..., "--out", help="Library folder to write (replaced if it exists)."),
    excitation_nm: float | None = typer.Option(
        None, "--excitation-nm", help="Laser wavelength for Raman spectra recorded in nm."
    ),
    metadata: Path | None = typer.Option(
        None,
        "--metadata",
        help="CSV with a 'file' column and any of name, label, description, inchikey, formula, cas, "
        "license, authors; other columns are kept as extra metadata.",
    ),
    license_text: str | None = typer.Option(
        None, "--license", help="Licence for every entry whose file states none (e.g. 'CC BY 4.0')."
    ),
) -> None:
    """Build a spectral library from files and folders."""
    from customslab.spectra.annotations import read_metadata_table

    try:
        table = read_metadata_table(metadata) if metadata is not None else None
        library = build_library(
            sources, out, excitation_nm=excitation_nm, metadata=table, license=license_text
        )
    except (SpectrumFormatError, LibraryError, ValueError) as exc:
        raise _fail(str(exc)) from None
    counts = ", ".join(f"{n} {t}" for t, n in sorted(library.counts.items()))
    typer.echo(f"Library {library.library_id} written to {out}: {counts}")


@library_app.command("info")
def info_command(path: Path = typer.Argument(..., help="Library folder.")) -> None:
    """Show a library's id, format version and counts per technique."""
    try:
        library = open_library(path)
    except LibraryError as exc:
        raise _fail(str(exc)) from None
    manifest = library.manifest
    typer.echo(f"library id: {library.library_id}")
    typer.echo(f"format version: {manifest['format_version']}")
    typer.echo(f"entries: {manifest['n_entries']}")
    for technique, count in sorted(library.counts.items()):
        typer.echo(f"  {technique}: {count}")
    typer.echo(f"licences: {', '.join(manifest.get('licenses', [])) or 'none recorded'}")


def identify_command(
    query_files: list[Path] = typer.Argument(..., help="Spectrum files to identify (any supported format)."),
    library: Path | None = typer.Option(
        None, "--library", help="Library folder (default: built on first use)."
    ),
    top: int = typer.Option(5, "--top", min=1, help="Hits per query."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON array instead of a table."),
    excitation_nm: float | None = typer.Option(
        None, "--excitation-nm", help="Laser wavelength for Raman queries recorded in nm."
    ),
    national_lists: list[Path] = typer.Option(
        [], "--national-list", help="A national list of controlled substances (CSV) besides the UN lists."
    ),
) -> None:
    """Identify spectra against a library: the best hits of each query's own technique, each with its
    control status (the UN lists shipped with the project, and any --national-list)."""
    from customslab.services.identification import QueryHits, hit_views
    from customslab.spectra.library import read_any
    from customslab.spectra.search import search
    from customslab.substances.register import RegisterError, bundled_register, parse_list

    register = bundled_register()
    try:
        for path in national_lists:
            text = path.read_text(encoding="utf-8-sig")
            register = register.plus(parse_list(text, national=True, list_name=path.stem, origin=path.name))
    except (OSError, UnicodeDecodeError, RegisterError) as exc:
        raise _fail(str(exc)) from None
    try:
        opened = open_library(library) if library is not None else _default_library()
        queries = [
            (file, spectrum)
            for file in query_files
            for spectrum in read_any(file, excitation_nm=excitation_nm)
        ]
    except (SpectrumFormatError, LibraryError) as exc:
        raise _fail(str(exc)) from None
    results: list[QueryHits] = []
    for file, spectrum in queries:
        try:
            hits = search(opened, spectrum, top)
        except SpectrumFormatError as exc:
            raise _fail(str(exc)) from None  # names the file already
        except ValueError as exc:
            raise _fail(f"{file}: {exc}") from None
        results.append(QueryHits(query=str(file), hits=hit_views(hits, register)))
    if json_output:
        typer.echo(json.dumps([r.model_dump() for r in results], ensure_ascii=False))
        return
    for result in results:
        typer.echo(result.query)
        if not result.hits:
            typer.echo("  no spectrum of this technique in the library")
        for hit in result.hits:
            controlled = "; ".join(c.label for c in hit.controls)
            typer.echo(
                f"  {hit.rank:>2}  {hit.score:.3f}  {hit.name}  {hit.inchikey or ''}"
                + (f"  [controlled: {controlled}]" if controlled else "")
            )
