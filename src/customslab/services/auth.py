"""Use cases of identity: users, passwords, tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from pydantic import Field, StringConstraints, ValidatorFunctionWrapHandler, WrapValidator
from pydantic import ValidationError as PydanticValidationError

from customslab.domain.access import Action, Actor, require
from customslab.domain.enums import Role
from customslab.domain.errors import Conflict, NotFound, PermissionDenied
from customslab.domain.model import User
from customslab.services.contract import Command, Text, View
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
    return _hasher().hash(password)


def actor_of(user: User | Actor) -> Actor:
    if isinstance(user, Actor):
        return user
    assert user.id is not None
    return Actor(user.id, user.username, user.org_code, user.roles)


#: A password as typed: never stripped, bounded so that hashing stays cheap.
Password = Annotated[str, StringConstraints(max_length=200)]
#: A new user's password.
NewPassword = Annotated[str, StringConstraints(min_length=8, max_length=200)]


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
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime


def add_user(uow: AbstractUnitOfWork, cmd: UserCreate, actor: Actor | None = None) -> UserView:
    """Create a user; from the API only an admin may, the CLI acts as the system."""
    with uow:
        if actor is not None:
            require(actor, Action.MANAGE_USERS)
        uow.act_as(actor.username if actor else "system")
        if uow.repo.user_by_name(cmd.username):
            raise Conflict(f"The username '{cmd.username}' is taken.")
        if uow.repo.org(cmd.org_code) is None:
            raise NotFound(f"There is no laboratory or office '{cmd.org_code}'.", field="org_code")
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


def authenticate(uow: AbstractUnitOfWork, creds: TokenRequest) -> Actor:
    """Check a username and password; raises PermissionDenied with one message for both failures."""
    with uow:
        user = uow.repo.user_by_name(creds.username)
        try:
            hasher = _hasher()
            hasher.verify(user.password_hash if user else str(_state["dummy"]), creds.password)
        except (VerifyMismatchError, InvalidHashError):
            user = None
        if user is None or not user.active:
            raise PermissionDenied("Unknown username or wrong password.")
        return actor_of(user)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(uow: AbstractUnitOfWork, creds: TokenRequest, ttl_minutes: int) -> TokenView:
    """Sign in: returns an opaque bearer token; only its hash is stored."""
    actor = authenticate(uow, creds)
    with uow:
        token = secrets.token_urlsafe(32)
        now = uow.clock()
        expires = now + timedelta(minutes=ttl_minutes)
        uow.repo.add_token(_token_hash(token), actor.user_id, now, expires)
        uow.commit()
        return TokenView(access_token=token, expires_at=expires)


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
