"""Use cases of identity: users, passwords, tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

from customslab.domain.access import Action, Actor, require
from customslab.domain.enums import Role
from customslab.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from customslab.domain.model import User
from customslab.services.ports import AbstractUnitOfWork

_state: dict[str, object] = {}


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Choose the argon2 parameters (the test suite picks cheap ones; production keeps the defaults)."""
    _state["hasher"] = hasher
    # Verifying against a dummy hash when the user is unknown keeps response times alike,
    # so a login form does not reveal which usernames exist.
    _state["dummy"] = hasher.hash("not-a-real-password")


def _hasher() -> PasswordHasher:
    if "hasher" not in _state:
        use_password_hasher(PasswordHasher())
    hasher = _state["hasher"]
    assert isinstance(hasher, PasswordHasher)
    return hasher


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ValidationFailed("A password needs at least 8 characters.", field="password")
    return _hasher().hash(password)


def actor_of(user: User | Actor) -> Actor:
    if isinstance(user, Actor):
        return user
    assert user.id is not None
    return Actor(user.id, user.username, user.org_code, user.roles)


def add_user(
    uow: AbstractUnitOfWork,
    *,
    username: str,
    full_name: str,
    org_code: str,
    roles: list[str],
    password: str,
    email: str = "",
    actor: Actor | None = None,
) -> dict[str, object]:
    """Create a user; from the API only an admin may, the CLI acts as the system."""
    with uow:
        if actor is not None:
            require(actor, Action.MANAGE_USERS)
        uow.act_as(actor.username if actor else "system")
        if not username.strip():
            raise ValidationFailed("A username is required.", field="username")
        if uow.repo.user_by_name(username):
            raise Conflict(f"The username '{username}' is taken.")
        if uow.repo.org(org_code) is None:
            raise ValidationFailed(f"There is no laboratory or office '{org_code}'.", field="org_code")
        try:
            role_set = frozenset(Role(r) for r in roles)
        except ValueError as exc:
            allowed = ", ".join(r.value for r in Role)
            raise ValidationFailed(f"Unknown role ({exc}); roles are: {allowed}.", field="roles") from exc
        if not role_set:
            raise ValidationFailed("A user needs at least one role.", field="roles")
        user = User(username, full_name, org_code, role_set, email, hash_password(password))
        uow.repo.add(user)
        uow.repo.flush()
        uow.commit()
        return {"id": user.id, "username": user.username, "org_code": org_code, "roles": sorted(roles)}


def authenticate(uow: AbstractUnitOfWork, username: str, password: str) -> Actor:
    """Check a username and password; raises PermissionDenied with one message for both failures."""
    with uow:
        user = uow.repo.user_by_name(username)
        try:
            hasher = _hasher()
            hasher.verify(user.password_hash if user else str(_state["dummy"]), password)
        except (VerifyMismatchError, InvalidHashError):
            user = None
        if user is None or not user.active:
            raise PermissionDenied("Unknown username or wrong password.")
        return actor_of(user)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(uow: AbstractUnitOfWork, username: str, password: str, ttl_minutes: int) -> dict[str, object]:
    """Sign in: returns an opaque bearer token; only its hash is stored."""
    actor = authenticate(uow, username, password)
    with uow:
        token = secrets.token_urlsafe(32)
        now = uow.clock()
        expires = now + timedelta(minutes=ttl_minutes)
        uow.repo.add_token(_token_hash(token), actor.user_id, now, expires)
        uow.commit()
        return {"access_token": token, "token_type": "bearer", "expires_at": expires.isoformat()}


def actor_for_token(uow: AbstractUnitOfWork, token: str) -> Actor:
    with uow:
        user = uow.repo.token_user(_token_hash(token), uow.clock())
        if user is None or not user.active:
            raise NotFound("The token is unknown, expired or revoked; sign in again.")
        return actor_of(user)


def revoke_token(uow: AbstractUnitOfWork, token: str) -> None:
    """Sign out: the token stops working at once."""
    with uow:
        uow.repo.revoke_token(_token_hash(token), uow.clock())
        uow.commit()
