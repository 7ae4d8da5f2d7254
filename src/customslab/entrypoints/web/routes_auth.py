"""Sign in, sign out, change one's password, language choice and the home page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from customslab.domain.enums import Role
from customslab.domain.errors import PermissionDenied, TooManyAttempts, ValidationFailed
from customslab.entrypoints.api.deps import client_of, policy_of
from customslab.entrypoints.web.common import (
    LANGUAGES,
    SESSION_TOKEN,
    Form,
    PageActor,
    flash_redirect,
    forget_session,
    optional_actor,
    render,
    say,
    start_session,
    uow_of,
)
from customslab.services import auth
from customslab.services.auth import PasswordChange, TokenRequest
from customslab.services.contract import parse
from customslab.services.passwords import MIN_PASSWORD_LENGTH

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
    if actor.has(Role.FOCAL_POINT):
        return RedirectResponse("/requests", status_code=303)
    return RedirectResponse("/dashboard", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    """The sign-in form."""
    if optional_actor(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next)})


def _throttled(request: Request, exc: TooManyAttempts) -> str:
    # The service's sentence carries the wait; the page says it in the session's language.
    minutes = -(-exc.retry_after // 60)
    if exc.retry_after > 90:
        return say(request, "Too many failed sign-ins. Try again in {minutes} minutes.", minutes=minutes)
    return say(request, "Too many failed sign-ins. Try again in {seconds} seconds.", seconds=exc.retry_after)


@router.post("/login")
def login(request: Request, form: Form) -> Response:
    """Check the password; on success the cookie names a new server-side session (and gets a fresh CSRF
    token). After repeated failures the form is refused for a while, the password unchecked."""
    username = str(form.get("username", "")).strip()
    target = _safe_next(str(form.get("next", "/")))
    page = {"username": username, "next": target}
    try:
        creds = parse(TokenRequest, {"username": username, "password": form.get("password")})
        started = auth.sign_in(uow_of(request), creds, "web", client_of(request), policy_of(request))
    except TooManyAttempts as exc:
        response = render(request, "login.html", page | {"error": _throttled(request, exc)}, 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except (PermissionDenied, ValidationFailed) as exc:
        return render(request, "login.html", page | {"error": exc.message}, 401)
    start_session(request, started.access_token)
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, form: Form) -> Response:
    """End the session on the server (a copy of the cookie opens nothing afterwards) and forget it."""
    token = request.session.get(SESSION_TOKEN)
    if token:
        auth.sign_out(uow_of(request), str(token), policy_of(request))
    forget_session(request)
    return RedirectResponse("/login", status_code=303)


@router.get("/account/password")
def password_page(request: Request, actor: PageActor) -> Response:
    """The form to change one's own password."""
    return render(request, "password.html", {"min_length": MIN_PASSWORD_LENGTH})


@router.post("/account/password")
def change_password(request: Request, actor: PageActor, form: Form) -> Response:
    """Change one's own password; the user's other sessions (other browsers, API tokens) end."""
    page = {"min_length": MIN_PASSWORD_LENGTH}
    if form.get("new_password") != form.get("confirm_password"):
        message = say(request, "The two new passwords differ.")
        return render(request, "password.html", page | {"error": message, "field": "confirm_password"}, 422)
    try:
        cmd = parse(
            PasswordChange,
            {"current_password": form.get("current_password"), "new_password": form.get("new_password")},
        )
        token = request.session.get(SESSION_TOKEN)
        ended = auth.change_password(
            uow_of(request),
            actor,
            cmd,
            client_of(request),
            policy_of(request),
            current_token=str(token) if token else None,
        )
    except TooManyAttempts as exc:
        response = render(request, "password.html", page | {"error": exc.message}, 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except (PermissionDenied, ValidationFailed) as exc:
        status = 403 if isinstance(exc, PermissionDenied) else 422
        return render(request, "password.html", page | {"error": exc.message, "field": exc.field}, status)
    message = say(
        request, "Your password was changed; {count} other sessions were signed out.", count=ended.ended
    )
    return flash_redirect(request, "/", message)


@router.post("/language")
def choose_language(request: Request, form: Form) -> Response:
    """Switch the interface language; stays on the same page."""
    lang = str(form.get("lang", "en"))
    if lang in LANGUAGES:
        request.session["lang"] = lang
    return RedirectResponse(_safe_next(str(form.get("next", "/"))), status_code=303)
