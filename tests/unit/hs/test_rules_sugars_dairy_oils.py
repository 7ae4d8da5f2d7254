"""The sugars, dairy, vinegar and oils rules (rules/parts/20-sugars-dairy-oils.yaml): both sides of each
limit and exactly at it, uncertainty spanning it, converted units, the goods each rule leaves alone, and
the fish-oil evidence rule's conclusive, inconclusive and conflicting answers."""

from __future__ import annotations

import pytest

from customslab.hs.evaluate import evaluate
from customslab.hs.rules import default_catalogue
from tests.unit.hs.rule_cases import CASE_FIELDS, fired_rules, status_and_codes

# (declared, results, expected status, expected determined codes)
CASES = [
    # 17.02 by fructose in the dry state: < 20 % (1702.30), 20 % to < 50 % (1702.40), 50 % (1702.90),
    # > 50 % (1702.60, or 1702.50 if chemically pure)
    ("1702.40", ["fructose_dry=19.9%"], "decided", ["170230"]),
    ("1702.30", ["fructose_dry=20%"], "decided", ["170240"]),
    ("1702.30", ["fructose_dry=42%"], "decided", ["170240"]),
    ("1702.30", ["fructose_dry=200g/kg"], "decided", ["170240"]),
    ("1702.40", ["fructose_dry=49.9%"], "decided", ["170240"]),
    ("1702.40", ["fructose_dry=50%"], "decided", ["170290"]),
    ("1702.60", ["fructose_dry=50%"], "decided", ["170290"]),
    ("1702.40", ["fructose_dry=55%"], "decided", ["170260"]),
    ("1702.30", ["fructose_dry=90%"], "decided", ["170260"]),
    ("1702.60", ["fructose_dry=50.1%"], "decided", ["170260"]),
    ("1702.50", ["fructose_dry=99.8%"], "decided", ["170250", "170260"]),
    ("1702.50", ["fructose_dry=42%"], "decided", ["170240"]),
    ("1702.30", ["fructose_dry=20%±0.5"], "undecided", ["170230", "170240"]),
    ("1702.40", ["fructose_dry=49.8%±0.5"], "undecided", ["170240", "170260", "170290"]),
    ("1702.90", ["fructose_dry=42%"], "no_rule", []),  # invert sugar, maltodextrin...: outside the rule
    ("1702", ["fructose_dry=42%"], "no_rule", []),  # a wider declaration is not read
    # 1702.11: 99 % or more anhydrous lactose on the dry matter
    ("1702.19", ["lactose_dry=99%"], "decided", ["170211"]),
    ("1702.11", ["lactose_dry=98.9%"], "decided", ["170219"]),
    ("1702.11", ["lactose_dry=990g/kg"], "decided", ["170211"]),
    ("1702.11", ["lactose_dry=99%±0.3"], "undecided", ["170211", "170219"]),
    # Chapter 4 Note 5(b): whey products with more than 95 % lactose are 17.02 (then 1702.11 or 1702.19)
    ("0404.10", ["lactose_dry=99.4%"], "decided", ["170211"]),
    ("0404.10", ["lactose_dry=95.1%"], "decided", ["170219"]),
    ("0404.10", ["lactose_dry=95%"], "decided", ["040410"]),
    ("1702.19", ["lactose_dry=95%"], "decided", ["0404"]),
    ("1702.19", ["lactose_dry=93%"], "decided", ["0404"]),
    ("0404.10", ["lactose_dry=95%±0.2"], "undecided", ["040410", "170211", "170219"]),
    ("0404.90", ["lactose_dry=99%"], "no_rule", []),
    # Chapter 35 Note 2: dextrins ≤ 10 % reducing sugars (as dextrose, dry substance); more → 17.02
    ("3505.10", ["dextrose_equivalent=10%"], "decided", ["350510"]),
    ("3505.10", ["dextrose_equivalent=10.1%"], "decided", ["170230", "170290"]),
    ("3505.10", ["dextrose_equivalent=180g/kg"], "decided", ["170230", "170290"]),
    # 1702.90 also holds sucrose syrups, invert sugar, caramel, artificial honey: a low reducing sugar
    # content moves it to 35.05 only for goods identified as a starch degradation product
    ("1702.90", ["dextrose_equivalent=8%", "starch_hydrolysate=detected"], "decided", ["350510"]),
    ("1702.90", ["dextrose_equivalent=10%", "starch_hydrolysate=detected"], "decided", ["350510"]),
    ("1702.90", ["dextrose_equivalent=100g/kg", "starch_hydrolysate=detected"], "decided", ["350510"]),
    ("1702.90", ["dextrose_equivalent=0.5%"], "undecided", ["170290", "350510"]),  # review finding
    ("1702.90", ["dextrose_equivalent=8%"], "undecided", ["170290", "350510"]),
    ("1702.90", ["dextrose_equivalent=0.5%", "starch_hydrolysate=not_detected"], "decided", ["170290"]),
    ("1702.90", ["dextrose_equivalent=18%"], "decided", ["170290"]),
    ("1702.90", ["dextrose_equivalent=10.1%", "starch_hydrolysate=detected"], "decided", ["170290"]),
    (
        "1702.90",
        ["dextrose_equivalent=10%±0.5", "starch_hydrolysate=detected"],
        "undecided",
        ["170290", "350510"],
    ),
    ("1702.90", ["dextrose_equivalent=10%±0.5", "starch_hydrolysate=not_detected"], "decided", ["170290"]),
    ("1702.90", ["starch_hydrolysate=detected"], "no_rule", []),  # the reducing sugars are required
    ("1702.30", ["dextrose_equivalent=95%"], "decided", ["170230"]),
    ("3505.10", ["dextrose_equivalent=10%±0.5"], "undecided", ["170230", "170290", "350510"]),
    ("3505.20", ["dextrose_equivalent=18%"], "no_rule", []),  # glues: outside the rule
    ("3505", ["dextrose_equivalent=18%"], "no_rule", []),
    # Chapter 22 Note 1(d): acetic acid above 10 % by weight is 29.15
    ("2209.00", ["acetic_acid=12.5%"], "decided", ["291521"]),
    ("2209.00", ["acetic_acid=10.1%"], "decided", ["291521"]),
    ("2209.00", ["acetic_acid=10%"], "decided", ["220900"]),
    ("2209.00", ["acetic_acid=60g/kg"], "decided", ["220900"]),
    ("2915.21", ["acetic_acid=99.8%"], "decided", ["291521"]),
    ("2915.21", ["acetic_acid=8%"], "decided", ["291521"]),  # the Note does not move it into 22.09
    ("2209.00", ["acetic_acid=10.2%±0.3"], "undecided", ["220900", "291521"]),
    ("2915.29", ["acetic_acid=12%"], "no_rule", []),
    ("2915", ["acetic_acid=5%"], "no_rule", []),  # other acids of 29.15 are not narrowed to acetic acid
    # 04.01 by fat: ≤ 1 %, > 1 % ≤ 6 %, > 6 % ≤ 10 %, > 10 %
    ("0401.20", ["fat_content=0.8%"], "decided", ["040110"]),
    ("0401.20", ["fat_content=1%"], "decided", ["040110"]),
    ("0401.10", ["fat_content=1.1%"], "decided", ["040120"]),
    ("0401.10", ["fat_content=6%"], "decided", ["040120"]),
    ("0401.20", ["fat_content=6.1%"], "decided", ["040140"]),
    ("0401.20", ["fat_content=10%"], "decided", ["040140"]),
    ("0401.40", ["fat_content=10.1%"], "decided", ["040150"]),
    ("0401.50", ["fat_content=35%"], "decided", ["040150"]),
    ("0401.20", ["fat_content=10g/kg"], "decided", ["040110"]),
    ("0401.20", ["fat_content=3.5g/100g"], "decided", ["040120"]),
    ("0401", ["fat_content=3.5%"], "decided", ["040120"]),
    ("0401.10", ["fat_content=1%±0.05"], "undecided", ["040110", "040120"]),
    ("0401.40", ["fat_content=10.05%±0.1"], "undecided", ["040140", "040150"]),
    # 04.02 in powder or other solid forms: fat ≤ 1.5 % (0402.10) or more (0402.21/29)
    ("0402.21", ["fat_content=1.5%"], "decided", ["040210"]),
    ("0402.10", ["fat_content=1.6%"], "decided", ["040221", "040229"]),
    ("0402.10", ["fat_content=26%"], "decided", ["040221", "040229"]),
    ("0402.29", ["fat_content=26%"], "decided", ["040229"]),
    ("0402.21", ["fat_content=12g/kg"], "decided", ["040210"]),
    ("0402.10", ["fat_content=1.5%±0.1"], "undecided", ["040210", "040221", "040229"]),
    ("0402.91", ["fat_content=8%"], "no_rule", []),  # not in solid form: no fat limit
    # 04.05: butter 80–95 % milkfat, ≤ 16 % water, ≤ 2 % solids-not-fat; dairy spreads 39 % to < 80 %
    ("0405.20", ["fat_content=82%", "moisture=16%", "milk_solids_not_fat=2%"], "decided", ["040510"]),
    ("0405.20", ["fat_content=80%", "moisture=15%", "milk_solids_not_fat=1%"], "decided", ["040510"]),
    ("0405.10", ["fat_content=95%", "moisture=3%", "milk_solids_not_fat=1%"], "decided", ["040510"]),
    ("0405.10", ["fat_content=95.1%", "moisture=0.3%"], "decided", ["040590"]),
    ("0405.10", ["fat_content=99.8%"], "decided", ["040590"]),
    ("0405.10", ["fat_content=79.9%"], "decided", ["040520"]),
    ("0405.10", ["fat_content=72%", "moisture=25%"], "decided", ["040520"]),
    ("0405.90", ["fat_content=39%"], "decided", ["040520"]),
    ("0405.10", ["fat_content=400g/kg"], "decided", ["040520"]),
    ("0405", ["fat_content=60%"], "decided", ["040520"]),
    ("0405.10", ["fat_content=81%", "moisture=16.5%", "milk_solids_not_fat=1.5%"], "decided", ["040590"]),
    ("0405.10", ["fat_content=81%", "moisture=15%", "milk_solids_not_fat=2.5%"], "decided", ["040590"]),
    ("0405.10", ["fat_content=82%"], "undecided", ["040510", "040590"]),  # water and SNF not measured
    (
        "0405.10",
        ["fat_content=80%±0.5", "moisture=15%", "milk_solids_not_fat=1%"],
        "undecided",
        ["040510", "040520"],
    ),
    (
        "0405.10",
        ["fat_content=85%", "moisture=16%±0.4", "milk_solids_not_fat=1%"],
        "undecided",
        ["040510", "040590"],
    ),
]


