"""Every layout the JCAMP-DX 4.24 and 5.01 texts allow reads to the same spectrum; bad files name their line.

4.24: McDonald & Wilks, Appl. Spectrosc. 42 (1988) 151. 5.01: Lampen et al., Appl. Spectrosc. 48 (1994)
1545, with the NTUPLES pages. The texts are hand-made, small and written to show one layout each.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customslab.spectra.formats import read_spectra
from customslab.spectra.formats.jcamp import parse_jcamp, read_jcamp
from customslab.spectra.model import SpectrumFormatError, Technique

POINTS_X = [1000.0, 1001.0, 1002.0]
POINTS_Y = [0.1, 0.2, 0.3]
PROFILE_X = np.arange(1000.0, 1010.0)
PROFILE_Y = np.array([10, 12, 15, 15, 15, 14, 10, 5, 5, 5]) * 0.001


def _block(body: str, *, data_type: str = "INFRARED SPECTRUM", units: str = "") -> str:
    units = units or "##XUNITS=1/CM\n##YUNITS=ABSORBANCE\n"
    return f"##TITLE=t\n##JCAMP-DX=5.01\n##DATA TYPE={data_type}\n{units}{body}\n##END=\n"


def _points(table: str, npoints: int | None = 3, form: str = "##XYPOINTS=(XY..XY)") -> str:
    # Data lines start at line 8 (line 7 without ##NPOINTS).
    count = f"##NPOINTS={npoints}\n" if npoints is not None else ""
    return _block(f"{count}{form}\n{table}")


def _profile(table: str, header: str = "") -> str:
    header = header or "##YFACTOR=0.001\n##FIRSTX=1000\n##LASTX=1009\n##NPOINTS=10\n"
    # With the default header, data lines start at line 11.
    return _block(f"{header}##XYDATA=(X++(Y..Y))\n{table}")


def _only(text: str, **kwargs: float) -> tuple[np.ndarray, np.ndarray]:
    (spectrum,) = parse_jcamp(text, "layout.jdx", **kwargs)
    return spectrum.x, spectrum.y


# --- XYPOINTS=(XY..XY) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "table",
    [
        "1000,0.1\n1001,0.2\n1002,0.3",
        "1000, 0.1\n1001, 0.2\n1002, 0.3",
        "1000 , 0.1\n1001 ,0.2\n1002,  0.3",
        "1000 0.1\n1001 0.2\n1002 0.3",
        "1000\t0.1\n1001\t0.2\n1002\t0.3",
        "1000;0.1\n1001;0.2\n1002;0.3",
        "1000,0.1;1001,0.2;1002,0.3",
        "1000, 0.1; 1001, 0.2; 1002, 0.3",
        "1000,0.1 1001,0.2 1002,0.3",
        "1000,0.1\t1001,0.2\n1002,0.3",
        "1000 0.1 1001 0.2\n1002 0.3",
        "1000;0.1;1001;0.2\n1002;0.3",
        "1000 0.1; 1001 0.2; 1002 0.3",
        "1000, 0.1;\n1001, 0.2;\n1002, 0.3;",
        "1000,0.1,\n1001,0.2,\n1002,0.3,",
        "1000,0.1 ; \n1001,0.2 ;\t\n1002,0.3",
        "1.000E3,1.0E-1\n1.001e+03, 2.0e-01\n1002E0,3E-1",
        "+1000+0.1\n+1001+0.2\n+1002+0.3",
    ],
    ids=[
        "x,y",
        "x, y",
        "x , y",
        "x y",
        "x<tab>y",
        "x;y",
        "pairs;pairs",
        "pairs; pairs with blanks",
        "pairs separated by blanks",
        "pairs separated by a tab",
        "blank-separated pairs, several per line",
        "semicolons only",
        "blank pairs separated by semicolons",
        "trailing semicolons",
        "trailing commas",
        "trailing separators and blanks",
        "E-notation",
        "signs as separators (PAC)",
    ],
)
def test_xypoints_pairs_read_alike_whatever_separators_they_are_written_with(table: str) -> None:
    x, y = _only(_points(table))
    np.testing.assert_allclose(x, POINTS_X)
    np.testing.assert_allclose(y, POINTS_Y)


def test_xypoints_written_as_x_comma_space_y_by_instrument_software_are_read() -> None:
    text = _points("1000, 0.1\n1001, 0.2\n1002, 0.3", npoints=None)
    x, y = _only(text)
    assert x.tolist() == POINTS_X and y.tolist() == POINTS_Y


@pytest.mark.parametrize(
    "table", ["1000,0.1; 1001,?; 1002,0.3", "1000 0.1\n? 0.2\n1002 0.3", "1000, 0.1\n1001, ?\n1002, 0.3"]
)
def test_a_missing_value_written_as_a_question_mark_leaves_its_point_out(table: str) -> None:
    x, y = _only(_points(table))  # ##NPOINTS=3 counts the missing point
    np.testing.assert_allclose(x, [1000.0, 1002.0])
    np.testing.assert_allclose(y, [0.1, 0.3])


def test_xypoints_without_npoints_are_read_in_file_order_and_sorted_by_x() -> None:
    x, y = _only(_points("1002,0.3\n1000,0.1 1001,0.2", npoints=None))
    np.testing.assert_allclose(x, POINTS_X)
    np.testing.assert_allclose(y, POINTS_Y)


def test_xypoints_scale_x_and_y_by_their_factors() -> None:
    text = _points("500,1\n500.5,2\n501,3", form="##XFACTOR=2\n##YFACTOR=0.1\n##XYPOINTS=(XY..XY)")
    x, y = _only(text)
    np.testing.assert_allclose(x, POINTS_X)
    np.testing.assert_allclose(y, POINTS_Y)


def test_a_point_count_that_disagrees_with_npoints_is_an_error_on_the_npoints_line() -> None:
    with pytest.raises(SpectrumFormatError) as caught:
        parse_jcamp(_points("1000,0.1\n1001,0.2", npoints=3), "short.jdx")
    assert caught.value.line == 6
    assert "##NPOINTS=3 but the table holds 2 points" in caught.value.problem


@pytest.mark.parametrize(
    ("table", "line", "problem"),
    [
        ("1000,0.1\n1001,0.2 1002", 9, "expected 2 comma-separated values, got '1002'"),
        ("1000,0.1\n1001,0.2,7", 9, "expected 2 comma-separated values"),
        ("1000 0.1\n1001 0.2 1002", 9, "3 values on the line do not make whole tuples of 2"),
        ("1000,0.1\n1001,abc", 9, "malformed number 'abc'"),
        ("1000,0.1\n1001 x 0.2", 9, "malformed number"),
        ("1000,0.1\n1001,", 9, "malformed number ''"),
    ],
)
def test_a_malformed_pair_is_refused_naming_its_line(table: str, line: int, problem: str) -> None:
    with pytest.raises(SpectrumFormatError) as caught:
        parse_jcamp(_points(table, npoints=None), "bad.jdx")
    assert caught.value.line == line - 1  # no ##NPOINTS line in these texts
    assert problem in caught.value.problem


def test_a_table_whose_every_point_is_missing_is_refused() -> None:
    with pytest.raises(SpectrumFormatError, match="every point is missing"):
        parse_jcamp(_points("1000,?\n?,0.2\n1002,?"), "missing.jdx")


# --- PEAK TABLE ----------------------------------------------------------------------------------------


def _mass(form: str, table: str) -> str:
    units = "##XUNITS=M/Z\n##YUNITS=RELATIVE ABUNDANCE\n"
    return _block(f"##NPOINTS=3\n##PEAK TABLE={form}\n{table}", data_type="MASS SPECTRUM", units=units)


@pytest.mark.parametrize(
    ("form", "table"),
    [
        ("(XY..XY)", "41,100 43,50 57,30"),
        ("(XY..XY)", "41, 100; 43, 50;\n57, 30;"),
        ("(XY..XY)", "41 100\n43\t50\n57 30"),
        ("(XY..XY)", "41;100;43;50;57;30"),
        ("(XYW..XYW)", "41,100,0.5 43,50,0.4 57,30,0.6"),
        ("(XYW..XYW)", "41, 100, 0.5; 43, 50, ?\n57, 30, ,"),
        ("(XYW..XYW)", "41 100 0.5 43 50 0.4\n57 30 0.6"),
        ("(XYM..XYM)", "41,100,S 43,50,D 57,30,T"),
        ("(XYM..XYM)", "41, 100, S; 43, 50, D\n57, 30, M"),
        ("(XYM..XYM)", "41 100 S\n43 50 D\n57 30 T"),
    ],
)
def test_peak_tables_with_widths_or_multiplicities_read_alike_in_every_separator_layout(
    form: str, table: str
) -> None:
    (spectrum,) = parse_jcamp(_mass(form, table), "peaks.jdx")
    assert spectrum.technique is Technique.EI_MS
    assert spectrum.x.tolist() == [41.0, 43.0, 57.0]
    assert spectrum.y.tolist() == [100.0, 50.0, 30.0]


def test_a_peak_width_that_is_not_a_number_is_refused_with_its_line() -> None:
    with pytest.raises(SpectrumFormatError, match="malformed number 'wide'") as caught:
        parse_jcamp(_mass("(XYW..XYW)", "41,100,0.5\n43,50,wide 57,30,0.6"), "w.jdx")
    assert caught.value.line == 9


def test_an_infrared_peak_table_is_refused_because_a_stick_list_is_not_a_profile() -> None:
    with pytest.raises(
        SpectrumFormatError, match="peak tables are supported for mass spectra only"
    ) as caught:
        parse_jcamp(_points("1000,0.1 1001,0.2 1002,0.3", form="##PEAK TABLE=(XY..XY)"), "ir.jdx")
    assert caught.value.line == 7


# --- XYDATA=(X++(Y..Y)) --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "table",
    [
        "1000 10 12 15 15 15\n1005 14 10 5 5 5",
        "1000   10  12\t15 15    15   \n  1005\t14 10  5 5 5",
        "1000,10,12,15,15,15\n1005,14,10,5,5,5",
        "1000;10;12;15;15;15\n1005;14;10;5;5;5",
        "1000+10+12+15+15+15\n1005+14+10+5+5+5",
        "+1000+10+12+15+15+15\n+1005+14+10+5+5+5",
        "1000 1.0E+01 1.2E+01 1.5E1 1.5e1 15\n1005 1.4E+01+1.0E+01+5.0E+00+5E0+5.0E-00",
        "1000 10 12 15 15 15 14 10 5 5 5",
        "1000 10\n1001 12\n1002 15\n1003 15\n1004 15\n1005 14\n1006 10\n1007 5\n1008 5\n1009 5",
        "1000 A0A2A5A5A5\n1005 A4A0EEE",
        "1000 A0A2A5U\n1005 A4A0EU",
        "1000+10+12+15U\n1005+14+10+5U",
        "1000 A0KL%%\n1004 A5jmn%%\n1009 E",
        "1000 A0KL%T\n1004 A5jmn%T\n1009 E",
        "1000 A0KL%T\n1004 A5jmn%T",
        "1000 A0 K L % %\n1004 A5 j m n % %\n1009 E",
    ],
    ids=[
        "AFFN",
        "AFFN with free spacing and tabs",
        "AFFN with commas",
        "AFFN with semicolons",
        "PAC (signs as separators)",
        "PAC with a signed X",
        "AFFN with E-notation and signs as separators",
        "one line",
        "one ordinate per line",
        "SQZ",
        "SQZ with DUP",
        "PAC with DUP",
        "DIF with the Y-value check and a final check line",
        "DIFDUP with the Y-value check",
        "DIFDUP without a final check line",
        "DIF with blanks between values",
    ],
)
def test_xydata_in_every_affn_and_asdf_form_decodes_to_the_same_profile(table: str) -> None:
    x, y = _only(_profile(table))
    np.testing.assert_allclose(x, PROFILE_X)
    np.testing.assert_allclose(y, PROFILE_Y, rtol=0, atol=1e-12)


def test_a_missing_ordinate_in_xydata_leaves_its_point_out_and_keeps_the_axis() -> None:
    x, y = _only(_profile("1000 10 12 ? 15 15\n1005 14 10 5 5 ?"))
    np.testing.assert_allclose(x, [1000, 1001, 1003, 1004, 1005, 1006, 1007, 1008])
    np.testing.assert_allclose(y, np.array([10, 12, 15, 15, 14, 10, 5, 5]) * 0.001)


def test_a_dup_count_after_a_missing_ordinate_repeats_the_gap() -> None:
    x, y = _only(_profile("1000 A0A2?U\n1005 A4A0EU"))
    np.testing.assert_allclose(x, [1000, 1001, 1005, 1006, 1007, 1008, 1009])
    np.testing.assert_allclose(y, np.array([10, 12, 14, 10, 5, 5, 5]) * 0.001)


def test_a_dif_value_after_a_missing_ordinate_is_refused() -> None:
    with pytest.raises(SpectrumFormatError, match="cannot follow a missing value") as caught:
        parse_jcamp(_profile("1000 A0K?J%%\n1005 A4A0EEE"), "dif.jdx")
    assert caught.value.line == 11


def test_a_descending_axis_from_firstx_and_lastx_reads_as_increasing_wavenumbers() -> None:
    header = "##YFACTOR=0.001\n##FIRSTX=1009\n##LASTX=1000\n##NPOINTS=10\n"
    x, y = _only(_profile("1009 5 5 5 10 14\n1004 15 15 15 12 10", header))
    np.testing.assert_allclose(x, PROFILE_X)
    np.testing.assert_allclose(y, PROFILE_Y)


def test_deltax_gives_the_axis_when_lastx_is_absent_even_descending() -> None:
    header = "##YFACTOR=0.001\n##FIRSTX=1009\n##DELTAX=-1\n##NPOINTS=10\n"
    x, y = _only(_profile("1009 5 5 5 10 14\n1004 15 15 15 12 10", header))
    np.testing.assert_allclose(x, PROFILE_X)
    np.testing.assert_allclose(y, PROFILE_Y)


def test_xfactor_scales_the_x_written_on_each_line_and_yfactor_the_ordinates() -> None:
    header = "##XFACTOR=0.5\n##YFACTOR=1E-3\n##FIRSTX=1000\n##LASTX=1009\n##NPOINTS=10\n"
    x, y = _only(_profile("2000 10 12 15 15 15\n2010 14 10 5 5 5", header))
    np.testing.assert_allclose(x, PROFILE_X)
    np.testing.assert_allclose(y, PROFILE_Y)


def test_maxx_minx_maxy_miny_and_firsty_are_kept_but_never_checked() -> None:
    header = (
        "##YFACTOR=0.001\n##FIRSTX=1000\n##LASTX=1009\n##NPOINTS=10\n"
        "##MAXX=9999\n##MINX=-5\n##MAXY=42\n##MINY=7\n##FIRSTY=3\n"
    )
    (spectrum,) = parse_jcamp(_profile("1000 10 12 15 15 15\n1005 14 10 5 5 5", header), "m.jdx")
    np.testing.assert_allclose(spectrum.y, PROFILE_Y)
    assert spectrum.metadata["jcamp_labels"]["MAXX"] == "9999"


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ("1000 10 12 15 15 15\n1005 14 10 5 5", "##NPOINTS=10 but the table holds 9 Y values"),
        ("1000 10 12 15 15 15\n1005 14 10 5 5 5 5", "##NPOINTS=10 but the table holds 11 Y values"),
    ],
)
def test_an_xydata_count_that_disagrees_with_npoints_is_refused_on_the_npoints_line(
    table: str, problem: str
) -> None:
    with pytest.raises(SpectrumFormatError) as caught:
        parse_jcamp(_profile(table), "count.jdx")
    assert caught.value.line == 9 and problem in caught.value.problem


def test_xydata_without_npoints_is_refused_because_the_axis_needs_it() -> None:
    header = "##YFACTOR=0.001\n##FIRSTX=1000\n##LASTX=1009\n"
    with pytest.raises(SpectrumFormatError, match="required ##NPOINTS missing in block at line 1"):
        parse_jcamp(_profile("1000 10 12 15 15 15\n1005 14 10 5 5 5", header), "n.jdx")


# --- labels and comments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "##X UNITS=1/CM\n##Y UNITS=ABSORBANCE\n##Y FACTOR=0.001\n##FIRST X=1000\n##LAST X=1009\n"
        "##N POINTS=10\n",
        "##XUnits=1/cm\n##YUnits=absorbance\n##yfactor=0.001\n##FirstX=1000\n##LastX=1009\n##nPoints=10\n",
        "##X_UNITS=1/CM\n##Y_UNITS=ABSORBANCE\n##Y_FACTOR=0.001\n##FIRST_X=1000\n##LAST_X=1009\n##N_POINTS=10\n",
        "##X-UNITS=1/CM\n##Y-UNITS=ABSORBANCE\n##Y-FACTOR=0.001\n##FIRST-X=1000\n##LAST-X=1009\n##N-POINTS=10\n",
        "##X/UNITS=1/CM\n##Y/UNITS=ABSORBANCE\n##Y/FACTOR=0.001\n##FIRST/X=1000\n##LAST/X=1009\n##N/POINTS=10\n",
        "  ##XUNITS= 1/CM\n##YUNITS=   ABSORBANCE  \n##YFACTOR =0.001\n##FIRSTX=1000\n##LASTX=1009\n"
        "##NPOINTS=10\n",
    ],
    ids=["spaces", "mixed case", "underscores", "hyphens", "slashes", "blanks around"],
)
def test_labels_compare_without_case_blanks_dashes_slashes_and_underscores(header: str) -> None:
    text = f"##TITLE=t\n##JCAMP-DX=5.01\n##Data_Type=INFRARED SPECTRUM\n{header}##XY DATA=(X++(Y..Y))\n"
    (spectrum,) = parse_jcamp(text + "1000 10 12 15 15 15\n1005 14 10 5 5 5\n##END=\n", "labels.jdx")
    np.testing.assert_allclose(spectrum.x, PROFILE_X)
    np.testing.assert_allclose(spectrum.y, PROFILE_Y)
    assert spectrum.metadata["y_unit"] == "absorbance"


def test_comments_at_line_ends_on_whole_lines_and_in_comment_records_are_ignored() -> None:
    text = (
        "$$ written by a hand-made exporter\n"
        "##TITLE=commented $$ the title ends before this\n"
        "##JCAMP-DX=5.01 $$ version\n"
        "##= a comment record\n"
        "that runs on to a second line\n"
        "##DATA TYPE=INFRARED SPECTRUM\n"
        "$$ a whole comment line\n"
        "##XUNITS=1/CM $$ wavenumbers\n"
        "##YFACTOR=0.001\n##FIRSTX=1000\n##LASTX=1009\n"
        "##NPOINTS=10 $$ ten points\n"
        "##= the table follows\n"
        "##XYDATA=(X++(Y..Y)) $$ AFFN\n"
        "1000 10 12 15 15 15 $$ first line\n"
        "$$ a comment between data lines\n"
        "1005 14 10 5 5 5\n"
        "##END= $$ done\n"
    )
    (spectrum,) = parse_jcamp(text, "comments.jdx")
    assert spectrum.name == "commented"
    assert spectrum.metadata["format"] == "JCAMP-DX 5.01"
    np.testing.assert_allclose(spectrum.y, PROFILE_Y)


def test_a_multi_line_text_record_keeps_its_continuation_lines() -> None:
    text = _points("1000,0.1 1001,0.2 1002,0.3", form="##NAMES=polyethylene\nPE\n##XYPOINTS=(XY..XY)")
    (spectrum,) = parse_jcamp(text, "names.jdx")
    assert spectrum.name == "polyethylene" and spectrum.metadata["names"] == "polyethylene\nPE"


# --- units -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("xunits", "expected"),
    [
        ("1/CM", POINTS_X),
        ("1/cm", POINTS_X),
        ("CM-1", POINTS_X),
        ("MICROMETERS", sorted(1e4 / np.array(POINTS_X))),
        ("MICRONS", sorted(1e4 / np.array(POINTS_X))),
        ("NANOMETERS", sorted(1e7 / np.array(POINTS_X))),
        ("NM", sorted(1e7 / np.array(POINTS_X))),
    ],
)
def test_infrared_x_units_become_wavenumbers(xunits: str, expected: list[float]) -> None:
    text = _block("##XYPOINTS=(XY..XY)\n1000,0.1 1001,0.2 1002,0.3", units=f"##XUNITS={xunits}\n")
    (spectrum,) = parse_jcamp(text, "units.jdx")
    np.testing.assert_allclose(spectrum.x, expected)
    assert spectrum.metadata["x_unit"] == "cm-1"


@pytest.mark.parametrize(
    ("yunits", "expected"),
    [
        ("ABSORBANCE", "absorbance"),
        ("TRANSMITTANCE", "transmittance"),
        ("%T", "percent_transmittance"),
        ("PERCENT TRANSMITTANCE", "percent_transmittance"),
        ("ARBITRARY UNITS", "arbitrary"),
        ("COUNTS", "counts"),
        ("REFLECTANCE", "reflectance"),
        ("KUBELKA-MUNK", "KUBELKA-MUNK"),
    ],
)
def test_y_units_are_named_in_the_readers_vocabulary_or_kept_as_written(yunits: str, expected: str) -> None:
    text = _block("##XYPOINTS=(XY..XY)\n1000,10 1001,20", units=f"##XUNITS=1/CM\n##YUNITS={yunits}\n")
    (spectrum,) = parse_jcamp(text, "y.jdx")
    assert spectrum.metadata["y_unit"] == expected
    assert spectrum.y.tolist() == [10.0, 20.0]  # values are never rescaled by the unit


def _raman(labels: str, x: str = "540,10 550,20 560,30") -> str:
    return _block(
        f"{labels}##XYPOINTS=(XY..XY)\n{x}", data_type="RAMAN SPECTRUM", units="##XUNITS=NANOMETERS\n"
    )


@pytest.mark.parametrize(
    "laser",
    [
        "##$LASER WAVELENGTH=532\n",
        "##LASER WAVELENGTH=532.0 nm\n",
        "##$EXCITATION WAVELENGTH NM=532\n",
        "##.EXCITATION WAVELENGTH=532nm\n",
        "##$LASER WAVENUMBER=18796.99\n",
        "##$LASER WAVELENGTH=18796.99 cm-1\n",
    ],
)
def test_a_raman_spectrum_in_nanometres_uses_the_laser_line_the_file_states(laser: str) -> None:
    (spectrum,) = parse_jcamp(_raman(laser), "raman.jdx")
    expected = sorted(1e7 / 532.0 - 1e7 / np.array([540.0, 550.0, 560.0]))
    np.testing.assert_allclose(spectrum.x, expected, atol=0.01)  # the wavenumber is written to 0.01
    assert spectrum.metadata["x_unit"] == "cm-1"
    assert spectrum.metadata["excitation_nm"] == pytest.approx(532.0, rel=1e-6)


def test_the_callers_laser_line_wins_over_the_files() -> None:
    (spectrum,) = parse_jcamp(_raman("##$LASER WAVELENGTH=785\n"), "raman.jdx", excitation_nm=532.0)
    np.testing.assert_allclose(spectrum.x[0], 1e7 / 532.0 - 1e7 / 540.0)
    assert spectrum.metadata["excitation_nm"] == 532.0


def test_a_raman_spectrum_in_nanometres_without_a_laser_line_stays_in_nanometres() -> None:
    (spectrum,) = parse_jcamp(_raman("##.OBSERVE FREQUENCY=400.13\n"), "raman.jdx")
    assert spectrum.metadata["x_unit"] == "nm" and spectrum.x.tolist() == [540.0, 550.0, 560.0]
    assert "excitation_nm" not in spectrum.metadata
    assert spectrum.metadata["jcamp_labels"][".OBSERVEFREQUENCY"] == "400.13"


def test_an_implausible_laser_line_is_refused_when_the_nanometres_need_it() -> None:
    with pytest.raises(SpectrumFormatError, match="not a laser wavelength") as caught:
        parse_jcamp(_raman("##$LASER WAVELENGTH=unknown\n"), "raman.jdx")
    assert caught.value.line == 5


def test_a_raman_shift_file_keeps_its_axis_and_ignores_an_unreadable_laser_label() -> None:
    text = _block(
        "##$LASER WAVELENGTH=see notes\n##XYPOINTS=(XY..XY)\n100,1 200,2",
        data_type="RAMAN SPECTRUM",
        units="##XUNITS=1/CM\n##YUNITS=COUNTS\n",
    )
    (spectrum,) = parse_jcamp(text, "shift.jdx")
    assert spectrum.technique is Technique.RAMAN and spectrum.x.tolist() == [100.0, 200.0]
    assert spectrum.metadata["y_unit"] == "counts"


# --- several spectra in one file -------------------------------------------------------------------------

LINK_FILE = """##TITLE=link block
##JCAMP-DX=4.24
##DATA TYPE=LINK
##BLOCKS=3
##TITLE=profile
##JCAMP-DX=4.24
##BLOCK_ID=1
##DATA TYPE=INFRARED SPECTRUM
##XUNITS=1/CM
##YUNITS=ABSORBANCE
##YFACTOR=0.001
##FIRSTX=1000
##LASTX=1009
##NPOINTS=10
##XYDATA=(X++(Y..Y))
1000+10+12+15+15+15
1005+14+10+5+5+5
##END=
##TITLE=points
##BLOCK_ID=2
##CROSS REFERENCE=BLOCK_ID= 1
##DATA TYPE=RAMAN SPECTRUM
##XUNITS=1/CM
##XFACTOR=2.0
##YFACTOR=10.0
##NPOINTS=4
##XYPOINTS=(XY..XY)
450.0, 10.0; 451.0, 11.0
460.0, 20.0; 461.0, 21.0
##END=
##TITLE=peaks
##BLOCK_ID=3
##DATA TYPE=MASS SPECTRUM
##XUNITS=M/Z
##PEAK TABLE=(XY..XY)
41,100 43,50
##END=
##END=
"""


def test_a_link_block_gives_one_spectrum_per_data_block_in_file_order() -> None:
    infrared, raman, mass = parse_jcamp(LINK_FILE, "link.jdx")
    assert [infrared.name, raman.name, mass.name] == ["profile", "points", "peaks"]
    np.testing.assert_allclose(infrared.y, PROFILE_Y)
    np.testing.assert_allclose(raman.x, [900.0, 902.0, 920.0, 922.0])
    np.testing.assert_allclose(raman.y, [100.0, 110.0, 200.0, 210.0])
    assert mass.technique is Technique.EI_MS and mass.x.tolist() == [41.0, 43.0]


def test_blocks_written_one_after_another_without_a_link_block_are_all_read() -> None:
    first = _points("1000,0.1 1001,0.2 1002,0.3")
    second = first.replace("##TITLE=t", "##TITLE=second")
    spectra = parse_jcamp(first + "\n" + second, "two.jdx")
    assert [s.name for s in spectra] == ["t", "second"]


def test_text_after_the_last_end_is_refused_naming_its_line() -> None:
    with pytest.raises(SpectrumFormatError, match="outside any block, after the ##END= of line 9") as caught:
        parse_jcamp(_points("1000,0.1 1001,0.2 1002,0.3") + "1003,0.4\n", "after.jdx")
    assert caught.value.line == 10


NTUPLES_MS = """##TITLE=GC-MS run
##JCAMP-DX=5.01
##DATA TYPE=MASS SPECTRUM
##DATA CLASS=NTUPLES
##NTUPLES=MASS SPECTRUM
##VAR_NAME=MASS, INTENSITY, RETENTION TIME
##SYMBOL=X, Y, T
##VAR_TYPE=INDEPENDENT, DEPENDENT, INDEPENDENT
##VAR_FORM=AFFN, AFFN, AFFN
##VAR_DIM=, , 3
##UNITS=M/Z, RELATIVE ABUNDANCE, SECONDS
##FIRST=, , 5
##LAST=, , 15
##PAGE=T=5
##DATA TABLE=(XY..XY), PEAKS
41, 100; 43, 50
57, 30
##PAGE=T=10
##NPOINTS=2
##DATA TABLE=(XY..XY), PEAKS $$ two peaks
77,999 78,500
##PAGE=T=15
##DATA TABLE= (XY..XY), PEAKS
91 999 92 80
##END NTUPLES=MASS SPECTRUM
##END=
"""


def test_ntuples_pages_of_peak_tables_give_one_mass_spectrum_per_page() -> None:
    spectra = parse_jcamp(NTUPLES_MS, "gcms.jdx")
    assert [s.name for s in spectra] == ["GC-MS run (T=5)", "GC-MS run (T=10)", "GC-MS run (T=15)"]
    assert [s.x.tolist() for s in spectra] == [[41.0, 43.0, 57.0], [77.0, 78.0], [91.0, 92.0]]
    assert spectra[1].y.tolist() == [999.0, 500.0]
    assert all(s.technique is Technique.EI_MS and s.metadata["x_unit"] == "m/z" for s in spectra)
    assert spectra[0].metadata["jcamp_page"] == "T=5"
    assert spectra[0].metadata["y_unit"] == "relative_abundance"


def test_a_page_whose_peaks_disagree_with_its_npoints_is_refused_on_that_line() -> None:
    text = NTUPLES_MS.replace("##NPOINTS=2", "##NPOINTS=3")
    with pytest.raises(SpectrumFormatError, match="##NPOINTS=3 but the table holds 2 points") as caught:
        parse_jcamp(text, "gcms.jdx")
    assert caught.value.line == 19


NTUPLES_IR = """##TITLE=IR series
##JCAMP-DX=5.01
##DATA TYPE=INFRARED SPECTRUM
##NTUPLES=INFRARED SPECTRUM
##VAR_NAME=WAVENUMBER, ABSORBANCE, PAGE NUMBER
##SYMBOL=X, Y, N
##VAR_TYPE=INDEPENDENT, DEPENDENT, PAGE
##VAR_FORM=AFFN, ASDF, AFFN
##VAR_DIM=10, 10, 2
##UNITS=1/CM, ABSORBANCE,
##FIRST=1000, , 1
##LAST=1009, , 2
##FACTOR=1, 0.001, 1
##PAGE=N=1
##DATA TABLE=(X++(Y..Y)), XYDATA
1000 A0KL%T
1004 A5jmn%T
1009 E
##PAGE=N=2
##FACTOR=1, 0.002, 1
##DATA TABLE=(X++(Y..Y)), XYDATA
1000 10 12 15 15 15 14 10 5 5 5
##END NTUPLES=INFRARED SPECTRUM
##END=
"""


def test_ntuples_pages_of_xydata_use_first_last_factor_and_var_dim_per_symbol() -> None:
    first, second = parse_jcamp(NTUPLES_IR, "series.jdx")
    assert first.technique is Technique.FTIR and first.name == "IR series (N=1)"
    np.testing.assert_allclose(first.x, PROFILE_X)
    np.testing.assert_allclose(first.y, PROFILE_Y)
    np.testing.assert_allclose(second.y, 2 * PROFILE_Y)  # the page restates ##FACTOR
    assert first.metadata["y_unit"] == "absorbance"


def test_a_missing_end_ntuples_is_implied_by_the_blocks_end() -> None:
    text = NTUPLES_MS.replace("##END NTUPLES=MASS SPECTRUM\n", "")
    assert len(parse_jcamp(text, "gcms.jdx")) == 3


def test_ntuples_xydata_without_first_names_the_attribute_it_lacks() -> None:
    text = NTUPLES_IR.replace("##FIRST=1000, , 1", "##FIRST=, , 1")
    with pytest.raises(SpectrumFormatError, match=r"required ##FIRST \(X\) missing in page 'N=1' at line 14"):
        parse_jcamp(text, "series.jdx")


@pytest.mark.parametrize(
    ("old", "new", "line", "problem"),
    [
        ("##PAGE=T=5\n", "", 14, "##DATA TABLE before the first ##PAGE"),
        (
            "(XY..XY), PEAKS $$ two peaks",
            "(XY..XY), CONTOUR",
            20,
            "unsupported ##DATA TABLE=(XY..XY), CONTOUR",
        ),
        ("##DATA TABLE=(XY..XY), PEAKS $$", "##DATA TABLE=(XR..XR), PEAKS $$", 20, "variable R"),
        ("##SYMBOL=X, Y, T\n", "", 5, "without a ##SYMBOL list"),
        ("##PAGE=T=15\n", "##TITLE=inner\n", 22, "##TITLE inside the ##NTUPLES opened at line 5"),
    ],
)
def test_a_malformed_ntuples_record_is_refused_naming_its_line(
    old: str, new: str, line: int, problem: str
) -> None:
    with pytest.raises(SpectrumFormatError) as caught:
        parse_jcamp(NTUPLES_MS.replace(old, new), "gcms.jdx")
    assert problem in caught.value.problem
    assert caught.value.line == line


def test_ntuples_of_nmr_pages_are_refused_by_data_type() -> None:
    text = NTUPLES_IR.replace("##DATA TYPE=INFRARED SPECTRUM", "##DATA TYPE=NMR SPECTRUM")
    with pytest.raises(SpectrumFormatError, match="unsupported ##DATA TYPE 'NMR SPECTRUM'") as caught:
        parse_jcamp(text, "nmr.jdx")
    assert caught.value.line == 3


# --- line ends and encodings -----------------------------------------------------------------------------


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_lf_crlf_and_cr_line_ends_read_alike_with_the_same_line_numbers(tmp_path: Path, end: str) -> None:
    path = tmp_path / "ends.jdx"
    path.write_bytes(_profile("1000 10 12 15 15 15\n1005 14 10 5 5 5").replace("\n", end).encode())
    (spectrum,) = read_jcamp(path)
    np.testing.assert_allclose(spectrum.y, PROFILE_Y)
    path.write_bytes(_profile("1000 10 12 15 15 15\n1005 14 10 5 5 !").replace("\n", end).encode())
    with pytest.raises(SpectrumFormatError) as caught:
        read_jcamp(path)
    assert caught.value.line == 12


def test_a_utf8_byte_order_mark_and_a_dos_end_of_file_mark_are_not_content(tmp_path: Path) -> None:
    path = tmp_path / "bom.jdx"
    path.write_bytes(b"\xef\xbb\xbf" + _points("1000,0.1 1001,0.2 1002,0.3").encode() + b"\x1a")
    (spectrum,) = read_spectra(path)
    assert spectrum.name == "t" and spectrum.x.tolist() == POINTS_X


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-8"])
def test_a_title_in_latin_1_or_utf_8_keeps_its_accented_letters(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "accents.jdx"
    text = _points("1000,0.1 1001,0.2 1002,0.3").replace("##TITLE=t", "##TITLE=Polyéthylène à 20 °C")
    path.write_bytes(text.encode(encoding))
    (spectrum,) = read_jcamp(path)
    assert spectrum.name == "Polyéthylène à 20 °C"


# --- only format errors, whatever the mutation --------------------------------------------------------------

SAMPLES = [
    NTUPLES_MS,
    NTUPLES_IR,
    LINK_FILE,
    _points("1000, 0.1; 1001, ?\n1002 , 0.3;"),
    _mass("(XYW..XYW)", "41, 100, 0.5; 43, 50, ?\n57, 30, ,"),
    _mass("(XYM..XYM)", "41 100 S\n43 50 D\n57 30 T"),
    _profile("1000 10 12 ? 15 15\n1005 14 10 5 5 ?"),
]
GRAMMAR = "#=$()+-.,;:? \t\n0123456789@ABCDEFGHIabcdefghi%JKLMNOPQRjklmnopqrSTUVWXYZsEeTNPXY"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.sampled_from(SAMPLES),
    edits=st.lists(
        st.tuples(st.integers(0, 2000), st.integers(0, 8), st.text(GRAMMAR, max_size=6)),
        min_size=1,
        max_size=4,
    ),
)
def test_a_mutated_layout_either_reads_or_raises_a_format_error(
    text: str, edits: list[tuple[int, int, str]]
) -> None:
    for position, cut, insert in edits:
        position %= len(text) + 1
        text = text[:position] + insert + text[position + cut :]
    with contextlib.suppress(SpectrumFormatError):  # anything else propagates and fails the test
        parse_jcamp(text, "mutated.jdx")
