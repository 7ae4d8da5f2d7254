"""Domain errors. The edges translate them: HTTP 4xx, CLI messages, form errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self


@dataclass(frozen=True)
class FieldError:
    """One fault of an input: the field it concerns (None for the form as a whole) and what to do."""

    field: str | None
    message: str


class DomainError(Exception):
    """Base of every rule the domain enforces; the message is written for the person who acted.

    `field` names the input at fault, when one is: the edges show the message next to it. `errors` lists
    every fault found at once (a form shows each next to its field); it holds at least this one.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors: list[FieldError] = [FieldError(field, message)]

    @classmethod
    def of(cls, errors: Sequence[FieldError]) -> Self:
        """One error naming several faults: the message joins them; the first field named gets the focus."""
        if not errors:
            raise ValueError("An error needs at least one fault.")
        first = next((e.field for e in errors if e.field), None)
        error = cls(" ".join(e.message for e in errors), first)
        error.errors = list(errors)
        return error


class ValidationFailed(DomainError):
    """Input that breaks a rule of the domain (an invalid HS code, an unknown country...)."""


class InvalidTransition(DomainError):
    """A workflow step that is not allowed from the record's current state."""


class NotFound(DomainError):
    """The record does not exist, or the user may not know that it exists.

    Also raised when an input names such a record (an unknown laboratory code, say), with its field.
    """


class PermissionDenied(DomainError):
    """The user is known but their role does not allow the action."""


class Conflict(DomainError):
    """The request clashes with stored state (a duplicate username, say)."""


class TooManyAttempts(DomainError):
    """Too many failed sign-ins for an account or from an address: refused for `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
