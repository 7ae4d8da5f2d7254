"""Two-column and wide delimited text spectra, including the real MPX and RaMPP files."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from customslab.spectra.formats import detect_format, read_spectra
from customslab.spectra.formats.delimited import read_two_column, read_wide_table
from customslab.spectra.model import SpectrumFormatError, Technique

MPX = Path("spectra/mpx-polymers")
RAMPP = Path("spectra/rampp-raman/data-raw")


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _mpx_file(shared_data: Path, analysis: str, x_unit: str) -> Path:
    with (shared_data / MPX / "subset_metadata.csv").open(newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["Analysis"] == analysis and r["x_unit"] == x_unit)
    return shared_data / MPX / "spectra" / row["file"]


def test_a_real_mpx_atr_file_reads_as_increasing_ftir_absorbance(shared_data: Path) -> None:
    (spectrum,) = read_spectra(_mpx_file(shared_data, "ATR", "cm-1"))
    assert spectrum.technique is Technique.FTIR
    assert spectrum.metadata["y_unit"] == "absorbance"
    assert spectrum.x[0] == pytest.approx(550.0) and spectrum.x[-1] == pytest.approx(4000.0)
    assert np.all(np.diff(spectrum.x) > 0)
    assert spectrum.x.size == 3451


def test_a_real_mpx_raman_file_in_nm_becomes_raman_shift_with_the_532_nm_excitation(
    shared_data: Path,
) -> None:
    path = _mpx_file(shared_data, "Raman", "nm")
    (spectrum,) = read_spectra(path, excitation_nm=532.0)
    first_nm = float(path.read_text().splitlines()[1].split(",")[0])
    assert spectrum.technique is Technique.RAMAN
    assert spectrum.metadata["x_unit"] == "cm-1"
    assert spectrum.metadata["x_unit_original"] == "nm"
    assert spectrum.metadata["excitation_nm"] == 532.0
    assert spectrum.x[0] == pytest.approx(1e7 / 532.0 - 1e7 / first_nm)
    assert spectrum.x[-1] > 3000


def test_a_raman_file_in_nm_without_excitation_keeps_nm_and_says_so(shared_data: Path) -> None:
    (spectrum,) = read_spectra(_mpx_file(shared_data, "Raman", "nm"))
    assert spectrum.metadata["x_unit"] == "nm"
    assert 500 < spectrum.x[0] < spectrum.x[-1] < 700


def test_the_rampp_wide_files_give_one_named_spectrum_per_column(shared_data: Path) -> None:
    files = {p.name: read_spectra(p) for p in (shared_data / RAMPP).glob("*.CSV")}
    assert sum(len(v) for v in files.values()) == 129
    sea_water = files["Microplasbial MP variants SW.CSV"]
    assert len(sea_water) == 54
    assert "PP V1" in [s.name for s in sea_water]  # header " PP V1" has a stray space
    assert [s.name for s in files["References.CSV"]][:3] == ["PS", "PA", "PC"]
    assert all(s.technique is Technique.RAMAN and s.x.size == 1600 for s in sea_water)
    assert detect_format(shared_data / RAMPP / "References.CSV") == "wide"


@pytest.mark.parametrize(
    ("text", "x_unit", "y_unit", "technique"),
    [
        ("cm-1;A\n1000,5;0,25\n1002,5;0,5\n", "cm-1", "absorbance", Technique.FTIR),
        ("Wavenumber (cm-1)\tAbsorbance\n1000.5\t0.25\n1002.5\t0.5\n", "cm-1", "absorbance", Technique.FTIR),
        ("wavenumber   %T\n1000.5  25\n1002.5 50\n", "cm-1", "percent_transmittance", Technique.FTIR),
        ("m/z,Intensity\n1000.5,0.25\n1002.5,0.5\n", "m/z", "intensity", Technique.EI_MS),
        ("1000,5 0,25\n1002,5 0,5\n", "cm-1", "intensity", Technique.FTIR),
    ],
)
def test_separators_decimal_commas_and_header_units_are_recognised(
    tmp_path: Path, text: str, x_unit: str, y_unit: str, technique: Technique
) -> None:
    (spectrum,) = read_two_column(
        _write(tmp_path, "s.txt", text), technique=technique if text[0].isdigit() else None
    )
    np.testing.assert_allclose(spectrum.x, [1000.5, 1002.5])
    np.testing.assert_allclose(spectrum.y, [0.25, 0.5] if "%T" not in text else [25, 50])
    assert (spectrum.metadata["x_unit"], spectrum.metadata["y_unit"]) == (x_unit, y_unit)
    assert spectrum.technique is technique


def test_a_headerless_file_needs_the_technique_to_be_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "plain.txt", "1000.5 0.25\n1002.5 0.5\n")
    with pytest.raises(SpectrumFormatError, match="technique"):
        read_two_column(path)
    (spectrum,) = read_two_column(path, technique=Technique.FTIR)
    assert spectrum.technique is Technique.FTIR


def test_micrometres_are_converted_to_increasing_wavenumbers(tmp_path: Path) -> None:
    (spectrum,) = read_two_column(_write(tmp_path, "um.csv", "um,A\n2.5,0.1\n5.0,0.2\n"))
    np.testing.assert_allclose(spectrum.x, [2000.0, 4000.0])
    np.testing.assert_allclose(spectrum.y, [0.2, 0.1])


def test_an_ambiguous_comma_line_is_rejected_rather_than_guessed(tmp_path: Path) -> None:
    with pytest.raises(SpectrumFormatError, match="expected 2 fields, found 3"):
        read_two_column(_write(tmp_path, "amb.csv", "cm-1,A\n1,5,2\n"), technique=Technique.FTIR)


def test_a_non_numeric_value_is_reported_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(SpectrumFormatError, match="not a finite number") as caught:
        read_two_column(_write(tmp_path, "bad.csv", "cm-1,A\n1000,0.1\n1002,abc\n"))
    assert caught.value.line == 3


def test_nan_and_infinity_are_not_accepted_as_numbers(tmp_path: Path) -> None:
    with pytest.raises(SpectrumFormatError, match="not a finite number"):
        read_two_column(_write(tmp_path, "nan.csv", "cm-1,A\n1000,nan\n1002,inf\n"))


def test_unknown_header_units_are_named_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(SpectrumFormatError, match="unrecognised column units"):
        read_two_column(_write(tmp_path, "u.csv", "furlongs,stones\n1,2\n"))


def test_a_wide_table_needs_a_header_with_an_x_column(tmp_path: Path) -> None:
    with pytest.raises(SpectrumFormatError, match="not an x axis"):
        read_wide_table(_write(tmp_path, "w.csv", "foo;a;b\n1;2;3\n"))


def test_read_spectra_names_the_file_when_the_content_is_unknown(tmp_path: Path) -> None:
    path = _write(tmp_path, "notes.txt", "hello\nworld\n")
    with pytest.raises(SpectrumFormatError, match=r"notes\.txt"):
        read_spectra(path)


def test_read_spectra_refuses_binary_files_and_jcamp_names_without_jcamp_content(tmp_path: Path) -> None:
    binary = tmp_path / "opus.0"
    binary.write_bytes(b"\x00\x01\x02OPUS")
    with pytest.raises(SpectrumFormatError, match="binary"):
        read_spectra(binary)
    with pytest.raises(SpectrumFormatError, match="JCAMP-DX"):
        read_spectra(_write(tmp_path, "x.jdx", "1000,0.1\n"))
