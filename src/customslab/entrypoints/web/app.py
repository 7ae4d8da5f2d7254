"""The served application: the JSON API plus the server-rendered pages (Jinja2 + htmx)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import Message, Receive, Scope, Send

from customslab.adapters.uow import Database
from customslab.config import Settings
from customslab.domain.errors import DomainError, FieldError, TooManyAttempts
from customslab.domain.quality.errors import QualityError
from customslab.entrypoints.api.app import create_app
from customslab.entrypoints.api.errors import quality_field, retry_after, status_of
from customslab.entrypoints.limits import HttpMiddleware
from customslab.entrypoints.web import (
    routes_admin,
    routes_attachments,
    routes_auth,
    routes_exports,
    routes_federation,
    routes_hs,
    routes_ident,
    routes_import,
    routes_joint,
    routes_knowledge,
    routes_lab,
    routes_network,
    routes_notifications,
    routes_officer,
    routes_outbox,
    routes_quality,
    routes_quality_equipment,
    routes_quality_methods,
    routes_quality_pt,
    routes_quality_qc,
    routes_quality_staff,
    routes_receive,
    routes_referred_out,
    routes_shared,
    routes_targeting,
    routes_training,
)
from customslab.entrypoints.web.common import (
    HERE,
    N_,
    CsrfRefused,
    LoginRequired,
    is_htmx,
    render,
    translations,
)
from customslab.services.contract import validation_failed

SESSION_COOKIE = "customslab_session"


#: No inline script or style anywhere: the pages' behaviour lives in static/js, their looks in static/css,
#: and htmx is told not to inject its indicator <style> (base.html). `data:` images are QR codes and icons.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)
#: The pages use none of these browser features, so no script may ask for them.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "serial",
        "usb",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Permissions-Policy": PERMISSIONS_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders(HttpMiddleware):
    """The headers above on every answer, and `Cache-Control: no-store` on all but the static files.

    Pages and API answers carry declaration data; no-store keeps them out of shared and browser caches
    (and off the back button after signing out). The static files are the same for everyone.
    """

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        cacheable = str(scope.get("path", "")).startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not cacheable:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, with_headers)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api") or request.url.path == "/openapi.json"


def _error_page(request: Request, status: int, message: str) -> Response:
    if is_htmx(request):
        # htmx swaps only 2xx by default; a fragment with the message is what the user needs to see.
        tr = translations(str(request.session.get("lang", "en")))
        return HTMLResponse(
            f'<p class="alert alert-error" role="alert">{_escape(tr.gettext(message))}</p>',
            status_code=200,
            headers={"HX-Retarget": "#messages", "HX-Reswap": "innerHTML"},
        )
    return render(request, "error.html", {"status": status, "message": message}, status_code=status)


#: The most errors one refused form gets back: 200 bad codes of a bulk receipt would make the HX-Trigger
#: header tens of kilobytes, and proxies refuse headers past 4-8 KB (a 502 instead of the errors).
MOST_FORM_ERRORS = 20


def _form_errors(request: Request, errors: list[FieldError]) -> Response:
    """A refused htmx form: every fault goes back as a `form-errors` event, which static/js/page.js shows
    next to the input of the same name in the submitting form (or atop the form); the page stays as it
    was, with what the user typed. The JSON is ASCII-escaped, as a header must be."""
    tr = translations(str(request.session.get("lang", "en")))
    detail: list[dict[str, str | None]] = [
        {"field": e.field, "message": tr.gettext(e.message)} for e in errors[:MOST_FORM_ERRORS]
    ]
    if len(errors) > MOST_FORM_ERRORS:
        more = tr.gettext(N_("… and {n} more.")).format(n=len(errors) - MOST_FORM_ERRORS)
        detail.append({"field": None, "message": more})
    return Response(
        status_code=200,
        headers={"HX-Reswap": "none", "HX-Trigger": json.dumps({"form-errors": {"errors": detail}})},
    )


def _is_form_post(request: Request) -> bool:
    return is_htmx(request) and request.method == "POST" and not _is_api(request)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


async def _call(handler: Callable[..., Any], request: Request, exc: Exception) -> Response:
    """Delegate to the API's JSON handler for /api paths."""
    out = handler(request, exc)
    response: Response = await out if inspect.isawaitable(out) else out
    return response


def _install_page_handlers(app: FastAPI) -> None:
    api_domain = app.exception_handlers[DomainError]
    api_http = app.exception_handlers[StarletteHTTPException]
    api_invalid = app.exception_handlers[RequestValidationError]
    api_quality = app.exception_handlers[QualityError]

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _: LoginRequired) -> Response:
        target = "/login?next=" + quote(
            request.url.path + (f"?{request.url.query}" if request.url.query else "")
        )
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, _: CsrfRefused) -> Response:
        return _error_page(
            request, 403, "The form expired or did not come from this site. Reload the page and try again."
        )

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if _is_api(request):
            return await _call(api_domain, request, exc)
        if _is_form_post(request) and not isinstance(exc, TooManyAttempts):
            return _form_errors(request, exc.errors)
        page = _error_page(request, status_of(exc), exc.message)
        page.headers.update(retry_after(exc))
        return page

    @app.exception_handler(QualityError)
    async def _quality(request: Request, exc: QualityError) -> Response:
        if _is_api(request):
            return await _call(api_quality, request, exc)
        if _is_form_post(request):
            return _form_errors(request, [FieldError(quality_field(exc), str(exc))])
        return _error_page(request, 409, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):
            return await _call(api_invalid, request, exc)
        if any(tuple(error.get("loc", ()))[:1] == ("path",) for error in exc.errors()):
            # `/samples/0` or an id past the database's integers: no such page, as for any unknown id.
            return _error_page(request, 404, "This page does not exist.")
        failed = validation_failed(list(exc.errors()))
        if _is_form_post(request):
            return _form_errors(request, failed.errors)
        return _error_page(request, 422, failed.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request):
            return await _call(api_http, request, exc)
        message = "This page does not exist." if exc.status_code == 404 else str(exc.detail)
        return _error_page(request, exc.status_code, message)


def create_web_app(settings: Settings, db: Database | None = None) -> FastAPI:
    """The API with the web pages mounted beside it."""
    app = create_app(settings, db)
    _install_page_handlers(app)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        # The cookie only names a server-side session, which ends sooner when idle; it cannot outlive it.
        max_age=settings.session_lifetime_minutes * 60,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    # Outermost of ours: the headers reach every answer, the guard's 500 and the limit's 413 included.
    app.add_middleware(SecurityHeaders)

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for module in (
        routes_auth,
        routes_admin,
        routes_officer,
        routes_lab,
        routes_receive,
        routes_attachments,
        routes_ident,
        routes_hs,
        routes_network,
        routes_quality,
        routes_quality_methods,
        routes_quality_equipment,
        routes_quality_staff,
        routes_quality_qc,
        routes_quality_pt,
        routes_joint,
        routes_notifications,
        routes_outbox,
        routes_federation,
        routes_shared,
        routes_referred_out,
        routes_exports,
        routes_import,
        routes_knowledge,
        routes_targeting,
        routes_training,
    ):
        app.include_router(module.router)
    return app
