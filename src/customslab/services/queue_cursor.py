"""Keyset paging of the queue: the sort key of a page's last row as an opaque cursor, and back.

A cursor names its order and direction, so one taken from a list in another order is refused rather than
read as a key of the wrong kind. The keys are those of adapters.list_queries.QUEUE_ORDERS.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date, datetime
from typing import Any

from customslab.domain.enums import Priority
from customslab.domain.errors import ValidationFailed
from customslab.domain.model import AnalysisRequest, Sample

#: The types of each order's key, in order (every key ends with the sample id).
_KEY_TYPES: dict[str, tuple[type, ...]] = {
    "due": (date, int, int),
    "priority": (int, date, int),
    "registered": (datetime, int),
    "reference": (str, int),
}


def queue_keys(sort: str, sample: Sample, request: AnalysisRequest) -> tuple[Any, ...]:
    """A row's values of the order's terms: the key the next keyset page starts after."""
    urgency = 0 if request.priority is Priority.URGENT else 1
    match sort:
        case "priority":
            return (urgency, request.due_date, sample.id)
        case "registered":
            return (sample.registered_at, sample.id)
        case "reference":
            return (request.reference, sample.id)
    return (request.due_date, urgency, sample.id)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def encode(sort: str, descending: bool, keys: tuple[Any, ...]) -> str:
    """The cursor of `keys` in the order `sort` (reversed when `descending`)."""
    raw = json.dumps([sort, descending, *(_plain(k) for k in keys)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _typed(kind: type, value: Any) -> Any:
    if kind is datetime and isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive time")
        return parsed
    if kind is date and isinstance(value, str):
        return date.fromisoformat(value)
    if kind is int and type(value) is int and -(2**63) <= value < 2**63:  # a database integer
        return value
    if kind is str and type(value) is str:
        return value
    raise ValueError(f"{value!r} is not a {kind.__name__}")


def decode(cursor: str, sort: str, descending: bool) -> tuple[Any, ...]:
    """The key `cursor` holds; a cursor that is malformed, or of another order, is a clear 4xx."""
    bad = ValidationFailed(
        "The page cursor is not one this list gave out for its current order; start from the first page.",
        "after",
    )
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    kinds = _KEY_TYPES.get(sort, _KEY_TYPES["due"])
    if not (isinstance(raw, list) and raw[:2] == [sort, descending] and len(raw) == 2 + len(kinds)):
        raise bad
    try:
        return tuple(_typed(k, v) for k, v in zip(kinds, raw[2:], strict=True))
    except ValueError:
        raise bad from None
