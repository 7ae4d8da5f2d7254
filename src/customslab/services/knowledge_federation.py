"""Knowledge documents shared at the level "partners" travel to the partner deployments.

A document's sharing level is itself the explicit act the other publications (`federation_sharing`)
ask for: only a reviewer, a lab manager or a network coordinator may set "partners"
(`domain.knowledge.check_sharing`), and the document names its licence. So the document goes out when
it is uploaded at that level, when a metadata edit raises it to that level, and when a new version of
a document at that level is added (by someone who may share that far: the new file leaves the
administration too). Each time, like a method or an opinion, it is one `KnowledgeShared` message of kind
`SharedKind.DOCUMENT` per active partner in the outbox, written in the same transaction as the change,
on a stream of its own per document and version (`knowledge_stream`); a partner that already has that
version is skipped, suspended partners get nothing.

What travels is the metadata and the extracted text of the current version (documents hold no
declaration data), bounded as `federation_content.SharedDocument` says. The file itself does not: shared
knowledge is JSON content (a method's files stay on its server too), so partners get the text, the file's
name, type, size and sha256, and ask the author laboratory for the file. A text too long for one message
is cut, and the copy says so.

On the receiving side the document is kept like every shared item: a read-only copy with its provenance
(`federation_shared.on_knowledge_shared`), listed and searched under Shared knowledge by the laboratory's
staff (`Action.READ_SHARED_KNOWLEDGE`), as received opinions are. It is not put in the receiver's own
knowledge base: its records belong to the receiver's laboratories, and a partner's copy is not one.

Lowering the level later does not call back what partners already hold (no message does that, for any
shared kind); nor is a metadata edit of a version already sent sent again (a copy is per version).
"""

from __future__ import annotations

from customslab.domain.access import Actor, SharingLevel
from customslab.domain.errors import ValidationFailed
from customslab.domain.federation import KnowledgeShared, SharedKind
from customslab.domain.knowledge import check_sharing
from customslab.services.confidentiality import administration_of
from customslab.services.federation_content import (
    MAX_CONTENT_CHARS,
    MAX_LICENCE,
    SharedDocument,
    content_size,
)
from customslab.services.federation_outbox import enqueue, home_code
from customslab.services.federation_sharing import knowledge_stream
from customslab.services.knowledge_ports import KnowledgeDocument, KnowledgeVersion
from customslab.services.ports import AbstractUnitOfWork

#: The longest extracted text sent (characters); a longer one is cut, as `SharedDocument.text_cut` says.
MAX_SHARED_TEXT = 400_000


def document_origin_ref(doc: KnowledgeDocument) -> str:
    """The document's reference on this server, as partners hold it: its laboratory and id."""
    return f"{doc.owner_lab}/{doc.id}"


def partners_licence(doc: KnowledgeDocument) -> str:
    """The licence partners receive the document under: the document's own, which must be stated."""
    licence = doc.licence.strip()
    if not licence:
        raise ValidationFailed(
            "A document shared with partner deployments needs a licence or terms of use (an SPDX "
            "identifier such as CC-BY-4.0, or a short name).",
            "licence",
        )
    if len(licence) > MAX_LICENCE:
        raise ValidationFailed(
            f"A document shared with partner deployments needs a licence of at most {MAX_LICENCE} "
            "characters; name it and keep the full terms in the document.",
            "licence",
        )
    return licence


def document_content(doc: KnowledgeDocument, version: KnowledgeVersion) -> SharedDocument:
    """What partners receive of one version: its metadata and extracted text, never the file."""
    text = version.body[:MAX_SHARED_TEXT]

    def content(body: str) -> SharedDocument:
        return SharedDocument(
            kind=doc.kind,
            language=doc.language,
            year=doc.year,
            hs_codes=tuple(doc.hs_codes),
            substances=tuple(doc.substances),
            tags=tuple(doc.tags),
            filename=version.filename,
            media_type=version.media_type,
            size=version.size,
            sha256=version.sha256,
            pages=version.pages,
            note=version.note,
            text=body,
            text_cut=len(body) < len(version.body),
        )

    shared = content(text)
    # The message's content is bounded as JSON text, where escapes (\n, \") take more than a character.
    while content_size(shared.model_dump(mode="json")) > MAX_CONTENT_CHARS:
        text = text[: len(text) * 3 // 4]
        shared = content(text)
    return shared


def publish_document(
    uow: AbstractUnitOfWork, actor: Actor, doc: KnowledgeDocument, version: KnowledgeVersion | None = None
) -> list[str]:
    """Inside the caller's unit of work: write the document's current version to every active partner
    that does not have it yet (`version`: the one just stored), when it is shared with partners; the
    partners it was written to.

    Nothing is written for a document at another level, on a deployment without active partners, or for
    a laboratory of another administration than this deployment's (it does not speak for this server)."""
    if doc.sharing != SharingLevel.PARTNERS.value:
        return []
    check_sharing(actor, SharingLevel.PARTNERS)  # what leaves the administration, someone answers for
    licence = partners_licence(doc)
    partners = [p.administration_code for p in uow.federation.partners() if p.active]
    if not partners or administration_of(uow, actor) != home_code(uow):
        return []
    if version is None:  # the current one, as stored (a metadata edit)
        found = uow.quality.find(KnowledgeVersion, document_id=doc.id, version=doc.current_version)
        if not found:
            return []
        version = found[0]
    body = KnowledgeShared(
        kind=SharedKind.DOCUMENT,
        origin_ref=document_origin_ref(doc),
        version=str(doc.current_version),
        author_lab=doc.author_lab or doc.owner_lab,
        licence=licence,
        title=doc.title,
        published_at=uow.clock(),
        content=document_content(doc, version).model_dump(mode="json"),
    )
    stream = knowledge_stream(body.kind, body.origin_ref, body.version)
    sent = [code for code in partners if uow.federation.next_seq(code, stream) == 1]
    for code in sent:
        enqueue(uow, code, stream, body)
    return sent
