"""Reading a test's raw instrument files: the download, and what a preview shows of each kind of file.

Who may read a file is who may read the sample's work in progress and its raw files (the visibility
table's Kind.RESULT_FILE): everyone else gets NotFound, as for a record that does not exist.

The media type an upload arrived with is the client's word, so what a browser may show inline is
decided from the bytes themselves: PNG, JPEG, GIF and WebP images and PDF documents, nothing else.
Markup (HTML, SVG, XML) is never served with its own type: a browser would run what it carries.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import PurePath

import numpy as np

from customslab.domain.access import Actor, Kind
from customslab.domain.errors import NotFound, ValidationFailed
from customslab.domain.model import AnalysisTest, Attachment, Sample
from customslab.services.common import visible_sample
from customslab.services.contract import View
from customslab.services.identification import read_query
from customslab.services.ports import AbstractUnitOfWork
from customslab.spectra.model import Spectrum, Technique

#: Points drawn of a long profile: about two per pixel of a wide screen keeps every peak's height.
PLOT_POINTS = 2400
#: Suffixes of the text formats the project's spectrum readers know (spectra/formats).
SPECTRUM_SUFFIXES = frozenset({".jdx", ".dx", ".jcamp", ".jcm", ".msp", ".csv", ".txt", ".tsv", ".dat"})
#: The file signatures of what may be shown inline, and the media type it is then served with.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
)
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*$")
#: Media types a browser renders as a document or runs, whatever the file claims to be.
_ACTIVE = ("html", "xml", "svg", "javascript", "ecmascript", "x-shockwave")
_MARKUP_START = re.compile(rb"^\s*<(\?xml|!doctype|html|svg|script|head|body|iframe)", re.IGNORECASE)
OCTET_STREAM = "application/octet-stream"


class PreviewKind(StrEnum):
    IMAGE = "image"
    PDF = "pdf"
    SPECTRUM = "spectrum"
    OTHER = "other"


class AttachmentInfo(View):
    """An attached file as its download and preview pages describe it."""

    id: int
    test_id: int
    sample_id: int
    lab_sample_id: str
    determination: str
    filename: str
    media_type: str
    size: int
    sha256: str
    uploaded_at: datetime | None
    kind: PreviewKind
    served_type: str  # the media type the download carries (markup goes as application/octet-stream)
    inline: bool  # whether the browser may show it in place (a checked image or PDF)


@dataclass(frozen=True)
class AttachmentContent:
    info: AttachmentInfo
    data: bytes


class SpectrumPlot(View):
    """A spectrum as a plot draws it: the points (thinned when long) and what the axes measure."""

    name: str
    technique: Technique
    x_quantity: str  # m/z, wavenumber, raman_shift or wavelength
    y_unit: str  # absorbance, transmittance, counts... as the reader gives it; base_peak_percent for MS
    sticks: bool  # a mass spectrum's centroid peaks are drawn as sticks, a profile as a line
    reversed_x: bool  # infrared spectra are read from high wavenumber to low
    points: int
    x: list[float]
    y: list[float]


class PdfFacts(View):
    pages: int
    first_page_text: str


#: Reads what a preview shows of a PDF (an adapter does, with a PDF library); None when unreadable.
PdfReader = Callable[[bytes], PdfFacts | None]


class AttachmentPreview(View):
    info: AttachmentInfo
    spectrum: SpectrumPlot | None = None
    pdf: PdfFacts | None = None
    problem: str | None = None  # why a file that looked like a spectrum or a PDF could not be read


def attachment_file(uow: AbstractUnitOfWork, actor: Actor, attachment_id: int) -> AttachmentContent:
    """An attached instrument file and its bytes, for a user who may read the sample's raw files."""
    with uow:
        att, test, sample = _visible_attachment(uow, actor, attachment_id)
        with uow.files.open(att.sha256) as stream:
            data = stream.read()
        return AttachmentContent(_info(att, test, sample, data), data)


def attachment_preview(
    uow: AbstractUnitOfWork, actor: Actor, attachment_id: int, read_pdf: PdfReader
) -> AttachmentPreview:
    """What the preview page shows of a file: an image, a PDF's page count and first page's text, a
    spectrum's points to plot, or (any other file) its description alone."""
    content = attachment_file(uow, actor, attachment_id)
    info, data = content.info, content.data
    if info.kind is PreviewKind.PDF:
        facts = read_pdf(data)
        problem = None if facts else "The PDF could not be read; download it to open it."
        return AttachmentPreview(info=info, pdf=facts, problem=problem)
    if info.kind is PreviewKind.SPECTRUM:
        try:
            spectrum = read_query(data, info.filename)
        except ValidationFailed as exc:
            return AttachmentPreview(info=info, problem=exc.message)
        return AttachmentPreview(info=info, spectrum=spectrum_plot(spectrum))
    return AttachmentPreview(info=info)


