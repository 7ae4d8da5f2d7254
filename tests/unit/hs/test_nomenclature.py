"""The HS 2022 nomenclature loads completely from the published CSV and browses as a tree."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from customslab.hs.nomenclature import (
    InvalidCode,
    Nomenclature,
    UnknownCode,
    load_nomenclature,
    normalise_code,
)


@pytest.fixture(scope="module")
def hs(shared_data: Path) -> Nomenclature:
    return load_nomenclature(shared_data / "hs")


def test_the_nomenclature_loads_every_chapter_heading_and_subheading_of_the_file(
    hs: Nomenclature, shared_data: Path
) -> None:
    with (shared_data / "hs" / "harmonized-system.csv").open(encoding="utf-8") as handle:
        levels = [row["level"] for row in csv.DictReader(handle)]
    assert hs.count_by_level() == {2: levels.count("2"), 4: levels.count("4"), 6: levels.count("6")}
    assert hs.count_by_level() == {2: 97, 4: 1229, 6: 5613}
    assert hs.edition == "HS2022"


def test_sections_are_read_despite_the_byte_order_mark(hs: Nomenclature) -> None:
    assert "I" in hs.sections and hs.sections["I"].name.lower().startswith("live animals")
    assert [c.code for c in hs.chapters("IV")][:2] == ["16", "17"]


def test_a_subheading_browses_up_to_its_chapter_and_a_heading_down_to_its_subheadings(
    hs: Nomenclature,
) -> None:
    assert [n.code for n in hs.ancestors("2208.40")] == ["22", "2208", "220840"]
    assert "220840" in [n.code for n in hs.children("2208")]
    assert hs.get("2208").kind == "heading"


@pytest.mark.parametrize(("text", "code"), [("2208.40", "220840"), ("2208 40", "220840"), ("22", "22")])
def test_codes_are_normalised_to_digits(text: str, code: str) -> None:
    assert normalise_code(text) == code


@pytest.mark.parametrize("text", ["22A8", "220", "12345678", "", "２２０８"])
def test_malformed_codes_are_refused(text: str) -> None:
    with pytest.raises(InvalidCode):
        normalise_code(text)


def test_a_national_line_is_accepted_only_where_national_digits_are_allowed() -> None:
    assert normalise_code("2208.40.1000", allow_national=True) == "2208401000"
    with pytest.raises(InvalidCode):
        normalise_code("2208.40.1000")


def test_a_well_formed_code_missing_from_the_edition_is_unknown(hs: Nomenclature) -> None:
    with pytest.raises(UnknownCode):
        hs.get("7700")
