"""The OpenAPI document is a contract: every operation says what it returns, and how it refuses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from customslab.config import Settings
from customslab.entrypoints.api.app import create_app

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
#: Documented once for every router (entrypoints/api/errors.py).
ERROR_STATUSES = {"401", "403", "404", "409", "413", "422"}
ERROR_REF = "#/components/schemas/ErrorBody"
#: The one operation without a signed-in user: a partner deployment's message, authenticated by its
#: signature (entrypoints/api/routes_federation.py). It never answers 401 or 404, and documents the
#: refusals of its own protocol instead.
SIGNATURE_AUTHENTICATED = {
    "POST /api/federation/messages": {"400", "403", "409", "413", "415", "422", "425", "503"}
}
#: Keys that describe a schema without constraining it.
ANNOTATIONS = {"title", "description", "example", "examples", "default", "deprecated"}


@pytest.fixture(scope="module")
def app(sqlite_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    settings = Settings(mode="test", database_url=sqlite_url, file_store=tmp_path_factory.mktemp("files"))
    built = create_app(settings)
    yield built
    built.state.db.dispose()


@pytest.fixture(scope="module")
def openapi(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def _operations(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = doc["components"]["schemas"][name]
    return schema


def _untyped(doc: dict[str, Any], schema: dict[str, Any] | None) -> bool:
    """True for a schema that says nothing: `{}`, a bare object of anything, a list of such."""
    if not schema:
        return True
    schema = _resolve(doc, schema)
    if schema.get("format") == "binary":
        return False
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return any(_untyped(doc, part) for part in schema[key] if part.get("type") != "null")
    meaningful = {k: v for k, v in schema.items() if k not in ANNOTATIONS}
    kind = meaningful.get("type")
    if kind == "array":
        return _untyped(doc, meaningful.get("items"))
    if kind == "object":
        extra = meaningful.get("additionalProperties", True)
        if meaningful.get("properties"):
            return False
        return extra is True or (isinstance(extra, dict) and _untyped(doc, extra))
    return not meaningful


def _success_problems(doc: dict[str, Any], op: dict[str, Any]) -> list[str]:
    successes = {code: r for code, r in op["responses"].items() if code.startswith("2")}
    if not successes:
        return ["no 2xx response"]
    problems = []
    for code, response in successes.items():
        content = response.get("content")
        if code == "204" and not content:
            continue  # No Content: nothing to type.
        if not content:
            problems.append(f"{code} has no content")
            continue
        problems.extend(
            f"{code} {media} is untyped: {body.get('schema')}"
            for media, body in content.items()
            if _untyped(doc, body.get("schema"))
        )
    return problems


def test_every_operation_has_a_typed_success_response(openapi: dict[str, Any]) -> None:
    untyped = {name: p for name, op in _operations(openapi) if (p := _success_problems(openapi, op))}
    assert not untyped, "\n".join(f"{name}: {'; '.join(p)}" for name, p in sorted(untyped.items()))


def test_every_operation_documents_a_401(openapi: dict[str, Any]) -> None:
    missing = [
        name
        for name, op in _operations(openapi)
        if "401" not in op["responses"] and name not in SIGNATURE_AUTHENTICATED
    ]
    assert not missing, missing


def test_only_the_federation_inbox_goes_without_a_signed_in_user_and_it_says_so(
    openapi: dict[str, Any],
) -> None:
    for name, op in _operations(openapi):
        if name in SIGNATURE_AUTHENTICATED:
            assert "401" not in op["responses"] and "security" not in op, name
            assert set(op["responses"]) - {"202"} == SIGNATURE_AUTHENTICATED[name], name
            assert "signature" in op["description"], name
    assert set(SIGNATURE_AUTHENTICATED) <= {name for name, _ in _operations(openapi)}


def test_every_documented_error_uses_the_one_error_schema(openapi: dict[str, Any]) -> None:
    wrong = []
    for name, op in _operations(openapi):
        for code, response in op["responses"].items():
            if code.startswith(("4", "5")):
                schemas = [b.get("schema", {}) for b in response.get("content", {}).values()]
                if not schemas or any(s.get("$ref") != ERROR_REF for s in schemas):
                    wrong.append(f"{name} {code}: {schemas}")
    assert not wrong, "\n".join(wrong)


def test_every_operation_documents_each_kind_of_refusal(openapi: dict[str, Any]) -> None:
    missing = {
        name: sorted(ERROR_STATUSES - set(op["responses"]))
        for name, op in _operations(openapi)
        if not set(op["responses"]) >= ERROR_STATUSES and name not in SIGNATURE_AUTHENTICATED
    }
    assert not missing, missing


def test_operation_ids_are_unique_and_named_after_the_use_case(openapi: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, op in _operations(openapi)]
    assert len(ids) == len(set(ids))
    assert "cases-file_request" in ids and "auth-sign_in" in ids


def test_fastapis_own_validation_error_schema_is_not_in_the_document(openapi: dict[str, Any]) -> None:
    schemas = set(openapi["components"]["schemas"])
    assert {"HTTPValidationError", "ValidationError"}.isdisjoint(schemas)
    assert "ErrorBody" in schemas


def test_the_untyped_detector_tells_a_typed_schema_from_an_empty_one() -> None:
    doc: dict[str, Any] = {"components": {"schemas": {"V": {"type": "object", "properties": {"id": {}}}}}}
    assert _untyped(doc, {})
    assert _untyped(doc, {"title": "Response", "type": "object", "additionalProperties": True})
    assert _untyped(doc, {"type": "array", "items": {"type": "object"}})
    assert not _untyped(doc, {"$ref": "#/components/schemas/V"})
    assert not _untyped(doc, {"type": "array", "items": {"$ref": "#/components/schemas/V"}})
    assert not _untyped(doc, {"type": "string", "format": "binary"})
    assert not _untyped(doc, {"type": "object", "additionalProperties": {"type": "integer"}})


def test_a_method_the_resource_lacks_gets_a_405_that_lists_every_method_it_has(app: FastAPI) -> None:
    client = TestClient(app)
    answer = client.request("PUT", "/api/requests")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, POST"
    assert answer.json() == {"error": "PUT is not allowed at this address; it accepts GET, POST."}
    # A literal path wins over a template that also matches it: /reports/verify is not /reports/{id}.
    assert client.request("OPTIONS", "/api/reports/verify").headers["allow"] == "POST"


def test_a_body_that_cannot_be_decoded_is_a_documented_422_not_a_400(app: FastAPI) -> None:
    answer = TestClient(app).post(
        "/api/requests", content=b"\xfa\xfb", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422
    assert set(answer.json()) == {"error"} and "could not be read" in answer.json()["error"]
