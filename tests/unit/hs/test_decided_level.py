"""The verdict says at which level the rules decided: a heading is never written as a subheading."""

from __future__ import annotations

import pytest

from customslab.hs.evaluate import evaluate
from customslab.hs.levels import at_level, open_below


def test_a_declaration_that_stands_on_a_heading_rule_is_decided_only_at_heading_level() -> None:
    # Below 3 bar the wine is still wine of 22.04 in some container size: the heading, not 2204.21.
    outcome = evaluate("2204.21", ["excess_pressure=2bar"])
    assert (outcome.determined, outcome.decided) == (["220421"], ["2204"])
    assert outcome.message == (
        "Declared 2204.21 agrees at heading 22.04; subheading not determined by these results."
    )
    assert (outcome.level, outcome.open_levels) == ("heading", ["subheading"])
    assert outcome.to_dict()["level"] == "heading"
    assert outcome.to_dict()["open_levels"] == ["subheading"]


def test_an_outcome_naming_several_headings_decides_only_their_chapter() -> None:
    # More than 0.5 % vol: an alcoholic beverage of 22.03 to 22.06 or 22.08. Strength alone does not
    # tell a spirit from a beer or a wine, so the whisky's heading is not decided by it.
    outcome = evaluate("2208.30", ["alcohol_strength=40%vol"])
    assert (outcome.decided, outcome.level, outcome.open_levels) == (
        ["22"],
        "chapter",
        ["heading", "subheading"],
    )
    assert outcome.message == (
        "Declared 2208.30 agrees at chapter 22; heading and subheading not determined by these results."
    )


def test_an_outcome_that_shares_no_level_with_the_declaration_decides_none() -> None:
    # Below 70 % petroleum oils: 34.03, 38.24 or 38.26 by the preparation's function.
    outcome = evaluate("3403.19", ["petroleum_oil_content=60%"])
    assert (outcome.status, outcome.mismatch, outcome.decided, outcome.level) == ("decided", "none", [""], "")
    assert outcome.message == (
        "Declared 3403.19 is consistent with these results, but the rules decide no level of it."
    )


@pytest.mark.parametrize(
    ("declared", "results", "decided", "said"),
    [
        # A subheading rule decides the subheading itself.
        ("2204.10", ["excess_pressure=3.6bar"], ["220410"], "Declared 2204.10 agrees at subheading level."),
        # A move to another code decides that code in full.
        ("2208.90", ["alcohol_strength=85%vol"], ["220710", "22"], "leave open subheading 2207.10"),
        ("2207.10", ["alcohol_strength=40%vol"], ["220890"], "≠ determined subheading 2208.90"),
        # Chapter 19 or 21: no level of the declared 19.02 is decided; more than 20 %: Chapter 16.
        ("1902.30", ["meat_fish_content=20%"], [""], "the rules decide no level of it"),
        ("1902.30", ["meat_fish_content=25%"], ["16"], "≠ determined chapter 16"),
        # National digits are never decided by the HS rules.
        (
            "2208.40.1000",
            ["alcohol_strength=40%vol"],
            ["22"],
            "heading, subheading and national tariff line not determined",
        ),
        # Undecided: the open codes at the level each was reached.
        (
            "2207.10",
            ["alcohol_strength=80.2%vol±0.4"],
            ["220710", "220890"],
            "subheading 2207.10 and subheading 2208.90",
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
    assert open_below("2208", "220840") == ["subheading"]
    assert open_below("22", "2208401000") == ["heading", "subheading", "national tariff line"]
    assert open_below("220840", "220840") == []


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
