"""Administration: users and the audit trail."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from customslab.domain.access import Action, require
from customslab.entrypoints.api.deps import CurrentActor, UowFactory
from customslab.entrypoints.api.schemas import UserIn
from customslab.services import auth, queries

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.post("/users", status_code=201)
def add_user(body: UserIn, actor: CurrentActor, uow_factory: UowFactory) -> dict[str, Any]:
    """Create a user (admins only)."""
    return auth.add_user(uow_factory(), actor=actor, **body.model_dump())


@router.get("/audit/verify")
def verify_audit(actor: CurrentActor, uow_factory: UowFactory) -> dict[str, Any]:
    """Recompute the audit hash chain (admins only)."""
    require(actor, Action.MANAGE_USERS)
    return queries.verify_audit(uow_factory())
