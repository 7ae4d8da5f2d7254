"""Sign in and out, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.security import HTTPAuthorizationCredentials

from customslab.entrypoints.api.deps import CurrentActor, UowFactory, bearer
from customslab.services import auth
from customslab.services.auth import TokenRequest, TokenView, UserView

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/token")
def sign_in(body: TokenRequest, request: Request, uow_factory: UowFactory) -> TokenView:
    """Exchange a username and password for an expiring bearer token."""
    ttl = request.app.state.settings.token_ttl_minutes
    return auth.issue_token(uow_factory(), body, ttl)


@router.post("/logout", status_code=204)
async def sign_out(request: Request, actor: CurrentActor, uow_factory: UowFactory) -> None:
    """Revoke the token used for this call."""
    creds: HTTPAuthorizationCredentials | None = await bearer(request)
    if creds is not None:
        auth.revoke_token(uow_factory(), creds.credentials)


@router.get("/me")
def me(actor: CurrentActor) -> UserView:
    """The signed-in user, their laboratory or office, and their roles."""
    return UserView.of(actor)
