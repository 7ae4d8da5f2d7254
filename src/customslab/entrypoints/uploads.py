"""Uploaded files: the API and the pages hand them to the use case the same way."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from customslab.domain.access import Actor
from customslab.domain.errors import ValidationFailed
from customslab.services import analysis
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.views import AttachmentView


def attach_upload(
    request: Request,
    uow: AbstractUnitOfWork,
    actor: Actor,
    test_id: int,
    upload: UploadFile,
    media_type: str = "application/octet-stream",
) -> AttachmentView:
    """Stream the upload into the file store; `media_type` is used when the client sent none."""
    return analysis.attach_file(
        uow,
        actor,
        test_id,
        filename=upload.filename or "",
        media_type=upload.content_type or media_type,
        stream=upload.file,
        max_bytes=request.app.state.settings.max_upload_bytes,
    )


def uploaded_file(form: FormData, missing: str) -> UploadFile:
    """A page form's `file` field, or `missing` as that field's error when no file was chosen."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ValidationFailed(missing, field="file")
    return upload
