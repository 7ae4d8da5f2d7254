"""The FastAPI application: routers, error translation, size limits."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from customslab.adapters.spectral_libraries import LocalSpectralLibraries
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.config import Settings
from customslab.domain.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from customslab.domain.quality.errors import QualityError

log = logging.getLogger("customslab")

STATUS = {
    ValidationFailed: 422,
    NotFound: 404,
    PermissionDenied: 403,
    InvalidTransition: 409,
    Conflict: 409,
}


def _status_of(exc: Exception) -> int:
    if isinstance(exc, QualityError):
        return 409
    for cls, code in STATUS.items():
        if isinstance(exc, cls):
            return code
    return 400


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _humanise(errors: list[Any]) -> str:
    parts = []
    for e in errors:
        where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{where}: {e.get('msg')}" if where else str(e.get("msg")))
    return "; ".join(parts) or "The request is not valid."


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return _error(_status_of(exc), exc.message, field=getattr(exc, "field", None))

    @app.exception_handler(QualityError)
    async def _quality(_: Request, exc: QualityError) -> JSONResponse:
        return _error(409, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return _error(422, _humanise(errors), details=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return _error(500, "Something went wrong on our side; nothing was saved. The error was logged.")


def create_app(settings: Settings, db: Database | None = None) -> FastAPI:
    """Build the application for `settings`; nothing is created at import time."""
    from customslab.entrypoints.api import (
        routes_admin,
        routes_auth,
        routes_cases,
        routes_hs,
        routes_proficiency,
        routes_quality,
        routes_tests,
    )

    database = db or Database(settings.database_url)
    files = LocalFileStore(settings.file_store)
    app = FastAPI(
        title="customslab",
        version="0.1.0",
        description="Laboratory information system for customs laboratories and their network.",
    )
    app.state.settings = settings
    app.state.db = database
    app.state.files = files
    app.state.uow_factory = lambda: SqlAlchemyUnitOfWork(database, files)
    app.state.libraries = LocalSpectralLibraries(
        settings.library_path or Path("var/library/default"), settings.shared_data
    )
    install_error_handlers(app)

    @app.middleware("http")
    async def _limit_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # Refuse oversized uploads before reading them; the file store checks again while streaming.
        length = request.headers.get("content-length")
        limit = settings.max_upload_bytes + 64 * 1024
        if length and length.isdigit() and int(length) > limit:
            return _error(413, f"The upload is larger than the limit of {settings.max_upload_bytes} bytes.")
        return await call_next(request)

    for module in (
        routes_auth,
        routes_cases,
        routes_tests,
        routes_hs,
        routes_admin,
        routes_quality,
        routes_proficiency,
    ):
        app.include_router(module.router)

    @app.get("/api/health", tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness probe (no data)."""
        return {"status": "ok"}

    return app
