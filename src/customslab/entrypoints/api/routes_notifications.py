"""The signed-in user's notifications: list them, mark one or all read. Each user sees only their own."""

from __future__ import annotations

from enum import Enum

from fastapi import APIRouter, Query

from customslab.entrypoints.api.deps import Offset, PathId, SignedIn
from customslab.services import notifications
from customslab.services.notifications import (
    NotificationPage,
    NotificationQuery,
    NotificationsRead,
    NotificationView,
)

router = APIRouter(prefix="/api/notifications")
TAGS: list[str | Enum] = ["notifications"]


@router.get("", tags=TAGS, response_model=NotificationPage)
def list_notifications(
    caller: SignedIn,
    unread_only: bool = Query(False, description="Only the notifications not yet read"),
    limit: int = Query(50, ge=1, le=200),
    offset: Offset = 0,
) -> NotificationPage:
    """My notifications, unread first, then newest first, with how many are unread."""
    query = NotificationQuery(unread_only=unread_only, limit=limit, offset=offset)
    return notifications.list_notifications(caller.uow, caller.actor, query)


@router.post("/read-all", tags=TAGS, response_model=NotificationsRead)
def mark_all_read(caller: SignedIn) -> NotificationsRead:
    """Mark every one of my notifications read."""
    return notifications.mark_all_read(caller.uow, caller.actor)


@router.post("/{notification_id}/read", tags=TAGS, response_model=NotificationView)
def mark_read(notification_id: PathId, caller: SignedIn) -> NotificationView:
    """Mark one of my notifications read (404 for another user's)."""
    return notifications.mark_read(caller.uow, caller.actor, notification_id)