@pytest.mark.parametrize(CASE_FIELDS, CASES)
def test_each_rule_decides_on_the_right_side_of_its_limit(
    declared: str, results: list[str], status: str, determined: list[str]
) -> None:
    assert status_and_codes(declared, results) == (status, sorted(determined))


@pytest.mark.parametrize(
    ("declared", "results", "rules"),
    [
        ("1702.30", ["fructose_dry=42%"], ["ch17-fructose-1702"]),
        ("0404.10", ["lactose_dry=99.4%"], ["ch04-whey-lactose-95", "ch17-lactose-99"]),
        (
            "3505.10",
            ["dextrose_equivalent=18%", "fructose_dry=0.5%"],
            ["ch35-dextrins-10", "ch35-dextrins-declared-1702-90", "ch17-fructose-1702"],
        ),
        ("1702.90", ["dextrose_equivalent=0.5%"], ["ch35-dextrins-declared-1702-90"]),
        (
            "1702.90",
            ["dextrose_equivalent=6%", "starch_hydrolysate=detected"],
            ["ch35-dextrins-declared-1702-90", "ch35-dextrins-10"],
        ),
        ("2209.00", ["acetic_acid=6%"], ["ch22-acetic-acid-10"]),
        ("0401.20", ["fat_content=3%"], ["ch04-milk-fat-0401"]),
        ("0402.10", ["fat_content=1%"], ["ch04-milk-powder-fat-0402"]),
        ("0405.10", ["fat_content=60%"], ["ch04-butter-dairy-spreads"]),
    ],
)
def test_the_rule_that_decides_is_the_family_rule_and_chains_where_the_code_moves(
    declared: str, results: list[str], rules: list[str]
) -> None:
    assert fired_rules(declared, results) == rules


