"""Use cases of identity: users, passwords and their rules, and the server-side sessions of the API and
the pages.

A session is a row of `sessions`: the API's bearer token and the pages' cookie each carry a random
token whose sha256 names it. It ends when signed out, after `SignInPolicy.idle` without a request,
`SignInPolicy.lifetime` after sign-in, when the password changes, or when an administrator ends it;
every request checks it against the database, so an ended session stops working at once everywhere.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, ValidatorFunctionWrapHandler, WrapValidator
from pydantic import ValidationError as PydanticValidationError

from customslab.domain.access import Action, Actor, require
from customslab.domain.enums import Role
from customslab.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from customslab.domain.model import SignInEvent, User, UserSession
from customslab.services import sign_in_throttle as throttle
from customslab.services.contract import Command, Id, Text, View
from customslab.services.organisations import administration_of
from customslab.services.passwords import (
    NewPassword,
    Password,
    check_password_rules,
    hash_password,
    password_matches,
    use_password_hasher,
)
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.sign_in_throttle import SignInPolicy

#: Re-exported: the edges and the test suite reach these through `auth`.
__all__ = ["SignInPolicy", "check_password_rules", "hash_password", "use_password_hasher"]


def actor_of(user: User | Actor) -> Actor:
    if isinstance(user, Actor):
        return user
    assert user.id is not None
    return Actor(user.id, user.username, user.org_code, user.roles)


# -- commands and views ---------------------------------------------------------------------------
class TokenRequest(Command):
    """A username and password, to sign in (a bearer token for the API, a session for the pages)."""

    username: Annotated[str, Text(80)]
    password: Password


def _known_roles(value: Any, handler: ValidatorFunctionWrapHandler) -> list[Role]:
    # Pydantic would name the list index at fault; the person needs the list of roles.
    try:
        roles: list[Role] = handler(value)
    except PydanticValidationError:
        if not isinstance(value, list | tuple):
            raise ValueError("Give the roles as a list.") from None
        if not value:
            raise ValueError("A user needs at least one role.") from None
        known = [r.value for r in Role]
        unknown = ", ".join(repr(v) for v in value if not (isinstance(v, str) and v in known))
        raise ValueError(f"Unknown role {unknown}; roles are: {', '.join(known)}.") from None
    return roles


class UserCreate(Command):
    """A person's account in a laboratory or customs office."""

    username: Annotated[str, Text(80, 1)]
    full_name: Annotated[str, Text(200)]
    org_code: Annotated[str, Text(40, 1)]
    roles: Annotated[list[Role], Field(min_length=1), WrapValidator(_known_roles)]
    password: NewPassword
    email: Annotated[str, Text(200)] = ""


class PasswordChange(Command):
    """A signed-in user's new password, confirmed by the current one."""

    current_password: Password
    new_password: NewPassword


class UserView(View):
    """A user, their laboratory or office, and their roles."""

    id: int
    username: str
    org_code: str
    roles: list[Role]

    @classmethod
    def of(cls, actor: Actor) -> UserView:
        return cls.of_record(actor, id=actor.user_id, roles=sorted(actor.roles))


class TokenView(View):
    """A bearer token; it ends at `expires_at`, or earlier after `idle_minutes` without a request."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    idle_minutes: int


class SessionView(View):
    """One sign-in of a user: how, from where, since when, and whether it still holds."""

    id: Id
    kind: Literal["api", "web"]
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    active: bool
    ended_at: datetime | None
    ended_reason: str
    address: str
    user_agent: str


class UserSessionsView(View):
    """A user's sessions, newest first (the most recent 100), and how many of them still hold."""

    user: UserView
    active: int
    sessions: list[SessionView]


class SessionsEnded(View):
    """How many sessions were ended (sign-out everywhere, a password change, an administrator)."""

    ended: int


@dataclass(frozen=True)
class ClientInfo:
    """Where a sign-in comes from: the address the server saw (a proxy's, behind one) and the user agent."""

    address: str = ""
    user_agent: str = ""


