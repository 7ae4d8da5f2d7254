"""The text of an uploaded knowledge document: PDF (pypdf), DOCX (python-docx), HTML (BeautifulSoup with
Python's html.parser) and plain text or Markdown. Pure: bytes in, text out, no database, no files.

The type is taken from the media type the upload declares, else from the file name's suffix, and then
checked against the bytes themselves: a PDF starts with ``%PDF-``, a DOCX is a zip holding
``word/document.xml``, and a text file holds no NUL byte. A file whose bytes contradict its declared type
is refused rather than guessed at.

`ExtractedText.pages` is a PDF's page count. Other formats have no pages of their own; for them it is an
estimate of about 3,000 characters a page (at least 1), used for display and statistics only.

Everything that refuses a file raises `ExtractionError` (a ValueError) with a message fit for the person
who uploaded it: unsupported type, wrong type, encrypted or image-only PDF (no OCR is done), damaged
file, a zip that unpacks too far, or more than `MAX_CHARS` characters of text.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

__all__ = [
    "CHARS_PER_PAGE",
    "MAX_BYTES",
    "MAX_CHARS",
    "MAX_UNPACKED_BYTES",
    "MEDIA_TYPES",
    "ExtractedText",
    "ExtractionError",
    "extract_text",
]

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML = "text/html"
TEXT = "text/plain"
MARKDOWN = "text/markdown"

#: The media types read, by the file-name suffixes that declare them.
MEDIA_TYPES: dict[str, str] = {
    ".pdf": PDF,
    ".docx": DOCX,
    ".html": HTML,
    ".htm": HTML,
    ".xhtml": HTML,
    ".txt": TEXT,
    ".text": TEXT,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
}
_ALIASES = {"application/xhtml+xml": HTML, "text/x-markdown": MARKDOWN}

#: More text than this is not a document but a dump; the index would carry it for nothing.
MAX_CHARS = 5_000_000
#: The largest file read at all (a scanned 200-page report is larger, but has no text to read).
MAX_BYTES = 64 * 1024 * 1024
#: A DOCX is a zip; what it unpacks to is bounded by the sizes its directory declares, which Python's
#: zipfile never reads past, so a small zip that would unpack to gigabytes is refused unopened.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_ZIP_MEMBERS = 5_000
#: Estimate for formats without pages (a dense A4 page of prose).
CHARS_PER_PAGE = 3_000


class ExtractionError(ValueError):
    """The file's text cannot be read; the message says why, for the person who uploaded it."""


@dataclass(frozen=True)
class ExtractedText:
    text: str
    pages: int
    media_type: str


