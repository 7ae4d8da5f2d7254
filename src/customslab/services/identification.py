"""Use cases of spectral identification inside a case: search a test's spectrum file against a
library, and keep the hit list with the library version next to the test's results."""

from __future__ import annotations

import abc
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import numpy as np
from pydantic import AfterValidator, Field

from customslab.domain.access import Action, Actor, require
from customslab.domain.enums import ResultKind
from customslab.domain.errors import NotFound, ValidationFailed
from customslab.domain.model import AnalysisTest, Identification
from customslab.services.analysis import own_open_test
from customslab.services.common import acting, held_test
from customslab.services.contract import Command, Flag, Text, View
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.result_entry import ResultCreate, add_result, check_result_controls
from customslab.services.substances import administrations_of_test, register_for, with_controls
from customslab.services.views import IdentificationView, ResultView, SpectralHit
from customslab.spectra.confidence import RELIABLE
from customslab.spectra.formats import read_spectra
from customslab.spectra.library_store import Library, LibraryError
from customslab.spectra.model import Spectrum, SpectrumFormatError, Technique
from customslab.spectra.scoring_ms import DEFAULT_METHOD
from customslab.spectra.search import Hit, search
from customslab.spectra.vib_features import METHODS
from customslab.substances.register import Register, bundled_register


def _sha256(value: str) -> str:
    value = value.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ValueError("must be the 64 hexadecimal digits of a file's sha256")
    return value


#: A file's content address as the file store keys it; upper case is accepted and lowered.
Sha256 = Annotated[
    str,
    AfterValidator(_sha256),
    Field(description="64 hexadecimal digits.", json_schema_extra={"pattern": r"^\s*[0-9a-fA-F]{64}\s*$"}),
]


class IdentifyRequest(Command):
    """Search one of the test's attached spectrum files against a library."""

    attachment_sha256: Sha256
    library: Annotated[str, Text(60, 1)] = "default"
    top: int = Field(default=10, ge=1, le=50, description="How many hits to return.")
    keep: Flag = Field(default=False, description="Store the hit list with the test as evidence.")


class QueryInfo(View):
    name: str
    points: int = Field(description="Points (or peaks) in the query spectrum.")


class SearchResult(View):
    """A library search: the best hits among spectra of the query's own technique."""

    technique: str
    library: str
    library_id: str
    library_version: str = Field(description="The library build the hits come from, kept with them.")
    library_counts: dict[str, int] = Field(description="Library entries per technique.")
    method: str = Field(description="How the score was computed.")
    query: QueryInfo
    hits: list[SpectralHit]
    reliable: bool | None = Field(
        default=None,
        description="FTIR/Raman: whether the best hit's calibrated confidence reaches "
        f"{RELIABLE:g}; false means 'no reliable match' (null for EI-MS, which has no calibration yet).",
    )


class QueryHits(View):
    """The hits of one query file, as the `identify` command prints them."""

    query: str
    hits: list[SpectralHit]


class AttachmentRef(View):
    sha256: str
    filename: str


class Identified(SearchResult):
    """A search of a test's attached file; `identification_id` is set when the hits were kept."""

    identification_id: int | None = None
    attachment: AttachmentRef


class SpectralLibraries(abc.ABC):
    """Where the laboratory's spectral libraries live (files on disk in production)."""

    @abc.abstractmethod
    def names(self) -> list[str]: ...

    @abc.abstractmethod
    def open(self, name: str) -> Library:
        """The named library; raises NotFound for an unknown name."""


def _refused(
    filename: str, exc: SpectrumFormatError, what: str = "cannot be read as a spectrum"
) -> ValidationFailed:
    """The reader's problem under the user's file name; never the server's temporary path."""
    where = f" (line {exc.line})" if exc.line is not None else ""
    problem = exc.problem.rstrip(".")
    return ValidationFailed(f"{filename} {what}{where}: {problem}.", field="file")


def _library_unreadable(name: str) -> ValidationFailed:
    # A LibraryError names the folder on the server; the person needs only what to do.
    return ValidationFailed(
        f"The spectral library '{name}' cannot be read; ask the administrator to rebuild it.",
        field="library",
    )


def _open(libraries: SpectralLibraries, name: str) -> Library:
    try:
        return libraries.open(name)
    except LibraryError:
        raise _library_unreadable(name) from None


def read_query(data: bytes, filename: str) -> Spectrum:
    """Parse an uploaded spectrum (format detected from content and name); one spectrum expected.

    Values no instrument can record (m/z 1e26, NaN, a negative abundance) are refused here, with
    the line, so the search never sees them.
    """
    suffix = Path(filename).suffix[:16] or ".txt"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"query{suffix}"
        path.write_bytes(data)
        try:
            spectra = read_spectra(path)
        except SpectrumFormatError as exc:
            raise _refused(filename, exc) from None
    if not spectra:
        raise ValidationFailed(f"{filename} holds no spectrum.", field="file")
    query = spectra[0]
    # Later messages (preprocessing, search) name the source: the user's file, not the temporary copy.
    query.metadata["source"] = filename
    return query


