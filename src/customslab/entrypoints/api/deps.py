"""Dependencies the routers share: the unit of work and the signed-in actor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from customslab.config import Settings
from customslab.domain.access import Actor
from customslab.domain.errors import NotFound
from customslab.services import auth
from customslab.services.auth import ClientInfo, SignInPolicy
from customslab.services.contract import MAX_INT
from customslab.services.ports import AbstractUnitOfWork

bearer = HTTPBearer(auto_error=False, description="Token from POST /api/auth/token")


def sign_in_policy(settings: Settings) -> SignInPolicy:
    """Session timeouts and sign-in throttling as configured."""
    return SignInPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        lifetime=timedelta(minutes=settings.session_lifetime_minutes),
        window=timedelta(minutes=settings.sign_in_window_minutes),
        backoff_after=settings.sign_in_backoff_after,
        backoff_max=timedelta(seconds=settings.sign_in_backoff_max_seconds),
        lockout_after=settings.sign_in_lockout_after,
        lockout=timedelta(minutes=settings.sign_in_lockout_minutes),
        address_backoff_after=settings.sign_in_address_backoff_after,
        address_lockout_after=settings.sign_in_address_lockout_after,
    )


def policy_of(request: Request) -> SignInPolicy:
    return sign_in_policy(request.app.state.settings)


def client_of(request: Request) -> ClientInfo:
    """The client's address as the ASGI server reports it (`request.client.host`).

    The application never reads X-Forwarded-For itself, since any client can send it. Behind a reverse
    proxy the address is the proxy's, unless the server is told to trust that proxy: uvicorn takes the
    client's address from X-Forwarded-For only for the proxies in FORWARDED_ALLOW_IPS (by default
    127.0.0.1 and ::1, a proxy on the same machine)."""
    address = request.client.host if request.client else ""
    return ClientInfo(address=address, user_agent=request.headers.get("user-agent", ""))


Policy = Annotated[SignInPolicy, Depends(policy_of)]
Client = Annotated[ClientInfo, Depends(client_of)]


def get_uow_factory(request: Request) -> Callable[[], AbstractUnitOfWork]:
    factory: Callable[[], AbstractUnitOfWork] = request.app.state.uow_factory
    return factory


UowFactory = Annotated[Callable[[], AbstractUnitOfWork], Depends(get_uow_factory)]


def current_actor(
    request: Request,
    uow_factory: UowFactory,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    """Every API route needs a valid bearer token; the web pages use their session instead."""
    if creds is None or creds.scheme.lower() != "bearer":
        raise HTTPException(
            401, "Sign in first: send 'Authorization: Bearer <token>'.", {"WWW-Authenticate": "Bearer"}
        )
    try:
        return auth.session_user(uow_factory(), creds.credentials, "api", policy_of(request)).actor
    except NotFound as exc:
        raise HTTPException(401, exc.message, {"WWW-Authenticate": "Bearer"}) from None


CurrentActor = Annotated[Actor, Depends(current_actor)]


@dataclass(frozen=True)
class Caller:
    """A fresh unit of work and the signed-in actor: the two arguments nearly every use case takes first."""

    uow: AbstractUnitOfWork
    actor: Actor


def current_caller(actor: CurrentActor, uow_factory: UowFactory) -> Caller:
    return Caller(uow_factory(), actor)


#: What a route that calls a use case on behalf of the signed-in user declares (one parameter, not two).
SignedIn = Annotated[Caller, Depends(current_caller)]


#: A record id in a path: out of the database's integer range it cannot exist, so it is a 422, not a 500.
PathId = Annotated[int, Path(ge=1, le=MAX_INT)]
#: A page offset within the same range.
Offset = Annotated[int, Query(ge=0, le=MAX_INT)]
