"""Domain errors. The edges translate them: HTTP 4xx, CLI messages, form errors."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule the domain enforces; the message is written for the person who acted.

    `field` names the input at fault, when one is: the edges show the message next to it.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


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
