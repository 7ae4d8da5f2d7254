"""Sign in and out, change one's password, and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import HTTPAuthorizationCredentials

from customslab.entrypoints.api.deps import Client, CurrentActor, Policy, UowFactory, bearer
from customslab.services import auth
from customslab.services.auth import PasswordChange, SessionsEnded, TokenRequest, TokenView, UserView

router = APIRouter(prefix="/api/auth", tags=["auth"])


#: The bearer token of this call (CurrentActor has checked it).
Token = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


@router.post("/token")
def sign_in(body: TokenRequest, uow_factory: UowFactory, client: Client, policy: Policy) -> TokenView:
    """Exchange a username and password for a bearer token (ends after its idle time or lifetime).

    After repeated failures for the account or from the address, attempts are refused with 429 and
    `Retry-After`, the password unchecked, until the wait is over."""
    return auth.sign_in(uow_factory(), body, "api", client, policy)


@router.post("/logout", status_code=204)
def sign_out(actor: CurrentActor, token: Token, uow_factory: UowFactory, policy: Policy) -> None:
    """End the session of the token used for this call."""
    if token is not None:
        auth.sign_out(uow_factory(), token.credentials, policy)


@router.post("/password")
def change_password(
    body: PasswordChange,
    actor: CurrentActor,
    token: Token,
    uow_factory: UowFactory,
    client: Client,
    policy: Policy,
) -> SessionsEnded:
    """Change one's own password (the current one confirms it); the user's other sessions end."""
    current = token.credentials if token is not None else None
    return auth.change_password(uow_factory(), actor, body, client, policy, current_token=current)


@router.get("/me")
def me(actor: CurrentActor) -> UserView:
    """The signed-in user, their laboratory or office, and their roles."""
    return UserView.of(actor)
