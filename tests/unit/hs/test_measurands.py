"""The measurand list a result's name is chosen from is the HS rules' vocabulary, and reads as words."""

from __future__ import annotations

import pytest

from customslab.entrypoints.web.measurands import LABELS, typed_key
from customslab.hs.measurands import (
    ELEMENT_NAMES,
    MEASURANDS,
    default_unit,
    measurand,
    measurand_key,
    measurand_label,
)
from customslab.hs.quantities import ELEMENTS, check_result_unit
from customslab.hs.rules import default_catalogue

KEYS = {m.key for m in MEASURANDS}
#: A member of each family input, as the rules write them ("element.<symbol>", "monomer.<name>").
FAMILY_EXAMPLES = {"element": "element.Cr", "monomer": "monomer.ethylene"}


def _rule_inputs() -> set[str]:
    catalogue = default_catalogue()
    names = {i for rule in catalogue.rules for i in (*rule.inputs, *rule.requires)}
    names |= {n for d in catalogue.derived for n in (d.name, *d.sources, *d.optional)}
    for rule in catalogue.rules:
        params = rule.params
        names |= {f"monomer.{m}" for m in params.get("monomers", {})}
        for group in ("max", "above", "limits", "alloy_limits", "base_metal_chapters"):
            for holder in (params, *[v for v in params.values() if isinstance(v, dict)]):
                table = holder.get(group) if isinstance(holder, dict) else None
                if isinstance(table, dict):
                    names |= {f"element.{s}" for s in table}
        for metal in params.get("precious", []):
            names |= {f"element.{s}" for s in metal["elements"]}
    return names


def test_every_hs_rule_input_is_a_measurand_of_the_list() -> None:
    missing = []
    for name in sorted(_rule_inputs()):
        family = name.partition(".")[0]
        if "<" in name:  # a family input: any member is a measurand
            found = measurand(FAMILY_EXAMPLES[family])
            assert found is not None and found.hs, name
        elif name not in KEYS:
            missing.append(name)
    assert not missing, f"HS rule inputs not offered in hs/measurands.py: {missing}"


def test_every_hs_measurand_has_a_unit_of_its_quantity() -> None:
    for m in MEASURANDS:
        if m.hs and m.unit:
            assert check_result_unit(m.unit, m.key) == m.unit, m.key


def test_the_check_of_rule_inputs_would_catch_a_missing_measurand() -> None:
    assert "element.Cr" in _rule_inputs() and "monomer.vinyl_acetate" in _rule_inputs()
    assert measurand("erucic_acid_typo") is None


def test_every_element_symbol_has_its_name() -> None:
    assert set(ELEMENT_NAMES) == ELEMENTS


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("alcohol_strength", "Alcoholic strength by volume"),
        ("element.Cr", "chromium (Cr)"),
        ("element.Og", "oganesson (Og)"),  # not offered in the list, still read as words
        ("monomer.vinyl_acetate", "vinyl acetate (monomer unit)"),
        ("monomer.butadiene", "butadiene (monomer unit)"),
        ("colour", "colour"),
        ("element.Xx", "element.Xx"),
        ("", ""),
    ],
)
def test_measurand_label_reads_any_result_name_as_words(name: str, label: str) -> None:
    assert measurand_label(name) == label


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("alcohol_strength", "alcohol_strength"),
        ("Alcoholic strength by volume", "alcohol_strength"),
        ("alcoholic  strength", "alcohol_strength"),
        ("Chromium", "element.Cr"),
        ("chromium (Cr)", "element.Cr"),
        ("Polarization", "polarisation"),
        ("Distilled at 300 °C", "distilled_300"),
        ("알코올 도수(부피 기준)", "alcohol_strength"),  # the Korean label, whole
        ("수분", "moisture"),
        ("Distilled", "Distilled"),  # the start of a label is not the label: kept as typed
        ("Density", "Density"),  # not "Density at 20 °C"
        ("Volatile", "Volatile"),
        ("Meat", "Meat"),  # never fed to the Chapter 16 meat-content rule
        ("Alcohol", "Alcohol"),  # not a whole word of a label
        ("Colour (EBC)", "Colour (EBC)"),
    ],
)
def test_a_typed_label_is_stored_as_its_key_and_a_free_name_as_typed(typed: str, key: str) -> None:
    assert measurand_key(typed) == key


def test_the_web_marks_every_label_for_translation_in_the_list_order() -> None:
    assert tuple(m.label for m in MEASURANDS) == LABELS


def test_a_label_typed_in_the_page_language_is_read_as_its_key() -> None:
    korean = {"Alcoholic strength by volume": "알코올 도수"}
    assert typed_key(lambda s: korean.get(s, s), "알코올 도수") == "alcohol_strength"
    assert typed_key(lambda s: s, "Chromium") == "element.Cr"


def test_the_default_unit_of_a_measurand_is_offered() -> None:
    assert default_unit("alcohol_strength") == "%vol" and default_unit("element.Ni") == "%"
    assert default_unit("colour") == ""
