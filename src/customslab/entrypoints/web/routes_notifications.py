"""My notifications: the list (unread first), opening one, marking one or all read."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from customslab.domain.access import Actor
from customslab.domain.enums import NotificationKind
from customslab.entrypoints.api.deps import Offset, PathId
from customslab.entrypoints.web.common import (
    N_,
    Form,
    PageActor,
    flash_redirect,
    is_htmx,
    render,
    say,
    uow_of,
)
from customslab.services import notifications
from customslab.services.notifications import NotificationQuery

router = APIRouter(include_in_schema=False)
PAGE = 30
K = NotificationKind

#: What each kind is, as the list heads it.
TITLES: dict[str, str] = {
    K.NEW_REFERRAL: N_("New referral to your laboratory"),
    K.TEST_ASSIGNED: N_("Test assigned to you"),
    K.RESULT_APPROVED: N_("Result approved on your request"),
    K.WORK_DUE: N_("Work due within a day"),
    K.CONTROLLED_SUBSTANCE: N_("Controlled substance identified on your request"),
    K.TARGETING_ALERT: N_("Targeting alert"),
    K.TRAINING_COMPLETION: N_("Training completion to accept"),
}
#: The subjects as services/notifications.py writes them (a unit test keeps the two equal), marked here
#: so that the page shows them in the reader's language.
SUBJECTS: dict[str, str] = {
    K.NEW_REFERRAL: N_("Sample {ref} was referred to your laboratory."),
    K.TEST_ASSIGNED: N_("A test on sample {ref} was assigned to you."),
    K.RESULT_APPROVED: N_("The results of sample {ref} were approved."),
    K.WORK_DUE: N_("Your test on sample {ref} is due within a day."),
    K.CONTROLLED_SUBSTANCE: N_(
        "Sample {ref} was identified as a controlled substance: the goods may have to be held."
    ),
    K.TARGETING_ALERT: N_("Targeting alert: {ref}"),
    K.TRAINING_COMPLETION: N_("A completed training awaits your acceptance: {ref}."),
}


def _context(request: Request, actor: Actor, unread_only: bool, offset: int = 0) -> dict[str, Any]:
    query = NotificationQuery(unread_only=unread_only, limit=PAGE, offset=offset)
    data = notifications.list_notifications(uow_of(request), actor, query)
    return {
        "data": data,
        "titles": TITLES,
        "subjects": SUBJECTS,
        "unread_only": unread_only,
        # The bell's count, from the same query (render would otherwise count again).
        "unread_notifications": data.unread,
    }


def _local(link: str) -> str:
    """A path on this site (a stored link is one; this keeps the redirect from leaving it regardless)."""
    return link if link.startswith("/") and not link.startswith(("//", "/\\")) else "/notifications"


@router.get("/notifications")
def notifications_page(
    request: Request, actor: PageActor, unread: bool = False, offset: Offset = 0
) -> Response:
    """My notifications, unread first, then newest first."""
    return render(request, "notifications.html", _context(request, actor, unread, offset))


# A post with the form's token, not a GET: a link or an image on another site must not mark (and so
# hide) a notification as read.
@router.post("/notifications/{notification_id}/open")
def open_notification(request: Request, actor: PageActor, notification_id: PathId, form: Form) -> Response:
    """Mark my notification read and go to what it is about."""
    seen = notifications.mark_read(uow_of(request), actor, notification_id)
    return RedirectResponse(_local(seen.link), status_code=303)


def _after_change(request: Request, actor: Actor, form: Any, message: str) -> Response:
    """The list again in place (with the bell's new count) for htmx; otherwise back to the page."""
    unread_only = str(form.get("unread") or "") == "1"
    if is_htmx(request):
        context = _context(request, actor, unread_only) | {"oob_bell": True}
        return render(request, "_notifications.html", context)
    return flash_redirect(request, "/notifications" + ("?unread=1" if unread_only else ""), message)


@router.post("/notifications/{notification_id}/read")
def mark_read(request: Request, actor: PageActor, notification_id: PathId, form: Form) -> Response:
    """Mark one of my notifications read."""
    notifications.mark_read(uow_of(request), actor, notification_id)
    return _after_change(request, actor, form, say(request, "Marked as read."))


@router.post("/notifications/read-all")
def mark_all_read(request: Request, actor: PageActor, form: Form) -> Response:
    """Mark every one of my notifications read."""
    done = notifications.mark_all_read(uow_of(request), actor)
    return _after_change(request, actor, form, say(request, "{n} marked as read.", n=done.marked))
