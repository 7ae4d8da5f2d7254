"""Knowledge partners shared with this deployment: storing each received copy, reading them, and adopting
a shared method as the laboratory's own draft.

A copy is read-only and append-only: a new version from the partner is a new row beside the old one,
the same version again changes nothing, and no local record is touched when one arrives. What arrives
is checked against the kind's declared content (`federation_sharing`) and bounded before it is stored;
a copy that fails is refused (the partner's message answers 422 and nothing is kept).

Reading is for laboratory staff, coordinators and administrators (`Action.READ_SHARED_KNOWLEDGE`):
shared knowledge is published under a licence for the network, like the method versions published on
this server. Adopting a shared method follows the rules of adopting one published on this server: a
lab manager adds it to the laboratory's catalogue as a draft that records where it came from (the
partner administration, the author laboratory, its version and licence), to verify and validate anew.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from pydantic import Field
from pydantic import ValidationError as PydanticValidationError

from customslab.domain.access import Action, Actor, require
from customslab.domain.enums import Role
from customslab.domain.errors import Conflict, NotFound, ValidationFailed
from customslab.domain.federation import Envelope, KnowledgeShared, Partner, SharedCopy, SharedKind
from customslab.domain.plain import from_plain
from customslab.domain.quality.methods import MethodOrigin, MethodVersion
from customslab.hs.nomenclature import format_code
from customslab.services.contract import View, validation_failed
from customslab.services.federation_content import (
    MAX_AUTHOR,
    MAX_CONTENT_CHARS,
    MAX_LICENCE,
    MAX_ORIGIN_REF,
    MAX_TITLE,
    MAX_VERSION,
    SharedContent,
    SharedDocument,
    SharedOpinion,
    SharedSpectrum,
    content_size,
)
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.quality_methods import METHODS, MethodFields, MethodView, adopt_as_draft
from customslab.services.quality_ports import MethodEntry
from customslab.services.quality_register import require_role

UoW = AbstractUnitOfWork

#: The content each kind must have (a method's is checked as a method version).
CONTENT_OF: dict[SharedKind, type[SharedContent]] = {
    SharedKind.OPINION: SharedOpinion,
    SharedKind.SPECTRUM: SharedSpectrum,
    SharedKind.DOCUMENT: SharedDocument,
}


# -- receiving ------------------------------------------------------------------------------------


def _refuse(message: str, field: str = "content") -> ValidationFailed:
    return ValidationFailed(f"Shared knowledge refused: {message}", field)


def _bounded(value: Any, limit: int, name: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit or "\x00" in value:
        raise _refuse(f"the {name.replace('_', ' ')} must be a text of 1 to {limit} characters.", name)
    return value


def shared_method(content: dict[str, Any]) -> MethodVersion:
    """The method version a shared copy carries; ValidationFailed when it is not one."""
    try:
        MethodFields.model_validate(content)  # the bounds of the fields the catalogue keeps
        method = from_plain(MethodVersion, content)
    except PydanticValidationError as exc:
        raise _refuse(f"the method is not valid: {validation_failed(list(exc.errors())).message}") from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise _refuse(f"the method is not a method version ({type(exc).__name__}).") from None
    if not isinstance(method, MethodVersion):
        raise _refuse("the method is not a method version.")
    return method


def _checked_content(body: KnowledgeShared) -> dict[str, Any]:
    content = body.content
    if not isinstance(content, dict):
        raise _refuse("its content must be an object.")
    if content_size(content) > MAX_CONTENT_CHARS:
        raise _refuse(f"its content is larger than {MAX_CONTENT_CHARS} characters.")
    if body.kind is SharedKind.METHOD:
        method = shared_method(content)
        if method.version != body.version:
            raise _refuse(f"the method is version {method.version}, the message says {body.version}.")
        return content
    model = CONTENT_OF.get(body.kind)
    if model is not None:
        try:
            return model.model_validate(content).model_dump(mode="json")
        except PydanticValidationError as exc:
            why = validation_failed(list(exc.errors())).message
            raise _refuse(f"the {body.kind.value} is not valid: {why}") from None
    return content


def on_knowledge_shared(uow: UoW, partner: Partner, envelope: Envelope) -> None:
    """Keep a partner's published item as a read-only copy (a version already kept changes nothing)."""
    body = envelope.body
    if not isinstance(body, KnowledgeShared):
        raise _refuse("the message is not shared knowledge.", "kind")
    kind = SharedKind(body.kind)
    origin_ref = _bounded(body.origin_ref, MAX_ORIGIN_REF, "origin_ref")
    version = _bounded(body.version, MAX_VERSION, "version")
    author = _bounded(body.author_lab, MAX_AUTHOR, "author_lab")
    licence = _bounded(body.licence, MAX_LICENCE, "licence")
    title = _bounded(body.title, MAX_TITLE, "title")
    content = _checked_content(body)
    code = partner.administration_code
    if uow.federation.shared_copy_of(code, kind, origin_ref, version) is not None:
        return
    uow.federation.add(
        SharedCopy(
            partner_code=code,
            kind=kind,
            origin_ref=origin_ref,
            version=version,
            author_lab=author,
            licence=licence,
            title=title,
            content=content,
            published_at=body.published_at,
            received_at=uow.clock(),
        )
    )


# -- reading --------------------------------------------------------------------------------------


