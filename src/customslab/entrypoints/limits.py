"""Guards at the HTTP edge, as plain ASGI middleware: request body limits and the last-resort 500.

Both sit inside Starlette's ServerErrorMiddleware. That one answers an unexpected error and then re-raises
it, so the ASGI server closes a keep-alive connection that was fine; `ServerErrorGuard` answers it instead.
`BodyLimit` counts the body as it arrives, so an oversized request is refused before the app has read, or
parsed, more than the limit: FastAPI reads a route's body before it checks who is calling, and would
otherwise hold a whole anonymous 200 MB JSON document in memory only to answer 401.
"""

from __future__ import annotations

import logging
import re
from html import escape

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from customslab.entrypoints.api.errors import error_response

log = logging.getLogger("customslab")

#: Room for the multipart framing (boundary lines, part headers, the other form fields) around a file of
#: exactly `max_upload_bytes`; the file store checks the file itself to the byte while it streams.
MULTIPART_ALLOWANCE = 64 * 1024
SERVER_ERROR = "Something went wrong on the server; the error was logged."

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{status} · customslab</title>
<link rel="stylesheet" href="/static/css/app.css"></head>
<body><main id="main"><section class="card narrow"><h1>{title}</h1>
<p class="alert alert-error" role="alert">{message}</p>
<p><a href="/">Back to the start page</a></p></section></main></body></html>
"""
_TITLES = {413: "Too large", 500: "Server error"}


class BodyTooLarge(HTTPException):
    """Raised from `receive` once the body passes its limit; the app's handlers answer 413 with it."""

    def __init__(self, message: str) -> None:
        super().__init__(413, message)


def readable_size(n: int) -> str:
    """`25 MB`, `512 kB`, `50000 bytes`: counted in powers of 1024, as file managers show file sizes."""
    for unit, size in (("MB", 1024 * 1024), ("kB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
        if n >= size * 10:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def answer(scope: Scope, status: int, message: str) -> Response:
    """The error as the API's JSON body; as a small page for a browser asking for a page (not under /api)."""
    headers = Headers(scope=scope)
    page = not str(scope.get("path", "")).startswith("/api") and "text/html" in headers.get("accept", "")
    if page:
        body = _PAGE.format(status=status, title=_TITLES.get(status, "Error"), message=escape(message))
        return HTMLResponse(body, status_code=status)
    return error_response(status, message)


class HttpMiddleware:
    """ASGI middleware that acts on HTTP requests in `http`; lifespan and websocket scopes pass through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class WatchedSend:
    """`send`, noting whether the response has started: once it has, no other answer can be sent."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


#: The routes that take a file upload (API and pages); every other body has the small limit.
UPLOAD_ROUTES = re.compile(
    r"/api/tests/\d+/files|/api/reports/verify|/tests/\d+/files|/tests/\d+/identify/upload"
    # Instrument result exports (result import: API preview and commit, the page's preview).
    r"|/api/results/import(?:/preview)?|/results/import/preview"
    # Knowledge documents: a new document and a new version of one (API and pages).
    r"|/api/knowledge/documents(?:/\d+/versions)?|/knowledge(?:/\d+/versions)?"
)

#: Routes that count their own body against a limit of their own: the federation inbox takes messages up
#: to `federation_max_message_bytes` and records each refusal, an oversized message included.
SELF_LIMITED_ROUTES = frozenset({"/api/federation/messages"})


class BodyLimit(HttpMiddleware):
    """Refuse a request body over its limit with 413 while it streams in, before the app sees the rest.

    Multipart forms (file uploads) may be `upload_bytes` large; every other body (JSON, URL-encoded forms)
    `json_bytes`. A `Content-Length` over the limit is refused at once, without calling the app. Otherwise
    the bytes are counted as they arrive, chunked bodies included: the chunk that passes the limit is not
    handed over, `BodyTooLarge` is raised to the app instead, whose error handlers answer 413 (JSON for the
    API, the error page for pages); should it escape the app unanswered, the 413 is sent from here. The
    ASGI server discards what the client still sends, so memory stays bounded by one read buffer.
    """

    def __init__(self, app: ASGIApp, *, json_bytes: int, upload_bytes: int) -> None:
        super().__init__(app)
        self.json_bytes = json_bytes
        self.upload_bytes = upload_bytes

    def limit(self, headers: Headers, path: str = "") -> tuple[int, str]:
        """The limit for this request's body, and the sentence that refuses it.

        The upload limit is for the routes that take a file (`UPLOAD_ROUTES`), sent as multipart; a
        client cannot raise another route's limit by calling its body multipart."""
        multipart = headers.get("content-type", "").lower().startswith("multipart/form-data")
        if multipart and UPLOAD_ROUTES.fullmatch(path):
            text = f"The upload is larger than the limit of {readable_size(self.upload_bytes)}."
            return self.upload_bytes + MULTIPART_ALLOWANCE, text
        text = (
            f"The request body is larger than the limit of {readable_size(self.json_bytes)}; "
            "files are sent as a multipart upload."
        )
        return self.json_bytes, text

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope.get("path", "")) in SELF_LIMITED_ROUTES:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit, text = self.limit(headers, str(scope.get("path", "")))
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            await answer(scope, 413, text)(scope, receive, send)
            return

        received = 0
        refused = False

        async def counted() -> Message:
            nonlocal received, refused
            if refused:
                raise BodyTooLarge(text)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    raise BodyTooLarge(text)
            return message

        watched = WatchedSend(send)
        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if watched.started:
                raise
            await answer(scope, 413, text)(scope, receive, send)


class ServerErrorGuard(HttpMiddleware):
    """Log an unexpected error and answer 500 without re-raising, so a keep-alive connection stays usable.

    Nothing of the error (its text, a traceback, a server path) reaches the client. When the response had
    already started, it cannot be mended: the server sees it unfinished and closes that connection; when it
    had finished (an error in clean-up after the answer), the client lost nothing.
    """

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        watched = WatchedSend(send)
        try:
            await self.app(scope, receive, watched)
        except Exception:
            log.exception("unexpected error in %s %s", scope.get("method"), scope.get("path"))
            if not watched.started:
                await answer(scope, 500, SERVER_ERROR)(scope, receive, send)
