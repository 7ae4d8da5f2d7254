"""Every reader, and Spectrum itself, refuses values no instrument records (m/z 1e26, NaN, inf, m/z ≤ 0).

Before these checks an MSP peak at m/z 1e26 wrapped to a negative nominal mass: the search crashed
with an IndexError and the library writer stored it as a 16-bit m/z.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from customslab.spectra.formats import read_spectra
from customslab.spectra.library import build_library, build_library_from_spectra, open_library
from customslab.spectra.model import MAX_MZ, MAX_POINTS, Spectrum, SpectrumFormatError, Technique
from customslab.spectra.scoring_ms import EIPeaks
from customslab.spectra.search import ms_top_k, search

# (value written in the file, how the message shows it)
BAD_MZ = [("1e26", "1e+26"), ("nan", "nan"), ("inf", "inf"), ("-41", "-41"), ("0", "0"), ("65536", "65536")]
BAD_MZ_IDS = ["huge", "nan", "inf", "negative", "zero", "above-16-bit"]


def _msp(mz: str) -> str:
    return f"Name: X\nNum Peaks: 3\n39 10\n41 100\n{mz} 50\n"


def _massbank(mz: str) -> str:
    return (
        "ACCESSION: X\nCH$NAME: y\nAC$INSTRUMENT_TYPE: GC-EI-TOF\nPK$NUM_PEAK: 3\n"
        f"PK$PEAK: m/z int. rel.int.\n  39 10 99\n  41 100 999\n  {mz} 50 499\n//\n"
    )


def _jcamp_ms(mz: str) -> str:
    return (
        "##TITLE=t\n##JCAMP-DX=5.01\n##DATA TYPE=MASS SPECTRUM\n##XUNITS=M/Z\n"
        f"##YUNITS=RELATIVE ABUNDANCE\n##NPOINTS=3\n##PEAK TABLE=(XY..XY)\n39,10 41,100\n{mz},50\n##END=\n"
    )


def _delimited_ms(mz: str) -> str:
    return f"m/z,intensity\n39,10\n41,100\n{mz},50\n"


# reader name -> (file name, content for a bad third m/z, line of the bad peak)
MS_FILES = {
    "msp": ("q.msp", _msp, 5),
    "massbank": ("q.txt", _massbank, 8),
    "jcamp": ("q.jdx", _jcamp_ms, 9),
    "delimited": ("q.csv", _delimited_ms, 4),
}


@pytest.mark.parametrize("reader", sorted(MS_FILES))
@pytest.mark.parametrize(("written", "shown"), BAD_MZ, ids=BAD_MZ_IDS)
def test_every_ms_reader_refuses_an_impossible_mz_naming_the_line_and_the_value(
    tmp_path: Path, reader: str, written: str, shown: str
) -> None:
    name, content, line = MS_FILES[reader]
    path = tmp_path / name
    path.write_text(content(written))
    with pytest.raises(SpectrumFormatError) as caught:
        read_spectra(path)
    assert caught.value.line == line
    assert shown in caught.value.problem
    if reader == "delimited" and written in ("nan", "inf"):
        # The CSV grammar takes only decimal numbers, so these never reach the range check.
        assert "not a finite number" in caught.value.problem
    else:
        assert "peak 3" in caught.value.problem and "m/z" in caught.value.problem


@pytest.mark.parametrize("reader", sorted(MS_FILES))
def test_every_ms_reader_accepts_the_largest_storable_mz(tmp_path: Path, reader: str) -> None:
    name, content, _ = MS_FILES[reader]
    path = tmp_path / name
    path.write_text(content(f"{MAX_MZ:g}"))
    (spectrum,) = read_spectra(path)
    assert spectrum.x.max() == MAX_MZ


@pytest.mark.parametrize(
    ("content", "line", "shown"),
    [
        ("Name: X\nNum Peaks: 2\n41 100\n43 -5\n", 4, "negative intensity (-5)"),
        ("Name: X\nNum Peaks: 2\n41 100\n43 nan\n", 4, "intensity nan, which is not finite"),
        ("Name: X\nNum Peaks: 2\n41 100\n43 1e999\n", 4, "intensity inf, which is not finite"),
        ("Name: X\nNum Peaks: 2\n41 100 43 1e31\n", 3, "intensity 1e+31, beyond"),
    ],
)
def test_a_negative_or_non_finite_ms_intensity_is_refused_with_its_peak(
    content: str, line: int, shown: str
) -> None:
    from customslab.spectra.formats.msp import parse_msp

    with pytest.raises(SpectrumFormatError) as caught:
        parse_msp(content, "t.msp")
    assert caught.value.line == line and "peak 2 (m/z 43)" in caught.value.problem
    assert shown in caught.value.problem


def _jcamp_ir(x: str, y: str = "0.2") -> str:
    return (
        "##TITLE=t\n##JCAMP-DX=5.01\n##DATA TYPE=INFRARED SPECTRUM\n##XUNITS=1/CM\n##YUNITS=ABSORBANCE\n"
        f"##XYPOINTS=(XY..XY)\n1000,0.1\n{x},{y}\n##END=\n"
    )


@pytest.mark.parametrize(
    ("x", "y", "shown"),
    [
        ("1e26", "0.2", "wavenumber 1e+26 cm⁻¹, outside"),
        ("nan", "0.2", "wavenumber nan cm⁻¹, which is not finite"),
        ("inf", "0.2", "wavenumber inf cm⁻¹, which is not finite"),
        ("-1000", "0.2", "wavenumber -1000 cm⁻¹, outside"),
        ("1100", "nan", "intensity nan, which is not finite"),
        ("1100", "-inf", "intensity -inf, which is not finite"),
    ],
)
def test_jcamp_infrared_points_out_of_range_or_not_finite_are_refused_with_their_line(
    tmp_path: Path, x: str, y: str, shown: str
) -> None:
    path = tmp_path / "ir.jdx"
    path.write_text(_jcamp_ir(x, y))
    with pytest.raises(SpectrumFormatError) as caught:
        read_spectra(path)
    assert caught.value.line == 8 and "point 2" in caught.value.problem and shown in caught.value.problem


def test_a_factor_that_overflows_the_xydata_ordinates_is_refused() -> None:
    from customslab.spectra.formats.jcamp import parse_jcamp

    text = (
        "##TITLE=t\n##DATA TYPE=INFRARED SPECTRUM\n##XUNITS=1/CM\n##YFACTOR=1e300\n##FIRSTX=1000\n"
        "##LASTX=1002\n##NPOINTS=3\n##XYDATA=(X++(Y..Y))\n1000 0 0 1e10\n##END=\n"
    )
    with pytest.raises(SpectrumFormatError) as caught:
        parse_jcamp(text, "t.jdx")
    assert caught.value.line == 9 and "point 3" in caught.value.problem
    assert "intensity inf, which is not finite" in caught.value.problem


def test_jcamp_refuses_an_absurd_point_count_before_decoding() -> None:
    from customslab.spectra.formats.jcamp import parse_jcamp

    text = (
        "##TITLE=t\n##DATA TYPE=INFRARED SPECTRUM\n##FIRSTX=1\n##LASTX=2\n"
        f"##NPOINTS={MAX_POINTS + 1}\n##XYDATA=(X++(Y..Y))\n1 1 2\n##END=\n"
    )
    with pytest.raises(SpectrumFormatError) as caught:
        parse_jcamp(text, "t.jdx")
    assert caught.value.line == 5 and "at most 1,000,000 points" in caught.value.problem


def test_jcamp_stops_reading_once_dup_counts_exceed_the_declared_points() -> None:
    from customslab.spectra.formats.jcamp import parse_jcamp

    # Each line repeats one value 900,000 times; without the stop, 50 lines would fill 45 million values.
    lines = "".join(f"{1000 + i} A1Z00000\n" for i in range(50))
    text = (
        "##TITLE=t\n##DATA TYPE=INFRARED SPECTRUM\n##FIRSTX=1000\n##LASTX=1009\n##NPOINTS=10\n"
        f"##XYDATA=(X++(Y..Y))\n{lines}##END=\n"
    )
    with pytest.raises(SpectrumFormatError) as caught:
        parse_jcamp(text, "t.jdx")
    assert caught.value.line == 7 and "more than 11 Y values" in caught.value.problem


@pytest.mark.parametrize(
    ("x", "shown"), [("1e26", "Raman shift 1e+26 cm⁻¹"), ("-2e5", "Raman shift -200000 cm⁻¹")]
)
def test_a_wide_raman_table_refuses_a_shift_out_of_range_naming_line_and_column(
    tmp_path: Path, x: str, shown: str
) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(f"WN;PS V1;PE V2\n1000;1;2\n{x};1;2\n")
    with pytest.raises(SpectrumFormatError) as caught:
        read_spectra(path)
    assert caught.value.line == 3 and "column 'PS V1'" in caught.value.problem
    assert shown in caught.value.problem


def test_a_raman_anti_stokes_shift_is_accepted_but_a_negative_ftir_wavenumber_is_not(tmp_path: Path) -> None:
    path = tmp_path / "spectrum.csv"
    path.write_text("Raman shift (cm-1);Intensity\n-150;3\n0;90\n150;4\n")
    (raman,) = read_spectra(path, technique=Technique.RAMAN)
    assert raman.x.tolist() == [-150.0, 0.0, 150.0]
    with pytest.raises(SpectrumFormatError, match=r"point 1 has wavenumber -150 cm⁻¹, outside"):
        read_spectra(path, technique=Technique.FTIR)


def test_a_raman_wavelength_in_nm_must_be_positive_and_plausible(tmp_path: Path) -> None:
    path = tmp_path / "raman.csv"
    path.write_text("Wavelength (nm);Intensity\n540;1\n2e5;2\n")
    with pytest.raises(SpectrumFormatError) as caught:
        read_spectra(path, technique=Technique.RAMAN)
    assert caught.value.line == 3 and "wavelength 200000 nm, outside" in caught.value.problem


@pytest.mark.parametrize(
    ("x", "y", "technique", "shown"),
    [
        ([41.0, 1e26], [1.0, 1.0], Technique.EI_MS, "peak 2 has m/z 1e+26"),
        ([41.0, np.nan], [1.0, 1.0], Technique.EI_MS, "peak 2 has m/z nan"),
        ([41.0, 43.0], [1.0, -1.0], Technique.EI_MS, "negative intensity"),
        ([1000.0, np.inf], [1.0, 1.0], Technique.FTIR, "wavenumber inf"),
        ([1000.0, 1001.0], [1.0, np.nan], Technique.RAMAN, "intensity nan"),
    ],
)
def test_a_spectrum_cannot_be_made_with_values_no_instrument_records(
    x: list[float], y: list[float], technique: Technique, shown: str
) -> None:
    with pytest.raises(SpectrumFormatError, match=r"q\.msp") as caught:
        Spectrum(np.array(x), np.array(y), technique, "q", {"source": "q.msp"})
    assert shown in caught.value.problem


def test_a_spectrum_of_more_than_the_point_limit_is_refused() -> None:
    x = np.linspace(400.0, 4000.0, MAX_POINTS + 1)
    with pytest.raises(SpectrumFormatError, match="1,000,001 points"):
        Spectrum(x, np.zeros_like(x), Technique.FTIR, "big")
    assert Spectrum(x[:MAX_POINTS], np.zeros(MAX_POINTS), Technique.FTIR, "ok").x.size == MAX_POINTS


def test_a_library_build_with_an_impossible_mz_fails_and_writes_nothing(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.msp", tmp_path / "bad.msp"
    good.write_text("Name: good\nNum Peaks: 3\n41 100\n43 50\n57 30\n")
    bad.write_text(_msp("1e26"))
    with pytest.raises(SpectrumFormatError, match=r"bad\.msp, line 5: peak 3 has m/z 1e\+26"):
        build_library([good, bad], tmp_path / "new")
    assert not (tmp_path / "new").exists()
    kept = build_library([good], tmp_path / "lib")
    with pytest.raises(SpectrumFormatError):
        build_library([good, bad], tmp_path / "lib")
    assert open_library(tmp_path / "lib").library_id == kept.library_id
    assert open_library(tmp_path / "lib").arrays["ms_mz"].tolist() == [41, 43, 57]


def test_the_search_refuses_query_peaks_outside_the_index_instead_of_crashing(tmp_path: Path) -> None:
    ms = Spectrum(np.array([41.0, 43.0, 57.0]), np.array([100.0, 50.0, 30.0]), Technique.EI_MS, "x")
    library = build_library_from_spectra([ms], tmp_path / "lib")
    assert search(library, ms, 1)[0].score == pytest.approx(1.0)
    for mz in (1e26, 70000.0, np.nan, -3.0):
        peaks = EIPeaks(np.array([41.0, mz]), np.array([1.0, 0.5]), 41.0)
        with pytest.raises(ValueError, match="query m/z must lie between 0 and 65535"):
            ms_top_k(library, peaks, 1)
