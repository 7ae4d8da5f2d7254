"""Spectral libraries on disk: the default one is built once from the reference data beside the
checkout (MassBank EI, MPX and RaMPP polymer spectra), others are folders named in the settings."""

from __future__ import annotations

import threading
from pathlib import Path

from customslab.domain.errors import NotFound
from customslab.services.identification import SpectralLibraries
from customslab.spectra.library import build_library
from customslab.spectra.library_store import Library, LibraryError, open_library

DEFAULT_SOURCES = ("spectra/massbank-ei", "spectra/mpx-polymers", "spectra/rampp-raman")
#: The MPX Raman files are recorded in nm; their metadata gives the 532 nm excitation.
MPX_EXCITATION_NM = 532.0


class LocalSpectralLibraries(SpectralLibraries):
    def __init__(self, default_path: Path, shared_data: Path, extra: dict[str, Path] | None = None) -> None:
        self.default_path = default_path
        self.shared_data = shared_data
        self.extra = extra or {}
        self._open: dict[str, Library] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return ["default", *sorted(self.extra)]

    def open(self, name: str) -> Library:
        with self._lock:
            if name not in self._open:
                self._open[name] = self._load(name)
            return self._open[name]

    def _load(self, name: str) -> Library:
        if name in self.extra:
            return open_library(self.extra[name])
        if name != "default":
            raise NotFound(f"There is no spectral library '{name}'.")
        if (self.default_path / "manifest.json").is_file():
            try:
                return open_library(self.default_path)
            except LibraryError:
                pass  # written by an older format version: rebuild it from the reference data below
        sources = [self.shared_data / s for s in DEFAULT_SOURCES if (self.shared_data / s).is_dir()]
        if not sources:
            raise NotFound(
                f"The default spectral library is missing and no reference data is at {self.shared_data}."
            )
        return build_library(sources, self.default_path, excitation_nm=MPX_EXCITATION_NM)
