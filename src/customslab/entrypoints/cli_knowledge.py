"""`customslab knowledge add | search | reindex`: the knowledge base from the command line.

`add` and `search` act as the user named with `--as` (the server's operator answers for that, as for
every command run on the server): the user's laboratory owns what is added, and a search shows what the
visibility table lets that user see. `reindex` rebuilds the search index from the stored documents and
adds the approved classification opinions not yet in it. Exit code 2 for every refusal, with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from customslab.entrypoints.cli_common import DatabaseOption, fail, load_settings, units

knowledge_app = typer.Typer(
    help="The knowledge base: add documents, search them, rebuild the index.", no_args_is_help=True
)

AsUser = Annotated[str, typer.Option("--as", help="The user the command acts as (their laboratory, roles).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@knowledge_app.command("add")
def add_command(
    file: Annotated[Path, typer.Argument(help="The document: PDF, DOCX, HTML or text.", dir_okay=False)],
    title: Annotated[str, typer.Option("--title", help="The document's title.")],
    kind: Annotated[str, typer.Option("--kind", help="guidebook, research, seminar_paper, method, …")],
    language: Annotated[str, typer.Option("--language", help="A BCP-47 tag: en, ko, ja.")],
    year: Annotated[int, typer.Option("--year", help="The year it was issued.")],
    as_user: AsUser,
    hs: Annotated[list[str] | None, typer.Option("--hs", help="An HS code it bears on (repeat).")] = None,
    substance: Annotated[list[str] | None, typer.Option("--substance", help="A substance (repeat).")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="A tag (repeat).")] = None,
    sharing: Annotated[
        str, typer.Option("--sharing", help="laboratory, administration, network…")
    ] = "laboratory",
    author: Annotated[str, typer.Option("--author", help="Who wrote it (default: the laboratory).")] = "",
    licence: Annotated[str, typer.Option("--licence", help="Its licence or terms of use.")] = "",
    note: Annotated[str, typer.Option("--note", help="A note on this version.")] = "",
    database_url: DatabaseOption = None,
) -> None:
    """Add a document with its metadata as the user's laboratory's; its text is extracted and indexed."""
    from customslab.domain.errors import DomainError
    from customslab.services import knowledge
    from customslab.services.contract import parse

    settings = load_settings(database_url)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise fail(f"{file} cannot be read: {exc}") from None
    fields = {
        "title": title,
        "kind": kind,
        "language": language,
        "year": year,
        "hs_codes": hs or [],
        "substances": substance or [],
        "tags": tag or [],
        "sharing": sharing,
        "author_lab": author,
        "licence": licence,
        "note": note,
    }
    with units(settings) as factory:
        try:
            cmd = parse(knowledge.DocumentCreate, fields)
            actor = knowledge.actor_named(factory(), as_user)
            upload = knowledge.UploadedFile(file.name, None, data, settings.max_upload_bytes)
            out = knowledge.add_document(factory(), actor, cmd, upload)
        except DomainError as exc:
            raise fail(exc.message) from None
    pages = out.versions[0].pages if out.versions else 0
    typer.echo(f"Added document {out.id}: {out.title} ({out.kind.value}, {out.language}, {pages} pages).")


@knowledge_app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="Words to search for (English, Korean…).")],
    as_user: AsUser,
    hs: Annotated[str, typer.Option("--hs", help="Only documents on HS codes starting so.")] = "",
    year: Annotated[int | None, typer.Option("--year", help="Only documents of this year.")] = None,
    lab: Annotated[str, typer.Option("--lab", help="Only documents owned or written by it.")] = "",
    language: Annotated[str, typer.Option("--language", help="Only documents in this language.")] = "",
    kind: Annotated[str, typer.Option("--kind", help="Only documents of this kind.")] = "",
    limit: Annotated[int, typer.Option("--limit", help="How many hits.")] = 10,
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """The documents the user sees that match, best first, with snippets (matches between asterisks)."""
    from customslab.domain.errors import DomainError
    from customslab.services import knowledge, knowledge_search
    from customslab.services.contract import parse

    fields = {"q": query, "hs": hs, "year": year, "lab": lab, "language": language, "kind": kind}
    with units(load_settings(database_url)) as factory:
        try:
            cmd = parse(knowledge_search.KnowledgeQuery, fields | {"limit": limit})
            actor = knowledge.actor_named(factory(), as_user)
            found = knowledge_search.search_knowledge(factory(), actor, cmd)
        except DomainError as exc:
            raise fail(exc.message) from None
    if as_json:
        typer.echo(json.dumps(found.model_dump(mode="json"), ensure_ascii=False))
        return
    typer.echo(f"{found.total} documents; terms: {' '.join(found.terms) or '—'}")
    for rank, hit in enumerate(found.hits, start=found.offset + 1):
        codes = ", ".join(hit.hs_codes)
        typer.echo(
            f"{rank:>3}. [{hit.id}] {hit.title} ({hit.kind.value}, {hit.language}, {hit.year}) {codes}"
        )
        text = "".join(f"*{s.text}*" if s.highlighted else s.text for s in hit.snippet)
        typer.echo("     " + " ".join(text.split()))


@knowledge_app.command("reindex")
def reindex_command(database_url: DatabaseOption = None) -> None:
    """Rebuild the search index from the stored documents, adding approved opinions not yet indexed."""
    from customslab.services.knowledge_indexing import reindex_knowledge

    with units(load_settings(database_url)) as factory:
        count = reindex_knowledge(factory())
    typer.echo(f"Indexed {count} documents.")
