"""One error schema for every API answer that is not a success, and the handlers that produce it."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from customslab.domain.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
    ValidationFailed,
)
from customslab.domain.knowledge import FileTooLarge, UnsupportedFileType
from customslab.domain.quality.errors import (
    AnalystNotAuthorised,
    BatchOutOfControl,
    EquipmentNotUsable,
    MethodNotValidated,
    QualityError,
    ReviewerNotAuthorised,
)
from customslab.services.contract import validation_failed

log = logging.getLogger("customslab")


class ErrorBody(BaseModel):
    """Every error: a sentence for the person, and the input field at fault when there is one."""

    model_config = ConfigDict(json_schema_extra={"example": {"error": "Sample 7 was not found."}})

    error: str
    field: str | None = None


_DESCRIPTIONS = {
    401: "Not signed in, or the token has expired or was revoked.",
    403: "Signed in, but the role does not allow this.",
    404: "No such record, or one the caller may not see.",
    409: "The record's state does not allow this step, or it clashes with stored data.",
    413: "The body is larger than the configured limit.",
    422: "The input is not valid; `field` names the part at fault.",
    429: "Too many failed sign-ins for the account or from the address; `Retry-After` says when to retry.",
}

#: Documented on every route: a generated client knows the shape of each refusal.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text} for code, text in _DESCRIPTIONS.items()
}

STATUS = {
    ValidationFailed: 422,
    NotFound: 404,
    PermissionDenied: 403,
    InvalidTransition: 409,
    Conflict: 409,
    TooManyAttempts: 429,
    FileTooLarge: 413,
    UnsupportedFileType: 415,
}


#: The input a quality refusal concerns, so a form shows it next to that field (and the API names it).
#: The analyst's authorisation concerns the analyst (the planning form's select, the analyst shown on the
#: result form); the reviewer's, and a QC batch out of control, refuse the review decision itself.
QUALITY_FIELDS: dict[type[QualityError], str] = {
    MethodNotValidated: "method_version_id",
    EquipmentNotUsable: "equipment_id",
    AnalystNotAuthorised: "analyst_id",
    ReviewerNotAuthorised: "decision",
    BatchOutOfControl: "decision",
}


def quality_field(exc: QualityError) -> str | None:
    return next((name for cls, name in QUALITY_FIELDS.items() if isinstance(exc, cls)), None)


def status_of(exc: Exception) -> int:
    if isinstance(exc, QualityError):
        return 409
    for cls, code in STATUS.items():
        if isinstance(exc, cls):
            return code
    return 422


def error_response(status: int, message: str, field: str | None = None, **headers: str) -> JSONResponse:
    body = ErrorBody(error=message, field=field).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status, headers=headers or None)


def retry_after(exc: Exception) -> dict[str, str]:
    """The `Retry-After` header (seconds) of a throttled sign-in; none for other errors."""
    return {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else {}


#: FastAPI answers 400 when it cannot decode a body at all (not UTF-8, a broken multipart form). For the
#: client that is one more invalid input, so it gets the documented 422 rather than an undocumented code.
UNREADABLE_BODY = "The request body could not be read: send UTF-8 JSON, or the form this operation documents."


HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
UNEXPECTED = "Something went wrong on our side; nothing was saved. The error was logged."


def allowed_methods(request: Request) -> str | None:
    """The methods the API documents for the resource at this path, for the `Allow` header of a 405.

    Starlette names only the methods of the first route whose path matched, while a resource often has
    several (GET and POST); RFC 9110 asks for all of them. Where a literal path and a templated one both
    match (`/reports/verify` and `/reports/{entry_id}`), the literal one is the resource.
    """
    wanted = request.url.path.rstrip("/").split("/")
    best: tuple[int, list[str]] | None = None
    for template, item in request.app.openapi()["paths"].items():
        parts = template.rstrip("/").split("/")
        if len(parts) != len(wanted) or any(
            p != w and not (p.startswith("{") and w) for p, w in zip(parts, wanted, strict=True)
        ):
            continue
        literal = sum(not p.startswith("{") for p in parts)
        if best is None or literal > best[0]:
            best = (literal, [m.upper() for m in item if m in HTTP_METHODS])
    return ", ".join(sorted(best[1])) if best else None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return error_response(status_of(exc), exc.message, exc.field, **retry_after(exc))

    @app.exception_handler(QualityError)
    async def _quality(_: Request, exc: QualityError) -> JSONResponse:
        return error_response(409, str(exc), quality_field(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        failed = validation_failed(list(exc.errors()))
        return error_response(422, failed.message, failed.field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            return error_response(422, UNREADABLE_BODY)
        headers, message = dict(exc.headers or {}), str(exc.detail)
        if exc.status_code == 405 and (allow := allowed_methods(request)) is not None:
            headers["Allow"] = allow
            message = f"{request.method} is not allowed at this address; it accepts {allow}."
        return error_response(exc.status_code, message, **headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return error_response(500, UNEXPECTED)
