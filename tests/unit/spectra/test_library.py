"""Library build, persistence, versioning and search on a subset of the real MassBank EI data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from customslab.spectra.formats.massbank import read_massbank
from customslab.spectra.library import (
    LibraryError,
    add_to_library,
    build_library,
    build_library_from_spectra,
    open_library,
    remove_from_library,
)
from customslab.spectra.model import Spectrum, Technique
from customslab.spectra.search import search, search_many


@pytest.fixture(scope="module")
def ei_files(shared_data: Path) -> list[Path]:
    return sorted((shared_data / "spectra" / "massbank-ei").iterdir())[:120]


def test_a_built_library_keeps_metadata_and_is_memory_mapped(ei_files: list[Path], tmp_path: Path) -> None:
    library = build_library(ei_files, tmp_path / "lib")
    reopened = open_library(tmp_path / "lib")
    assert reopened.counts == {"EI-MS": 120}
    assert reopened.library_id == library.library_id
    assert isinstance(reopened.arrays["inv_ids"], np.memmap)
    entry = reopened.entry(0)
    original = read_massbank(ei_files[0])[0]
    assert entry["name"] == original.name and entry["inchikey"] == original.metadata["inchikey"]
    assert entry["license"] == original.metadata["license"] and entry["source_file"] == str(ei_files[0])
    manifest = json.loads((tmp_path / "lib" / "manifest.json").read_text())
    assert manifest["format_version"] == 6 and manifest["counts"] == {"EI-MS": 120}


def test_the_library_id_is_a_content_hash_that_changes_with_each_edit(
    ei_files: list[Path], tmp_path: Path
) -> None:
    first = build_library(ei_files[:50], tmp_path / "a")
    again = build_library(ei_files[:50], tmp_path / "b")
    assert first.library_id == again.library_id
    added = add_to_library(tmp_path / "a", ei_files[50:60])
    assert added.counts == {"EI-MS": 60} and added.library_id != first.library_id
    removed = remove_from_library(tmp_path / "a", [added.entry(55)["key"]])
    assert removed.counts == {"EI-MS": 59} and removed.library_id not in (first.library_id, added.library_id)
    assert added.entry(55)["key"] not in {e["key"] for e in removed.entries()}


def test_removing_then_adding_back_gives_the_same_search_results(
    ei_files: list[Path], tmp_path: Path
) -> None:
    build_library(ei_files[:40], tmp_path / "lib")
    library = open_library(tmp_path / "lib")
    query = read_massbank(ei_files[3])[0]
    before = [(h.key, round(h.score, 9)) for h in search(library, query, 5)]
    key = library.entry(3)["key"]
    without = remove_from_library(tmp_path / "lib", [key])
    assert key not in [h.key for h in search(without, query, 5)]
    back = add_to_library(tmp_path / "lib", [ei_files[3]])
    assert sorted(before) == sorted((h.key, round(h.score, 9)) for h in search(back, query, 5))


def test_removing_an_unknown_key_changes_nothing(ei_files: list[Path], tmp_path: Path) -> None:
    library = build_library(ei_files[:10], tmp_path / "lib")
    with pytest.raises(LibraryError, match="no entry"):
        remove_from_library(tmp_path / "lib", ["nope"])
    assert open_library(tmp_path / "lib").library_id == library.library_id


def test_a_query_finds_itself_first_with_its_matched_peaks(ei_files: list[Path], tmp_path: Path) -> None:
    library = build_library(ei_files, tmp_path / "lib")
    query = read_massbank(ei_files[7])[0]
    hits = search(library, query, 3)
    assert hits[0].source_file == str(ei_files[7]) and hits[0].score == pytest.approx(1.0)
    assert [h.rank for h in hits] == [1, 2, 3] and hits[0].score >= hits[1].score >= hits[2].score
    assert len(hits[0].matched_peaks) > 5 and hits[0].library_id == library.library_id


def test_a_query_is_compared_only_with_spectra_of_its_own_technique(
    ei_files: list[Path], tmp_path: Path
) -> None:
    library = build_library(ei_files[:20], tmp_path / "lib")
    raman = Spectrum(np.linspace(200, 3200, 500), np.random.default_rng(1).random(500), Technique.RAMAN)
    assert search(library, raman, 5) == []


def test_a_library_of_several_techniques_routes_each_query(shared_data: Path, tmp_path: Path) -> None:
    polymers = sorted((shared_data / "spectra" / "mpx-polymers" / "spectra").glob("*ATR*"))[:6]
    ms = sorted((shared_data / "spectra" / "massbank-ei").iterdir())[:6]
    library = build_library([*ms, *polymers], tmp_path / "lib")
    assert library.counts == {"EI-MS": 6, "FTIR": 6}
    from customslab.spectra.library import read_any

    hits = search(library, read_any(polymers[2])[0], 2)
    assert hits[0].technique == "FTIR" and hits[0].source_file == str(polymers[2])


def test_batched_queries_in_two_processes_equal_one_by_one_search(
    ei_files: list[Path], tmp_path: Path
) -> None:
    library = build_library(ei_files, tmp_path / "lib")
    queries = [read_massbank(f)[0] for f in ei_files[::10]]
    serial = [[(h.key, h.score) for h in search(library, q, 5)] for q in queries]
    parallel = [[(h.key, h.score) for h in hits] for hits in search_many(library, queries, 5, workers=2)]
    assert parallel == serial


def test_opening_a_folder_that_is_not_a_library_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match="not a spectral library"):
        open_library(tmp_path)


def test_a_failed_build_leaves_the_previous_library_in_place(ei_files: list[Path], tmp_path: Path) -> None:
    library = build_library_from_spectra([read_massbank(f)[0] for f in ei_files[:5]], tmp_path / "lib")
    bad = tmp_path / "bad.txt"
    bad.write_text("ACCESSION: X\nCH$NAME: y\nPK$PEAK: m/z int. rel.int.\n  abc 1 1\n//\n")
    with pytest.raises(ValueError):
        build_library([*ei_files[:5], bad], tmp_path / "lib")
    assert open_library(tmp_path / "lib").library_id == library.library_id


def test_the_common_ion_sketch_bounds_every_probability_from_above_and_tightly(
    ei_files: list[Path], tmp_path: Path
) -> None:
    """Each sketch code names the least edge at or above the spectrum's p at that m/z (0: no peak),
    each group code the least edge at or above p summed over a group of columns, and the mass code
    the least edge at or above p summed over all of them: the entropy search bounds the unread
    common lists from them, so an edge below the value would lose hits."""
    from customslab.spectra import library_store

    library = build_library(ei_files, tmp_path / "lib")
    a = library.arrays
    columns = np.asarray(a["ms_sketch_mz"]).astype(np.int64)
    lengths = np.diff(np.asarray(a["inv_indptr"]))
    assert columns.size == min(library_store.SKETCH_COLUMNS, int((lengths > 0).sum()))
    # The columns are the m/z with the longest posting lists.
    assert lengths[columns].min() >= np.delete(lengths, columns).max()
    indptr, mz, p = np.asarray(a["ms_indptr"]), np.asarray(a["ms_mz"]), np.asarray(a["ms_p"]).astype(float)
    sketch, mass = np.asarray(a["ms_sketch"]), np.asarray(a["ms_sketch_mass"])
    groups = np.asarray(a["ms_sketch_groups"])
    group = library_store.SKETCH_GROUP
    assert groups.shape == (-(-columns.size // group), library.n_ms)
    edges, mass_edges = library_store.SKETCH_EDGES, library_store.SKETCH_MASS_EDGES
    for i in range(library.n_ms):
        dense = np.zeros(65536)
        dense[mz[indptr[i] : indptr[i + 1]]] = p[indptr[i] : indptr[i + 1]]
        values, codes = dense[columns], sketch[i].astype(np.int64)
        assert np.all(edges[codes] >= values) and np.all((codes == 0) == (values == 0))
        assert np.all(edges[np.maximum(codes - 1, 0)][codes > 0] < values[codes > 0])
        total = values.sum()
        assert mass_edges[mass[i]] >= total and (mass[i] == 0 or mass_edges[mass[i] - 1] < total)
        sums = np.add.reduceat(values, np.arange(0, values.size, group))
        codes = groups[:, i].astype(np.int64)
        assert np.all(edges[codes] >= sums) and np.all(
            edges[np.maximum(codes - 1, 0)][codes > 0] < sums[codes > 0]
        )
