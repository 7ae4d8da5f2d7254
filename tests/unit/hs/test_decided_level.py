"""The verdict says at which level the rules decided: a heading is never written as a subheading."""

from __future__ import annotations

import pytest

from customslab.hs.evaluate import evaluate
from customslab.hs.levels import at_level, undecided_below


def test_a_declaration_that_stands_on_a_heading_rule_is_decided_only_at_heading_level() -> None:
    outcome = evaluate("2208.30", ["alcohol_strength=40%vol"])
    assert (outcome.determined, outcome.decided) == (["220830"], ["2208"])
    assert outcome.message == (
        "Declared 2208.30 is consistent with heading 22.08, decided by the measurement; the subheading "
        "was not decided by these rules."
    )
    assert outcome.to_dict()["decided"] == ["2208"]


@pytest.mark.parametrize(
    ("declared", "results", "decided", "said"),
    [
        # A subheading rule decides the subheading itself.
        ("1701.13", ["polarisation=92.9°Z"], ["170113"], "agrees with subheading 1701.13"),
        # A move to another code decides that code in full.
        ("2208.40", ["alcohol_strength=85%vol"], ["220710"], "≠ determined subheading 2207.10"),
        ("2207.10", ["alcohol_strength=40%vol"], ["2208"], "≠ determined heading 22.08"),
        # A chapter rule leaves the heading and the subheading open.
        ("1902.30", ["meat_fish_content=20%"], ["19"], "the heading and the subheading were not decided"),
        # National digits are never decided by the HS rules.
        ("2208.40.1000", ["alcohol_strength=40%vol"], ["2208"], "national tariff line were not decided"),
        # Undecided: the open codes at the level each was reached.
        (
            "2208.40",
            ["alcohol_strength=80.2%vol±0.4"],
            ["220710", "2208"],
            "subheading 2207.10 and heading 22.08",
        ),
    ],
)
def test_each_verdict_names_the_level_its_rules_decided(
    declared: str, results: list[str], decided: list[str], said: str
) -> None:
    outcome = evaluate(declared, results)
    assert outcome.decided == decided
    assert said in outcome.message


def test_the_verdict_never_prints_a_subheading_the_rules_did_not_decide() -> None:
    for declared in ("2208.30", "2208.40", "2208.90"):
        message = evaluate(declared, ["alcohol_strength=40%vol"]).message
        # The declared code is quoted once, as the declaration; never as what was determined.
        assert message.count(declared) == 1 and "(" + declared not in message


def test_codes_are_written_with_their_level() -> None:
    assert [at_level(c) for c in ("22", "2208", "220840", "2208401000")] == [
        "chapter 22",
        "heading 22.08",
        "subheading 2208.40",
        "national tariff line 2208.40.1000",
    ]
    assert undecided_below("2208", "220840") == "the subheading"
    assert undecided_below("220840", "220840") == ""


def test_an_exception_the_rule_cannot_rule_out_is_not_reported_as_decided_by_the_measurement() -> None:
    # Chapter 16 takes preparations over 20 % meat, except stuffed pasta (1902.20): the rule does not
    # measure whether pasta is stuffed, so 1902.20 stays open without being decided.
    outcome = evaluate("1902", ["meat_fish_content=25%"])
    assert outcome.determined == ["16", "190220"]
    assert outcome.decided == ["16", ""]
    assert "decided by the measurement" not in outcome.message
    assert outcome.message == (
        "The measurement decides chapter 16 rather than declared 19.02, unless the goods fall in "
        "subheading 1902.20, which these rules do not measure."
    )
