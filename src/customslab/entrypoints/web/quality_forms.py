"""Posted register forms read into the commands of the quality use cases, and their errors named after
the inputs that caused them.

An input is named after the command's field it fills: `title`, `validation.lod` for a field of a nested
command, `measurands.0.unit` for a field of the first entry of a list of them. A list of short texts or
numbers comes from one text box, one entry a line (`lines`) or separated by spaces (`words`); an error
about one of its entries is reported on that box, numbered, so the page shows it next to the box.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TypeVar

from fastapi import Request
from starlette.datastructures import FormData

from customslab.domain.errors import FieldError, ValidationFailed
from customslab.entrypoints.web.common import CSRF_FIELD, say
from customslab.services.contract import Command, parse

C = TypeVar("C", bound=Command)
_WORDS = re.compile(r"[\s;]+")  # not commas: "40,1" is a decimal comma, which the commands accept


def _tree(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """`a.b` and `a.0.b` keys as nested mappings; lists are still mappings keyed by index here."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        *path, last = key.split(".")
        node = root
        for part in path:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValidationFailed(f"'{key}' is not a field here.", key)
        node[last] = value
    return root


def _pruned(node: Any) -> Any:
    """Empty inputs mean "not given": drop them, and a nested entry left with nothing at all.

    Rows of a list keep their numbers, so that an error about row 2 names the inputs of row 2: blank
    rows after the last one filled in are dropped, a blank row between two filled ones is kept (and
    refused by the command, next to its inputs).
    """
    if not isinstance(node, dict):
        return node
    kept = {k: v for k, v in ((k, _pruned(v)) for k, v in node.items()) if v not in ("", None, {}, [])}
    if kept and all(k.isdigit() for k in kept):
        return [kept.get(str(i), {}) for i in range(max(map(int, kept)) + 1)]
    return kept


def form_data(
    form: FormData, lines: Iterable[str] = (), words: Iterable[str] = (), many: Iterable[str] = ()
) -> dict[str, Any]:
    """The posted form as a command's input: nested by the inputs' dotted names, empty inputs dropped."""
    split = {name: [s.strip() for s in str(form.get(name) or "").splitlines()] for name in lines}
    split |= {name: _WORDS.split(str(form.get(name) or "")) for name in words}
    chosen = {name: [str(v) for v in form.getlist(name)] for name in many}
    listed = split | chosen
    pairs = [(k, str(v).strip()) for k, v in form.multi_items() if k != CSRF_FIELD and k not in listed]
    data: dict[str, Any] = _pruned(_tree(pairs))
    data |= {k: [v for v in vs if v] for k, vs in listed.items() if any(vs)}
    return data


def _on_boxes(request: Request, faults: list[FieldError], boxes: set[str]) -> list[FieldError]:
    """Faults of entries of a list typed in one box (`points.2`) reported on the box, numbered; an entry
    that fits no member of a union (a number, or a point with its run) is reported once, plainly."""
    out: list[FieldError] = []
    seen: dict[str, int] = {}  # `points.2` → where its fault stands in `out`
    for fault in faults:
        name, _, rest = (fault.field or "").partition(".")
        if name not in boxes or not rest:
            out.append(fault)
            continue
        index, _, inner = rest.partition(".")
        if not index.isdigit():
            out.append(FieldError(name, fault.message))
            continue
        # The command names the entry by its index ("2 'x' is not a number."); say which entry instead.
        told = fault.message.removeprefix(f"{index} ")
        entry = say(request, "Entry {n}", n=int(index) + 1)
        error = FieldError(name, f"{entry}: {told}" if told.startswith("'") else f"{entry} {told}")
        where = f"{name}.{index}"
        if where not in seen:
            seen[where] = len(out)
            out.append(error)
        elif not inner:  # the entry's own fault says more than a union member's
            out[seen[where]] = error
    return out


def command(
    request: Request,
    cls: type[C],
    form: FormData,
    lines: Iterable[str] = (),
    words: Iterable[str] = (),
    many: Iterable[str] = (),
    **given: Any,
) -> C:
    """The command `cls` from a posted form (and `given` values the page decides), or ValidationFailed
    with each fault on the input that holds it."""
    boxes = {*lines, *words}
    try:
        return parse(cls, form_data(form, lines, words, many) | given)
    except ValidationFailed as exc:
        if not boxes:
            raise
        raise ValidationFailed.of(_on_boxes(request, exc.errors, boxes)) from None
