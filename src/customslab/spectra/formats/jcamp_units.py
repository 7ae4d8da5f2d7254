"""JCAMP-DX technique and units: ##DATA TYPE, ##XUNITS, ##YUNITS and a Raman file's laser wavelength.

Units compare as labels do (case, blanks, dashes, slashes and underscores ignored), so `1/CM`,
`1/cm` and `CM-1` are one unit. Wavelengths become wavenumbers (cm⁻¹); a Raman spectrum in
nanometres becomes a Raman shift when the excitation wavelength is known, from the caller or
from the file (##$LASER WAVELENGTH= and similar vendor labels), and otherwise stays in nm.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from customslab.spectra.model import FloatArray, SpectrumFormatError, Technique


def normalise_label(label: str) -> str:
    """JCAMP labels compare without case, spaces, dashes, slashes and underscores (spec 4.24, 3.2)."""
    return re.sub(r"[\s\-/_]", "", label).upper()


_WAVENUMBERS = {"1CM", "CM1", "CM^1", "CM**1", "WAVENUMBER", "WAVENUMBERS", "RAMANSHIFT", "CM⁻¹", ""}
# "ΜM" is µm or μm upper-cased (both become a Greek capital mu).
_MICROMETRES = {"MICROMETERS", "MICROMETRES", "MICROMETER", "MICRONS", "MICRON", "UM", "ΜM"}
_NANOMETRES = {"NANOMETERS", "NANOMETRES", "NANOMETER", "NM"}
_PER_CM = {"1CM", "CM1", "CM^1"}
_MASS = {"M/Z", "MZ", "DALTONS", "DALTON", "DA", "AMU"}
Y_UNITS = {
    "ABSORBANCE": "absorbance",
    "ABS": "absorbance",
    "TRANSMITTANCE": "transmittance",
    "%T": "percent_transmittance",
    "T%": "percent_transmittance",
    "%TRANSMITTANCE": "percent_transmittance",
    "TRANSMITTANCE%": "percent_transmittance",
    "TRANSMITTANCE(%)": "percent_transmittance",
    "PERCENTTRANSMITTANCE": "percent_transmittance",
    "REFLECTANCE": "reflectance",
    "COUNTS": "counts",
    "ARBITRARYUNITS": "arbitrary",
    "ARBITRARY": "arbitrary",
    "A.U.": "arbitrary",
    "AU": "arbitrary",
    "INTENSITY": "intensity",
    "RELATIVEABUNDANCE": "relative_abundance",
}
# Labels vendors write for a Raman laser line, compared after normalise_label and without the
# '$' (private) or '.' (technique-specific) prefix. The JCAMP-DX texts define none for Raman, and
# ##.OBSERVE FREQUENCY is the NMR spectrometer frequency, not a laser line. Only Raman files are
# asked: an FTIR file's LASER WAVELENGTH is its HeNe reference laser.
_EXCITATION_NM = {
    "LASERWAVELENGTH",
    "LASERWAVELENGTHNM",
    "EXCITATIONWAVELENGTH",
    "EXCITATIONWAVELENGTHNM",
    "EXCITATIONLASERWAVELENGTH",
    "RAMANEXCITATIONWAVELENGTH",
    "LASERLINE",
    "EXCITATION",
}
_EXCITATION_WAVENUMBER = {"LASERWAVENUMBER", "LASERFREQUENCY", "LWN"}
_VALUE_WITH_UNIT = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z/^\-0-9]*)\s*$")
# A laser line outside this range (deep UV to short-wave infrared) is a misread label, not a laser.
_EXCITATION_RANGE_NM = (150.0, 2500.0)


def technique_of(
    labels: Mapping[str, str], label_lines: Mapping[str, int], source: str, line: int
) -> Technique:
    """The technique a ##DATA TYPE names: infrared, Raman or mass; anything else is refused."""
    data_type = normalise_label(labels.get("DATATYPE", ""))
    if "INFRARED" in data_type or data_type in {"IR", "FTIR", "IRSPECTRUM", "FTIRSPECTRUM", "NIRSPECTRUM"}:
        return Technique.FTIR
    if "RAMAN" in data_type:
        return Technique.RAMAN
    if "MASS" in data_type:
        return Technique.EI_MS
    if not data_type and normalise_label(labels.get("XUNITS", "")) in _MASS:
        return Technique.EI_MS
    shown = labels.get("DATATYPE", "(missing)")
    raise SpectrumFormatError(
        source,
        f"unsupported ##DATA TYPE {shown!r}: expected infrared, Raman or mass",
        label_lines.get("DATATYPE", line),
    )


def y_unit_of(labels: Mapping[str, str]) -> str:
    """The y unit in the readers' vocabulary (absorbance, percent_transmittance...), else as written."""
    written = labels.get("YUNITS", "")
    return Y_UNITS.get(normalise_label(written), written)


def raman_excitation(labels: Mapping[str, str], label_lines: Mapping[str, int], source: str) -> float | None:
    """The laser wavelength in nm that a Raman file states (##$LASER WAVELENGTH= and the like), or None.

    A stated value that is not a plausible laser line is an error naming its line when the spectrum
    is in nm and needs it (a wrong line would give wrong shifts); otherwise it is passed over.
    """
    needed = normalise_label(labels.get("XUNITS", "")) in _NANOMETRES
    for key, text in labels.items():
        name = key.lstrip("$.")
        if name not in _EXCITATION_NM and name not in _EXCITATION_WAVENUMBER:
            continue
        match = _VALUE_WITH_UNIT.match(text)
        unit = normalise_label(match.group(2)) if match else ""
        value = float(match.group(1)) if match else float("nan")
        if (name in _EXCITATION_WAVENUMBER or unit in _PER_CM) and value > 0:
            value = 1e7 / value
        elif unit not in _NANOMETRES and unit not in _PER_CM and unit:
            value = float("nan")
        low, high = _EXCITATION_RANGE_NM
        if low <= value <= high:
            return value
        if needed:
            raise SpectrumFormatError(
                source,
                f"##{key}={text!r} is not a laser wavelength between {low:g} and {high:g} nm",
                label_lines.get(key),
            )
    return None


def convert_x_units(
    x: FloatArray,
    labels: Mapping[str, str],
    label_lines: Mapping[str, int],
    technique: Technique,
    source: str,
    excitation_nm: float | None,
) -> tuple[FloatArray, str]:
    """x in cm⁻¹ (or m/z, or nm for a Raman spectrum whose laser line is unknown), and its unit."""
    written = labels.get("XUNITS", "")
    unit = normalise_label(written)
    if technique is Technique.EI_MS:
        return x, "m/z"
    if unit in _WAVENUMBERS:
        return x, "cm-1"
    if unit in _MICROMETRES or unit in _NANOMETRES:
        name = "micrometres" if unit in _MICROMETRES else "nanometres"
        if np.any(x <= 0):
            raise SpectrumFormatError(source, f"non-positive wavelength in {name}", label_lines.get("XUNITS"))
        if unit in _MICROMETRES:
            return 1e4 / x, "cm-1"
        if technique is Technique.RAMAN:
            if excitation_nm is None:
                return x, "nm"
            return 1e7 / excitation_nm - 1e7 / x, "cm-1"
        return 1e7 / x, "cm-1"
    raise SpectrumFormatError(source, f"unsupported ##XUNITS={written!r}", label_lines.get("XUNITS"))
