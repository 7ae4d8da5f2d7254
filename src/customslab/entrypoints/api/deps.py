"""Dependencies the routers share: the unit of work and the signed-in actor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from customslab.domain.access import Actor
from customslab.domain.errors import NotFound
from customslab.services import auth
from customslab.services.contract import MAX_INT
from customslab.services.ports import AbstractUnitOfWork

bearer = HTTPBearer(auto_error=False, description="Token from POST /api/auth/token")


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
        return auth.actor_for_token(uow_factory(), creds.credentials)
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
