"""Application factories for `uvicorn --factory`, configured from CUSTOMSLAB_* variables."""

from __future__ import annotations

from fastapi import FastAPI

from customslab.config import Settings


def app() -> FastAPI:
    """The whole application: `uvicorn --factory customslab.entrypoints.asgi:app`."""
    from customslab.entrypoints.web.app import create_web_app

    return create_web_app(Settings())


def api_app() -> FastAPI:
    """The JSON API alone (used by the API benchmark)."""
    from customslab.entrypoints.api.app import create_app

    return create_app(Settings())
