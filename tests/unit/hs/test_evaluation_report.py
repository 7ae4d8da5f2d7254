"""The evaluation's shape, mismatch levels, chains, duty difference, catalogue and generated docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from customslab.hs.docs import render
from customslab.hs.evaluate import evaluate, mismatch_level
from customslab.hs.nomenclature import HsError
from customslab.hs.quantities import make_measurement
from customslab.hs.rules import CatalogueError, default_catalogue, parse_catalogue
from customslab.hs.tariff import parse_tariff_csv

REPO = Path(__file__).resolve().parents[3]


#: The keys `hs evaluate --json` gave before issue #15; they must all stay (fields are only added).
SHAPE_BEFORE = {
    "declared", "status", "determined", "decided", "mismatch", "rules", "message", "edition",
    "decision_rule", "results", "not_evaluated", "unused_results", "descriptions", "duty",
}  # fmt: skip
RULE_SHAPE_BEFORE = {
    "id", "source", "outcome", "codes", "status", "title", "checked", "explanation", "reasons",
    "conditions", "inputs",
}  # fmt: skip


def test_the_dictionary_has_the_documented_shape() -> None:
    data = evaluate("2207.10", ["alcohol_strength=40%vol"]).to_dict()
    assert {k: data[k] for k in ("declared", "status", "determined", "mismatch")} == {
        "declared": "220710",
        "status": "decided",
        "determined": ["220890"],
        "mismatch": "heading",
    }
    assert [r["id"] for r in data["rules"]] == ["ch22-ethyl-alcohol-80", "ch22-non-alcoholic"]
    assert data["rules"][0]["source"].startswith("HS 2022 headings 22.07 and 22.08 (heading texts)")
    assert data["rules"][0]["outcome"] == "220890"
    assert data["rules"][0]["inputs"][0]["value"] == 40.0


def test_the_json_shape_only_adds_fields() -> None:
    data = evaluate("2208.30", ["alcohol_strength=40%vol"]).to_dict()
    assert set(data) >= SHAPE_BEFORE
    assert set(data) - SHAPE_BEFORE == {"level", "open_levels", "missing_evidence", "conflicting_evidence"}
    assert set(data["rules"][0]) >= RULE_SHAPE_BEFORE
    assert set(data["rules"][0]) - RULE_SHAPE_BEFORE == {
        "kind",
        "missing_evidence",
        "conflicting_evidence",
        "decided",
    }
    assert data["rules"][0]["decided"] == ["22"] and data["rules"][0]["codes"] == ["220830"]
    assert (data["level"], data["open_levels"], data["missing_evidence"]) == (
        "chapter",
        ["heading", "subheading"],
        [],
    )


def test_no_rule_is_reported_when_nothing_applies() -> None:
    outcome = evaluate("0101.21", ["alcohol_strength=40%vol"])
    assert (outcome.status, outcome.determined, outcome.mismatch) == ("no_rule", [], "none")
    assert outcome.unused == ["alcohol_strength"]


def test_a_rule_in_scope_without_its_measurement_is_listed_as_not_evaluated() -> None:
    outcome = evaluate("2207.10", ["specific_gravity=0.95"])
    assert {"id": "ch22-ethyl-alcohol-80", "missing": ["alcohol_strength"]} in outcome.not_evaluated


@pytest.mark.parametrize(
    ("declared", "determined", "level"),
    [
        ("220840", ["2208"], "none"),
        ("220840", ["220710"], "heading"),
        ("190410", ["1806"], "chapter"),
        ("220421", ["220410"], "subheading"),
        ("220410", ["220421", "220410"], "none"),
    ],
)
def test_the_mismatch_level_is_the_first_level_that_differs(
    declared: str, determined: list[str], level: str
) -> None:
    assert mismatch_level(declared, determined) == level


def test_measurements_built_from_stored_values_evaluate_like_parsed_ones() -> None:
    stored = {"alcohol_strength": make_measurement("alcohol_strength", 80.2, "%vol", 0.4)}
    assert evaluate("2207.10", stored).status == "undecided"


def test_the_duty_difference_is_computed_from_national_lines_and_the_declared_value() -> None:
    lines = parse_tariff_csv(
        "code,description,ad_valorem,specific,specific_unit,unit\n"
        "2208901000,Undenatured ethyl alcohol below 80 % vol,20,,,l\n"
        "2207101000,Undenatured ethyl alcohol,270,,,l\n"
    )
    outcome = evaluate("2207101000", ["alcohol_strength=40%vol"], tariff=lines, customs_value=1000.0)
    assert outcome.duty is not None
    assert outcome.to_dict()["duty"]["difference"] == pytest.approx(-2500.0)


@pytest.mark.parametrize(
    ("csv_text", "message"),
    [
        ("code,description\n22084010,Rum\n", "missing column"),
        ("code,description,ad_valorem\n220840,Rum,20\n", "8 to 10 digits"),
        ("code,description,ad_valorem\n22084010,Rum,twenty\n", "not a number"),
        ("code,description,ad_valorem,specific\n22084010,Rum,5,3\n", "specific_unit"),
    ],
)
def test_a_malformed_tariff_file_is_refused_naming_the_problem(csv_text: str, message: str) -> None:
    with pytest.raises(HsError, match=message):
        parse_tariff_csv(csv_text)


def test_every_rule_names_its_source_and_scope_and_has_a_worked_example() -> None:
    catalogue = default_catalogue()
    assert len(catalogue.rules) >= 18
    for rule in catalogue.rules:
        assert rule.source and rule.checked and rule.scope and rule.example, rule.id


def test_a_catalogue_with_an_unknown_quantity_is_refused_at_load() -> None:
    bad = {
        "edition": "HS2022",
        "rules": [
            {
                "id": "x",
                "kind": "threshold",
                "source": "s",
                "checked": "c",
                "explanation": "e",
                "scope": ["2208"],
                "inputs": ["colour"],
                "branches": [{"when": {"colour": [[">", 1]]}, "codes": ["2208"]}],
            }
        ],
    }
    with pytest.raises(CatalogueError, match="unknown quantity"):
        parse_catalogue(bad)


def test_the_committed_rules_page_is_what_the_catalogue_generates() -> None:
    # The generator evaluates every worked example, so a stale or lying page fails here.
    assert (REPO / "docs" / "hs-rules.md").read_text(encoding="utf-8") == render()
