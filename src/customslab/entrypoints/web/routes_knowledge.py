"""The knowledge base's pages: search with filters and highlighted snippets, a document with its versions
and metadata form, and the upload form. The use cases are the API's (services/knowledge*.py)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import FormData, UploadFile

from customslab.domain.access import PERMISSIONS, Action, Actor, SharingLevel, require
from customslab.domain.errors import ValidationFailed
from customslab.domain.knowledge import DocumentKind
from customslab.entrypoints.api.deps import PathId
from customslab.entrypoints.downloads import SANDBOXED, content_disposition
from customslab.entrypoints.uploads import uploaded_file
from customslab.entrypoints.web.common import (
    N_,
    Form,
    PageActor,
    flash_redirect,
    render,
    say,
    uow_of,
)
from customslab.services import knowledge, knowledge_search
from customslab.services.contract import parse, validation_failed
from customslab.services.knowledge import DocumentCreate, DocumentEdit, UploadedFile, VersionCreate
from customslab.services.knowledge_search import KnowledgeQuery

router = APIRouter(include_in_schema=False)

#: How the pages name a document's kind (DocumentKind) and its sharing level (SharingLevel).
KIND_WORDS = {
    DocumentKind.GUIDEBOOK: N_("guidebook"),
    DocumentKind.RESEARCH: N_("research material"),
    DocumentKind.SEMINAR_PAPER: N_("seminar paper"),
    DocumentKind.METHOD: N_("method document"),
    DocumentKind.COMMITTEE_DECISION: N_("HS Committee decision"),
    DocumentKind.CLASSIFICATION_OPINION: N_("classification opinion"),
    DocumentKind.TRAINING_MATERIAL: N_("training material"),
}
SHARING_WORDS = {
    SharingLevel.LABORATORY: N_("this laboratory only"),
    SharingLevel.ADMINISTRATION: N_("the administration"),
    SharingLevel.NETWORK: N_("the network"),
    SharingLevel.PARTNERS: N_("the network and partner deployments"),
}
#: The languages the forms offer first; any BCP-47 tag may be typed in the search filter.
LANGUAGES = {"en": N_("English"), "ko": N_("Korean"), "ja": N_("Japanese"), "zh": N_("Chinese")}
_QUERY_FIELDS = ("q", "hs", "year", "lab", "language", "kind", "offset")
PAGE = 20
_SPLIT = re.compile(r"[,;\s]+")


def _words() -> dict[str, Any]:
    """What every knowledge page shows its values with."""
    return {"kinds": KIND_WORDS, "sharing_words": SHARING_WORDS, "knowledge_languages": LANGUAGES}


def _may_manage(actor: Actor) -> bool:
    return bool(actor.roles & PERMISSIONS[Action.MANAGE_KNOWLEDGE])


def _lines(form: FormData, name: str) -> list[str]:
    """A textarea of one entry per line (substance names may hold commas: 2,5-dimethoxy…)."""
    return [line.strip() for line in str(form.get(name) or "").splitlines() if line.strip()]


def _codes(form: FormData) -> list[str]:
    """HS codes separated by commas, semicolons or spaces."""
    return [c for c in _SPLIT.split(str(form.get("hs_codes") or "")) if c]


def _tags(form: FormData) -> list[str]:
    return [t.strip() for t in str(form.get("tags") or "").split(",") if t.strip()]


def _metadata(form: FormData) -> dict[str, Any]:
    """The metadata fields of the upload and edit forms, as the commands take them."""
    text = ("title", "kind", "language", "year", "author_lab", "licence", "sharing")
    return {name: str(form.get(name) or "").strip() for name in text} | {
        "hs_codes": _codes(form),
        "substances": _lines(form, "substances"),
        "tags": _tags(form),
    }


def _file(request: Request, upload: UploadFile) -> UploadedFile:
    """The uploaded file's bytes, read no further than one past the limit (the service says it is too big)."""
    limit = int(request.app.state.settings.max_upload_bytes)
    data = upload.file.read(limit + 1)
    return UploadedFile(upload.filename or "", upload.content_type, data, limit)


def _page_href(asked: dict[str, str], offset: int) -> str:
    """The same search at another page of hits."""
    kept = {name: value for name, value in asked.items() if value and name != "offset"}
    return "/knowledge?" + urlencode(kept | ({"offset": str(offset)} if offset else {}))


