"""The public reference data the default library is built from, with each set's metadata and licence.

Three sets (../shared/data/README.md): MassBank EI records (licence per record), the MPX ATR-FTIR and
Raman polymer spectra (CC BY-SA 4.0; identity, treatment and exposure in ``subset_metadata.csv``)
and the RaMPP Raman polymer spectra (CC BY 4.0; identity in each column header). Every entry gets a
``label`` (the identity a search answers with; for polymers the class, PE covering LDPE and HDPE),
its licence and a citation of its source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from customslab.spectra.annotations import annotate, read_metadata_table
from customslab.spectra.library import build_library_from_spectra, collect_spectrum_files, read_any
from customslab.spectra.library_store import Library, LibraryError, open_library
from customslab.spectra.model import Spectrum

#: Polymer names in the data sets that belong to a broader class for identification.
POLYMER_CLASSES = {"LDPE": "PE", "HDPE": "PE", "LLDPE": "PE", "UHMWPE": "PE"}


def polymer_class(label: str) -> str:
    """'(01) LDPE' → 'PE', '(insitu 02) PE' → 'PE', RaMPP ' PP V3' → 'PP'."""
    name = _polymer_name(label)
    return POLYMER_CLASSES.get(name, name)


def _polymer_name(label: str) -> str:
    """'(01) LDPE' → 'LDPE': the data set's polymer, without its product number or variant."""
    return re.sub(r"^\([^)]*\)\s*", "", label.strip()).split()[0]


@dataclass(frozen=True)
class ReferenceSet:
    folder: str
    license: str | None  # None: each record carries its own
    citation: str
    excitation_nm: float | None = None

    def read(self, shared_data: Path) -> list[Spectrum]:
        folder = shared_data / self.folder
        spectra = [
            s
            for file in collect_spectrum_files([folder])
            for s in read_any(file, excitation_nm=self.excitation_nm)
        ]
        defaults: dict[str, Any] = {"citation": self.citation}
        if self.license:
            defaults["license"] = self.license
        annotate(spectra, self.annotations(folder), defaults=defaults)
        for spectrum in spectra:
            self.label(spectrum)
        return spectra

    def annotations(self, folder: Path) -> dict[str, dict[str, Any]] | None:
        return None

    def label(self, spectrum: Spectrum) -> None:
        """Set ``label`` where the set's own metadata did not."""


class _MassBank(ReferenceSet):
    def label(self, spectrum: Spectrum) -> None:
        spectrum.metadata.setdefault("label", spectrum.name)


class _MPX(ReferenceSet):
    def annotations(self, folder: Path) -> dict[str, dict[str, Any]] | None:
        table = read_metadata_table(folder / "subset_metadata.csv")
        for row in table.values():
            extra = row.get("extra", {})
            polymer = row.pop("label", extra.get("Polymer", ""))
            row["name"] = _polymer_name(polymer)
            row["label"] = polymer_class(polymer)
            parts = [
                extra.get("Analysis", "").replace("ATR", "ATR-FTIR"),
                f"treatment {extra['Treatment']}" if extra.get("Treatment") else "",
                f"state {extra['State']}" if extra.get("State") else "",
                f"{extra['Exposure_days']} days exposed" if extra.get("Exposure_days") else "",
                extra.get("LocationDescription", ""),
            ]
            row["description"] = ", ".join(p for p in parts if p)
            if extra.get("Analysis") == "ATR":
                # LCG and NAP spectra were ATR-corrected by the instrument software, VLFR's were not.
                row["sampling"] = "ATR"
                row["atr_corrected"] = extra.get("ATRcorrection", "") in {"1", "1.0"}
        return table


class _RaMPP(ReferenceSet):
    def label(self, spectrum: Spectrum) -> None:
        spectrum.name = spectrum.name.strip()
        spectrum.metadata["label"] = polymer_class(spectrum.name)
        source = Path(str(spectrum.metadata.get("source", ""))).stem
        if source.lower() == "references":
            spectrum.metadata["description"] = "pristine reference"
        elif source.endswith(("FW", "SW")):
            water = "freshwater" if source.endswith("FW") else "seawater"
            spectrum.metadata["description"] = f"{water}-incubated variant"


REFERENCE_SETS: tuple[ReferenceSet, ...] = (
    _MassBank(
        "spectra/massbank-ei",
        None,
        "MassBank/MassBank-data release 2025.05.1 (https://github.com/MassBank/MassBank-data)",
    ),
    _MPX(
        "spectra/mpx-polymers",
        "CC BY-SA 4.0",
        "Lenz R. et al. 2023, Database of Raman and ATR-FTIR spectra of weathered and biofouled "
        "polymers, doi:10.5281/zenodo.8314801",
        excitation_nm=532.0,  # the MPX Raman files are in nm; the data set's SOPs give 532 nm
    ),
    _RaMPP(
        "spectra/rampp-raman",
        "CC BY 4.0",
        "RaMPP Raman spectra of pristine and incubated microplastics (https://github.com/Maki-science/RaMPP)",
    ),
)


def build_reference_library(shared_data: Path, out: Path) -> Library:
    """Build the default library from every reference set present under ``shared_data``."""
    spectra: list[Spectrum] = []
    for reference in REFERENCE_SETS:
        if (shared_data / reference.folder).is_dir():
            spectra.extend(reference.read(shared_data))
    if not spectra:
        raise LibraryError(f"no reference data under {shared_data}")
    return build_library_from_spectra(spectra, out)


def open_reference_library(path: Path, shared_data: Path) -> Library:
    """Open the default library at ``path``; build it (or rebuild an older format) on first use."""
    if (path / "manifest.json").is_file():
        try:
            return open_library(path)
        except LibraryError:
            pass  # written by an older format version: rebuilt below
    return build_reference_library(shared_data, path)
