"""Identification of a test's spectrum file inside a case, against a real library built from MassBank."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from customslab.adapters.spectral_libraries import LocalSpectralLibraries
from customslab.domain.errors import NotFound, ValidationFailed
from customslab.services import analysis, identification, queries
from customslab.services.cases import SampleCreate
from customslab.services.identification import IdentifyRequest
from customslab.spectra.library import build_library
from tests.factories import Network, assigned_test, make_network, received_sample


@pytest.fixture(scope="module")
def small_library(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    files = sorted((shared_data / "spectra" / "massbank-ei").glob("*.txt"))[:60]
    out = tmp_path_factory.mktemp("lib") / "small"
    build_library(files, out)
    return out, files


def _test_with_file(uow_factory: Any, net: Network, content: bytes, name: str) -> tuple[int, str]:
    s = received_sample(uow_factory, net, sample=SampleCreate(quantity="2", unit="g"))
    t = assigned_test(uow_factory, net, s.id, determination="identity (GC-MS)", method_ref="M-29")
    att = analysis.attach_file(
        uow_factory(),
        net["analyst"],
        t.id,
        filename=name,
        media_type="text/plain",
        stream=io.BytesIO(content),
        max_bytes=1_000_000,
    )
    return t.id, att.sha256


def test_an_attached_massbank_spectrum_is_identified_and_the_hits_are_kept_with_the_library_version(
    uow_factory: Any, small_library: tuple[Path, list[Path]], tmp_path: Path
):
    path, files = small_library
    libraries = LocalSpectralLibraries(tmp_path / "unused", tmp_path, extra={"small": path})
    net = make_network(uow_factory)
    query = files[7]
    test_id, sha = _test_with_file(uow_factory, net, query.read_bytes(), query.name)
    cmd = IdentifyRequest(attachment_sha256=sha, library="small", top=5, keep=True)
    out = identification.identify_attachment(uow_factory(), net["analyst"], libraries, test_id, cmd)
    assert out.technique == "EI-MS" and len(out.hits) == 5
    assert out.hits[0].score == pytest.approx(1.0, abs=1e-3)
    assert out.hits[0].source_file.endswith(query.name)
    assert out.attachment.sha256 == sha and out.identification_id is not None
    detail = queries.sample_detail(uow_factory(), net["analyst"], queries_sample(uow_factory, net, test_id))
    kept = detail.tests[0].identifications[0]
    assert kept.id == out.identification_id
    assert kept.library_version == out.library_version and kept.hits == out.hits


def queries_sample(uow_factory: Any, net: Network, test_id: int) -> int:
    uow = uow_factory()
    with uow:
        test = uow.repo.test(test_id)
        assert test is not None and test.sample_id is not None
        return test.sample_id


def test_a_file_that_is_not_a_spectrum_gets_a_clear_error(
    uow_factory: Any, small_library: tuple[Path, list[Path]], tmp_path: Path
):
    libraries = LocalSpectralLibraries(tmp_path / "unused", tmp_path, extra={"small": small_library[0]})
    net = make_network(uow_factory)
    test_id, sha = _test_with_file(uow_factory, net, b"just some notes\nnot numbers\n", "notes.txt")
    small, nope = (IdentifyRequest(attachment_sha256=sha, library=name) for name in ("small", "nope"))
    with pytest.raises(ValidationFailed, match=r"notes\.txt"):
        identification.identify_attachment(uow_factory(), net["analyst"], libraries, test_id, small)
    with pytest.raises(NotFound):
        identification.identify_attachment(uow_factory(), net["analyst"], libraries, test_id, nope)
    with pytest.raises(NotFound):
        identification.identify_attachment(uow_factory(), net["outsider"], libraries, test_id, small)
