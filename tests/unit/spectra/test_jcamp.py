"""JCAMP-DX reading and writing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from customslab.spectra.formats.jcamp import parse_jcamp, read_jcamp, write_jcamp
from customslab.spectra.formats.jcamp_writer import choose_yfactor
from customslab.spectra.model import Spectrum, SpectrumFormatError, Technique

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "spectra"
EXPECTED_Y = np.array([10, 12, 15, 15, 15, 14, 10, 5, 5, 5]) * 0.001
EXPECTED_X = np.arange(1000.0, 1010.0)


def _header(npoints: int = 10, form: str = "(X++(Y..Y))") -> str:
    return (
        "##TITLE=inline\n##JCAMP-DX=5.01\n##DATA TYPE=INFRARED SPECTRUM\n##XUNITS=1/CM\n##YUNITS=ABSORBANCE\n"
        f"##YFACTOR=0.001\n##FIRSTX=1000\n##LASTX=1009\n##NPOINTS={npoints}\n##XYDATA={form}\n"
    )


@pytest.mark.parametrize("name", ["affn.jdx", "sqz.jdx", "dif.jdx", "dup.jdx"])
def test_every_compression_form_decodes_to_the_same_spectrum(name: str) -> None:
    (spectrum,) = read_jcamp(FIXTURES / name)
    np.testing.assert_allclose(spectrum.y, EXPECTED_Y, rtol=0, atol=1e-12)
    np.testing.assert_allclose(spectrum.x, EXPECTED_X)
    assert spectrum.technique is Technique.FTIR


def test_the_descriptive_records_are_kept_in_metadata() -> None:
    (spectrum,) = read_jcamp(FIXTURES / "dup.jdx")
    assert spectrum.name == "polyethylene"
    assert spectrum.metadata["title"] == "difdup example"
    assert spectrum.metadata["cas_registry_no"] == "9002-88-4"
    assert spectrum.metadata["molform"] == "(C2 H4)n"
    assert spectrum.metadata["names"] == "polyethylene\nPE"
    assert spectrum.metadata["owner"] == "public domain"
    assert spectrum.metadata["origin"].startswith("customslab test fixture")
    assert (spectrum.metadata["x_unit"], spectrum.metadata["y_unit"]) == ("cm-1", "absorbance")


def test_a_dif_line_whose_check_value_disagrees_is_rejected_with_its_line_number() -> None:
    with pytest.raises(SpectrumFormatError) as caught:
        read_jcamp(FIXTURES / "dif_check_failure.jdx")
    assert caught.value.line == 20
    assert "Y-value check" in caught.value.problem
    assert "dif_check_failure.jdx" in str(caught.value)


def test_a_wrong_npoints_is_an_error_naming_both_counts() -> None:
    with pytest.raises(SpectrumFormatError) as caught:
        read_jcamp(FIXTURES / "wrong_npoints.jdx")
    assert "NPOINTS=12" in caught.value.problem
    assert "10 Y values" in caught.value.problem


def test_a_missing_final_end_is_tolerated_when_only_the_outer_block_is_open() -> None:
    (spectrum,) = read_jcamp(FIXTURES / "missing_end.jdx")
    np.testing.assert_allclose(spectrum.y, EXPECTED_Y)


def test_a_nested_block_without_end_is_rejected_because_the_structure_is_ambiguous() -> None:
    with pytest.raises(SpectrumFormatError, match="no ##END before this ##TITLE") as caught:
        read_jcamp(FIXTURES / "compound_missing_end.jdx")
    assert caught.value.line is not None


def test_a_file_ending_inside_a_nested_block_is_rejected() -> None:
    text = (FIXTURES / "compound.jdx").read_text().rsplit("##END=", 2)[0]
    with pytest.raises(SpectrumFormatError, match="nested block"):
        parse_jcamp(text, "cut.jdx")


def test_a_compound_file_gives_one_spectrum_per_data_block_in_file_order() -> None:
    infrared, mass = read_jcamp(FIXTURES / "compound.jdx")
    assert infrared.technique is Technique.FTIR
    assert mass.technique is Technique.EI_MS
    np.testing.assert_allclose(infrared.y, EXPECTED_Y)
    np.testing.assert_allclose(mass.x, [50, 51, 52, 77, 78])


def test_a_compound_file_whose_block_count_disagrees_is_rejected() -> None:
    text = (FIXTURES / "compound.jdx").read_text().replace("##BLOCKS=2", "##BLOCKS=3")
    with pytest.raises(SpectrumFormatError, match="BLOCKS=3"):
        parse_jcamp(text, "compound.jdx")


def test_a_mass_spectrum_peak_table_reads_as_an_ei_ms_peak_list() -> None:
    (spectrum,) = read_jcamp(FIXTURES / "peak_table.jdx")
    assert spectrum.technique is Technique.EI_MS
    np.testing.assert_allclose(spectrum.x, [50, 51, 52, 77, 78])
    np.testing.assert_allclose(spectrum.y, [140, 180, 190, 140, 999])
    assert spectrum.metadata["x_unit"] == "m/z"


def test_micrometres_become_increasing_wavenumbers_and_transmittance_is_kept_as_such() -> None:
    (spectrum,) = read_jcamp(FIXTURES / "micrometers.jdx")
    np.testing.assert_allclose(spectrum.x, 1e4 / np.array([5.0, 4.5, 4.0, 3.5, 3.0, 2.5]))
    np.testing.assert_allclose(spectrum.y, [0.95, 0.60, 0.20, 0.50, 0.80, 0.90])
    assert spectrum.metadata["y_unit"] == "transmittance"


def test_a_line_x_more_than_one_spacing_off_the_axis_is_rejected_but_rounding_is_tolerated() -> None:
    tolerated = _header() + "1000.4 10 12 15 15 15\n1005.6 14 10 5 5 5\n##END=\n"
    (spectrum,) = parse_jcamp(tolerated, "rounded.jdx")
    np.testing.assert_allclose(spectrum.y, EXPECTED_Y)
    shifted = _header() + "1000 10 12 15 15 15\n1007 14 10 5 5 5\n##END=\n"
    with pytest.raises(SpectrumFormatError, match="does not match point 6") as caught:
        parse_jcamp(shifted, "shifted.jdx")
    assert caught.value.line == 12


def test_sqz_values_may_be_repeated_with_dup() -> None:
    (spectrum,) = parse_jcamp(_header() + "1000 A0A2A5U\n1005 A4A0EU\n##END=\n", "sqzdup.jdx")
    np.testing.assert_allclose(spectrum.y, EXPECTED_Y)


def test_affn_values_with_exponents_are_read_as_numbers() -> None:
    text = _header() + "1000 1.0E1 1.2e+01 15 15 15\n1005 14 10 5 5 5E0\n##END=\n"
    (spectrum,) = parse_jcamp(text, "exp.jdx")
    np.testing.assert_allclose(spectrum.y, EXPECTED_Y)


@pytest.mark.parametrize(
    ("replacement", "problem"),
    [
        ("##DATA TYPE=NMR SPECTRUM", "unsupported ##DATA TYPE"),
        ("##XUNITS=HZ", "unsupported ##XUNITS"),
        ("##FIRSTX=abc", "is not a number"),
    ],
)
def test_unsupported_or_malformed_header_records_are_named_in_the_error(
    replacement: str, problem: str
) -> None:
    label = replacement.split("=")[0]
    lines = [replacement if ln.startswith(label + "=") else ln for ln in _header().splitlines()]
    text = "\n".join(lines) + "\n1000 10 12 15 15 15\n1005 14 10 5 5 5\n##END=\n"
    with pytest.raises(SpectrumFormatError, match=problem):
        parse_jcamp(text, "bad.jdx")


def test_a_stray_character_in_the_data_is_reported_with_its_line() -> None:
    with pytest.raises(SpectrumFormatError, match="unexpected character") as caught:
        parse_jcamp(_header() + "1000 10 12 15 15 15\n1005 14 10 5 5 !\n##END=\n", "stray.jdx")
    assert caught.value.line == 12


def test_a_file_without_any_title_is_not_jcamp() -> None:
    with pytest.raises(SpectrumFormatError, match="##TITLE"):
        parse_jcamp("1000 10 12\n", "plain.txt")


def _spectrum(y: np.ndarray, technique: Technique = Technique.FTIR) -> Spectrum:
    x = np.linspace(550.0, 4000.0, y.size)
    return Spectrum(x=x, y=y, technique=technique, name="round trip", metadata={"y_unit": "absorbance"})


@pytest.mark.parametrize("compression", ["DIFDUP", "AFFN"])
def test_a_written_compound_file_reads_back_block_for_block(tmp_path: Path, compression: str) -> None:
    ir = _spectrum(np.sin(np.linspace(0, 9, 300)) + 1.5)
    raman = Spectrum(np.linspace(100, 3000, 50), np.linspace(0, 1, 50) ** 2, Technique.RAMAN, "raman")
    ms = Spectrum(np.array([41.0, 43.0, 57.0]), np.array([120.0, 999.0, 640.0]), Technique.EI_MS, "hexane")
    path = tmp_path / "out.jdx"
    write_jcamp([ir, raman, ms], path, compression=compression)
    back = read_jcamp(path)
    assert [s.technique for s in back] == [Technique.FTIR, Technique.RAMAN, Technique.EI_MS]
    assert [s.name for s in back] == ["round trip", "raman", "hexane"]
    for original, copy in zip([ir, raman, ms], back, strict=True):
        np.testing.assert_allclose(copy.x, original.x, rtol=1e-12)
        assert np.max(np.abs(copy.y - original.y)) <= choose_yfactor(original.y) / 2 * (1 + 1e-9)


@settings(max_examples=60, deadline=None)
@given(
    y=arrays(
        np.float64,
        st.integers(3, 400),
        elements=st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False),
    ),
    compression=st.sampled_from(["DIFDUP", "AFFN"]),
)
def test_jcamp_round_trips_are_exact_to_half_the_yfactor(
    tmp_path_factory: pytest.TempPathFactory, y: np.ndarray, compression: str
) -> None:
    path = tmp_path_factory.mktemp("rt") / "rt.jdx"
    original = _spectrum(y)
    write_jcamp(original, path, compression=compression)
    (copy,) = read_jcamp(path)
    yfactor = choose_yfactor(y)
    assert np.max(np.abs(copy.y - y)) <= yfactor / 2 * (1 + 1e-9) + 1e-300
    np.testing.assert_allclose(copy.x, original.x, rtol=1e-12)


def test_an_unevenly_spaced_profile_is_written_as_xypoints_and_reads_back_exactly(tmp_path: Path) -> None:
    x = np.array([400.0, 401.5, 405.0, 410.25])
    original = Spectrum(x, np.array([0.1, 0.3, 0.2, 0.05]), Technique.FTIR, "uneven")
    write_jcamp(original, tmp_path / "u.jdx")
    assert "##XYPOINTS=(XY..XY)" in (tmp_path / "u.jdx").read_text()
    (copy,) = read_jcamp(tmp_path / "u.jdx")
    np.testing.assert_array_equal(copy.x, x)
    np.testing.assert_array_equal(copy.y, original.y)


def test_writing_a_spectrum_with_nan_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpectrumFormatError, match="not finite"):
        write_jcamp(_spectrum(np.array([1.0, np.nan, 2.0])), tmp_path / "nan.jdx")
