"""Strict JSON for received messages: UTF-8, no repeated keys, no NaN or Infinity, no NUL characters.

Shared by the gate (the bundle) and the FHIR reader (the JSON a shared-knowledge attachment carries), so
that both read a message the one way its signer's parser may have read it, and nothing reaches the
database that it cannot store (PostgreSQL's text holds no NUL).
"""

from __future__ import annotations

import json
from typing import Any

from customslab.services.federation_ports import MalformedMessage, shown


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A key given twice would be read one way here and maybe another way by the signer's parser.
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise MalformedMessage(f"The JSON gives the key {shown(key)} twice in one object.")
        obj[key] = value
    return obj


def _no_constant(name: str) -> Any:
    raise MalformedMessage(f"The JSON holds {name}, which is not a JSON number.")


def _check_no_nul(value: Any) -> None:
    # A loop, not recursion: the JSON parser accepted the depth, so a walk must not fail on it.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and "\x00" in item:
            raise MalformedMessage("The JSON holds a NUL character (\\u0000) in a string.")


def parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8, no repeated keys, no NaN or Infinity, no NUL in any string or key."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedMessage("The message is not UTF-8 text.") from None
    try:
        parsed = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise MalformedMessage(f"The message is not JSON: {exc.msg} at line {exc.lineno}.") from None
    except RecursionError:
        raise MalformedMessage("The message's JSON is nested too deeply.") from None
    _check_no_nul(parsed)
    return parsed