def extract_text(data: bytes, filename: str, media_type: str | None = None) -> ExtractedText:
    """The text of `data`, read as the type its media type (else its file name) declares."""
    kind = _declared_type(filename, media_type)
    if not data:
        raise ExtractionError(f"The file '{filename}' is empty.")
    if len(data) > MAX_BYTES:
        raise ExtractionError(f"The file '{filename}' is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    _check_contents(data, filename, kind)
    if kind == PDF:
        text, pages = _pdf_text(data)
    else:
        if kind == DOCX:
            text = _docx_text(data)
        elif kind == HTML:
            text = _html_text(data)
        else:
            text = _plain_text(data)
        _check_length(text)
        pages = max(1, -(-len(text) // CHARS_PER_PAGE))
    if not text.strip():
        raise ExtractionError(f"The file '{filename}' holds no text.")
    return ExtractedText(text=text, pages=pages, media_type=kind)


def _declared_type(filename: str, media_type: str | None) -> str:
    if media_type:
        declared = media_type.split(";", 1)[0].strip().lower()
        declared = _ALIASES.get(declared, declared)
        if declared in MEDIA_TYPES.values():
            return declared
    # Browsers send application/octet-stream (or nothing) for types they do not know: the suffix decides.
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if suffix in MEDIA_TYPES:
        return MEDIA_TYPES[suffix]
    known = ", ".join(sorted(MEDIA_TYPES))
    raise ExtractionError(
        f"The file '{filename}' is of a type that cannot be read; the types read are {known}."
    )


def _is_zip(data: bytes) -> bool:
    return data.startswith(b"PK\x03\x04")


def _check_contents(data: bytes, filename: str, kind: str) -> None:
    """Refuse a file whose first bytes say it is something other than its declared type."""
    # The PDF reference lets the header sit within the first 1024 bytes, and readers accept that.
    is_pdf = b"%PDF-" in data[:1024]
    if kind == PDF and not is_pdf:
        raise ExtractionError(f"The file '{filename}' is declared a PDF but is not one.")
    if kind == DOCX and not _is_zip(data):
        raise ExtractionError(f"The file '{filename}' is declared a Word (.docx) document but is not one.")
    if kind in (HTML, TEXT, MARKDOWN) and (data.startswith(b"%PDF-") or _is_zip(data)):
        raise ExtractionError(
            f"The file '{filename}' is declared as text but is a PDF or an archive; upload it with its "
            "own file name."
        )


def _check_length(text: str) -> None:
    if len(text) > MAX_CHARS:
        raise ExtractionError(
            f"The document holds more than {MAX_CHARS:,} characters of text; split it into smaller files."
        )


def _pdf_text(data: bytes) -> tuple[str, int]:
    # pypdf bounds what a compressed stream may inflate to (LimitReachedError), which covers PDF bombs.
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            # An empty user password only restricts printing or copying; anything else is locked.
            raise ExtractionError("The PDF is protected by a password; upload a copy without the password.")
        pages: list[str] = []
        length = 0
        for page in reader.pages:
            page_text = (page.extract_text() or "").strip()
            length += len(page_text) + 2
            if length > MAX_CHARS:
                _check_length(" " * length)  # stop reading at once: the rest would only be refused
            pages.append(page_text)
        count = len(reader.pages)
    except ExtractionError:
        raise
    except Exception:  # pypdf raises many kinds (PyPdfError, KeyError, ValueError) for a damaged file
        raise ExtractionError("The PDF is damaged and cannot be read.") from None
    text = "\n\n".join(p for p in pages if p)
    if not text.strip():
        raise ExtractionError(
            "The PDF has no text layer (it is a scan or holds only images); text recognition (OCR) is "
            "not done. Upload a PDF with text, or run OCR on it first."
        )
    return text, count


def _docx_text(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ExtractionError("The Word document is damaged and cannot be read.") from None
    if "word/document.xml" not in names:
        raise ExtractionError("The file is a zip archive but not a Word (.docx) document.")
    if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise ExtractionError(
            f"The Word document unpacks to more than {MAX_UNPACKED_BYTES // (1024 * 1024)} MB; "
            "it is not read."
        )
    import docx  # python-docx reads the document; we only walk its blocks

    try:
        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        _blocks(document, lines)
    except Exception:  # python-docx raises KeyError, ValueError, lxml errors ... for a damaged file
        raise ExtractionError("The Word document is damaged and cannot be read.") from None
    return "\n".join(lines)


def _blocks(container: Any, lines: list[str]) -> None:
    """Paragraphs and tables of a document or table cell, in reading order; a table row becomes one
    line of its cells' text separated by tabs (a merged cell counted once)."""
    from docx.table import Table

    for block in container.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                seen: set[int] = set()
                cells: list[str] = []
                for cell in row.cells:
                    if id(cell._tc) in seen:
                        continue
                    seen.add(id(cell._tc))
                    inner: list[str] = []
                    _blocks(cell, inner)
                    cells.append(" ".join(s for s in inner if s))
                if any(cells):
                    lines.append("\t".join(cells))
        elif block.text.strip():
            lines.append(block.text)


_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def _html_text(data: bytes) -> str:
    from bs4 import BeautifulSoup

    try:
        # Given bytes, BeautifulSoup finds the encoding itself (BOM, <meta charset>, then a guess).
        soup = BeautifulSoup(data, "html.parser")
        for element in soup(["script", "style", "noscript", "template"]):
            element.decompose()
        raw = soup.get_text("\n")
    except Exception:  # html.parser is lenient; anything it still raises means an unreadable file
        raise ExtractionError("The HTML page cannot be read.") from None
    lines = (_SPACES.sub(" ", line).strip() for line in raw.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _plain_text(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return _decoded(data[len(codecs.BOM_UTF8) :], "utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decoded(data, "utf-16")
    if b"\x00" in data:
        raise ExtractionError("The file is binary, not text.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ExtractionError("The text's character encoding cannot be recognised; save it as UTF-8.")
    return str(best)


def _decoded(data: bytes, encoding: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise ExtractionError(f"The file starts as {encoding.upper()} text but is not.") from None
    if "\x00" in text:
        raise ExtractionError("The file is binary, not text.")
    return text
