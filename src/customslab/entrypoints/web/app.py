"""The served application: the JSON API plus the server-rendered pages (Jinja2 + htmx)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from customslab.adapters.uow import Database
from customslab.config import Settings
from customslab.domain.errors import DomainError
from customslab.entrypoints.api.app import create_app
from customslab.entrypoints.api.errors import status_of
from customslab.entrypoints.web import (
    routes_auth,
    routes_hs,
    routes_ident,
    routes_lab,
    routes_network,
    routes_officer,
    routes_quality,
)
from customslab.entrypoints.web.common import HERE, CsrfRefused, LoginRequired, is_htmx, render, translations

SESSION_COOKIE = "customslab_session"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api") or request.url.path in ("/docs", "/openapi.json")


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
        return _error_page(request, status_of(exc), exc.message)

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
        max_age=12 * 3600,
        same_site="lax",
        https_only=settings.cookie_secure,
    )

    @app.middleware("http")
    async def _security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for module in (
        routes_auth,
        routes_officer,
        routes_lab,
        routes_ident,
        routes_hs,
        routes_network,
        routes_quality,
    ):
        app.include_router(module.router)
    return app
