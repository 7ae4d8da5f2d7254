"""The method catalogue's pages: list the versions, add one, and validate, withdraw, publish or adopt it.

Each form posts to the use case the API's `/api/quality/methods` routes call, with the same command.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from customslab.entrypoints.api.deps import PathId
from customslab.entrypoints.web.common import Form, PageActor, flash_redirect, render, say, uow_of
from customslab.entrypoints.web.quality_forms import command
from customslab.services.quality_methods import (
    METHODS,
    MethodCreate,
    MethodValidation,
    adopt_method,
    publish_method,
    validate_method_version,
    withdraw_method_version,
)
from customslab.services.quality_pages import method_page, methods_page

router = APIRouter(include_in_schema=False)

#: The method's lists, typed one entry a line.
LISTS = ("analytes", "matrices", "hs_headings", "standards")


@router.get("/quality/methods")
def methods(request: Request, actor: PageActor) -> Response:
    """The laboratory's method catalogue and the versions published to the network."""
    page = methods_page(uow_of(request), actor, request.query_params.get("lab") or None)
    return render(request, "quality_methods.html", {"page": page})


@router.post("/quality/methods")
def add_method_version(request: Request, actor: PageActor, form: Form) -> Response:
    """Record a new method, or a new version of one, as a draft."""
    cmd = command(request, MethodCreate, form, lines=LISTS)
    out = METHODS.record(uow_of(request), actor, cmd)
    return flash_redirect(
        request,
        f"/quality/methods/{out.id}",
        say(request, "Method {label} recorded as a draft.", label=out.label),
    )


@router.get("/quality/methods/{entry_id}")
def method(request: Request, actor: PageActor, entry_id: PathId) -> Response:
    """One method version: its scope, validation data, approval and the other versions."""
    page = method_page(uow_of(request), actor, entry_id)
    return render(request, "quality_method.html", {"page": page, "m": page.method})


@router.post("/quality/methods/{entry_id}/validate")
def validate(request: Request, actor: PageActor, entry_id: PathId, form: Form) -> Response:
    """Approve a draft as validated, with its validation data."""
    out = validate_method_version(uow_of(request), actor, entry_id, command(request, MethodValidation, form))
    return flash_redirect(
        request, f"/quality/methods/{entry_id}", say(request, "Method {label} validated.", label=out.label)
    )


@router.post("/quality/methods/{entry_id}/withdraw")
def withdraw(request: Request, actor: PageActor, entry_id: PathId, form: Form) -> Response:
    """Withdraw a validated version."""
    out = withdraw_method_version(uow_of(request), actor, entry_id)
    return flash_redirect(
        request, f"/quality/methods/{entry_id}", say(request, "Method {label} withdrawn.", label=out.label)
    )


@router.post("/quality/methods/{entry_id}/publish")
def publish(request: Request, actor: PageActor, entry_id: PathId, form: Form) -> Response:
    """Publish a validated version to the network."""
    out = publish_method(uow_of(request), actor, entry_id)
    return flash_redirect(
        request,
        f"/quality/methods/{entry_id}",
        say(request, "Method {label} published to the network.", label=out.label),
    )


@router.post("/quality/methods/{entry_id}/adopt")
def adopt(request: Request, actor: PageActor, entry_id: PathId, form: Form) -> Response:
    """Copy another laboratory's published version into the catalogue as a draft."""
    out = adopt_method(uow_of(request), actor, entry_id)
    return flash_redirect(
        request,
        f"/quality/methods/{out.id}",
        say(request, "Method {label} adopted as a draft; validate it before use.", label=out.label),
    )
