"""The FastAPI application: routers, error translation, body limits and the last-resort 500."""

from __future__ import annotations

from typing import Literal

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel

from customslab.adapters.spectral_libraries import LocalSpectralLibraries
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.config import Settings
from customslab.entrypoints.api.errors import ERROR_RESPONSES, install_error_handlers
from customslab.entrypoints.limits import BodyLimit, ServerErrorGuard
from customslab.substances.register import bundled_register


def operation_id(route: APIRoute) -> str:
    """`cases-file_request` rather than FastAPI's `file_request_api_requests_post`.

    Generated clients name their functions after the operation id, so it should read like the use case
    and stay put when a path changes (as the FastAPI full-stack template does).
    """
    tag = str(route.tags[0]).replace(" ", "_") if route.tags else ""
    return f"{tag}-{route.name}" if tag else route.name


class Health(BaseModel):
    """The liveness probe's answer: the process serves requests."""

    status: Literal["ok"]


def create_app(settings: Settings, db: Database | None = None) -> FastAPI:
    """Build the application for `settings`; nothing is created at import time."""
    from customslab.adapters.audit_anchor import SqlAuditAnchor
    from customslab.entrypoints import wiring, worker
    from customslab.entrypoints.api import (
        routes_admin,
        routes_attachments,
        routes_auth,
        routes_cases,
        routes_directory,
        routes_federation,
        routes_hs,
        routes_import,
        routes_joint,
        routes_knowledge,
        routes_notifications,
        routes_outbox,
        routes_proficiency,
        routes_quality,
        routes_receipts,
        routes_reports,
        routes_shared,
        routes_substances,
        routes_targeting,
        routes_targeting_alerts,
        routes_tests,
        routes_training,
    )

    # The key that signs the audit checkpoints is outside the database; in production a missing one
    # stops the start-up here rather than failing every commit later.
    signer = wiring.audit_signer(settings)
    wiring.spectral_search(settings)
    database = db or Database(settings.database_url, audit_signer=signer)
    files = LocalFileStore(settings.file_store)
    app = FastAPI(
        title="customslab",
        version="0.1.0",
        description="Laboratory information system for customs laboratories and their network.",
        generate_unique_id_function=operation_id,
        # Swagger UI and ReDoc load their scripts from a CDN: third-party code on a signed-in origin, and
        # nothing offline. The contract stays at /openapi.json for any viewer or client generator.
        docs_url=None,
        redoc_url=None,
        # The outbox worker runs in a thread while the application serves (Settings.worker_in_process).
        lifespan=worker.lifespan,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.audit_anchor = SqlAuditAnchor(database.engine, database.audit_signer or signer)
    app.state.files = files
    app.state.uow_factory = lambda: SqlAlchemyUnitOfWork(database, files)
    app.state.libraries = LocalSpectralLibraries(settings.default_library_path(), settings.shared_data)
    # The UN lists of controlled substances shipped with the project; national lists are in the database.
    app.state.substances = bundled_register()
    # The CAS → HS table behind the HS evaluation's proposals; a faulty laboratory table stops the start.
    app.state.chem_hs = wiring.chem_hs_table(settings)
    install_error_handlers(app)

    # Added innermost first: the guard wraps the limit, and the web app's middleware wraps them both.
    app.add_middleware(BodyLimit, json_bytes=settings.max_json_bytes, upload_bytes=settings.max_upload_bytes)
    app.add_middleware(ServerErrorGuard)

    for module in (
        routes_auth,
        routes_cases,
        routes_tests,
        routes_attachments,
        routes_receipts,
        routes_hs,
        routes_admin,
        routes_directory,
        routes_quality,
        routes_reports,
        routes_proficiency,
        routes_joint,
        routes_notifications,
        routes_outbox,
        routes_federation,
        routes_shared,
        routes_substances,
        routes_targeting,
        routes_targeting_alerts,
        routes_import,
        routes_training,
        routes_knowledge,
    ):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    # Authenticated by the message's signature, not a user: its own refusals, no 401 (see the module).
    app.include_router(routes_federation.inbox)

    # A liveness probe for load balancers: anonymous by design, so it stays out of the API contract.
    @app.get("/api/health", include_in_schema=False, response_model=Health)
    def health() -> Health:
        """Liveness probe (no data)."""
        return Health(status="ok")

    return app