class SharedCopySummary(View):
    """A copy of a partner's published item and its provenance."""

    id: int
    kind: SharedKind
    partner_code: str = Field(description="The administration whose deployment published it.")
    partner_name: str
    author_lab: str = Field(description="The laboratory that published it, as the partner names it.")
    origin_ref: str = Field(description="The item's reference on the partner's server.")
    version: str
    licence: str
    title: str
    published_at: datetime
    received_at: datetime
    gist: str = Field(description="What it is in a line: technique and scope, codes and reasoning...")
    in_catalogue: bool = Field(description="A method the reader's laboratory already has (this version).")
    adoptable: bool = Field(description="A method the reader may adopt into the laboratory's catalogue.")


class SharedCopyView(SharedCopySummary):
    content: dict[str, Any]


class SharedCopyPage(View):
    items: list[SharedCopySummary]
    total: int
    limit: int
    offset: int


def gist(kind: SharedKind, content: dict[str, Any]) -> str:
    """A copy's content in one line, for a list (the copy itself holds it all)."""

    def text(key: str, limit: int = 200) -> str:
        value = content.get(key)
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value[:10])
        return str(value or "")[:limit]

    if kind is SharedKind.METHOD:
        parts = [text("technique"), text("analytes"), text("matrices"), text("scope")]
    elif kind is SharedKind.SPECTRUM:
        points = len(content.get("x") or [])
        parts = [
            text("technique"),
            text("formula"),
            text("inchikey"),
            f"{points} points",
            text("authors", 100),
        ]
    elif kind is SharedKind.OPINION:
        codes = (
            f"{format_code(text('declared_code', 20)) or '?'} → {format_code(text('determined_code', 20))}"
        )
        parts = [codes, text("reasoning")]
    elif kind is SharedKind.DOCUMENT:
        parts = [text("kind", 40), text("language", 35), text("year", 4), text("hs_codes"), text("text")]
    else:
        parts = [text("description")]
    return " · ".join(p for p in parts if p)


class _Reader:
    """What the summaries of one reader need once: the laboratory's catalogue, the partners' names."""

    def __init__(self, uow: UoW, actor: Actor) -> None:
        self.actor = actor
        self.catalogue = {
            (e.method_code, e.version) for e in uow.quality.find(MethodEntry, lab_code=actor.org_code)
        }
        self.names = {a.code: a.name for a in uow.repo.administrations()}

    def fields(self, copy: SharedCopy) -> dict[str, Any]:
        """The summary's fields the copy does not store."""
        in_catalogue = (
            copy.kind is SharedKind.METHOD
            and (
                str(copy.content.get("method_id", "")),
                copy.version,
            )
            in self.catalogue
        )
        return {
            "partner_name": self.names.get(copy.partner_code, copy.partner_code),
            "gist": gist(copy.kind, copy.content),
            "in_catalogue": in_catalogue,
            "adoptable": copy.kind is SharedKind.METHOD
            and self.actor.has(Role.LAB_MANAGER)
            and not in_catalogue,
        }


def list_shared_copies(
    uow: UoW,
    actor: Actor,
    kind: SharedKind | None = None,
    limit: int = 50,
    offset: int = 0,
    *,
    text: str | None = None,
    order: str = "received",
    descending: bool = True,
) -> SharedCopyPage:
    """Knowledge partners shared with this deployment, with its provenance: newest received first unless
    `order` (received | published | title) and `descending` say otherwise, searched for `text`."""
    with uow:
        require(actor, Action.READ_SHARED_KNOWLEDGE)
        copies, total = uow.federation.shared_copies(
            kind, limit, offset, text=text, order=order, descending=descending
        )
        reader = _Reader(uow, actor)
        items = [SharedCopySummary.of_record(c, **reader.fields(c)) for c in copies]
        return SharedCopyPage(items=items, total=total, limit=limit, offset=offset)


def _copy(uow: UoW, copy_id: int) -> SharedCopy:
    copy = uow.federation.shared_copy(copy_id)
    if copy is None:
        raise NotFound(f"Shared copy {copy_id} was not found.")
    return copy


def shared_copy_detail(uow: UoW, actor: Actor, copy_id: int) -> SharedCopyView:
    """One shared copy: its provenance and its content."""
    with uow:
        require(actor, Action.READ_SHARED_KNOWLEDGE)
        copy = _copy(uow, copy_id)
        return SharedCopyView.of_record(copy, **_Reader(uow, actor).fields(copy))


def adopt_shared_method(uow: UoW, actor: Actor, copy_id: int) -> MethodView:
    """Adopt a method a partner shared as a draft of the laboratory's catalogue, recording its provenance."""
    with uow:
        require_role(actor, "adopt a method", Role.LAB_MANAGER)
        uow.act_as(actor.username)
        copy = _copy(uow, copy_id)
        if copy.kind is not SharedKind.METHOD:
            raise Conflict(f"Only a shared method can be adopted; this copy is a {copy.kind.value}.")
        origin = MethodOrigin(
            published_by=copy.author_lab,
            adopted_from_version=copy.version,
            partner=copy.partner_code,
            licence=copy.licence,
        )
        # Files named by the partner's method (SOPs, reports) stay on its server.
        method = replace(shared_method(copy.content), documents=())
        entry = adopt_as_draft(uow, actor, method, origin)
        uow.commit()
        return METHODS.show(uow, entry)