def test_a_dextrin_with_more_than_10_percent_reducing_sugars_chains_into_the_fructose_rule() -> None:
    outcome = evaluate("3505.10", ["dextrose_equivalent=18%", "fructose_dry=0.5%"])
    assert (outcome.status, sorted(outcome.determined)) == ("decided", ["170230", "170290"])
    assert outcome.mismatch == "chapter"


def test_a_low_reducing_sugar_content_alone_does_not_move_a_1702_90_declaration() -> None:
    # Review finding: a sucrose syrup of 1702.90 (DE 0.5) was read as a dextrin of 35.05.
    outcome = evaluate("1702.90", ["dextrose_equivalent=0.5%"])
    assert outcome.status == "undecided"
    assert outcome.missing_evidence == ["starch_hydrolysate"]
    assert outcome.message.endswith("still needed: Starch degradation product identified.")
    syrup = evaluate("1702.90", ["dextrose_equivalent=0.5%", "starch_hydrolysate=not_detected"])
    assert (syrup.status, syrup.mismatch, syrup.decided, syrup.level) == (
        "decided",
        "none",
        ["1702"],
        "heading",
    )
    assert syrup.missing_evidence == []
    dextrin = evaluate("1702.90", ["dextrose_equivalent=6%", "starch_hydrolysate=detected"])
    assert (dextrin.determined, dextrin.mismatch) == (["350510"], "chapter")


