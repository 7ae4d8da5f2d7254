"""Reading a spectrum file's content, with read failures turned into SpectrumFormatError.

The readers keep their historical wording for a file that cannot be opened (the record formats say
"cannot be read (...)", the instrument-export formats "cannot read file: ..."): users and tests match
on those messages, so each helper keeps the wording of the readers that call it.
"""

from __future__ import annotations

from pathlib import Path

from customslab.spectra.model import SpectrumFormatError


def read_record_text(path: str | Path, *, fallback_encoding: str | None = None) -> str:
    """The text of an MSP or MassBank file: UTF-8 (a byte-order mark is dropped).

    Text that is not UTF-8 is decoded with `fallback_encoding` when the format is known to be written
    in a legacy encoding (old NIST tools write MSP in Latin-1); without one it is refused.
    """
    source = str(path)
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        if fallback_encoding is None:
            raise SpectrumFormatError(source, f"not UTF-8 text ({exc.reason})") from None
        return Path(path).read_text(encoding=fallback_encoding)
    except OSError as exc:
        raise SpectrumFormatError(source, f"cannot be read ({exc.strerror})") from None


def read_export_bytes(path: Path) -> bytes:
    """The raw content of an instrument export (JCAMP-DX, CSV/TXT); the reader decodes it leniently."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SpectrumFormatError(str(path), f"cannot read file: {exc.strerror or exc}") from None