@dataclass(frozen=True)
class SignedInUser:
    """Who holds a valid session."""

    actor: Actor
    full_name: str
    session_id: int


#: The kinds of `sessions` row that are sign-ins (the table also keeps invitation links).
SIGN_IN_KINDS = ("api", "web")
SIGN_IN_AGAIN = "The session is unknown, has ended or was revoked; sign in again."
#: `last_seen_at` is written at most this often (it is a write on every request otherwise).
SEEN_RESOLUTION = timedelta(minutes=1)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _lapse(found: UserSession, policy: SignInPolicy) -> tuple[datetime, str]:
    """When the session ends by itself, and why: its absolute lifetime or its idle timeout."""
    idle_end = found.last_seen_at + policy.idle
    return (found.expires_at, "expired") if found.expires_at <= idle_end else (idle_end, "idle timeout")


def _ended_at(found: UserSession, now: datetime, policy: SignInPolicy) -> datetime | None:
    if found.revoked_at is not None:
        return found.revoked_at
    at, _ = _lapse(found, policy)
    return at if at <= now else None


def _end(found: UserSession, now: datetime, reason: str, policy: SignInPolicy) -> bool:
    """Mark a session ended; one that had already lapsed keeps its own end. True if it still held."""
    if found.revoked_at is not None:
        return False
    lapsed_at, why = _lapse(found, policy)
    if lapsed_at <= now:
        found.revoked_at, found.ended_reason = lapsed_at, why
        return False
    found.revoked_at, found.ended_reason = now, reason[:60]
    return True


def _end_sessions_of(
    uow: AbstractUnitOfWork, user_id: int, reason: str, policy: SignInPolicy, keep: int | None = None
) -> int:
    now = uow.clock()
    return sum(
        _end(s, now, reason, policy)
        for s in uow.repo.sessions_of(user_id, open_only=True, limit=None)
        if s.id != keep
    )


def _anonymous(address: str) -> str:
    return f"anonymous from {address or 'an unknown address'}"[:80]


# -- users ------------------------------------------------------------------------------------------
def add_user(uow: AbstractUnitOfWork, cmd: UserCreate, actor: Actor | None = None) -> UserView:
    """Create a user; from the API only an admin may, the CLI acts as the system."""
    with uow:
        if actor is not None:
            require(actor, Action.MANAGE_USERS)
        uow.act_as(actor.username if actor else "system")
        if uow.repo.user_by_name(cmd.username):
            raise Conflict(f"The username '{cmd.username}' is taken.")
        org = uow.repo.org(cmd.org_code)
        # An administrator adds users to their own administration only; another's is as unknown.
        if org is None or (
            actor is not None and org.administration_code != administration_of(uow, actor).code
        ):
            raise NotFound(f"There is no laboratory or office '{cmd.org_code}'.", field="org_code")
        org.check_roles(frozenset(cmd.roles))
        check_password_rules(cmd.password, cmd.username, cmd.full_name, cmd.email)
        user = User(
            cmd.username,
            cmd.full_name,
            cmd.org_code,
            frozenset(cmd.roles),
            cmd.email,
            hash_password(cmd.password),
        )
        uow.repo.add(user)
        uow.repo.flush()
        uow.commit()
        return UserView.of(actor_of(user))


def _user(uow: AbstractUnitOfWork, user_id: int, actor: Actor | None = None) -> User:
    """The user; with an administrator `actor`, only one of the administrator's own administration."""
    user = uow.repo.user(user_id)
    org = uow.repo.org(user.org_code) if user is not None and actor is not None else None
    if user is None or (
        actor is not None and (org is None or org.administration_code != administration_of(uow, actor).code)
    ):
        raise NotFound(f"There is no user {user_id}.")
    return user


