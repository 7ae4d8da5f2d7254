"""The whole shipped catalogue (catalogue.yaml and every rule family of rules/parts/): each rule reads
measurands result entry offers, keeps a worked example that the engine still confirms, and is written in
Korean too; the loader refuses a family file or a translation that does not fit."""

from __future__ import annotations

import pytest

from customslab.hs import rules as rules_module
from customslab.hs.docs import check_example
from customslab.hs.measurands import measurand
from customslab.hs.quantities import QUANTITIES
from customslab.hs.rules import CatalogueError, Rule, default_catalogue

RULES = default_catalogue().rules


def _ids(rule: Rule) -> str:
    return rule.id


def test_the_catalogue_has_the_families_the_laboratories_ask_about() -> None:
    assert len(RULES) > 18
    assert {r.kind for r in RULES} >= {"threshold", "evidence", "ferrous", "copper", "copolymer"}


@pytest.mark.parametrize("rule", RULES, ids=_ids)
def test_every_input_is_a_measurand_result_entry_offers(rule: Rule) -> None:
    for name in rule.inputs:
        if "<" in name:  # a family: element.<symbol>, monomer.<name>...
            continue
        assert name in QUANTITIES, f"{rule.id}: {name} is not in rules/quantities/*.yaml"
        found = measurand(name)
        assert found is not None and found.label and found.label_ko, name


@pytest.mark.parametrize("rule", RULES, ids=_ids)
def test_every_rule_keeps_a_worked_example_the_engine_confirms(rule: Rule) -> None:
    assert rule.example is not None and rule.example.expect, rule.id
    assert "Worked example" in check_example(rule)


@pytest.mark.parametrize("rule", RULES, ids=_ids)
def test_every_rule_is_written_in_korean_with_the_same_branches(rule: Rule) -> None:
    korean = default_catalogue("ko").rule(rule.id)
    assert korean.title != rule.title and korean.explanation != rule.explanation
    assert len(korean.branches) == len(rule.branches)
    assert [b.codes for b in korean.branches] == [b.codes for b in rule.branches]
    assert set(korean.texts) == set(rule.texts)
    assert len(korean.exceptions) == len(rule.exceptions)


@pytest.mark.parametrize("rule", RULES, ids=_ids)
def test_every_rule_names_where_its_legal_text_was_read(rule: Rule) -> None:
    assert rule.source and rule.checked and rule.scope, rule.id
    assert rule.notes, f"{rule.id}: name the legal notes it encodes (coverage keys)"


def test_a_rule_translated_twice_across_family_files_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    real = rules_module._parts

    def doubled(language: str) -> list[tuple[str, object]]:
        parts = real(language)
        if language == "ko":
            first = dict(rules_module._shipped("catalogue.ko.yaml")["rules"])
            rule_id = next(iter(first))
            return [*parts, ("zz.ko.yaml", {"rules": {rule_id: first[rule_id]}})]
        return parts

    monkeypatch.setattr(rules_module, "_parts", doubled)
    with pytest.raises(CatalogueError, match="is translated twice"):
        rules_module._shipped_translation("ko")


def test_a_family_file_with_other_keys_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules_module, "_parts", lambda language: [("zz.yaml", {"edition": "HS2017"})])
    with pytest.raises(CatalogueError, match="a rule family file holds 'rules' only"):
        rules_module.load_catalogue()
