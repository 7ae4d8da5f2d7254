"""Sign in and out, and who am I."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.security import HTTPAuthorizationCredentials

from customslab.entrypoints.api.deps import CurrentActor, UowFactory, bearer
from customslab.entrypoints.api.schemas import TokenIn
from customslab.services import auth

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/token")
def sign_in(body: TokenIn, request: Request, uow_factory: UowFactory) -> dict[str, Any]:
    """Exchange a username and password for an expiring bearer token."""
    ttl = request.app.state.settings.token_ttl_minutes
    return auth.issue_token(uow_factory(), body.username, body.password, ttl)


@router.post("/logout", status_code=204)
async def sign_out(request: Request, actor: CurrentActor, uow_factory: UowFactory) -> None:
    """Revoke the token used for this call."""
    creds: HTTPAuthorizationCredentials | None = await bearer(request)
    if creds is not None:
        auth.revoke_token(uow_factory(), creds.credentials)


@router.get("/me")
def me(actor: CurrentActor) -> dict[str, Any]:
    """The signed-in user, their laboratory or office, and their roles."""
    return {
        "id": actor.user_id,
        "username": actor.username,
        "org_code": actor.org_code,
        "roles": sorted(r.value for r in actor.roles),
    }
