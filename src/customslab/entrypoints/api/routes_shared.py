"""Knowledge shared between deployments: publish to the partners, read what partners shared, adopt."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request

from customslab.domain.federation import SharedKind
from customslab.entrypoints.api.deps import Offset, PathId, SignedIn
from customslab.services import federation_shared, federation_sharing
from customslab.services.federation_shared import SharedCopyPage, SharedCopyView
from customslab.services.federation_sharing import (
    LibraryEntriesPublication,
    LibraryPublication,
    PartnerPublication,
    Publication,
)
from customslab.services.quality_methods import MethodView

router = APIRouter(prefix="/api", tags=["shared knowledge"])

#: The licence may be left out (the default applies), so the body may be too.
OptionalPublication = Annotated[PartnerPublication | None, Body()]
LibraryName = Annotated[str, Path(min_length=1, max_length=60, description="A library's name.")]


@router.get("/federation/shared", response_model=SharedCopyPage)
def list_shared_copies(
    caller: SignedIn,
    kind: SharedKind | None = None,
    limit: int = Query(50, ge=1, le=200),
    offset: Offset = 0,
    q: str | None = Query(
        None,
        max_length=200,
        pattern=r"^[^\x00]*$",
        description="Words in the title, laboratory, partner or licence.",
    ),
) -> SharedCopyPage:
    """Knowledge partner deployments shared with this one, newest first, with its provenance."""
    return federation_shared.list_shared_copies(caller.uow, caller.actor, kind, limit, offset, text=q)


@router.get("/federation/shared/{copy_id}", response_model=SharedCopyView)
def get_shared_copy(copy_id: PathId, caller: SignedIn) -> SharedCopyView:
    """One shared copy: provenance and content."""
    return federation_shared.shared_copy_detail(caller.uow, caller.actor, copy_id)


@router.post("/federation/shared/{copy_id}/adopt", status_code=201, response_model=MethodView)
def adopt_shared_method(copy_id: PathId, caller: SignedIn) -> MethodView:
    """Adopt a shared method as a draft of the laboratory's catalogue, recording its provenance."""
    return federation_shared.adopt_shared_method(caller.uow, caller.actor, copy_id)


@router.post("/quality/methods/{entry_id}/publish-to-partners", response_model=Publication)
def publish_method_to_partners(
    entry_id: PathId, caller: SignedIn, body: OptionalPublication = None
) -> Publication:
    """Publish a validated method version to the partner deployments, under a licence."""
    cmd = body or PartnerPublication()
    return federation_sharing.publish_method_to_partners(caller.uow, caller.actor, entry_id, cmd)


@router.post("/opinions/{opinion_id}/publish-to-partners", response_model=Publication)
def publish_opinion_to_partners(
    opinion_id: PathId, caller: SignedIn, body: OptionalPublication = None
) -> Publication:
    """Publish an approved classification opinion to the partner deployments, under a licence."""
    cmd = body or PartnerPublication()
    return federation_sharing.publish_opinion_to_partners(caller.uow, caller.actor, opinion_id, cmd)


@router.post("/libraries/{name}/publish-to-partners", response_model=LibraryPublication)
def publish_library_entries(
    name: LibraryName, body: LibraryEntriesPublication, request: Request, caller: SignedIn
) -> LibraryPublication:
    """Publish chosen entries of a spectral library to the partner deployments, each with its licence."""
    libraries = request.app.state.libraries
    return federation_sharing.publish_library_entries(caller.uow, caller.actor, libraries, name, body)
