"""Staff competence: training records and authorisations to analyse or review (ISO/IEC 17025 6.2)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from customslab.domain.quality.errors import AnalystNotAuthorised, ReviewerNotAuthorised


class AuthorisedRole(StrEnum):
    ANALYST = "analyst"
    REVIEWER = "reviewer"


@dataclass(frozen=True)
class TrainingRecord:
    user_id: str
    topic: str
    completed_on: date
    trainer: str = ""
    method_id: str | None = None
    evidence_sha256: str | None = None


@dataclass(frozen=True)
class Authorisation:
    """Permission for a user to act in a role, for one method or (method_id None) for every method."""

    user_id: str
    method_id: str | None
    role: AuthorisedRole
    granted_by: str
    valid_from: date
    valid_until: date | None = None
    revoked: bool = False

    def covers(self, user_id: str, method_id: str, role: AuthorisedRole, on: date) -> bool:
        return (
            self.user_id == user_id
            and self.role is role
            and (self.method_id is None or self.method_id == method_id)
            and not self.revoked
            and self.valid_from <= on
            and (self.valid_until is None or on <= self.valid_until)
        )


def _why_not(
    user_id: str, method_id: str, role: AuthorisedRole, authorisations: list[Authorisation], on: date
) -> str:
    # Explain the nearest miss so the lab manager knows whether to renew, re-grant or train.
    mine = [
        a
        for a in authorisations
        if a.user_id == user_id and a.role is role and a.method_id in (None, method_id)
    ]
    if not mine:
        return f"no {role.value} authorisation has been granted for this method"
    if all(a.revoked for a in mine):
        return f"the {role.value} authorisation was revoked"
    live = [a for a in mine if not a.revoked]
    if all(a.valid_from > on for a in live):
        first = min(a.valid_from for a in live)
        return f"the {role.value} authorisation only starts on {first.isoformat()}"
    last = max(a.valid_until for a in live if a.valid_until is not None)
    return f"the {role.value} authorisation expired on {last.isoformat()}"


def _assert(
    user_id: str, method_id: str, authorisations: Iterable[Authorisation], on: date, role: AuthorisedRole
) -> None:
    auths = list(authorisations)
    if any(a.covers(user_id, method_id, role, on) for a in auths):
        return
    why = _why_not(user_id, method_id, role, auths, on)
    error = AnalystNotAuthorised if role is AuthorisedRole.ANALYST else ReviewerNotAuthorised
    raise error(f"User {user_id} is not authorised as {role.value} for method {method_id} on {on}: {why}.")


def assert_analyst_authorised(
    user_id: str, method_id: str, authorisations: Iterable[Authorisation], on: date
) -> None:
    """Refuse result entry by a user without a current analyst authorisation for the method."""
    _assert(user_id, method_id, authorisations, on, AuthorisedRole.ANALYST)


def assert_reviewer_authorised(
    user_id: str, method_id: str, authorisations: Iterable[Authorisation], on: date
) -> None:
    """Refuse review/approval by a user without a current reviewer authorisation for the method."""
    _assert(user_id, method_id, authorisations, on, AuthorisedRole.REVIEWER)
