"""Identification of a test's spectrum file inside a case, against a real library built from MassBank."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from customslab.adapters.spectral_libraries import LocalSpectralLibraries
from customslab.adapters.uow import Database
from customslab.config import Settings
from customslab.domain.errors import NotFound, ValidationFailed
from customslab.entrypoints.api.app import create_app
from customslab.services import analysis, identification, queries
from customslab.services.cases import SampleCreate
from customslab.services.identification import IdentifyRequest
from customslab.spectra.library import build_library, build_library_from_spectra
from customslab.spectra.model import Spectrum, Technique
from tests.factories import PASSWORD, Network, assigned_test, make_network, received_sample

# A peak at m/z 1e26 used to wrap to a negative nominal mass and crash the search (HTTP 500).
IMPOSSIBLE_MZ = b"Name: wrapped\nNum Peaks: 2\n41 100\n1e26 50\n"


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


def test_a_query_peak_at_an_impossible_mz_is_refused_with_the_line_and_no_server_path(
    uow_factory: Any, small_library: tuple[Path, list[Path]], tmp_path: Path
):
    libraries = LocalSpectralLibraries(tmp_path / "unused", tmp_path, extra={"small": small_library[0]})
    net = make_network(uow_factory)
    test_id, sha = _test_with_file(uow_factory, net, IMPOSSIBLE_MZ, "wrapped.msp")
    cmd = IdentifyRequest(attachment_sha256=sha, library="small")
    with pytest.raises(ValidationFailed) as caught:
        identification.identify_attachment(uow_factory(), net["analyst"], libraries, test_id, cmd)
    message = str(caught.value)
    assert "wrapped.msp cannot be read as a spectrum (line 4): peak 2 has m/z 1e+26" in message
    assert "/tmp" not in message and "query.msp" not in message


def test_a_search_problem_names_the_uploaded_file_not_the_temporary_copy(tmp_path: Path):
    axis = np.linspace(200.0, 3200.0, 500)
    raman = Spectrum(axis, np.exp(-(((axis - 1000.0) / 30.0) ** 2)), Technique.RAMAN, "band")
    build_library_from_spectra([raman], tmp_path / "raman")
    libraries = LocalSpectralLibraries(tmp_path / "unused", tmp_path, extra={"raman": tmp_path / "raman"})
    # A Raman spectrum in nm cannot be searched without its excitation wavelength: the searcher says so.
    data = b"Wavelength (nm);Intensity\n" + b"".join(b"%d;%d\n" % (540 + i, i % 7) for i in range(40))
    query = identification.read_query(data, "raman_nm.csv")
    with pytest.raises(ValidationFailed) as caught:
        identification.search_spectrum(libraries, query, "raman", 5)
    message = str(caught.value)
    assert message.startswith("raman_nm.csv could not be searched: ") and "excitation" in message
    assert "/tmp" not in message and "query.csv" not in message


def test_a_library_that_cannot_be_read_is_reported_without_its_server_folder(tmp_path: Path):
    broken = tmp_path / "broken"
    broken.mkdir()
    libraries = LocalSpectralLibraries(tmp_path / "unused", tmp_path, extra={"broken": broken})
    query = identification.read_query(IMPOSSIBLE_MZ.replace(b"1e26", b"43"), "ok.msp")
    with pytest.raises(ValidationFailed) as caught:
        identification.search_spectrum(libraries, query, "broken", 5)
    assert (
        str(caught.value)
        == "The spectral library 'broken' cannot be read; ask the administrator to rebuild it."
    )


def test_the_api_answers_422_with_the_reason_for_an_impossible_mz(
    database: Database, small_library: tuple[Path, list[Path]], tmp_path: Path
):
    settings = Settings(
        mode="test", database_url=database.url, file_store=tmp_path / "files", library_path=small_library[0]
    )
    app = create_app(settings, db=database)
    net = make_network(app.state.uow_factory)
    s = received_sample(app.state.uow_factory, net, sample=SampleCreate(quantity="2", unit="g"))
    t = assigned_test(app.state.uow_factory, net, s.id, determination="identity (GC-MS)", method_ref="M-29")
    with TestClient(app, raise_server_exceptions=False) as client:
        token = client.post(
            "/api/auth/token", json={"username": net["analyst"].username, "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        files = {"file": ("wrapped.msp", IMPOSSIBLE_MZ, "text/plain")}
        attached = client.post(f"/api/tests/{t.id}/files", files=files, headers=headers)
        assert attached.status_code == 201, attached.text
        sha = attached.json()["sha256"]
        answer = client.post(f"/api/tests/{t.id}/identify", json={"attachment_sha256": sha}, headers=headers)
        assert answer.status_code == 422, answer.text
        body = answer.json()
        assert body["field"] == "file"
        assert "wrapped.msp cannot be read as a spectrum (line 4): peak 2 has m/z 1e+26" in body["error"]
        assert "/tmp" not in answer.text

        # The same route still identifies a real spectrum against that library.
        good = small_library[1][3]
        files = {"file": (good.name, good.read_bytes(), "text/plain")}
        sha = client.post(f"/api/tests/{t.id}/files", files=files, headers=headers).json()["sha256"]
        found = client.post(f"/api/tests/{t.id}/identify", json={"attachment_sha256": sha}, headers=headers)
        assert found.status_code == 200, found.text
        assert found.json()["hits"][0]["score"] == pytest.approx(1.0, abs=1e-3)


def _raman_csv(bands: list[float]) -> bytes:
    x = np.linspace(200.0, 3200.0, 1501)
    y = 50.0 + sum(1000.0 * np.exp(-0.5 * ((x - c) / 6.0) ** 2) for c in bands)
    rows = "\n".join(f"{a:.2f},{b:.3f}" for a, b in zip(x, y, strict=True))
    return f"cm-1,Intensity\n{rows}\n".encode()


def test_a_polymer_spectrum_gets_a_calibrated_confidence_and_an_unknown_material_no_reliable_match(
    uow_factory: Any, shared_data: Path, tmp_path: Path
):
    from customslab.spectra.formats import read_spectra

    references = read_spectra(shared_data / "spectra" / "rampp-raman" / "data-raw" / "References.CSV")
    build_library_from_spectra(references, tmp_path / "polymers")
    libraries = LocalSpectralLibraries(
        tmp_path / "unused", tmp_path, extra={"polymers": tmp_path / "polymers"}
    )
    net = make_network(uow_factory)
    # Polystyrene's bands (ring breathing 1001, 1031, 1602, C-H 3054) as another laboratory records them.
    known, sha = _test_with_file(
        uow_factory, net, _raman_csv([621, 1001, 1031, 1155, 1583, 1602, 3054]), "ps.csv"
    )
    found = identification.identify_attachment(
        uow_factory(),
        net["analyst"],
        libraries,
        known,
        IdentifyRequest(attachment_sha256=sha, library="polymers"),
    )
    assert found.hits[0].name == "PS" and found.reliable is True
    assert found.hits[0].confidence is not None and found.hits[0].confidence >= 0.5
    assert "Pearson r over the shared range" in found.method
    # Bands no polymer of the library has: the best hit is reported, but not as an identification.
    unknown, sha = _test_with_file(uow_factory, net, _raman_csv([455, 777, 1888, 2222, 2633]), "unknown.csv")
    found = identification.identify_attachment(
        uow_factory(),
        net["analyst"],
        libraries,
        unknown,
        IdentifyRequest(attachment_sha256=sha, library="polymers"),
    )
    assert found.reliable is False
    assert found.hits and all(h.confidence is not None and h.confidence < 0.5 for h in found.hits)
