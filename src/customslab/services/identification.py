"""Use cases of spectral identification inside a case: search a test's spectrum file against a
library, and keep the hit list with the library version next to the test's results."""

from __future__ import annotations

import abc
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from customslab.domain.access import Action, Actor, require
from customslab.domain.errors import NotFound, ValidationFailed
from customslab.services import analysis
from customslab.services.common import held_test
from customslab.services.ports import AbstractUnitOfWork
from customslab.spectra.formats import read_spectra
from customslab.spectra.library_store import Library, LibraryError
from customslab.spectra.model import Spectrum, SpectrumFormatError, Technique
from customslab.spectra.scoring_ms import DEFAULT_METHOD
from customslab.spectra.search import search


class SpectralLibraries(abc.ABC):
    """Where the laboratory's spectral libraries live (files on disk in production)."""

    @abc.abstractmethod
    def names(self) -> list[str]: ...

    @abc.abstractmethod
    def open(self, name: str) -> Library:
        """The named library; raises NotFound for an unknown name."""


def read_query(data: bytes, filename: str) -> Spectrum:
    """Parse an uploaded spectrum (format detected from content and name); one spectrum expected."""
    suffix = Path(filename).suffix[:16] or ".txt"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"query{suffix}"
        path.write_bytes(data)
        try:
            spectra = read_spectra(path)
        except SpectrumFormatError as exc:
            problem = f"{filename} cannot be read as a spectrum: {exc.problem}."
            raise ValidationFailed(problem, field="file") from None
    if not spectra:
        raise ValidationFailed(f"{filename} holds no spectrum.", field="file")
    return spectra[0]


def search_spectrum(libraries: SpectralLibraries, query: Spectrum, library: str, top: int) -> dict[str, Any]:
    """Top hits of the query among library spectra of its own technique, with the library version."""
    if not 1 <= top <= 50:
        raise ValidationFailed("Ask for between 1 and 50 hits.", field="top")
    lib = libraries.open(library)
    try:
        hits = search(lib, query, top)
    except (LibraryError, ValueError) as exc:
        raise ValidationFailed(f"The spectrum could not be searched: {exc}", field="file") from None
    method = f"EI-MS: {DEFAULT_METHOD} score" if query.technique is Technique.EI_MS else "Pearson r (HQI)"
    return {
        "technique": query.technique.value,
        "library": library,
        "library_id": library,
        "library_version": lib.library_id,
        "library_counts": lib.counts,
        "method": method,
        "query": {"name": query.name, "points": int(query.x.size)},
        "hits": [h.as_dict() | {"row": h.row} for h in hits],
    }


def library_spectrum(libraries: SpectralLibraries, library: str, row: int) -> tuple[list[float], list[float]]:
    """The stored x/y of one library entry (peaks for MS, the prepared vector for FTIR/Raman)."""
    lib = libraries.open(library)
    arrays = lib.arrays
    technique = lib.entry(row)["technique"]
    if technique == Technique.EI_MS.value:
        where = np.flatnonzero(np.asarray(arrays["ms_rows"]) == row)
        if where.size == 0:
            raise NotFound(f"Library entry {row} was not found.")
        i = int(where[0])
        start, end = int(arrays["ms_indptr"][i]), int(arrays["ms_indptr"][i + 1])
        return (
            np.asarray(arrays["ms_mz"][start:end], dtype=float).tolist(),
            np.asarray(arrays["ms_int"][start:end], dtype=float).tolist(),
        )
    vib = lib.vib(Technique(technique))
    if vib is None:
        raise NotFound(f"Library entry {row} was not found.")
    matrix, rows, axis = vib
    where = np.flatnonzero(np.asarray(rows) == row)
    if where.size == 0:
        raise NotFound(f"Library entry {row} was not found.")
    return np.asarray(axis, dtype=float).tolist(), np.asarray(matrix[int(where[0])], dtype=float).tolist()


def identify_attachment(
    uow: AbstractUnitOfWork,
    actor: Actor,
    libraries: SpectralLibraries,
    test_id: int,
    attachment_sha256: str,
    *,
    library: str = "default",
    top: int = 10,
    keep: bool = False,
) -> dict[str, Any]:
    """Search a spectrum attached to the test; with keep=True the hit list is stored with the test."""
    with uow:
        require(actor, Action.ENTER_RESULT)
        test, _ = held_test(uow, actor, test_id)
        libraries.open(library)  # an unknown library is refused before any work
        attachment = next((a for a in test.attachments if a.sha256 == attachment_sha256), None)
        if attachment is None or not uow.files.exists(attachment_sha256):
            raise NotFound("That file is not attached to this test.")
        with uow.files.open(attachment_sha256) as fh:
            data = fh.read()
        filename = attachment.filename
    out = search_spectrum(libraries, read_query(data, filename), library, top)
    if keep:
        stored = analysis.record_identification(uow, actor, test_id, attachment_sha256, out)
        out["identification_id"] = stored["id"]
    return out | {"attachment": {"sha256": attachment_sha256, "filename": filename}}
