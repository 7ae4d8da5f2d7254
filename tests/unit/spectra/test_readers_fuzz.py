"""Readers fail only with SpectrumFormatError, whatever bytes they are given."""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customslab.spectra.formats import read_spectra
from customslab.spectra.formats.delimited import read_two_column, read_wide_table
from customslab.spectra.formats.jcamp import parse_jcamp
from customslab.spectra.model import SpectrumFormatError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "spectra"
JCAMP_TEXTS = [p.read_text() for p in sorted(FIXTURES.glob("*.jdx"))]
# Characters that matter to the JCAMP and CSV grammars, so mutations hit the parsers' edge cases.
GRAMMAR = "#=$()+-.,;: \t\n0123456789@ABCDEFGHIabcdefghi%JKLMNOPQRjklmnopqrSTUVWXYZs?Ee"
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn, originals: list[str]) -> str:
    text = draw(st.sampled_from(originals))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        position = draw(st.integers(0, len(text) - 1))
        action = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "truncate"]))
        if action == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 20)) :]
        elif action == "insert":
            text = text[:position] + draw(st.text(GRAMMAR, min_size=1, max_size=12)) + text[position:]
        elif action == "replace":
            text = text[:position] + draw(st.sampled_from(GRAMMAR)) + text[position + 1 :]
        elif action == "duplicate":
            lines = text.splitlines(keepends=True)
            index = position % len(lines)
            text = "".join(lines[: index + 1] + lines[index:])
        else:
            text = text[:position]
    return text


def _raises_only_format_errors(call: Callable[[], object]) -> None:
    # Anything but SpectrumFormatError propagates and fails the test.
    with contextlib.suppress(SpectrumFormatError):
        call()


@FUZZ
@given(text=mutated(JCAMP_TEXTS))
def test_a_mutated_jcamp_file_either_reads_or_raises_a_format_error(text: str) -> None:
    _raises_only_format_errors(lambda: parse_jcamp(text, "mutated.jdx"))


@FUZZ
@given(text=st.text(GRAMMAR, max_size=400).map(lambda t: "##TITLE=t\n##DATA TYPE=INFRARED SPECTRUM\n" + t))
def test_random_jcamp_like_text_either_reads_or_raises_a_format_error(text: str) -> None:
    _raises_only_format_errors(lambda: parse_jcamp(text, "random.jdx"))


@FUZZ
@given(
    line=st.text(GRAMMAR.replace("\n", ""), min_size=1, max_size=60),
)
def test_random_asdf_data_lines_either_read_or_raise_a_format_error(line: str) -> None:
    header = (
        "##TITLE=t\n##DATA TYPE=INFRARED SPECTRUM\n##FIRSTX=0\n##LASTX=9\n##NPOINTS=10\n"
        "##XYDATA=(X++(Y..Y))\n"
    )
    _raises_only_format_errors(lambda: parse_jcamp(header + line + "\n##END=\n", "asdf.jdx"))


@FUZZ
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".jdx", ".csv", ".txt", ".dx", ""]))
def test_random_bytes_make_read_spectra_raise_only_format_errors(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, suffix: str
) -> None:
    path = tmp_path_factory.mktemp("bytes") / f"random{suffix}"
    path.write_bytes(data)
    _raises_only_format_errors(lambda: read_spectra(path))


def _real_csv_heads(shared_data: Path) -> list[str]:
    with (shared_data / "spectra/mpx-polymers/subset_metadata.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    picks = {(r["Analysis"], r["x_unit"]): r["file"] for r in rows}
    texts = []
    for name in picks.values():
        lines = (shared_data / "spectra/mpx-polymers/spectra" / name).read_text().splitlines(keepends=True)
        texts.append("".join(lines[:40]))  # a head keeps each example fast; the grammar is the same
    wide = (shared_data / "spectra/rampp-raman/data-raw/Microplasbial MP variants SW.CSV").read_text()
    texts.append("".join(wide.splitlines(keepends=True)[:15]))
    return texts


def test_mutated_real_csv_files_read_or_raise_only_format_errors(shared_data: Path, tmp_path: Path) -> None:
    originals = _real_csv_heads(shared_data)
    path = tmp_path / "mutated.csv"

    @FUZZ
    @given(text=mutated(originals))
    def check(text: str) -> None:
        path.write_text(text, encoding="utf-8")
        _raises_only_format_errors(lambda: read_spectra(path, excitation_nm=532.0))
        _raises_only_format_errors(lambda: read_two_column(path))
        _raises_only_format_errors(lambda: read_wide_table(path))

    for original in originals:
        path.write_text(original, encoding="utf-8")
        assert read_spectra(path, excitation_nm=532.0)  # the unmutated heads must read
    check()
