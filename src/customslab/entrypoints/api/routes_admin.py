"""Administration: users and the audit trail."""

from __future__ import annotations

from fastapi import APIRouter

from customslab.domain.access import Action, require
from customslab.entrypoints.api.deps import CurrentActor, UowFactory
from customslab.services import auth, queries
from customslab.services.auth import UserCreate, UserView
from customslab.services.queries import AuditVerdict

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.post("/users", status_code=201)
def add_user(body: UserCreate, actor: CurrentActor, uow_factory: UowFactory) -> UserView:
    """Create a user (admins only)."""
    return auth.add_user(uow_factory(), body, actor=actor)


@router.get("/audit/verify")
def verify_audit(actor: CurrentActor, uow_factory: UowFactory) -> AuditVerdict:
    """Recompute the audit hash chain (admins only)."""
    require(actor, Action.MANAGE_USERS)
    return queries.verify_audit(uow_factory())