def test_a_high_reducing_sugar_content_asks_nothing_more() -> None:
    outcome = evaluate("1702.90", ["dextrose_equivalent=18%"])
    assert (outcome.status, outcome.decided, outcome.missing_evidence) == ("decided", ["1702"], [])


def test_chemically_pure_fructose_is_left_open_by_the_content_alone() -> None:
    outcome = evaluate("1702.50", ["fructose_dry=99.8%"])
    assert (outcome.status, outcome.mismatch) == ("decided", "none")
    assert outcome.decided == ["1702", "170260"]  # the declared subheading is not decided
    assert "leave open subheading 1702.60" in outcome.message


def test_a_vinegar_within_the_limit_is_consistent_but_not_decided() -> None:
    # Not more than 10 %: Note 1(d) does not exclude it, but the content alone decides no level.
    outcome = evaluate("2209.00", ["acetic_acid=6%"])
    assert (outcome.status, outcome.mismatch, outcome.decided, outcome.level) == ("decided", "none", [""], "")
    assert outcome.message.endswith("but the rules decide no level of it.")


def test_milk_is_decided_at_the_subheading_and_a_move_is_reported_as_such() -> None:
    agrees = evaluate("0401.20", ["fat_content=3.5%"])
    assert (agrees.decided, agrees.level) == (["040120"], "subheading")
    moved = evaluate("0401.20", ["fat_content=12%"])
    assert moved.mismatch == "subheading"
    assert moved.message == "Declared 0401.20 ≠ determined subheading 0401.50 (differs at subheading level)."


def test_a_spread_below_39_percent_milkfat_gets_no_code_from_the_butter_rule() -> None:
    outcome = evaluate("0405.20", ["fat_content=30%"])
    firing = outcome.firings[0]
    assert (firing.rule.id, firing.status) == ("ch04-butter-dairy-spreads", "no_outcome")
    assert outcome.decided == [""]
    assert outcome.message == "The rules that apply to declared 0405.20 decide no code on these results."


def test_butter_without_water_and_solids_not_fat_stays_undecided_naming_both_codes() -> None:
    outcome = evaluate("0405.10", ["fat_content=82%"])
    assert outcome.status == "undecided"
    assert outcome.missing_evidence == ["moisture", "milk_solids_not_fat"]
    assert outcome.message.startswith("Undecided: these results do not yet tell apart")
    assert outcome.message.endswith("still needed: Moisture, Milk solids-not-fat.")


