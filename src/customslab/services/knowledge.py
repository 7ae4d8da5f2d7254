"""Use cases of the knowledge base's documents: upload, new versions, metadata edits, reading, download.

Who sees a document is the visibility table's (`access.sees_document`: the role's cell for
Kind.DOCUMENT, narrowed by the document's sharing level); a document the reader may not see is NotFound,
as one that does not exist. Only the owning laboratory's staff change a document (`domain.knowledge`).
An upload is read whole before anything is written: an empty, oversized, unreadable or unsupported file
is refused with the reason, and nothing is stored. Search is in `knowledge_search`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from customslab.domain.access import Action, Actor, SharingLevel, require, sees_document
from customslab.domain.errors import NotFound, PermissionDenied, ValidationFailed
from customslab.domain.knowledge import (
    DocumentKind,
    FileTooLarge,
    UnsupportedFileType,
    check_sharing,
    follows_an_opinion,
    hs_digits,
    may_manage,
    normalise_hs_codes,
    normalise_language,
    normalise_names,
    refuse_if_opinion,
)
from customslab.knowledge.extract import MEDIA_TYPES, ExtractedText, ExtractionError, extract_text
from customslab.services.common import acting
from customslab.services.contract import Command, Text, View
from customslab.services.knowledge_domain_rules import field_rule
from customslab.services.knowledge_federation import publish_document
from customslab.services.knowledge_indexing import index_document
from customslab.services.knowledge_ports import KnowledgeDocument, KnowledgeVersion
from customslab.services.organisations import check_version
from customslab.services.ports import AbstractUnitOfWork

#: What `normalise_language` takes, for the OpenAPI document (the validator checks it).
LANGUAGE_PATTERN = r"^\s*[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*\s*$"
#: What `hs_digits` takes: a real chapter, then 0, 2, 4 or 6 to 8 more digits; dots, spaces, dashes.
HS_ITEM_PATTERN = (
    r"^[\s.\-]*(?:0[1-9]|[1-6][0-9]|7[0-68-9]|8[0-9]|9[0-7])[\s.\-]*"
    r"(?:(?:[0-9][\s.\-]*){2}|(?:[0-9][\s.\-]*){4}|(?:[0-9][\s.\-]*){6,8})?$"
)
# The codes' fields check their pattern on the text as given (not stripped first), so that the schema's
# maxLength and pattern say exactly what is accepted; the rule then normalises.
Language = Annotated[
    str,
    StringConstraints(max_length=35, pattern=LANGUAGE_PATTERN),
    AfterValidator(field_rule(normalise_language)),
    Field(description="A BCP-47 language tag: en, ko, ja, zh-Hans."),
]
Year = Annotated[int, Field(ge=1900, le=2199, description="The year the document was issued.")]
Names = Annotated[list[Annotated[str, Text(120)]], Field(max_length=50)]
HsCode = Annotated[
    str, StringConstraints(max_length=20, pattern=HS_ITEM_PATTERN), AfterValidator(field_rule(hs_digits))
]
HsCodes = Annotated[
    list[HsCode],
    Field(max_length=50, description="HS codes it bears on: 09, 0904, 0904.22 or a national line."),
]
Note = Annotated[str, Text(500)]


class DocumentMetadata(Command):
    """What a document is: title, kind, language, year, author, HS codes, substances, tags, licence and
    how far it is shared."""

    title: Annotated[str, Text(300, 1)]
    kind: DocumentKind
    language: Language
    year: Year
    author_lab: Annotated[str, Text(120)] = Field(
        default="", description="Who wrote it: a laboratory code or a name (default: your laboratory)."
    )
    hs_codes: HsCodes = []
    substances: Names = []
    tags: Names = []
    licence: Annotated[str, Text(500)] = ""
    sharing: SharingLevel = SharingLevel.LABORATORY


class DocumentCreate(DocumentMetadata):
    """A new document: its metadata and a note on its first version."""

    note: Note = ""


class DocumentEdit(Command):
    """A metadata change: the fields given replace the stored ones; `row_version` is the version read."""

    row_version: Annotated[int, Field(ge=1, le=2**31 - 1)] = Field(
        description="The row_version of the document as read; a change made since is a 409."
    )
    title: Annotated[str, Text(300, 1)] | None = None
    kind: DocumentKind | None = None
    language: Language | None = None
    year: Year | None = None
    author_lab: Annotated[str, Text(120)] | None = None
    hs_codes: HsCodes | None = None
    substances: Names | None = None
    tags: Names | None = None
    licence: Annotated[str, Text(500)] | None = None
    sharing: SharingLevel | None = None


class VersionCreate(Command):
    note: Note = ""


@dataclass(frozen=True)
class UploadedFile:
    """An uploaded file as the edges hand it over: its name, the type the client claimed, its bytes (read
    no further than `max_bytes` + 1) and the configured upload limit."""

    filename: str
    media_type: str | None
    data: bytes
    max_bytes: int


class VersionView(View):
    version: int
    filename: str
    media_type: str
    size: int
    sha256: str
    pages: int
    note: str
    uploaded_by: str
    uploaded_at: datetime


class DocumentView(View):
    id: int
    owner_lab: str
    kind: DocumentKind
    title: str
    language: str
    year: int
    author_lab: str
    hs_codes: list[str]
    substances: list[str]
    tags: list[str]
    licence: str
    sharing: SharingLevel
    current_version: int
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    source: str = Field(description='"upload", or "opinion:<id>" for an approved classification opinion.')
    opinion_id: int | None
    row_version: int
    versions: list[VersionView]
    can_edit: bool = Field(description="Whether the reader may change it and add versions.")


@dataclass(frozen=True)
class DocumentFile:
    """A version's file for download; markup is served as an opaque download, never run by a browser."""

    filename: str
    media_type: str
    data: bytes


