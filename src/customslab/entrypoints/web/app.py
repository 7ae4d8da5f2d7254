"""The served application: the JSON API plus the server-rendered pages."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from customslab.config import Settings
from customslab.entrypoints.api.app import create_app


def create_web_app(settings: Settings) -> FastAPI:
    """The API with the web pages mounted beside it."""
    app = create_app(settings)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/docs")

    return app
