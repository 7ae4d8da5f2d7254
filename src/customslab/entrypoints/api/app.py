"""The FastAPI application: routers, error translation, size limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

from customslab.adapters.spectral_libraries import LocalSpectralLibraries
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.config import Settings
from customslab.entrypoints.api.errors import ERROR_RESPONSES, error_response, install_error_handlers


def operation_id(route: APIRoute) -> str:
    """`cases-file_request` rather than FastAPI's `file_request_api_requests_post`.

    Generated clients name their functions after the operation id, so it should read like the use case
    and stay put when a path changes (as the FastAPI full-stack template does).
    """
    tag = str(route.tags[0]).replace(" ", "_") if route.tags else ""
    return f"{tag}-{route.name}" if tag else route.name


def create_app(settings: Settings, db: Database | None = None) -> FastAPI:
    """Build the application for `settings`; nothing is created at import time."""
    from customslab.entrypoints.api import (
        routes_admin,
        routes_auth,
        routes_cases,
        routes_hs,
        routes_proficiency,
        routes_quality,
        routes_reports,
        routes_tests,
    )

    database = db or Database(settings.database_url)
    files = LocalFileStore(settings.file_store)
    app = FastAPI(
        title="customslab",
        version="0.1.0",
        description="Laboratory information system for customs laboratories and their network.",
        generate_unique_id_function=operation_id,
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
            limit_text = f"The upload is larger than the limit of {settings.max_upload_bytes} bytes."
            return error_response(413, limit_text)
        return await call_next(request)

    for module in (
        routes_auth,
        routes_cases,
        routes_tests,
        routes_hs,
        routes_admin,
        routes_quality,
        routes_reports,
        routes_proficiency,
    ):
        app.include_router(module.router, responses=ERROR_RESPONSES)

    # A liveness probe for load balancers: anonymous by design, so it stays out of the API contract.
    @app.get("/api/health", include_in_schema=False)
    def health() -> dict[str, str]:
        """Liveness probe (no data)."""
        return {"status": "ok"}

    return app
