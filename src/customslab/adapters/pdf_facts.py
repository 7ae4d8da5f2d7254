"""What an attachment's preview shows of a PDF, read with pypdf: the page count and the first page's text."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from customslab.services.attachments import PdfFacts

log = logging.getLogger("customslab")

#: The first page's text is a glimpse, not the document: a page of a dense report is about this long.
FIRST_PAGE_CHARS = 4000


def read_pdf_facts(data: bytes) -> PdfFacts | None:
    """The page count and the first page's text (shortened), or None when pypdf cannot read the file."""
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = len(reader.pages)
        text = reader.pages[0].extract_text() if pages else ""
    except (PyPdfError, ValueError, OSError, KeyError, TypeError, RecursionError) as exc:
        # An instrument's PDF that pypdf cannot parse is still downloadable; the preview says so.
        log.info("attachment PDF not readable: %s", exc)
        return None
    text = text.strip()
    if len(text) > FIRST_PAGE_CHARS:
        text = text[:FIRST_PAGE_CHARS].rstrip() + "…"
    return PdfFacts(pages=pages, first_page_text=text)
