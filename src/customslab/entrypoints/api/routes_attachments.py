"""A test's raw instrument files, as uploaded."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from customslab.entrypoints.api.deps import PathId, SignedIn
from customslab.entrypoints.downloads import attachment_response
from customslab.services import attachments

router = APIRouter(prefix="/api", tags=["tests"])


@router.get(
    "/attachments/{attachment_id}",
    response_class=Response,
    responses={
        200: {
            "description": "The file's exact bytes, always as a download. The type is the one it was "
            "uploaded with, except markup (HTML, SVG, XML), which comes as application/octet-stream.",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def download_attachment(attachment_id: PathId, caller: SignedIn) -> Response:
    """Download a raw instrument file of a test (laboratory staff who may read the sample's files)."""
    return attachment_response(attachments.attachment_file(caller.uow, caller.actor, attachment_id))