def user_named(uow: AbstractUnitOfWork, username: str) -> UserView:
    """The user with this username (the command line names people, the API numbers them)."""
    with uow:
        user = uow.repo.user_by_name(username)
        if user is None:
            raise NotFound(f"There is no user '{username}'.", field="username")
        return UserView.of(actor_of(user))


# -- sessions ---------------------------------------------------------------------------------------
def sign_in(
    uow: AbstractUnitOfWork,
    creds: TokenRequest,
    kind: Literal["api", "web"],
    client: ClientInfo,
    policy: SignInPolicy,
) -> TokenView:
    """Check the password and open a session; only the token's hash is stored.

    Refused with TooManyAttempts, the password unchecked, while the account or the address is held
    back; every attempt leaves a sign-in event (audited like every record)."""
    with uow:
        now = uow.clock()
        address = client.address[:64]
        uow.act_as(_anonymous(address))
        throttle.refuse_while_waiting(uow, creds.username, address, now, policy)
        user = uow.repo.user_by_name(creds.username)
        if not password_matches(user, creds.password) or user is None or not user.active:
            throttle.record_failure(uow, creds.username, address, now, policy)
            uow.commit()
            raise PermissionDenied("Unknown username or wrong password.")
        assert user.id is not None
        uow.act_as(user.username)
        uow.repo.add(SignInEvent(now, creds.username, address, throttle.SUCCEEDED))
        token = secrets.token_urlsafe(32)
        expires = now + policy.lifetime
        uow.repo.add(
            UserSession(
                _token_hash(token),
                user.id,
                kind,
                now,
                now,
                expires,
                None,
                "",
                address,
                client.user_agent[:200],
            )
        )
        uow.commit()
        return TokenView(
            access_token=token, expires_at=expires, idle_minutes=int(policy.idle.total_seconds() // 60)
        )


def session_user(
    uow: AbstractUnitOfWork, token: str, kind: Literal["api", "web"], policy: SignInPolicy
) -> SignedInUser:
    """Who holds this token; NotFound once the session has ended (and it is then marked ended)."""
    with uow:
        now = uow.clock()
        found = uow.repo.session_by_token(_token_hash(token))
        if found is None or found.kind != kind or found.revoked_at is not None:
            raise NotFound(SIGN_IN_AGAIN)
        assert found.id is not None
        lapsed_at, why = _lapse(found, policy)
        if lapsed_at <= now:
            found.revoked_at, found.ended_reason = lapsed_at, why
            uow.commit()
            raise NotFound(SIGN_IN_AGAIN)
        user = uow.repo.user(found.user_id)
        if user is None or not user.active:
            raise NotFound(SIGN_IN_AGAIN)
        if now - found.last_seen_at >= SEEN_RESOLUTION:
            found.last_seen_at = now
            uow.commit()
        return SignedInUser(actor_of(user), user.full_name, found.id)


def sign_out(uow: AbstractUnitOfWork, token: str, policy: SignInPolicy) -> None:
    """End the session of this token at once (a no-op for an unknown or ended one)."""
    with uow:
        found = uow.repo.session_by_token(_token_hash(token))
        if found is None:
            return
        user = uow.repo.user(found.user_id)
        uow.act_as(user.username if user else "system")
        _end(found, uow.clock(), "signed out", policy)
        uow.commit()


def change_password(
    uow: AbstractUnitOfWork,
    actor: Actor,
    cmd: PasswordChange,
    client: ClientInfo,
    policy: SignInPolicy,
    current_token: str | None = None,
) -> SessionsEnded:
    """Change one's own password; every other session of the user ends (the current one stays)."""
    with uow:
        now = uow.clock()
        uow.act_as(actor.username)
        # A sign-in in flight with the old password finishes first (its session is ended below) or
        # waits and then meets the new password; parallel rechecks are serialised like sign-ins.
        uow.repo.lock_sign_in(actor.username)
        throttle.refuse_rechecks_while_waiting(uow, actor.username, now, policy)
        user = _user(uow, actor.user_id)
        if not password_matches(user, cmd.current_password):
            uow.repo.add(SignInEvent(now, actor.username, client.address[:64], throttle.RECHECK_FAILED))
            uow.commit()
            raise PermissionDenied("The current password is wrong.", field="current_password")
        if cmd.new_password == cmd.current_password:
            raise ValidationFailed("The new password is the current one.", field="new_password")
        check_password_rules(
            cmd.new_password, user.username, user.full_name, user.email, field="new_password"
        )
        user.password_hash = hash_password(cmd.new_password)
        current = uow.repo.session_by_token(_token_hash(current_token)) if current_token else None
        ended = _end_sessions_of(
            uow, actor.user_id, "password changed", policy, current.id if current else None
        )
        uow.commit()
        return SessionsEnded(ended=ended)


def set_password(
    uow: AbstractUnitOfWork, username: str, password: str, policy: SignInPolicy, actor: Actor | None = None
) -> SessionsEnded:
    """An administrator's reset of someone's password; all their sessions end."""
    with uow:
        if actor is not None:
            require(actor, Action.MANAGE_USERS)
        uow.act_as(actor.username if actor else "system", "password reset by an administrator")
        uow.repo.lock_sign_in(username)  # no sign-in of theirs opens a session behind the reset
        user = uow.repo.user_by_name(username)
        if user is None:
            raise NotFound(f"There is no user '{username}'.", field="username")
        assert user.id is not None
        check_password_rules(password, user.username, user.full_name, user.email)
        user.password_hash = hash_password(password)
        ended = _end_sessions_of(uow, user.id, "password reset", policy)
        uow.commit()
        return SessionsEnded(ended=ended)


def _session_view(found: UserSession, now: datetime, policy: SignInPolicy) -> SessionView:
    ended_at = _ended_at(found, now, policy)
    reason = found.ended_reason or (_lapse(found, policy)[1] if ended_at is not None else "")
    return SessionView.of_record(found, active=ended_at is None, ended_at=ended_at, ended_reason=reason)


def user_sessions(
    uow: AbstractUnitOfWork, user_id: int, policy: SignInPolicy, actor: Actor | None = None
) -> UserSessionsView:
    """A user's sessions, newest first, for an administrator (or the command line)."""
    with uow:
        if actor is not None:
            require(actor, Action.MANAGE_USERS)
        user = _user(uow, user_id, actor)
        now = uow.clock()
        # Invitation links (services/users_admin.py) share the table; they are not sign-ins.
        views = [
            _session_view(s, now, policy) for s in uow.repo.sessions_of(user_id) if s.kind in SIGN_IN_KINDS
        ]
        active = sum(
            1
            for s in uow.repo.sessions_of(user_id, open_only=True, limit=None)
            if s.kind in SIGN_IN_KINDS and _ended_at(s, now, policy) is None
        )
        return UserSessionsView(user=UserView.of(actor_of(user)), active=active, sessions=views)


def end_user_sessions(
    uow: AbstractUnitOfWork,
    user_id: int,
    policy: SignInPolicy,
    actor: Actor | None = None,
    session_id: int | None = None,
) -> SessionsEnded:
    """End a user's sessions, all of them or the one named, at once (an administrator's act)."""
    with uow:
        if actor is not None:
            require(actor, Action.MANAGE_USERS)
        uow.act_as(actor.username if actor else "system", "sessions ended by an administrator")
        uow.repo.lock_sign_in(_user(uow, user_id, actor).username)  # a sign-in in flight is ended too
        if session_id is None:
            ended = _end_sessions_of(uow, user_id, "ended by an administrator", policy)
        else:
            found = uow.repo.user_session(session_id)
            if found is None or found.user_id != user_id:
                raise NotFound(f"The user has no session {session_id}.")
            ended = int(_end(found, uow.clock(), "ended by an administrator", policy))
        uow.commit()
        return SessionsEnded(ended=ended)