# The fish-oil evidence rule: (declared, results, status, determined, missing evidence)
FISH_OIL = [
    # conclusive: natural fish oil (DHA mainly at sn-2, few partial glycerides, no trans fatty acids)
    (
        "1504.20",
        ["dha_sn2_share=58%", "partial_glycerides=2%", "trans_fatty_acids=0.8%"],
        "decided",
        ["150420"],
        [],
    ),
    (
        "1516.10",
        ["dha_sn2_share=58%", "partial_glycerides=2%", "trans_fatty_acids=0.8%"],
        "decided",
        ["1504"],
        [],
    ),
    (
        "1504.10",
        ["dha_sn2_share=45%", "partial_glycerides=5%", "ethyl_esters=0.1%", "trans_fatty_acids=3%"],
        "decided",
        ["150410"],
        [],
    ),
    (
        "1504.20",
        ["dha_sn2_share=58%", "partial_glycerides=2%", "trans_fatty_acids=8g/kg"],
        "decided",
        ["150420"],
        [],
    ),
    # conclusive: re-esterified (near-random sn-2 and high partial glycerides, or ethyl esters)
    ("1504.20", ["dha_sn2_share=31%", "partial_glycerides=18%"], "decided", ["151610"], []),
    ("1504.20", ["dha_sn2_share=35%", "ethyl_esters=3%"], "decided", ["151610"], []),
    ("1504.20", ["dha_sn2_share=30%", "partial_glycerides=100g/kg"], "decided", ["151610"], []),
    (
        "1516.10",
        ["dha_sn2_share=33%", "partial_glycerides=25%", "ethyl_esters=2%"],
        "decided",
        ["151610"],
        [],
    ),
    # Review finding: hydrogenated and elaidinised oils of 15.16 keep the sn-2 pattern and few partial
    # glycerides; without the trans fatty acids the rule no longer moves them to 15.04
    (
        "1516.10",
        ["dha_sn2_share=50%", "partial_glycerides=3%"],
        "undecided",
        ["1504", "151610"],
        ["trans_fatty_acids"],
    ),
    (
        "1504.20",
        ["dha_sn2_share=58%", "partial_glycerides=2%"],
        "undecided",
        ["150420", "151610"],
        ["trans_fatty_acids"],
    ),
    (
        "1516.10",
        ["dha_sn2_share=50%", "partial_glycerides=3%", "trans_fatty_acids=28%"],
        "decided",
        ["151610"],
        [],
    ),
    (
        "1504.20",
        ["trans_fatty_acids=10%"],
        "decided",
        ["151610"],
        [],
    ),  # partly hydrogenated, declared natural
    (
        "1504.20",
        ["dha_sn2_share=58%", "partial_glycerides=2%", "trans_fatty_acids=3.1%"],
        "undecided",
        ["150420", "151610"],
        [],
    ),  # between 3 % and 10 % trans: neither natural nor shown hydrogenated
    (
        "1504.20",
        ["dha_sn2_share=58%", "partial_glycerides=2%", "trans_fatty_acids=9.9%"],
        "undecided",
        ["150420", "151610"],
        [],
    ),
    (
        "1504.20",
        ["dha_sn2_share=58%", "partial_glycerides=2%", "trans_fatty_acids=3%±0.5"],
        "undecided",
        ["150420", "151610"],
        [],
    ),
    # inconclusive: one piece of evidence only, the missing one named
    (
        "1504.20",
        ["dha_sn2_share=60%"],
        "undecided",
        ["150420", "151610"],
        ["partial_glycerides", "trans_fatty_acids"],
    ),
    (
        "1504.20",
        ["partial_glycerides=2%"],
        "undecided",
        ["150420", "151610"],
        ["dha_sn2_share", "trans_fatty_acids"],
    ),
    (
        "1504.20",
        ["ethyl_esters=4%"],
        "undecided",
        ["150420", "151610"],
        ["dha_sn2_share", "partial_glycerides", "trans_fatty_acids"],
    ),
    ("1504.20", ["dha_sn2_share=31%"], "undecided", ["150420", "151610"], ["partial_glycerides"]),
    (
        "1504.20",
        ["dha_sn2_share=44%±2", "partial_glycerides=2%", "trans_fatty_acids=1%"],
        "undecided",
        ["150420", "151610"],
        [],
    ),
    # conflicting: evidence for both headings
    (
        "1504.20",
        ["dha_sn2_share=60%", "ethyl_esters=3%", "trans_fatty_acids=1%"],
        "undecided",
        ["150420", "151610"],
        [],
    ),
    (
        "1504.20",
        ["dha_sn2_share=32%", "partial_glycerides=3%", "trans_fatty_acids=1%"],
        "undecided",
        ["150420", "151610"],
        [],
    ),
    # outside the rule: oils of marine mammals carry DHA mainly at sn-1/3
    ("1504.30", ["dha_sn2_share=20%", "partial_glycerides=15%"], "no_rule", [], []),
    ("1516.20", ["dha_sn2_share=20%", "partial_glycerides=15%"], "no_rule", [], []),
    ("1516", ["dha_sn2_share=20%", "partial_glycerides=15%"], "no_rule", [], []),  # vegetable, microbial
]


@pytest.mark.parametrize(("declared", "results", "status", "determined", "missing"), FISH_OIL)
def test_the_fish_oil_evidence_rule_decides_only_on_conclusive_evidence(
    declared: str, results: list[str], status: str, determined: list[str], missing: list[str]
) -> None:
    outcome = evaluate(declared, results)
    assert (outcome.status, sorted(outcome.determined)) == (status, sorted(determined))
    assert outcome.missing_evidence == missing
    assert outcome.to_dict()["missing_evidence"] == missing


