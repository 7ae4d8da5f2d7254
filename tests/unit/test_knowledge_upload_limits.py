"""The knowledge pages take files as large as the API does: the upload limit covers their routes."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from customslab.entrypoints.limits import BodyLimit

MULTIPART = Headers({"content-type": "multipart/form-data; boundary=x"})


async def _app(scope: object, receive: object, send: object) -> None:  # never called
    raise AssertionError


@pytest.mark.parametrize(
    "path",
    [
        "/knowledge",
        "/knowledge/12/versions",
        "/api/knowledge/documents",
        "/api/knowledge/documents/12/versions",
    ],
)
def test_a_document_upload_from_a_page_or_the_api_has_the_upload_limit(path: str) -> None:
    limits = BodyLimit(_app, json_bytes=1_000, upload_bytes=50_000)
    assert limits.limit(MULTIPART, path)[0] >= 50_000


@pytest.mark.parametrize("path", ["/knowledge/12", "/knowledge/new", "/knowledge/12/versions/1"])
def test_a_knowledge_page_that_takes_no_file_keeps_the_small_limit(path: str) -> None:
    limits = BodyLimit(_app, json_bytes=1_000, upload_bytes=50_000)
    assert limits.limit(MULTIPART, path)[0] == 1_000
