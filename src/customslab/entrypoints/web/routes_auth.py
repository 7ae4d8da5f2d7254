"""Sign in, sign out, language choice and the home page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from customslab.domain.enums import Role
from customslab.domain.errors import PermissionDenied, ValidationFailed
from customslab.entrypoints.web.common import (
    LANGUAGES,
    Form,
    PageActor,
    optional_actor,
    render,
    uow_of,
)
from customslab.services import auth
from customslab.services.auth import TokenRequest
from customslab.services.contract import parse

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only local paths: a crafted ?next= must not send the user to another site after sign-in.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/")
def home(actor: PageActor) -> RedirectResponse:
    """Each role starts where its work is."""
    if actor.is_requester_only:
        return RedirectResponse("/requests", status_code=303)
    if actor.has(Role.ANALYST, Role.REVIEWER, Role.LAB_MANAGER):
        return RedirectResponse("/queue", status_code=303)
    return RedirectResponse("/dashboard", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    """The sign-in form."""
    if optional_actor(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next)})


@router.post("/login")
def login(request: Request, form: Form) -> Response:
    """Check the password; on success the session remembers the user (and gets a fresh CSRF token)."""
    username = str(form.get("username", "")).strip()
    target = _safe_next(str(form.get("next", "/")))
    try:
        creds = parse(TokenRequest, {"username": username, "password": form.get("password")})
        signed_in = auth.authenticate(uow_of(request), creds)
    except (PermissionDenied, ValidationFailed) as exc:
        return render(
            request, "login.html", {"error": exc.message, "username": username, "next": target}, 401
        )
    lang = request.session.get("lang")
    request.session.clear()  # a new session on sign-in: no fixation of a pre-login session
    request.session["uid"] = signed_in.user_id
    if lang:
        request.session["lang"] = lang
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, form: Form) -> Response:
    """Forget the session."""
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    return RedirectResponse("/login", status_code=303)


@router.post("/language")
def choose_language(request: Request, form: Form) -> Response:
    """Switch the interface language; stays on the same page."""
    lang = str(form.get("lang", "en"))
    if lang in LANGUAGES:
        request.session["lang"] = lang
    return RedirectResponse(_safe_next(str(form.get("next", "/"))), status_code=303)
