"""Administration: users and the audit trail."""

from __future__ import annotations

from fastapi import APIRouter, Request

from customslab.domain.access import Action, require
from customslab.entrypoints.api.deps import PathId, Policy, SignedIn
from customslab.services import auth, queries
from customslab.services.auth import SessionsEnded, UserCreate, UserSessionsView, UserView
from customslab.services.queries import AuditVerdict

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.post("/users", status_code=201)
def add_user(body: UserCreate, caller: SignedIn) -> UserView:
    """Create a user (admins only)."""
    return auth.add_user(caller.uow, body, actor=caller.actor)


@router.get("/users/{user_id}/sessions")
def user_sessions(user_id: PathId, caller: SignedIn, policy: Policy) -> UserSessionsView:
    """A user's sessions (API tokens, page sign-ins), newest first, and whether each holds (admins only)."""
    return auth.user_sessions(caller.uow, user_id, policy, actor=caller.actor)


@router.post("/users/{user_id}/sessions/end")
def end_user_sessions(user_id: PathId, caller: SignedIn, policy: Policy) -> SessionsEnded:
    """End every session of a user at once: they must sign in again (admins only)."""
    return auth.end_user_sessions(caller.uow, user_id, policy, actor=caller.actor)


@router.post("/users/{user_id}/sessions/{session_id}/end")
def end_user_session(user_id: PathId, session_id: PathId, caller: SignedIn, policy: Policy) -> SessionsEnded:
    """End one session of a user at once (admins only)."""
    return auth.end_user_sessions(caller.uow, user_id, policy, actor=caller.actor, session_id=session_id)


@router.get("/audit/verify")
def verify_audit(caller: SignedIn, request: Request) -> AuditVerdict:
    """Recompute the audit hash chain and check it against its signed checkpoints (admins only)."""
    require(caller.actor, Action.MANAGE_USERS)
    return queries.verify_audit(caller.uow, request.app.state.audit_anchor)
