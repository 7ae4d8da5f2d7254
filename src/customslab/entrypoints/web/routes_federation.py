"""The administrator's page of partner deployments: this deployment's key to give out, the partners with
their state and keys (register, suspend or resume, add a key), and the messages refused lately."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import FormData

from customslab.domain.errors import DomainError
from customslab.domain.federation import PartnerState
from customslab.entrypoints.api.errors import status_of
from customslab.entrypoints.web.common import Form, PageActor, flash_redirect, render, say, uow_of
from customslab.services import federation_inbox, federation_partners
from customslab.services.contract import parse, validation_failed
from customslab.services.federation_partners import KeyCreate, PartnerCreate, PartnerEdit
from customslab.services.organisations import CODE_PATTERN

router = APIRouter(include_in_schema=False)

AdminCode = Annotated[str, Path(pattern=CODE_PATTERN, max_length=32)]
#: How many refusals the page lists (the API lists more).
RECENT_REFUSALS = 20

M = TypeVar("M", bound=BaseModel)


def _text(form: FormData, name: str) -> str:
    return str(form.get(name) or "").strip()


def _command(cls: type[M], data: dict[str, Any]) -> M:
    """A command from a form whose every field is sent: an empty note clears the note."""
    try:
        return cls.model_validate(data)
    except PydanticValidationError as exc:
        raise validation_failed(exc.errors()) from None


def _page(request: Request, actor: Any, error: DomainError | None = None, values: Any = None) -> Response:
    uow = uow_of
    own = federation_partners.own_keys(uow(request), actor)
    listing = federation_partners.partners(uow(request), actor)
    known = {p.administration_code for p in listing}
    # The administrations of the directory that could be registered: not home, not a partner yet.
    candidates = [
        a for a in federation_partners.partner_candidates(uow(request), actor) if a.code not in known
    ]
    return render(
        request,
        "admin_partners.html",
        {
            "own": own,
            "public_url": request.app.state.settings.public_url,
            "partners": listing,
            "candidates": candidates,
            "refusals": federation_inbox.refusals(uow(request), actor, RECENT_REFUSALS),
            "error": error,
            "values": values or {},
        },
        status_code=200 if error is None else status_of(error),
    )


def _attempt(
    request: Request, actor: Any, change: Callable[[], Any], done: str, values: Any = None
) -> Response:
    """Do the change; a refusal re-renders the page with the message (and its status), nothing stored."""
    try:
        out = change()
    except DomainError as exc:
        return _page(request, actor, exc, values)
    code = getattr(out, "administration_code", "")
    return flash_redirect(request, "/admin/partners", say(request, done, code=code))


@router.get("/admin/partners")
def partners_page(request: Request, actor: PageActor) -> Response:
    """This deployment's key, the partner deployments and the messages refused lately."""
    return _page(request, actor)


@router.post("/admin/partners")
def register_partner(request: Request, actor: PageActor, form: Form) -> Response:
    """Register a partner deployment; a refusal is shown next to its field and nothing is stored."""
    values = {k: _text(form, k) for k in ("administration_code", "base_url", "public_key", "note")}
    values["administration_code"] = values["administration_code"].upper()

    def change() -> Any:
        cmd = parse(PartnerCreate, values)
        return federation_partners.register_partner(uow_of(request), actor, cmd)

    return _attempt(request, actor, change, "Partner {code} registered.", values)


@router.post("/admin/partners/{code}")
def edit_partner(request: Request, actor: PageActor, code: AdminCode, form: Form) -> Response:
    """Change a partner's base URL or note."""
    data = {
        "row_version": _text(form, "row_version") or None,
        "base_url": _text(form, "base_url") or None,
        "note": _text(form, "note"),
    }

    def change() -> Any:
        cmd = _command(PartnerEdit, data)
        return federation_partners.edit_partner(uow_of(request), actor, code, cmd)

    return _attempt(request, actor, change, "Partner {code} saved.")


def _state(request: Request, actor: Any, code: str, state: PartnerState, form: FormData) -> Response:
    def change() -> Any:
        cmd = parse(PartnerEdit, {"row_version": _text(form, "row_version") or None, "state": state.value})
        return federation_partners.edit_partner(uow_of(request), actor, code, cmd)

    done = "Partner {code} suspended." if state is PartnerState.SUSPENDED else "Partner {code} resumed."
    return _attempt(request, actor, change, done)


@router.post("/admin/partners/{code}/suspend")
def suspend_partner(request: Request, actor: PageActor, code: AdminCode, form: Form) -> Response:
    """Suspend the partner: its messages are refused and nothing is sent to it."""
    return _state(request, actor, code, PartnerState.SUSPENDED, form)


@router.post("/admin/partners/{code}/resume")
def resume_partner(request: Request, actor: PageActor, code: AdminCode, form: Form) -> Response:
    """Resume the partner: what waits for it is sent at once."""
    return _state(request, actor, code, PartnerState.ACTIVE, form)


@router.post("/admin/partners/{code}/keys")
def add_partner_key(request: Request, actor: PageActor, code: AdminCode, form: Form) -> Response:
    """Accept one more public key of the partner."""

    def change() -> Any:
        cmd = parse(KeyCreate, {"public_key": _text(form, "public_key")})
        return federation_partners.add_partner_key(uow_of(request), actor, code, cmd)

    return _attempt(request, actor, change, "Key added to partner {code}.")
