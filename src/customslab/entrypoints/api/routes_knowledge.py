"""The knowledge base: documents with their versions, full-text search, and what bears on a sample."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import Response

from customslab.domain.access import SharingLevel
from customslab.domain.knowledge import DocumentKind
from customslab.entrypoints.api.deps import PathId, SignedIn
from customslab.entrypoints.api.errors import ErrorBody
from customslab.entrypoints.downloads import SANDBOXED, content_disposition
from customslab.services import knowledge, knowledge_search
from customslab.services.contract import parse
from customslab.services.knowledge import (
    HS_ITEM_PATTERN,
    LANGUAGE_PATTERN,
    DocumentCreate,
    DocumentEdit,
    DocumentView,
    UploadedFile,
    VersionCreate,
)
from customslab.services.knowledge_search import KnowledgeQuery, KnowledgeResults, RelatedKnowledge

router = APIRouter(prefix="/api", tags=["knowledge"])

#: The refusals of an upload beyond those every route documents.
UPLOAD_REFUSALS: dict[int | str, dict[str, Any]] = {
    415: {"model": ErrorBody, "description": "The file is of a type whose text cannot be read."},
}

#: What the commands' `Text` fields take: no NUL character; a required one more than white space.
NO_NUL = r"^[^\x00]*$"
REQUIRED = r"^[^\x00]*[^\s\x00][^\x00]*$"
Title = Annotated[str, Form(max_length=300, pattern=REQUIRED, description="The document's title.")]
Kind = Annotated[DocumentKind, Form(description="What kind of document it is.")]
Language = Annotated[
    str, Form(max_length=35, pattern=LANGUAGE_PATTERN, description="A BCP-47 language tag: en, ko, zh-Hans.")
]
Year = Annotated[int, Form(ge=1900, le=2199, description="The year it was issued.")]
AuthorLab = Annotated[
    str, Form(max_length=120, pattern=NO_NUL, description="Who wrote it (default: your laboratory).")
]
HsCodes = Annotated[
    list[Annotated[str, Form(max_length=20, pattern=HS_ITEM_PATTERN)]],
    Form(max_length=50, description="HS codes it bears on (repeat the field): 0904, 0904.22."),
]
Names = Annotated[list[Annotated[str, Form(max_length=120, pattern=NO_NUL)]], Form(max_length=50)]
Licence = Annotated[str, Form(max_length=500, pattern=NO_NUL, description="Its licence or terms of use.")]
Sharing = Annotated[SharingLevel, Form(description="How far it is shared.")]
Note = Annotated[str, Form(max_length=500, pattern=NO_NUL, description="A note on this version.")]


def uploaded(request: Request, upload: UploadFile) -> UploadedFile:
    """The upload's name, claimed type and bytes, read no further than one byte past the limit."""
    limit = int(request.app.state.settings.max_upload_bytes)
    data = upload.file.read(limit + 1)
    return UploadedFile(upload.filename or "", upload.content_type, data, limit)


@router.get("/knowledge/documents")
def search_documents(caller: SignedIn, query: Annotated[KnowledgeQuery, Query()]) -> KnowledgeResults:
    """Search the documents I may see: ranked by relevance (BM25) with highlighted snippets, filtered by
    HS code, year, laboratory, language and kind; without words, the newest first."""
    return knowledge_search.search_knowledge(caller.uow, caller.actor, query)


@router.post("/knowledge/documents", status_code=201, responses=UPLOAD_REFUSALS)
def add_document(
    request: Request,
    caller: SignedIn,
    file: UploadFile,
    title: Title,
    kind: Kind,
    language: Language,
    year: Year,
    author_lab: AuthorLab = "",
    hs_codes: HsCodes = [],  # noqa: B006 - FastAPI copies defaults; the list is never mutated
    substances: Names = [],  # noqa: B006
    tags: Names = [],  # noqa: B006
    licence: Licence = "",
    sharing: Sharing = SharingLevel.LABORATORY,
    note: Note = "",
) -> DocumentView:
    """Upload a document (PDF, DOCX, HTML or text) with its metadata, as version 1; its text is extracted
    and indexed at once. An empty, oversized, unreadable or unsupported file is refused; nothing is kept."""
    fields = {
        "title": title,
        "kind": kind,
        "language": language,
        "year": year,
        "author_lab": author_lab,
        "hs_codes": hs_codes,
        "substances": substances,
        "tags": tags,
        "licence": licence,
        "sharing": sharing,
        "note": note,
    }
    cmd = parse(DocumentCreate, fields)
    return knowledge.add_document(caller.uow, caller.actor, cmd, uploaded(request, file))


@router.get("/knowledge/documents/{document_id}")
def get_document(document_id: PathId, caller: SignedIn) -> DocumentView:
    """A document I may see, with its versions, newest first."""
    return knowledge.get_document(caller.uow, caller.actor, document_id)


@router.patch("/knowledge/documents/{document_id}")
def edit_document(document_id: PathId, body: DocumentEdit, caller: SignedIn) -> DocumentView:
    """Change a document's metadata (its laboratory's staff); audited with before and after. A change made
    since the `row_version` read is a 409."""
    return knowledge.edit_metadata(caller.uow, caller.actor, document_id, body)


@router.post("/knowledge/documents/{document_id}/versions", status_code=201, responses=UPLOAD_REFUSALS)
def add_version(
    document_id: PathId, request: Request, caller: SignedIn, file: UploadFile, note: Note = ""
) -> DocumentView:
    """Upload a new version of a document (its laboratory's staff); earlier versions are kept."""
    cmd = parse(VersionCreate, {"note": note})
    return knowledge.add_version(caller.uow, caller.actor, document_id, cmd, uploaded(request, file))


@router.get(
    "/knowledge/documents/{document_id}/versions/{version}/file",
    response_class=Response,
    responses={
        200: {
            "description": "The version's file as uploaded, always as a download "
            "(application/octet-stream; its type is in the document's versions).",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def download_version(document_id: PathId, version: PathId, caller: SignedIn) -> Response:
    """Download one version's file of a document I may see."""
    found = knowledge.document_file(caller.uow, caller.actor, document_id, version)
    headers = {
        "Content-Disposition": content_disposition("attachment", found.filename),
        "Content-Security-Policy": SANDBOXED,
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    # Always a download: the version's own type is in the document's `versions`.
    return Response(found.data, media_type="application/octet-stream", headers=headers)


@router.get("/samples/{sample_id}/knowledge")
def sample_knowledge(sample_id: PathId, caller: SignedIn) -> RelatedKnowledge:
    """The documents and precedents that bear on a sample: by its HS headings (declared, determined) and
    by the substances identified on it."""
    return knowledge_search.related_to_sample(caller.uow, caller.actor, sample_id)
