"""Spectral libraries on disk: the default one is built once from the reference data beside the
checkout (MassBank EI, MPX and RaMPP polymer spectra), others are folders named in the settings."""

from __future__ import annotations

import threading
from pathlib import Path

from customslab.domain.errors import NotFound
from customslab.services.identification import SpectralLibraries
from customslab.spectra.library_store import Library, LibraryError, open_library
from customslab.spectra.reference_sets import open_reference_library


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
        try:
            return open_reference_library(self.default_path, self.shared_data)
        except LibraryError as exc:
            raise NotFound(f"The default spectral library is missing and cannot be built: {exc}.") from None
