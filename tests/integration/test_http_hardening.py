"""The HTTP edge holds: body limits on the stream, a 500 that keeps the connection, security headers,
and ids past the database's integers answered as unknown pages."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from customslab.adapters.uow import Database
from customslab.config import Settings
from customslab.entrypoints.limits import SERVER_ERROR
from customslab.entrypoints.web.app import create_web_app
from customslab.entrypoints.web.common import HERE
from customslab.entrypoints.web.screenshots import free_port, live_server
from customslab.services.contract import MAX_INT
from tests.conftest import shared_data_dir
from tests.factories import PASSWORD, Network, make_network

MIB = 1024 * 1024
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def settings_for(url: str, tmp: Path, **overrides: Any) -> Settings:
    return Settings(
        mode="test",
        database_url=url,
        file_store=tmp / "files",
        shared_data=shared_data_dir(),
        library_path=tmp / "library",
        **overrides,
    )


@pytest.fixture
def web(sqlite_url: str, tmp_path: Path) -> Iterator[Any]:
    app = create_web_app(settings_for(sqlite_url, tmp_path))
    yield app
    app.state.db.dispose()


def peak_rss_bytes(pid: int) -> int:
    """The process's peak resident memory (VmHWM), which a body held even briefly would have raised."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    assert match, status
    return int(match.group(1)) * 1024


