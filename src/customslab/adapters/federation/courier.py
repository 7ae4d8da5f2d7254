"""The HTTP client that carries signed bundles to partner deployments' inboxes."""

from __future__ import annotations

import json
import re

import httpx

from customslab.services.federation_ports import Courier, DeliveryAnswer

#: The media type of a FHIR resource in JSON (FHIR R4, "http.html#mime-type").
FHIR_JSON = "application/fhir+json"
INBOX_PATH = "/api/federation/messages"
#: How much of a partner's answer is kept as the reason (its `detail`, or the start of its text).
DETAIL_CHARS = 500
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class HttpCourier(Courier):
    """POSTs each bundle to `{base_url}/api/federation/messages` with one pooled `httpx.Client`.

    Redirects are not followed: a partner's inbox is at the URL its administrator registered, and a
    redirect could carry the bundle elsewhere."""

    def __init__(
        self,
        timeout_seconds: float,
        user_agent: str = "customslab-federation",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.client = httpx.Client(
            timeout=timeout_seconds,
            transport=transport,
            follow_redirects=False,
            headers={"Content-Type": FHIR_JSON, "Accept": "application/json", "User-Agent": user_agent},
        )

    def deliver(self, base_url: str, body: bytes) -> DeliveryAnswer:
        try:
            response = self.client.post(base_url.rstrip("/") + INBOX_PATH, content=body)
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            # Refused, unreachable, timed out, reset, a URL that cannot be: the worker retries later.
            return DeliveryAnswer(None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        return DeliveryAnswer(response.status_code, _detail(response))

    def close(self) -> None:
        self.client.close()


def _detail(response: httpx.Response) -> str:
    """The answer's `{"detail": ...}` (the API's error shape), or the start of its text."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if detail is None:
        text = _printable(response.text).strip()
        return text[:DETAIL_CHARS] if text else response.reason_phrase
    return _printable(detail if isinstance(detail, str) else json.dumps(detail)).strip()[:DETAIL_CHARS]


def _printable(text: str) -> str:
    """Without control characters but tab and newline: PostgreSQL text cannot hold NUL, and the reason
    is shown to administrators (a partner's answer is not trusted)."""
    return CONTROL.sub("", text)
