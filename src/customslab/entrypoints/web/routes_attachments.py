"""A test's raw instrument files: the download, and a preview page (image, PDF, spectrum plot)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from customslab.adapters.pdf_facts import read_pdf_facts
from customslab.entrypoints.api.deps import PathId
from customslab.entrypoints.downloads import attachment_response
from customslab.entrypoints.web.common import PageActor, language, render, translations, uow_of
from customslab.entrypoints.web.spectrum_svg import axis_labels, spectrum_svg
from customslab.services import attachments

router = APIRouter(include_in_schema=False)


@router.get("/attachments/{attachment_id}")
def download(request: Request, actor: PageActor, attachment_id: PathId, inline: bool = False) -> Response:
    """The file as uploaded; `inline=1` shows a checked image or PDF in place, anything else downloads."""
    return attachment_response(attachments.attachment_file(uow_of(request), actor, attachment_id), inline)


@router.get("/attachments/{attachment_id}/preview")
def preview(request: Request, actor: PageActor, attachment_id: PathId) -> Response:
    """What the file holds, shown in the page: the image, the PDF's first page, or the spectrum plotted."""
    data = attachments.attachment_preview(uow_of(request), actor, attachment_id, read_pdf_facts)
    gettext = translations(language(request)).gettext
    plot = spectrum_svg(data.spectrum, gettext) if data.spectrum else None
    axes = axis_labels(data.spectrum, gettext) if data.spectrum else None
    return render(request, "attachment_preview.html", {"p": data, "a": data.info, "plot": plot, "axes": axes})
