"""Administration: users and the audit trail."""

from __future__ import annotations

from fastapi import APIRouter

from customslab.domain.access import Action, require
from customslab.entrypoints.api.deps import SignedIn
from customslab.services import auth, queries
from customslab.services.auth import UserCreate, UserView
from customslab.services.queries import AuditVerdict

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.post("/users", status_code=201)
def add_user(body: UserCreate, caller: SignedIn) -> UserView:
    """Create a user (admins only)."""
    return auth.add_user(caller.uow, body, actor=caller.actor)


@router.get("/audit/verify")
def verify_audit(caller: SignedIn) -> AuditVerdict:
    """Recompute the audit hash chain (admins only)."""
    require(caller.actor, Action.MANAGE_USERS)
    return queries.verify_audit(caller.uow)