@pytest.fixture
def server_process(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """The whole application under uvicorn in its own process, so its memory is its own."""
    port = free_port()
    env = os.environ | {
        "CUSTOMSLAB_MODE": "test",
        "CUSTOMSLAB_DATABASE_URL": sqlite_url,
        "CUSTOMSLAB_FILE_STORE": str(tmp_path / "files"),
        "CUSTOMSLAB_SHARED_DATA": str(shared_data_dir()),
        "CUSTOMSLAB_LIBRARY_PATH": str(tmp_path / "library"),
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "customslab.entrypoints.asgi:app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the server exited while starting"
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/health")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield process, port
    finally:
        process.terminate()
        process.wait(timeout=20)


def json_document(megabytes: int) -> Iterator[bytes]:
    """A valid JSON request of `megabytes` MiB, produced as it is sent (the client never holds it)."""
    chunk = b"x" * MIB
    yield b'{"declaration_number": "DCL-1", "goods_description": "'
    for _ in range(megabytes):
        yield chunk
    yield b'"}'


def test_an_anonymous_200_mb_chunked_json_post_is_refused_with_413_without_the_server_holding_it(
    server_process: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = server_process
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    # Warm the route first, so the measure below is the big body's alone.
    conn.request("POST", "/api/requests", body=b"{}", headers={"Content-Type": "application/json"})
    warm = conn.getresponse()
    warm.read()
    assert warm.status == 401
    before = peak_rss_bytes(process.pid)

    # No Content-Length: http.client sends the generator with Transfer-Encoding: chunked.
    conn.request(
        "POST", "/api/requests", body=json_document(200), headers={"Content-Type": "application/json"}
    )
    response = conn.getresponse()
    body = json.loads(response.read())
    grown = peak_rss_bytes(process.pid) - before
    assert (response.status, grown < 100 * MIB) == (413, True), (
        f"answered {response.status}; the server's peak memory grew by {grown / MIB:.0f} MiB"
    )
    assert "larger than the limit of 1 MB" in body["error"]

    # The rest of the body was discarded, and the connection serves the next request.
    conn.request("GET", "/api/health")
    assert conn.getresponse().status == 200


def test_a_content_length_over_the_limit_is_refused_at_once_on_the_api_and_on_pages(web: Any) -> None:
    client = TestClient(web)
    big = b"{" + b" " * (2 * MIB) + b"}"
    api = client.post("/api/requests", content=big, headers={"Content-Type": "application/json"})
    assert api.status_code == 413
    assert api.json() == {"error": api.json()["error"]} and "1 MB" in api.json()["error"]

    page = client.post(
        "/login",
        content=b"username=" + b"a" * (2 * MIB),
        headers={"Content-Type": "application/x-www-form-urlencoded"} | BROWSER,
    )
    assert page.status_code == 413 and page.headers["content-type"].startswith("text/html")
    assert "larger than the limit" in page.text and "Traceback" not in page.text


def test_a_chunked_page_form_over_the_limit_gets_the_error_page(web: Any) -> None:
    def form() -> Iterator[bytes]:
        yield b"username="
        for _ in range(3):
            yield b"a" * MIB

    client = TestClient(web)
    page = client.post(
        "/login", content=form(), headers={"Content-Type": "application/x-www-form-urlencoded"} | BROWSER
    )
    assert page.status_code == 413
    assert "larger than the limit" in page.text and "Traceback" not in page.text


def test_a_multipart_upload_has_the_upload_limit_and_everything_else_the_json_limit(
    sqlite_url: str, tmp_path: Path
) -> None:
    app = create_web_app(settings_for(sqlite_url, tmp_path, max_upload_bytes=4 * MIB))
    client = TestClient(app)
    file = {"file": ("spectrum.jdx", b"x" * (2 * MIB))}
    # Over the 1 MB JSON limit but within the upload limit: it reaches the API, which wants a token.
    assert client.post("/api/tests/1/files", files=file).status_code == 401
    too_big = client.post("/api/tests/1/files", files={"file": ("big.jdx", b"x" * (5 * MIB))})
    assert too_big.status_code == 413 and "upload is larger than the limit of 4 MB" in too_big.json()["error"]
    # Calling a body multipart does not buy another route the upload limit.
    disguised = client.post("/api/requests", files=file)
    assert disguised.status_code == 413 and "limit of 1 MB" in disguised.json()["error"]
    app.state.db.dispose()


def test_an_unexpected_error_answers_500_and_keeps_the_connection_open(
    web: Any, caplog: pytest.LogCaptureFixture
) -> None:
    @web.get("/api/test-failure")
    def fail() -> None:
        raise RuntimeError("/srv/customslab/secret.py exploded")

    with live_server(web) as base:
        port = int(base.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/api/test-failure")
        first = conn.getresponse()
        text = first.read().decode()
        socket_used = conn.sock
        assert first.status == 500
        assert (first.getheader("connection") or "").lower() != "close"
        # The same connection serves the next request (a closed one would fail or be replaced here).
        conn.request("GET", "/api/health")
        second = conn.getresponse()
        assert second.status == 200 and json.loads(second.read()) == {"status": "ok"}
        assert conn.sock is socket_used, "the client had to open a new connection"
        conn.close()
    assert json.loads(text) == {"error": SERVER_ERROR}
    assert "secret" not in text and "Traceback" not in text
    assert any("secret.py exploded" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_pages_and_api_answers_carry_the_security_headers_and_static_files_may_be_cached(
    web: Any,
) -> None:
    client = TestClient(web)
    for path in ("/login", "/api/health", "/api/requests"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        for directive in (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ):
            assert directive in csp, (path, directive)
        assert "unsafe" not in csp
        assert "camera=()" in headers["permissions-policy"]
        assert "geolocation=()" in headers["permissions-policy"]
        assert headers["cache-control"] == "no-store", path
    static = client.get("/static/css/app.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")
    # Swagger UI and ReDoc would load third-party script from a CDN; the contract itself stays.
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").status_code == 200


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"\shx-on", re.I), "hx-on attribute"),
]


def test_no_template_has_inline_script_or_style_the_policy_would_block() -> None:
    found = [
        f"{template.name}: {what}"
        for template in sorted((HERE / "templates").glob("*.html"))
        for pattern, what in INLINE
        if pattern.search(template.read_text())
    ]
    assert found == []


# --- ids past the database's integers, on both databases ---------------------------------------------


@pytest.fixture
def signed_in(database: Database, tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    app = create_web_app(settings_for(database.url, tmp_path), db=database)
    net: Network = make_network(app.state.uow_factory)
    client = TestClient(app)
    token = TOKEN.search(client.get("/login").text)
    assert token
    signed = client.post(
        "/login",
        data={"username": net["central_manager"].username, "password": PASSWORD, "csrf_token": token[1]},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    page_token = TOKEN.search(client.get("/hs").text)
    assert page_token
    yield client, page_token[1]


PAGES = (
    "/samples/{id}",
    "/samples/{id}/hs",
    "/samples/{id}/label",
    "/requests/{id}",
    "/tests/{id}/identify",
    "/reports/{id}.pdf",
)
FORMS = (
    "/samples/{id}/receive",
    "/samples/{id}/tests",
    "/samples/{id}/opinions",
    "/samples/{id}/reject",
    "/tests/{id}/submit",
    "/tests/{id}/results",
    "/tests/{id}/identify",
    "/opinions/{id}/approve",
    "/requests/{id}/samples",
)


@pytest.mark.parametrize("record_id", [2**63, 2**31, MAX_INT, 0])
def test_an_id_past_the_database_range_is_an_unknown_page_not_a_server_error(
    signed_in: tuple[TestClient, str], record_id: int
) -> None:
    client, token = signed_in
    for path in PAGES:
        response = client.get(path.format(id=record_id), headers=BROWSER)
        assert response.status_code == 404, (path, response.status_code)
        assert "Not found" in response.text
    for path in FORMS:
        response = client.post(path.format(id=record_id), data={"csrf_token": token}, follow_redirects=False)
        assert 400 <= response.status_code < 500, (path, response.status_code)


@pytest.mark.parametrize("offset", [str(2**63), "abc", "-1"])
def test_a_page_offset_out_of_range_is_refused_not_a_server_error(
    signed_in: tuple[TestClient, str], offset: str
) -> None:
    client, _ = signed_in
    queue = client.get("/queue", params={"offset": offset}, headers=BROWSER)
    # The queue names the value it refuses, as every list page does (entrypoints/web/listing.py).
    assert queue.status_code == 422 and "is not a page offset" in queue.text
    requests = client.get("/requests", params={"offset": offset}, headers=BROWSER)
    assert 400 <= requests.status_code < 500