def search_spectrum(
    libraries: SpectralLibraries, query: Spectrum, library: str, top: int, register: Register | None = None
) -> SearchResult:
    """Top hits of the query among library spectra of its own technique, with the library version and
    each hit's control status in `register` (by default the UN lists shipped with the project)."""
    lib = _open(libraries, library)
    try:
        hits = search(lib, query, top)
    except SpectrumFormatError as exc:
        name = Path(str(query.metadata.get("source") or query.name or "spectrum")).name
        raise _refused(name, exc, "could not be searched") from None
    except LibraryError:
        raise _library_unreadable(library) from None
    except ValueError as exc:
        raise ValidationFailed(f"The spectrum could not be searched: {exc}", field="file") from None
    if query.technique is Technique.EI_MS:
        method = f"EI-MS: {DEFAULT_METHOD} score"
        reliable = None
    else:
        method = f"{query.technique.value}: {METHODS[query.technique].describe()}"
        best = hits[0].confidence if hits else None
        reliable = best is not None and best >= RELIABLE
    return SearchResult(
        technique=query.technique.value,
        library=library,
        library_id=library,
        library_version=lib.library_id,
        library_counts=lib.counts,
        method=method,
        query=QueryInfo(name=query.name, points=int(query.x.size)),
        hits=hit_views(hits, register),
        reliable=reliable,
    )


def hit_views(hits: Iterable[Hit], register: Register | None = None) -> list[SpectralHit]:
    """A search's hits as the one typed view that the API, the pages and the CLI render, each with its
    control status in `register` (by default the UN lists shipped with the project)."""
    views = [SpectralHit.model_validate(h.as_dict() | {"row": h.row}) for h in hits]
    return with_controls(views, register if register is not None else bundled_register())


def library_spectrum(libraries: SpectralLibraries, library: str, row: int) -> tuple[list[float], list[float]]:
    """The stored x/y of one library entry (peaks for MS, the prepared vector for FTIR/Raman)."""
    lib = _open(libraries, library)
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
    # Rows hold the spectrum block, then its derivative block: the plot shows the spectrum block.
    points = np.asarray(axis).size
    return np.asarray(axis, dtype=float).tolist(), np.asarray(
        matrix[int(where[0])][:points], dtype=float
    ).tolist()


def identify_attachment(
    uow: AbstractUnitOfWork,
    actor: Actor,
    libraries: SpectralLibraries,
    test_id: int,
    cmd: IdentifyRequest,
    bundled: Register | None = None,
) -> Identified:
    """Search a spectrum attached to the test, each hit with its control status (the `bundled` UN lists
    and the national lists that apply); with keep the hit list is stored with the test."""
    with uow:
        require(actor, Action.ENTER_RESULT)
        test, _ = held_test(uow, actor, test_id)
        register = register_for(
            uow, bundled or bundled_register(), administrations_of_test(uow, actor, test_id)
        )
        _open(libraries, cmd.library)  # an unknown library is refused before any work
        sha = cmd.attachment_sha256
        attachment = next((a for a in test.attachments if a.sha256 == sha), None)
        if attachment is None or not uow.files.exists(sha):
            raise NotFound("That file is not attached to this test.")
        with uow.files.open(sha) as fh:
            data = fh.read()
        filename = attachment.filename
    found = search_spectrum(libraries, read_query(data, filename), cmd.library, cmd.top, register)
    kept = record_identification(uow, actor, test_id, sha, found).id if cmd.keep else None
    return Identified(
        **dict(found), identification_id=kept, attachment=AttachmentRef(sha256=sha, filename=filename)
    )


def record_identification(
    uow: AbstractUnitOfWork, actor: Actor, test_id: int, attachment_sha256: str, found: SearchResult
) -> IdentificationView:
    """Keep a spectral search's hit list and library version with the test it supports."""
    with acting(uow, actor, Action.ENTER_RESULT):
        ident, _ = _keep(uow, actor, test_id, attachment_sha256, found)
        uow.commit()
        return IdentificationView.of_record(ident)


def record_identity_result(
    uow: AbstractUnitOfWork,
    actor: Actor,
    test_id: int,
    attachment_sha256: str,
    found: SearchResult,
    substance: str = "",
    bundled: Register | None = None,
) -> ResultView:
    """Keep the hit list with the test and record its best hit (or `substance`, another hit of the list)
    as the test's identity result, at once: the identification is the result's evidence (a controlled
    substance marks the case, by its stored controls and `bundled`, the UN lists)."""
    with acting(uow, actor, Action.ENTER_RESULT):
        ident, test = _keep(uow, actor, test_id, attachment_sha256, found)
        cmd = ResultCreate(kind=ResultKind.IDENTITY, identification_id=ident.id, text_value=substance)
        check_result_controls(uow, actor, test, cmd)
        result = add_result(uow, actor, test, cmd, bundled)
        uow.commit()
        return ResultView.of(result, [ident])


def _keep(
    uow: AbstractUnitOfWork, actor: Actor, test_id: int, attachment_sha256: str, found: SearchResult
) -> tuple[Identification, AnalysisTest]:
    """Inside the caller's unit of work: the identification stored with the actor's open test."""
    test, _ = own_open_test(uow, actor, test_id)
    if not any(a.sha256 == attachment_sha256 for a in test.attachments):
        raise ValidationFailed("Attach the spectrum file to the test before identifying it.", "attachment")
    ident = Identification(
        test_id=test_id,
        attachment_sha256=attachment_sha256,
        technique=found.technique,
        library_id=found.library_id,
        library_version=found.library_version,
        hits=[h.model_dump() for h in found.hits],
        created_by=actor.user_id,
        created_at=uow.clock(),
    )
    uow.repo.add(ident)
    uow.repo.flush()
    return ident, test
