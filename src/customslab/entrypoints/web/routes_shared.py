"""The page of knowledge partner deployments shared: provenance of each copy, and adopting a method."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from customslab.domain.federation import SharedKind
from customslab.entrypoints.api.deps import PathId
from customslab.entrypoints.web.common import Form, PageActor, flash_redirect, render, say, uow_of
from customslab.services import federation_shared

router = APIRouter(include_in_schema=False)

#: Copies on one page; older ones through ?offset=.
PAGE_SIZE = 50


@router.get("/shared-knowledge")
def shared_knowledge(request: Request, actor: PageActor, kind: str = "", offset: int = 0) -> Response:
    """Methods, spectra and opinions partners shared, with their provenance; managers adopt methods."""
    chosen = SharedKind(kind) if kind in {k.value for k in SharedKind} else None
    page = federation_shared.list_shared_copies(
        uow_of(request), actor, chosen, PAGE_SIZE, max(0, min(offset, 2**31 - 1))
    )
    context = {"page": page, "kind": chosen.value if chosen else "", "kinds": [k.value for k in SharedKind]}
    return render(request, "shared_knowledge.html", context)


@router.post("/shared-knowledge/{copy_id:int}/adopt")
def adopt(request: Request, actor: PageActor, copy_id: PathId, form: Form) -> Response:
    """Adopt a shared method as a draft of the laboratory's catalogue."""
    method = federation_shared.adopt_shared_method(uow_of(request), actor, copy_id)
    return flash_redirect(
        request,
        "/quality#methods",
        say(request, "Method {label} adopted as a draft; validate it before use.", label=method.label),
    )
