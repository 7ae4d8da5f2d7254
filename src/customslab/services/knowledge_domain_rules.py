"""A domain rule of the knowledge base run as a pydantic validator, where a command's field enters."""

from __future__ import annotations

from collections.abc import Callable

from customslab.domain.errors import ValidationFailed


def field_rule(rule: Callable[[str], str]) -> Callable[[str], str]:
    """The rule's ValidationFailed becomes the field's error (pydantic reads a ValueError)."""

    def check(value: str) -> str:
        try:
            return rule(value)
        except ValidationFailed as exc:
            raise ValueError(exc.message) from None

    return check


__all__ = ["field_rule"]
