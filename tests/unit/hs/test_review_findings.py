"""The six wrong answers a review of the catalogue against the HS 2022 legal texts found (issue #15), each
reproduced as `customslab hs evaluate` gave it and now answered as the legal text does."""

from __future__ import annotations

from customslab.hs.evaluate import evaluate


def test_1_rum_at_85_percent_vol_stays_a_spirit_of_22_08() -> None:
    # The 80 % vol limit separates undenatured ethyl alcohol only; it was determined as 2207.10.
    outcome = evaluate("2208.40", ["alcohol_strength=85%vol"])
    assert (outcome.status, outcome.determined, outcome.mismatch) == ("decided", ["220840"], "none")
    assert "ch22-ethyl-alcohol-80" not in [f.rule.id for f in outcome.firings]
    # Strength tells an alcoholic beverage (22.03 to 22.08) from a non-alcoholic one, not rum from wine.
    assert outcome.message.startswith("Declared 2208.40 agrees at chapter 22;")


def test_2_lubricating_oil_additives_of_38_11_are_not_moved_to_27_10() -> None:
    outcome = evaluate("3811.21", ["petroleum_oil_content=75%"])
    assert (outcome.status, outcome.determined, outcome.mismatch) == ("decided", ["381121"], "none")
    assert outcome.decided == ["3811"]
    assert "excluded from heading 27.10" in " ".join(outcome.firings[0].reasons)


def test_3_a_biodiesel_blend_below_70_percent_petroleum_oil_is_38_26() -> None:
    outcome = evaluate("2710.20", ["petroleum_oil_content=60%"])
    assert (outcome.status, outcome.determined) == ("decided", ["3826"])
    assert "3811" not in outcome.message


def test_4_a_chromium_bar_with_2_2_percent_carbon_is_undecided_not_pig_iron() -> None:
    outcome = evaluate("7228.30", ["element.C=2.2%", "element.Cr=1.5%"])
    assert outcome.status == "undecided"
    assert set(outcome.determined) == {"7201", "722830"}
    reasons = " ".join(outcome.firings[0].reasons)
    assert "not usefully malleable" in reasons and "Note 1(d)" in reasons
    assert outcome.missing_evidence == ["usefully_malleable"]
    assert outcome.message.endswith("still needed: Usefully malleable (iron or steel).")


def test_4b_once_malleability_is_stated_the_class_follows_the_note() -> None:
    # Usefully malleable: steel whatever the carbon (chromium steels may hold more, Note 1(d)).
    steel = evaluate("7228.30", ["element.C=2.2%", "element.Cr=1.5%", "usefully_malleable=yes"])
    assert (steel.status, steel.determined, steel.level) == ("decided", ["722830"], "heading")
    # Not usefully malleable: pig iron (Note 1(a)), alloy pig iron with 1.5 % Cr (Subheading Note 1(a)).
    pig = evaluate("7228.30", ["element.C=2.2%", "element.Cr=1.5%", "usefully_malleable=no"])
    assert (pig.status, pig.determined) == ("decided", ["720150"])
    # Primary forms keep the composition's answer: 7206 ingots with 4.2 % C are pig iron.
    pig_ingot = evaluate("7206.10", ["element.C=4.2%", "element.Si=1.5%", "element.Cr=1.5%"])
    assert (pig_ingot.status, pig_ingot.determined) == ("decided", ["720150"])


def test_5_a_verdict_claims_agreement_only_at_the_level_the_rules_decided() -> None:
    # Whisky at 40 % vol: the rules decide an alcoholic beverage of Chapter 22, not heading 22.08 and
    # never subheading 2208.30 (it said "agrees with the measurement (2208.30)").
    outcome = evaluate("2208.30", ["alcohol_strength=40%vol"])
    assert outcome.message == (
        "Declared 2208.30 agrees at chapter 22; heading and subheading not determined by these results."
    )
    assert "(2208.30)" not in outcome.message
    data = outcome.to_dict()
    assert (data["level"], data["open_levels"]) == ("chapter", ["heading", "subheading"])
    # Still wine below 3 bar: the heading is decided, the container-size subheading is not.
    wine = evaluate("2204.21", ["excess_pressure=2bar"])
    assert (
        wine.message
        == "Declared 2204.21 agrees at heading 22.04; subheading not determined by these results."
    )


def test_6_stuffed_pasta_is_confirmed_in_19_02_by_the_exception() -> None:
    outcome = evaluate("1902.20", ["meat_fish_content=25%"])
    assert (outcome.status, outcome.determined, outcome.decided) == ("decided", ["190220"], ["1902"])
    assert "Stuffed pasta" in " ".join(outcome.firings[0].reasons)
    assert outcome.message.startswith("Declared 1902.20 agrees at heading 19.02;")
    # Any other pasta with more than 20 % meat still goes to Chapter 16.
    assert evaluate("1902.19", ["meat_fish_content=25%"]).determined == ["16"]


def test_5b_the_same_level_is_said_in_korean_and_for_a_national_line() -> None:
    korean = evaluate("2208.30", ["alcohol_strength=40%vol"], language="ko")
    assert korean.message == "신고 2208.30은(는) 제22류에서 일치한다. 이 결과로 정해지지 않은 단위: 호, 소호."
    national = evaluate("2208.30.1000", ["alcohol_strength=40%vol"])
    assert national.message == (
        "Declared 2208.30.1000 agrees at chapter 22; heading, subheading and national tariff line not "
        "determined by these results."
    )
    assert national.open_levels == ["heading", "subheading", "national tariff line"]
    exact = evaluate("3901.20", ["specific_gravity=0.952"])
    assert (exact.level, exact.open_levels) == ("subheading", [])
    assert exact.message == "Declared 3901.20 agrees at subheading level."
    # Non-centrifugal cane sugar needs 69° to under 93°, but so may 1701.14: only the heading is decided.
    sugar = evaluate("1701.13", ["polarisation=92.9°Z"])
    assert (sugar.level, sugar.open_levels) == ("heading", ["subheading"])
