"""JCAMP-DX 5.01 writer: (X++(Y..Y)) in DIFDUP or AFFN for even profiles, (XY..XY) otherwise."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from customslab.spectra.formats.jcamp_asdf import encode_affn, encode_difdup
from customslab.spectra.model import Spectrum, SpectrumFormatError, Technique

# Ordinates are stored as integers times YFACTOR; 1e8 steps over the largest |y| keeps every value
# inside a signed 32-bit integer, which older readers require, while losing nothing an instrument resolves.
_Y_STEPS = 1e8
_DATA_TYPES = {
    Technique.FTIR: "INFRARED SPECTRUM",
    Technique.RAMAN: "RAMAN SPECTRUM",
    Technique.EI_MS: "MASS SPECTRUM",
}
_Y_UNITS = {
    "absorbance": "ABSORBANCE",
    "transmittance": "TRANSMITTANCE",
    "reflectance": "REFLECTANCE",
    "counts": "COUNTS",
    "relative_abundance": "RELATIVE ABUNDANCE",
}
_TEXT_METADATA = (
    ("cas_registry_no", "CAS REGISTRY NO"),
    ("molform", "MOLFORM"),
    ("origin", "ORIGIN"),
    ("owner", "OWNER"),
)


def choose_yfactor(y: np.ndarray) -> float:
    """A power of ten such that max|y| / YFACTOR is at most 1e9; 1 for an all-zero spectrum."""
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak == 0.0:
        return 1.0
    return float(10.0 ** math.floor(math.log10(peak / _Y_STEPS)))


def write_jcamp(
    spectra: Spectrum | Sequence[Spectrum],
    path: str | Path,
    *,
    compression: Literal["DIFDUP", "AFFN"] = "DIFDUP",
) -> None:
    """Write spectra as JCAMP-DX 5.01: one block, or a compound file (##BLOCKS) for several."""
    items = [spectra] if isinstance(spectra, Spectrum) else list(spectra)
    target = str(path)
    if compression not in ("DIFDUP", "AFFN"):
        raise SpectrumFormatError(target, f"unknown compression {compression!r}; use 'DIFDUP' or 'AFFN'")
    if not items:
        raise SpectrumFormatError(target, "nothing to write")
    blocks = [_block_lines(s, target, compression, i + 1) for i, s in enumerate(items)]
    if len(blocks) == 1:
        lines = blocks[0]
    else:
        lines = [
            "##TITLE=customslab compound file",
            "##JCAMP-DX=5.01",
            "##DATA TYPE=LINK",
            f"##BLOCKS={len(blocks)}",
        ]
        for block in blocks:
            lines.extend(block)
        lines.append("##END=")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _clean(value: object) -> str:
    # A value must stay on its line and must not open a comment or a new record.
    return " ".join(str(value).split()).replace("$$", "$ $").replace("##", "# #")


def _block_lines(spectrum: Spectrum, target: str, compression: str, block_id: int) -> list[str]:
    x, y = spectrum.x, spectrum.y
    if x.size == 0:
        raise SpectrumFormatError(target, f"spectrum {spectrum.name!r} is empty")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise SpectrumFormatError(target, f"spectrum {spectrum.name!r} holds values that are not finite")
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    meta = spectrum.metadata
    x_unit = meta.get("x_unit", "m/z" if spectrum.technique is Technique.EI_MS else "cm-1")
    lines = [
        f"##TITLE={_clean(spectrum.name) or 'untitled'}",
        "##JCAMP-DX=5.01",
        f"##DATA TYPE={_DATA_TYPES[spectrum.technique]}",
        f"##BLOCK_ID={block_id}",
    ]
    if meta.get("names"):
        names = [_clean(n) for n in str(meta["names"]).splitlines() if n.strip()]
        lines.append("##NAMES=" + "\n".join(names))
    lines.extend(f"##{label}={_clean(meta[key])}" for key, label in _TEXT_METADATA if meta.get(key))
    if not meta.get("origin"):
        lines.append("##ORIGIN=customslab")
    if not meta.get("owner"):
        lines.append("##OWNER=unknown")
    if spectrum.technique is Technique.EI_MS:
        lines.append("##XUNITS=M/Z")
    else:
        lines.append("##XUNITS=NANOMETERS" if x_unit == "nm" else "##XUNITS=1/CM")
    lines.append(f"##YUNITS={_Y_UNITS.get(str(meta.get('y_unit', '')), 'ARBITRARY UNITS')}")
    lines.append(f"##NPOINTS={x.size}")
    if spectrum.technique is not Technique.EI_MS and x.size > 2 and _evenly_spaced(x):
        lines.extend(_xydata(x, y, compression))
    else:
        label = "PEAK TABLE" if spectrum.technique is Technique.EI_MS else "XYPOINTS"
        lines.extend(["##XFACTOR=1", "##YFACTOR=1", f"##{label}=(XY..XY)"])
        lines.extend(f"{float(a)!r},{float(b)!r}" for a, b in zip(x, y, strict=True))
    lines.append("##END=")
    return lines


def _evenly_spaced(x: np.ndarray) -> bool:
    grid = np.linspace(x[0], x[-1], x.size)
    span = float(x[-1] - x[0])
    return span > 0 and float(np.max(np.abs(grid - x))) <= 1e-9 * span


def _xydata(x: np.ndarray, y: np.ndarray, compression: str) -> list[str]:
    yfactor = choose_yfactor(y)
    ints = [int(v) for v in np.rint(y / yfactor)]
    step = float(x[-1] - x[0]) / (x.size - 1)
    decimals = min(12, max(3, 3 - math.floor(math.log10(abs(step)))))
    # Fixed-point X labels: an exponent 'e' would read as an ASDF digit on compressed lines.
    labels = [f"{firstx:.{decimals}f}" for firstx in np.linspace(x[0], x[-1], x.size)]
    header = [
        "##XFACTOR=1",
        f"##YFACTOR={yfactor!r}",
        f"##FIRSTX={float(x[0])!r}",
        f"##LASTX={float(x[-1])!r}",
        f"##DELTAX={step!r}",
        f"##FIRSTY={ints[0] * yfactor!r}",
        "##XYDATA=(X++(Y..Y))",
    ]
    body = encode_difdup(labels, ints) if compression == "DIFDUP" else encode_affn(labels, ints)
    return header + body