def spectrum_plot(spectrum: Spectrum, limit: int = PLOT_POINTS) -> SpectrumPlot:
    """The plot of a spectrum; a profile longer than `limit` keeps each stretch's lowest and highest
    point (min-max decimation), so no peak is lost however long the scan."""
    x, y = spectrum.x, spectrum.y
    sticks = spectrum.technique is Technique.EI_MS
    if not sticks and x.size > limit:
        buckets = np.array_split(np.arange(x.size), limit // 2)
        keep = sorted({int(i[np.argmin(y[i])]) for i in buckets} | {int(i[np.argmax(y[i])]) for i in buckets})
        x, y = x[keep], y[keep]
    if sticks and y.size and float(y.max()) > 0:
        y = y / y.max() * 100.0  # as mass spectra are read: the base peak is 100
    unit = str(spectrum.metadata.get("x_unit") or "")
    if spectrum.technique is Technique.EI_MS:
        quantity = "m/z"
    elif unit == "nm":
        quantity = "wavelength"
    else:
        quantity = "raman_shift" if spectrum.technique is Technique.RAMAN else "wavenumber"
    return SpectrumPlot(
        name=spectrum.name,
        technique=spectrum.technique,
        x_quantity=quantity,
        y_unit="base_peak_percent" if sticks else str(spectrum.metadata.get("y_unit") or "intensity"),
        sticks=sticks,
        reversed_x=quantity == "wavenumber",
        points=int(spectrum.x.size),
        x=[float(v) for v in x],
        y=[float(v) for v in y],
    )


def _visible_attachment(
    uow: AbstractUnitOfWork, actor: Actor, attachment_id: int
) -> tuple[Attachment, AnalysisTest, Sample]:
    att = uow.repo.attachment(attachment_id)
    test = uow.repo.test(att.test_id) if att is not None and att.test_id is not None else None
    missing = NotFound(f"File {attachment_id} was not found.")
    if att is None or test is None or test.sample_id is None or not actor.sees_work_in_progress:
        raise missing
    try:
        sample = visible_sample(uow, actor, test.sample_id, Kind.RESULT_FILE)
    except NotFound:
        raise missing from None
    if not uow.files.exists(att.sha256):
        raise missing
    return att, test, sample


def _info(att: Attachment, test: AnalysisTest, sample: Sample, data: bytes) -> AttachmentInfo:
    shown = inline_type(data)
    kind = _kind(shown, att, data)
    return AttachmentInfo.of_record(
        att,
        test_id=test.id,
        sample_id=sample.id,
        lab_sample_id=sample.lab_sample_id,
        determination=test.determination,
        kind=kind,
        served_type=shown or served_type(att.media_type, data),
        inline=shown is not None,
    )


def inline_type(data: bytes) -> str | None:
    """The media type to show a file in place with, read from its signature: a PNG, JPEG, GIF or WebP
    image, or a PDF; None for anything else, whatever it claims to be."""
    for magic, offset, media_type in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic and (magic != b"WEBP" or data[:4] == b"RIFF"):
            return media_type
    # PDF readers accept the header anywhere in the first kilobyte (ISO 32000-1, annex H.3).
    if b"%PDF-" in data[:1024]:
        return "application/pdf"
    return None


def served_type(stored: str, data: bytes) -> str:
    """The media type a download carries: the stored one, unless it is malformed or a type a browser
    would render or run, or the bytes are markup, when the file goes as application/octet-stream."""
    base = stored.split(";", 1)[0].strip().lower()
    if not _MEDIA_TYPE.match(base) or any(word in base for word in _ACTIVE) or _is_markup(data):
        return OCTET_STREAM
    return base


def _is_markup(data: bytes) -> bool:
    return bool(_MARKUP_START.match(data[:512].lstrip(b"\xef\xbb\xbf")))


def _kind(shown: str | None, att: Attachment, data: bytes) -> PreviewKind:
    if shown == "application/pdf":
        return PreviewKind.PDF
    if shown is not None:
        return PreviewKind.IMAGE
    suffix = PurePath(att.filename).suffix.lower()
    textual = att.media_type.startswith("text/") or "jcamp" in att.media_type
    if _is_markup(data) or b"\x00" in data[:65536]:
        return PreviewKind.OTHER
    if suffix in SPECTRUM_SUFFIXES or textual:
        return PreviewKind.SPECTRUM
    return PreviewKind.OTHER