@router.get("/knowledge")
def search_page(request: Request, actor: PageActor) -> Response:
    """Search the guidebooks, papers, methods, decisions and precedents the actor sees, with filters."""
    require(actor, Action.READ_KNOWLEDGE)
    asked = {name: request.query_params.get(name, "").strip() for name in _QUERY_FIELDS}
    context: dict[str, Any] = {"asked": asked, "may_add": _may_manage(actor), "error": None}
    try:
        query = parse(KnowledgeQuery, asked | {"limit": PAGE})
    except ValidationFailed as exc:
        # The filters stay as typed, with what is wrong with them, rather than an error page.
        context |= {"results": None, "error": exc.message, "searched": True}
        return render(request, "knowledge.html", context | _words(), status_code=422)
    results = knowledge_search.search_knowledge(uow_of(request), actor, query)
    end = query.offset + PAGE
    context |= {
        "results": results,
        # With nothing asked, the page lists what is shared with the reader, newest first.
        "searched": any(asked[name] for name in _QUERY_FIELDS if name != "offset"),
        "next_href": _page_href(asked, end) if end < results.total else "",
        "previous_href": _page_href(asked, max(query.offset - PAGE, 0)) if query.offset else "",
    }
    return render(request, "knowledge.html", context | _words())


@router.get("/knowledge/new")
def upload_form(request: Request, actor: PageActor) -> Response:
    """The form that adds a document (a file and its metadata) to the laboratory's knowledge base."""
    require(actor, Action.MANAGE_KNOWLEDGE)
    context = {"levels": list(SharingLevel), "values": {"language": "en", "sharing": "laboratory"}}
    return render(request, "knowledge_upload.html", context | _words())


@router.post("/knowledge")
def upload(request: Request, actor: PageActor, form: Form) -> Response:
    """Add the document, its file as version 1; it is searchable at once."""
    file = _file(request, uploaded_file(form, N_("Choose the document's file (PDF, DOCX, HTML or text).")))
    cmd = parse(DocumentCreate, _metadata(form) | {"note": str(form.get("note") or "")})
    added = knowledge.add_document(uow_of(request), actor, cmd, file)
    return flash_redirect(request, f"/knowledge/{added.id}", say(request, N_("Document added.")))


@router.get("/knowledge/{document_id}")
def document_page(request: Request, actor: PageActor, document_id: PathId) -> Response:
    """A document: its metadata, its versions to download, and for its laboratory's staff the forms that
    change it."""
    doc = knowledge.get_document(uow_of(request), actor, document_id)
    context = {"d": doc, "levels": list(SharingLevel)}
    return render(request, "knowledge_document.html", context | _words())


@router.post("/knowledge/{document_id}")
def edit(request: Request, actor: PageActor, document_id: PathId, form: Form) -> Response:
    """Change the document's metadata; every field of the form is sent, cleared lists included."""
    fields = _metadata(form) | {"row_version": str(form.get("row_version") or "")}
    try:  # not `parse`: an emptied field (no tags any more) is a change here, not "not given"
        cmd = DocumentEdit.model_validate(fields)
    except PydanticValidationError as exc:
        raise validation_failed(exc.errors()) from None
    knowledge.edit_metadata(uow_of(request), actor, document_id, cmd)
    return flash_redirect(request, f"/knowledge/{document_id}", say(request, N_("Metadata saved.")))


@router.post("/knowledge/{document_id}/versions")
def new_version(request: Request, actor: PageActor, document_id: PathId, form: Form) -> Response:
    """Upload a new file of the document: a new version, now the current one; earlier ones are kept."""
    file = _file(request, uploaded_file(form, N_("Choose the new version's file.")))
    cmd = parse(VersionCreate, {"note": str(form.get("note") or "")})
    done = knowledge.add_version(uow_of(request), actor, document_id, cmd, file)
    message = say(request, N_("Version {n} added."), n=done.current_version)
    return flash_redirect(request, f"/knowledge/{document_id}", message)


@router.get("/knowledge/{document_id}/versions/{version}")
def download(request: Request, actor: PageActor, document_id: PathId, version: PathId) -> Response:
    """A version's file as uploaded, always as a download (an HTML document is never run as a page)."""
    file = knowledge.document_file(uow_of(request), actor, document_id, version)
    headers = {
        "Content-Disposition": content_disposition("attachment", file.filename),
        "Content-Security-Policy": SANDBOXED,
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    return Response(file.data, media_type=file.media_type, headers=headers)


def related_context(request: Request, actor: Actor, sample_id: int) -> dict[str, Any]:
    """What the sample page and the HS evaluation panel need for their "Documents and precedents" section
    (`_related_knowledge.html`): nothing for a reader of the case who does not read the knowledge base."""
    if not actor.roles & PERMISSIONS[Action.READ_KNOWLEDGE]:
        return {"related": None}
    related = knowledge_search.related_to_sample(uow_of(request), actor, sample_id)
    return {"related": related, "knowledge_kinds": KIND_WORDS}
