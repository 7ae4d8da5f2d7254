"""Metadata tables: parsing, strictness, and the labels of the reference polymer sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from customslab.spectra.annotations import annotate, read_metadata_table
from customslab.spectra.model import Spectrum, SpectrumFormatError, Technique
from customslab.spectra.reference_sets import REFERENCE_SETS, polymer_class


def spectrum(source: str, name: str = "stem") -> Spectrum:
    return Spectrum(np.arange(1000.0, 1003.0), np.ones(3), Technique.FTIR, name, {"source": source})


def test_a_table_maps_columns_and_keeps_unknown_ones_as_extra(tmp_path: Path) -> None:
    table = tmp_path / "m.csv"
    table.write_text(
        "\ufeffFile,Compound,Class,Licence,Operator\ndir/a.csv,Cocaine HCl,cocaine,CC BY 4.0,kim\n"
    )
    rows = read_metadata_table(table)
    assert rows == {
        "a.csv": {
            "name": "Cocaine HCl",
            "label": "cocaine",
            "license": "CC BY 4.0",
            "extra": {"Operator": "kim"},
        }
    }
    items = [spectrum("/x/a.csv"), spectrum("/x/b.csv")]
    annotate(items, rows, defaults={"license": "CC0 1.0"})
    assert items[0].name == "Cocaine HCl" and items[0].metadata["label"] == "cocaine"
    assert items[0].metadata["license"] == "CC BY 4.0" and items[1].metadata["license"] == "CC0 1.0"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("name,label\nx,y\n", "needs a 'file' column"),
        ("file,name\na.csv,x\na.csv,y\n", "appears twice"),
        ("file,name\n,x\n", "'file' cell is empty"),
    ],
)
def test_malformed_tables_fail_naming_the_problem(tmp_path: Path, text: str, problem: str) -> None:
    table = tmp_path / "m.csv"
    table.write_text(text)
    with pytest.raises(SpectrumFormatError, match=problem):
        read_metadata_table(table)


def test_rows_for_files_that_are_not_among_the_spectra_are_refused() -> None:
    with pytest.raises(SpectrumFormatError, match=r"typo\.csv"):
        annotate([spectrum("/x/a.csv")], {"a.csv": {"label": "x"}, "typo.csv": {"label": "y"}})


@pytest.mark.parametrize(
    ("label", "expected"),
    [("(01) LDPE", "PE"), ("(02) HDPE", "PE"), ("(insitu 02) PE", "PE"), (" PP V3", "PP"), ("PET V1", "PET")],
)
def test_polymer_classes_put_ldpe_and_hdpe_under_pe(label: str, expected: str) -> None:
    assert polymer_class(label) == expected


def test_every_mpx_spectrum_gets_a_polymer_label_licence_and_description(shared_data: Path) -> None:
    mpx = next(s for s in REFERENCE_SETS if s.folder.endswith("mpx-polymers"))
    spectra = mpx.read(shared_data)
    assert len(spectra) == 448
    assert {s.metadata["label"] for s in spectra} == {"PE", "PP", "PS", "PET", "PLA"}
    assert {s.name for s in spectra} >= {"LDPE", "HDPE", "PE"}
    assert all(s.metadata["license"] == "CC BY-SA 4.0" and s.metadata["description"] for s in spectra)
    assert all("zenodo.8314801" in s.metadata["citation"] for s in spectra)