#: What a browser may be handed as its own type; everything else (HTML above all) goes as a download.
_SERVED_AS_IS = frozenset({"application/pdf", "text/plain", "text/markdown", MEDIA_TYPES[".docx"]})


def _may_change(actor: Actor, doc: KnowledgeDocument) -> bool:
    try:
        may_manage(actor, doc.owner_lab, SharingLevel(doc.sharing))
    except PermissionDenied:
        return False
    return True


def _view(uow: AbstractUnitOfWork, actor: Actor, doc: KnowledgeDocument) -> DocumentView:
    versions = sorted(uow.quality.find(KnowledgeVersion, document_id=doc.id), key=lambda v: -v.version)
    source = doc.source
    return DocumentView.of_record(
        doc,
        opinion_id=int(source.split(":", 1)[1]) if follows_an_opinion(source) else None,
        row_version=getattr(doc, "row_version", None) or 1,
        versions=[VersionView.of_record(v) for v in versions],
        can_edit=not follows_an_opinion(source) and _may_change(actor, doc),
    )


def visible_document(uow: AbstractUnitOfWork, actor: Actor, document_id: int) -> KnowledgeDocument:
    """The document, or NotFound — also when the visibility table hides it from the actor."""
    doc = uow.quality.get(KnowledgeDocument, document_id)
    if doc is None or not sees_document(
        actor, uow.repo.directory(), doc.owner_lab, SharingLevel(doc.sharing)
    ):
        raise NotFound(f"Document {document_id} was not found.")
    return doc


def _is_supported(filename: str, media_type: str | None) -> bool:
    declared = (media_type or "").split(";", 1)[0].strip().lower()
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    return suffix in MEDIA_TYPES or declared in set(MEDIA_TYPES.values()) | {"application/xhtml+xml"}


def read_upload(upload: UploadedFile) -> ExtractedText:
    """The file's text, or the reason it is refused (413 too large, 415 unsupported, 422 otherwise)."""
    name = upload.filename.strip()
    if not name:
        raise ValidationFailed("The file needs a name.", field="file")
    if not upload.data:
        raise ValidationFailed(f"The file '{name}' is empty.", field="file")
    if len(upload.data) > upload.max_bytes:
        raise FileTooLarge(f"The file '{name}' is larger than the upload limit.", field="file")
    if not _is_supported(name, upload.media_type):
        known = ", ".join(sorted(MEDIA_TYPES))
        raise UnsupportedFileType(
            f"The file '{name}' is of a type whose text cannot be read; send one of {known}.", field="file"
        )
    try:
        return extract_text(upload.data, name, upload.media_type)
    except ExtractionError as exc:
        raise ValidationFailed(str(exc), field="file") from None


def _store_version(
    uow: AbstractUnitOfWork,
    actor: Actor,
    doc: KnowledgeDocument,
    upload: UploadedFile,
    extracted: ExtractedText,
    note: str,
) -> tuple[KnowledgeVersion, str]:
    stored = uow.files.put(io.BytesIO(upload.data), upload.max_bytes)
    assert doc.id is not None
    version = KnowledgeVersion(
        document_id=doc.id,
        version=doc.current_version,
        filename=upload.filename.strip()[:255],
        media_type=extracted.media_type,
        size=stored.size,
        sha256=stored.sha256,
        pages=extracted.pages,
        body=extracted.text,
        note=note,
        uploaded_by=actor.username,
        uploaded_at=uow.clock(),
    )
    uow.quality.add(version)
    return version, extracted.text


def add_document(
    uow: AbstractUnitOfWork, actor: Actor, cmd: DocumentCreate, upload: UploadedFile
) -> DocumentView:
    """Add a document to the laboratory's knowledge base, with its file as version 1; searchable at once."""
    require(actor, Action.MANAGE_KNOWLEDGE)
    check_sharing(actor, cmd.sharing)
    extracted = read_upload(upload)  # refuse a bad file before anything is written
    with acting(uow, actor, Action.MANAGE_KNOWLEDGE):
        now = uow.clock()
        doc = KnowledgeDocument(
            owner_lab=actor.org_code,
            kind=cmd.kind.value,
            title=cmd.title,
            language=cmd.language,
            year=cmd.year,
            author_lab=cmd.author_lab or actor.org_code,
            hs_codes=normalise_hs_codes(cmd.hs_codes),
            substances=normalise_names(cmd.substances, "substances"),
            tags=normalise_names(cmd.tags, "tags"),
            licence=cmd.licence,
            sharing=cmd.sharing.value,
            current_version=1,
            created_by=actor.username,
            created_at=now,
            updated_by=actor.username,
            updated_at=now,
        )
        uow.quality.add(doc)
        version, text = _store_version(uow, actor, doc, upload, extracted, cmd.note)
        index_document(uow, doc, text)
        publish_document(uow, actor, doc, version)  # at the level "partners": to the partners' outbox
        view = _view(uow, actor, doc)
        uow.commit()
        return view


