"""After an htmx form, the redirect reloads the page even when only its #fragment differs."""

from __future__ import annotations

from starlette.requests import Request

from customslab.entrypoints.web.common import flash_redirect


def _htmx_post(current: str) -> Request:
    headers = [(b"hx-request", b"true"), (b"hx-current-url", current.encode())]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers, "session": {}})


def test_a_redirect_to_the_same_page_at_a_fragment_asks_htmx_to_reload() -> None:
    request = _htmx_post("http://lab.example/quality/qc/7")
    response = flash_redirect(request, "/quality/qc/7#corrective-actions", "Corrective action recorded.")
    assert response.headers["HX-Redirect"] == "/quality/qc/7#corrective-actions"
    assert response.headers["HX-Refresh"] == "true"
    assert request.session["flash"] == "Corrective action recorded."


def test_a_redirect_to_another_page_is_left_to_htmx_alone() -> None:
    for current, target in (
        ("http://lab.example/tests/3/identify", "/samples/1#test-3"),
        ("http://lab.example/samples/1?tab=a", "/samples/1#reports"),
        ("http://lab.example/samples/1", "/queue"),
    ):
        response = flash_redirect(_htmx_post(current), target, "done")
        assert response.headers["HX-Redirect"] == target
        assert "HX-Refresh" not in response.headers, (current, target)
