"""The measurand list a result's name is chosen from is the HS rules' vocabulary, and reads as words."""

from __future__ import annotations

import pytest

from customslab.entrypoints.web.measurands import typed_key
from customslab.hs.measurands import (
    ELEMENT_NAMES,
    MEASURANDS,
    default_unit,
    measurand,
    measurand_key,
    measurand_label,
)
from customslab.hs.quantities import ELEMENTS, QUANTITIES, check_result_unit, fold
from customslab.hs.rules import default_catalogue

KEYS = {m.key for m in MEASURANDS}
#: A member of each family input, as the rules write them ("element.<symbol>", "monomer.<name>").
FAMILY_EXAMPLES = {"element": "element.Cr", "monomer": "monomer.ethylene", "fibre": "fibre.cotton"}


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


def test_a_label_typed_in_either_language_or_an_alias_is_read_as_its_key() -> None:
    assert typed_key("알코올 도수(부피 기준)") == "alcohol_strength"
    assert typed_key("알코올 도수") == "alcohol_strength"  # an alias
    assert typed_key("ABV") == "alcohol_strength"
    assert typed_key("Chromium") == "element.Cr"


def test_every_quantity_label_and_alias_names_one_measurand_only() -> None:
    seen: dict[str, str] = {}
    for m in MEASURANDS:
        spec = QUANTITIES.get(m.key)
        for spelling in (m.label, m.label_ko, *(spec.aliases if spec else ())):
            assert seen.setdefault(fold(spelling), m.key) == m.key, spelling


def test_the_default_unit_of_a_measurand_is_offered() -> None:
    assert default_unit("alcohol_strength") == "%vol" and default_unit("element.Ni") == "%"
    assert default_unit("colour") == ""