def test_conclusive_fish_oil_evidence_decides_the_heading_and_says_so() -> None:
    outcome = evaluate("1504.20", ["dha_sn2_share=58%", "partial_glycerides=2%", "trans_fatty_acids=0.8%"])
    assert (outcome.decided, outcome.level, outcome.open_levels) == (["1504"], "heading", ["subheading"])
    (firing,) = outcome.firings
    assert firing.reasons[-1].endswith("The evidence is conclusive for 15.04.")


def test_inconclusive_fish_oil_evidence_names_what_is_missing() -> None:
    outcome = evaluate("1504.20", ["dha_sn2_share=60%"])
    assert outcome.message.startswith("Undecided: these results do not yet tell apart")
    assert outcome.message.endswith(
        "still needed: Partial glycerides (MAG + DAG), Trans fatty acids (of total fatty acids)."
    )
    firing = outcome.to_dict()["rules"][0]
    assert firing["missing_evidence"] == ["partial_glycerides", "trans_fatty_acids"]
    assert firing["status"] == "undecided"
    assert any("still needed" in r for r in firing["reasons"])


def test_conflicting_fish_oil_evidence_says_it_points_both_ways() -> None:
    outcome = evaluate("1504.20", ["dha_sn2_share=60%", "ethyl_esters=3%", "trans_fatty_acids=1%"])
    (firing,) = outcome.firings
    assert any("more than one heading (15.04, 1516.10)" in r for r in firing.reasons)


def test_a_hydrogenated_fish_oil_is_told_by_its_trans_fatty_acids_not_its_glycerides() -> None:
    # Review finding: the sn-2 pattern and few partial glycerides moved a 1516.10 declaration to 15.04,
    # though hydrogenation and elaidinisation leave both in place.
    waiting = evaluate("1516.10", ["dha_sn2_share=50%", "partial_glycerides=3%"])
    assert (waiting.status, waiting.missing_evidence) == ("undecided", ["trans_fatty_acids"])
    assert waiting.message.endswith("still needed: Trans fatty acids (of total fatty acids).")
    hydrogenated = evaluate(
        "1516.10", ["dha_sn2_share=50%", "partial_glycerides=3%", "trans_fatty_acids=28%"]
    )
    assert (hydrogenated.status, hydrogenated.mismatch, hydrogenated.decided) == (
        "decided",
        "none",
        ["151610"],
    )
    (firing,) = hydrogenated.firings
    assert "partly hydrogenated or elaidinised" in firing.reasons[0]


def test_a_fish_oil_declared_only_at_the_heading_keeps_marine_mammal_oil_open_when_moved() -> None:
    outcome = evaluate("1504", ["dha_sn2_share=31%", "partial_glycerides=18%"])
    assert sorted(outcome.determined) == ["150430", "151610"]


def test_the_family_reasons_come_in_korean() -> None:
    ko = evaluate("2209.00", ["acetic_acid=12.5%"], language="ko").firings[0]
    assert ko.reasons == ("아세트산이 중량 기준 10 %를 초과하므로 제22류가 아닌 제2915.21호의 아세트산이다.",)
    fish = evaluate("1504.20", ["dha_sn2_share=60%"], language="ko").firings[0]
    assert any("추가로 필요한 증거: 15.04: partial_glycerides" in r for r in fish.reasons)


def test_every_family_rule_names_its_checked_copy_and_the_notes_it_encodes() -> None:
    family = [r for r in default_catalogue().rules if r.id in FAMILY_IDS]
    assert sorted(r.id for r in family) == sorted(FAMILY_IDS)
    for rule in family:
        assert "2026-11-29" in rule.checked and "recall" not in rule.checked, rule.id
        assert rule.notes, rule.id


def test_the_evidence_limits_are_said_not_to_be_legal_numbers() -> None:
    rule = default_catalogue().rule("ch15-fish-oil-natural-or-re-esterified")
    assert "not legal limits" in rule.explanation and "indicative" in rule.explanation
    assert "법적 한도가 아니라" in default_catalogue("ko").rule(rule.id).explanation


FAMILY_IDS = [
    "ch17-fructose-1702",
    "ch17-lactose-99",
    "ch04-whey-lactose-95",
    "ch35-dextrins-10",
    "ch35-dextrins-declared-1702-90",
    "ch22-acetic-acid-10",
    "ch04-milk-fat-0401",
    "ch04-milk-powder-fat-0402",
    "ch04-butter-dairy-spreads",
    "ch15-fish-oil-natural-or-re-esterified",
]