def add_version(
    uow: AbstractUnitOfWork, actor: Actor, document_id: int, cmd: VersionCreate, upload: UploadedFile
) -> DocumentView:
    """A new file for the document: a new version, now the current one; earlier versions are kept."""
    with acting(uow, actor, Action.MANAGE_KNOWLEDGE):
        doc = visible_document(uow, actor, document_id)
        refuse_if_opinion(doc.source, document_id)
        may_manage(actor, doc.owner_lab, SharingLevel(doc.sharing))
        extracted = read_upload(upload)  # refuse a bad file before anything is written
        doc.current_version += 1
        doc.updated_by, doc.updated_at = actor.username, uow.clock()
        version, text = _store_version(uow, actor, doc, upload, extracted, cmd.note)
        index_document(uow, doc, text)
        publish_document(uow, actor, doc, version)  # a new version of a partners' document goes too
        view = _view(uow, actor, doc)
        uow.commit()
        return view


def edit_metadata(uow: AbstractUnitOfWork, actor: Actor, document_id: int, cmd: DocumentEdit) -> DocumentView:
    """Change a document's metadata (audited, before and after); a change since `row_version` is a 409."""
    with acting(uow, actor, Action.MANAGE_KNOWLEDGE):
        doc = visible_document(uow, actor, document_id)
        refuse_if_opinion(doc.source, document_id)
        may_manage(actor, doc.owner_lab, SharingLevel(doc.sharing))
        check_version(f"Document {document_id}", doc, cmd.row_version)
        given = cmd.model_fields_set
        was_for_partners = doc.sharing == SharingLevel.PARTNERS.value
        if "title" in given and cmd.title is not None:
            doc.title = cmd.title
        if "kind" in given and cmd.kind is not None:
            doc.kind = cmd.kind.value
        if "language" in given and cmd.language is not None:
            doc.language = cmd.language
        if "year" in given and cmd.year is not None:
            doc.year = cmd.year
        if "author_lab" in given and cmd.author_lab is not None:
            doc.author_lab = cmd.author_lab or doc.owner_lab
        if "hs_codes" in given and cmd.hs_codes is not None:
            doc.hs_codes = normalise_hs_codes(cmd.hs_codes)
        if "substances" in given and cmd.substances is not None:
            doc.substances = normalise_names(cmd.substances, "substances")
        if "tags" in given and cmd.tags is not None:
            doc.tags = normalise_names(cmd.tags, "tags")
        if "licence" in given and cmd.licence is not None:
            doc.licence = cmd.licence
        if "sharing" in given and cmd.sharing is not None:
            doc.sharing = check_sharing(actor, cmd.sharing).value
        doc.updated_by, doc.updated_at = actor.username, uow.clock()
        index_document(uow, doc)  # the metadata is searchable, and filters are copied into the index
        if not was_for_partners:  # raised to "partners": the current version goes to them
            publish_document(uow, actor, doc)
        view = _view(uow, actor, doc)
        uow.commit()
        return view


def get_document(uow: AbstractUnitOfWork, actor: Actor, document_id: int) -> DocumentView:
    """A document the actor sees, with its versions (newest first)."""
    with uow:
        require(actor, Action.READ_KNOWLEDGE)
        return _view(uow, actor, visible_document(uow, actor, document_id))


def document_file(
    uow: AbstractUnitOfWork, actor: Actor, document_id: int, version: int | None = None
) -> DocumentFile:
    """A version's file (the current one by default), for a reader who sees the document."""
    with uow:
        require(actor, Action.READ_KNOWLEDGE)
        doc = visible_document(uow, actor, document_id)
        wanted = version if version is not None else doc.current_version
        found = uow.quality.find(KnowledgeVersion, document_id=doc.id, version=wanted)
        if not found:
            raise NotFound(f"Document {document_id} has no version {wanted}.")
        v = found[0]
        with uow.files.open(v.sha256) as stream:
            data = stream.read()
        served = v.media_type if v.media_type in _SERVED_AS_IS else "application/octet-stream"
        return DocumentFile(v.filename, served, data)


def actor_named(uow: AbstractUnitOfWork, username: str) -> Actor:
    """The active user the command line acts as (`--as`): whoever runs it on the server answers for it,
    as for every command there; the user's roles and laboratory decide what the use cases allow."""
    with uow:
        user = uow.repo.user_by_name(username)
        if user is None or not user.active or user.id is None:
            raise NotFound(f"There is no active user '{username}'.", field="as")
        return Actor(user.id, user.username, user.org_code, frozenset(user.roles))
