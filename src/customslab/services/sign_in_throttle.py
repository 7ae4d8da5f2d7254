"""Sign-in throttling: exponential backoff, then a lockout, per account and per client address.

Every decision is read from the `sign_in_events` the attempts leave in the database, never from a
process's memory, so several server processes over one database throttle as one. An attempt made while
the account or the address waits is refused without its password being checked (the right password
does not help an attacker who found it during a lockout). Such a refusal writes nothing: the failure
that started the wait and the lockout are recorded (and audited), but a flood of refused attempts
costs one read each, not an append to the audit chain.

Attempts on one username are serialised (a transaction-scoped lock on PostgreSQL), so parallel guesses
cannot all pass the check before the first failure is recorded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from customslab.domain.errors import TooManyAttempts
from customslab.domain.model import SignInEvent
from customslab.services.ports import AbstractUnitOfWork

#: Outcomes of a sign-in attempt, as stored.
SUCCEEDED = "succeeded"
FAILED = "failed"
#: A failure that started a lockout (it counts as a failure).
LOCKED = "locked"
#: A wrong current password given to change the password while signed in. Counted apart from
#: sign-ins: it throttles the password change alone, never the account's sign-in.
RECHECK_FAILED = "recheck-failed"

SIGN_IN_FAILURES = (FAILED, LOCKED)


@dataclass(frozen=True)
class SignInPolicy:
    """How long sessions last and how failed sign-ins are throttled; built from the settings at the edge."""

    idle: timedelta = timedelta(minutes=30)
    lifetime: timedelta = timedelta(hours=8)
    window: timedelta = timedelta(minutes=15)
    backoff_after: int = 5
    backoff_max: timedelta = timedelta(seconds=60)
    lockout_after: int = 10
    lockout: timedelta = timedelta(minutes=15)
    address_backoff_after: int = 30
    address_lockout_after: int = 45


@dataclass(frozen=True)
class Wait:
    """Until when attempts are refused, and whether that is a lockout rather than a backoff."""

    until: datetime
    lockout: bool


def wait_after(
    failures: Sequence[datetime], policy: SignInPolicy, backoff_after: int, lockout_after: int
) -> Wait | None:
    """The wait that `failures` (oldest first) impose: with n failures within the window ending at the
    last one, `lockout` from it once n reaches `lockout_after`, else 2^(n - backoff_after) seconds
    (at most `backoff_max`) once n reaches `backoff_after`."""
    if not failures:
        return None
    last = failures[-1]
    n = sum(1 for at in failures if at > last - policy.window)
    if n >= lockout_after:
        return Wait(last + policy.lockout, True)
    if n >= backoff_after:
        delay = min(timedelta(seconds=2 ** min(n - backoff_after, 30)), policy.backoff_max)
        return Wait(last + delay, False)
    return None


def _account_failures(
    uow: AbstractUnitOfWork, username: str, now: datetime, policy: SignInPolicy
) -> list[datetime]:
    """The account's failures since its last successful sign-in: the person who got in starts afresh."""
    since = now - policy.window - policy.lockout
    events = uow.repo.sign_in_events(since, now, (*SIGN_IN_FAILURES, SUCCEEDED), username=username)
    failures: list[datetime] = []
    for event in events:
        failures = [] if event.outcome == SUCCEEDED else [*failures, event.at]
    return failures


def _address_failures(
    uow: AbstractUnitOfWork, address: str, now: datetime, policy: SignInPolicy
) -> list[datetime]:
    # A success from the address does not reset it: one valid account must not launder a spray of guesses.
    since = now - policy.window - policy.lockout
    return [e.at for e in uow.repo.sign_in_events(since, now, SIGN_IN_FAILURES, address=address)]


def _waits(
    uow: AbstractUnitOfWork,
    username: str,
    address: str,
    now: datetime,
    policy: SignInPolicy,
    extra: list[datetime],
) -> list[Wait]:
    account = wait_after(
        _account_failures(uow, username, now, policy) + extra,
        policy,
        policy.backoff_after,
        policy.lockout_after,
    )
    by_address = wait_after(
        _address_failures(uow, address, now, policy) + extra,
        policy,
        policy.address_backoff_after,
        policy.address_lockout_after,
    )
    return [w for w in (account, by_address) if w is not None]


def refuse_while_waiting(
    uow: AbstractUnitOfWork, username: str, address: str, now: datetime, policy: SignInPolicy
) -> None:
    """While the account or the address waits, raise TooManyAttempts (nothing is written).

    Takes the username's sign-in lock first: the check and the attempt's record are one step."""
    uow.repo.lock_sign_in(username)
    waits = [w for w in _waits(uow, username, address, now, policy, []) if w.until > now]
    if not waits:
        return
    longest = max(waits, key=lambda w: w.until)
    raise too_many(longest.until - now, longest.lockout)


def record_failure(
    uow: AbstractUnitOfWork, username: str, address: str, now: datetime, policy: SignInPolicy
) -> None:
    """Record a failed sign-in; the one that starts a lockout is recorded as such."""
    locks = any(w.lockout for w in _waits(uow, username, address, now, policy, [now]))
    uow.repo.add(SignInEvent(now, username, address, LOCKED if locks else FAILED))


def refuse_rechecks_while_waiting(
    uow: AbstractUnitOfWork, username: str, now: datetime, policy: SignInPolicy
) -> None:
    """The same backoff and lockout for wrong current passwords given by a signed-in user."""
    since = now - policy.window - policy.lockout
    failures = [e.at for e in uow.repo.sign_in_events(since, now, (RECHECK_FAILED,), username=username)]
    wait = wait_after(failures, policy, policy.backoff_after, policy.lockout_after)
    if wait is not None and wait.until > now:
        raise too_many(wait.until - now, wait.lockout, rechecks=True)


def too_many(left: timedelta, lockout: bool, *, rechecks: bool = False) -> TooManyAttempts:
    """The refusal, saying how long to wait (rounded up to seconds; minutes beyond a minute and a half)."""
    seconds = max(1, math.ceil(left.total_seconds()))
    when = f"{math.ceil(seconds / 60)} minutes" if seconds > 90 else f"{seconds} seconds"
    if rechecks:
        what, locked = "Too many wrong current passwords", "changing the password is locked"
    else:
        what, locked = (
            "Too many failed sign-ins for this account or from this address",
            "signing in is locked",
        )
    message = f"{what}: {locked}. Try again in {when}." if lockout else f"{what}. Try again in {when}."
    return TooManyAttempts(message, seconds)
