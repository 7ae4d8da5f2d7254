"""The ten wrong answers a legal review of the core HS rules (rules/catalogue.yaml) found, one table each.

The first row of every table is the command the review ran (`customslab hs evaluate --declared ...
--result ...`), which used to answer against the legal text; the table states the answer the text gives.
The other rows pin both sides of the fix: what still moves, and what no longer does.
"""

from __future__ import annotations

import pytest

from customslab.hs.evaluate import evaluate
from tests.unit.hs.rule_cases import CASE_FIELDS, fired_rules, status_and_codes

Case = tuple[str, list[str], str, list[str]]
LSP, NOT_LSP = "liquid_synthetic_polyolefin=detected", "liquid_synthetic_polyolefin=not_detected"
COATED, NOT_COATED = "coated_with_chocolate=detected", "coated_with_chocolate=not_detected"
#: The elements of the table of Chapter 72 Note 1(f), as a laboratory reports them.
NOTE_1F = [
    f"element.{s}"
    for s in ("Al", "B", "Cr", "Co", "Cu", "Pb", "Mn", "Mo", "Ni", "Nb", "Si", "Ti", "W", "V", "Zr")
]


def _check(case: Case) -> None:
    declared, results, status, determined = case
    assert status_and_codes(declared, results) == (status, sorted(determined))


# 1. Chapter 27 Note 2 / Chapter 39 Note 3(a) concern liquid synthetic polyolefins only (was: a heavy
#    mineral oil distilling 20 % at 300 °C went to Chapter 39, solid polyethylene to 27.10).
POLYOLEFINS: list[Case] = [
    ("2710.19", ["distilled_300=20%vol"], "no_rule", []),
    ("3901.10", ["distilled_300=65%vol"], "no_rule", []),
    ("2710.19", [NOT_LSP, "distilled_300=20%vol"], "decided", ["271019"]),
    ("3901.10", [NOT_LSP, "distilled_300=65%vol"], "decided", ["390110"]),
    ("2710.19", [LSP, "distilled_300=59.9%vol"], "decided", ["3901", "3902"]),
    ("2710.19", [LSP, "distilled_300=60%vol"], "decided", ["271019"]),
    ("3902.90", [LSP, "distilled_300=60%vol"], "decided", ["2710"]),
    ("3902.90", [LSP, "distilled_300=60.2%vol±0.5"], "undecided", ["2710", "390290"]),
]


@pytest.mark.parametrize(CASE_FIELDS, POLYOLEFINS)
def test_1_the_300_c_distillation_reads_only_liquid_synthetic_polyolefins(
    declared: str, results: list[str], status: str, determined: list[str]
) -> None:
    _check((declared, results, status, determined))


# 2. Waste oils (Chapter 27 Note 3) have no 70 % test (was: waste oil with 60 % petroleum oils → 34.03/38.24/
#    38.26).
WASTE_OILS: list[Case] = [
    ("2710.99", ["petroleum_oil_content=60%"], "no_rule", []),
    ("2710.91", ["petroleum_oil_content=60%"], "no_rule", []),
    ("2710.99", ["petroleum_oil_content=30%"], "no_rule", []),
    ("3403.19", ["petroleum_oil_content=70%"], "decided", ["2710"]),
]


@pytest.mark.parametrize(CASE_FIELDS, WASTE_OILS)
def test_2_waste_oils_are_not_read_against_the_70_percent_limit(
    declared: str, results: list[str], status: str, determined: list[str]
) -> None:
    _check((declared, results, status, determined))


def test_2b_a_declared_heading_27_10_below_70_percent_keeps_waste_oils_possible() -> None:
    outcome = evaluate("2710", ["petroleum_oil_content=60%"])
    assert {"271091", "271099", "3403", "3826"} <= set(outcome.determined)
    assert "2710" not in outcome.determined


# 3. Chapter 72 Note 1(e), (f): an element nobody reported is unknown, not 0 % (was: a stainless declaration
#    with no chromium result was overturned to non-alloy steel).
STEEL: list[Case] = [
    ("7219.33", ["element.C=0.05%"], "undecided", ["721933", "7225", "7208", "7209", "7210"]),
    ("7225.30", ["element.C=0.05%"], "undecided", ["7219", "722530", "7208", "7209", "7210"]),
    (
        "7225.30",
        ["element.C=0.05%", "element.N=0.01%"],
        "undecided",
        ["7219", "722530", "7208", "7209", "7210"],
    ),
    ("7219.33", ["element.C=0.05%", "element.Cr=0.1%"], "decided", ["7208", "7209", "7210"]),
    ("7219.33", ["element.C=0.05%", "element.Cr=18%"], "decided", ["721933"]),
    ("7225.30", ["element.C=0.05%", "element.Mn=0.8%"], "decided", ["7208", "7209", "7210"]),
    ("7219.33", ["element.C=1.3%", "element.Ni=0.5%"], "decided", ["7225"]),
    ("7219.33", ["element.C=1.3%", "element.Mn=0.2%"], "undecided", ["7225", "7208", "7209", "7210"]),
    ("7208.51", ["element.C=0.05%"], "decided", ["720851"]),
]


@pytest.mark.parametrize(CASE_FIELDS, STEEL)
def test_3_an_unreported_element_does_not_overturn_a_declared_steel_class(
    declared: str, results: list[str], status: str, determined: list[str]
) -> None:
    _check((declared, results, status, determined))


@pytest.mark.parametrize(
    ("declared", "results", "missing"),
    [
        ("7219.33", ["element.C=0.05%"], ["element.Cr"]),
        ("7225.30", ["element.C=0.05%"], NOTE_1F),
        ("7228.30", ["element.C=2.2%"], ["usefully_malleable", *NOTE_1F]),
        ("7228.30", ["element.C=2.2%", "element.Cr=1.5%"], ["usefully_malleable"]),
    ],
)
def test_3b_the_verdict_names_the_elements_a_laboratory_should_report(
    declared: str, results: list[str], missing: list[str]
) -> None:
    outcome = evaluate(declared, results)
    assert (outcome.status, outcome.missing_evidence) == ("undecided", missing)
    if missing == ["element.Cr"]:
        assert outcome.message.endswith("still needed: chromium (Cr).")


# 4. Heading 22.04 covers grape must other than that of 20.09; Chapter 20 Note 6: juices ≤ 0.5 % vol are
#    unfermented (was: grape must at 0.4 % vol → 2202.99).
GRAPE_MUST: list[Case] = [
    ("2204.30", ["alcohol_strength=0.4%vol"], "decided", ["2009"]),
    ("2204.30", ["alcohol_strength=0.5%vol"], "decided", ["2009"]),
    ("2204.30", ["alcohol_strength=0.6%vol"], "decided", ["220430"]),
    ("2204.30", ["alcohol_strength=0.5%vol±0.05"], "undecided", ["2009", "220430"]),
    ("2204.21", ["alcohol_strength=0.4%vol"], "decided", ["220299"]),
]


@pytest.mark.parametrize(CASE_FIELDS, GRAPE_MUST)
def test_4_grape_must_of_0_5_percent_vol_or_less_is_grape_juice_of_20_09(
    declared: str, results: list[str], status: str, determined: list[str]
) -> None:
    _check((declared, results, status, determined))


# 5. Sugar containing added flavouring or colouring matter is 1701.91 whatever its polarisation (was: 1701.91
#    at 98.5°Z → raw sugar 1701.12/1701.14).
SUGAR: list[Case] = [
    ("1701.91", ["polarisation=98.5°Z"], "no_rule", []),
    ("1701.91", ["polarisation=99.7°Z"], "no_rule", []),
    ("1701.99", ["polarisation=98.5°Z"], "decided", ["170112", "170114", "170191"]),
    ("1701.14", ["polarisation=98.5°Z"], "decided", ["170114"]),
    ("1701.14", ["polarisation=99.5°Z"], "decided", ["170191", "170199"]),
]


@pytest.mark.parametrize(CASE_FIELDS, SUGAR)
def test_5_flavoured_or_coloured_sugar_stays_in_1701_91(
    declared: str, results: list[str], status: str, determined: list[str]
) -> None:
    _check((declared, results, status, determined))


# 6. At 20 % or less Chapter 20 is open too (Chapter 20 Note 1(c)); preparations of 21.03 and 21.04 are
#    excepted (Chapter 16 Note 2; Chapter 21 Note 1(e)) (was: only Chapters 19 and 21).
MEAT_CHAPTERS: list[Case] = [
    ("1602.50", ["meat_fish_content=15%"], "decided", ["18", "19", "20", "21"]),
    ("2005.99", ["meat_fish_content=25%"], "decided", ["16"]),
    ("2005.99", ["meat_fish_content=20%"], "decided", ["200599"]),
    ("2106.90", ["meat_fish_content=30%"], "decided", ["16"]),
    ("2104.10", ["meat_fish_content=30%"], "decided", ["210410"]),
    ("2103.90", ["meat_fish_content=30%"], "decided", ["210390"]),
    ("21", ["meat_fish_content=30%"], "decided", ["16", "2103", "2104"]),
]


@pytest.mark.parametrize(CASE_FIELDS, MEAT_CHAPTERS)
def test_6_chapter_20_is_open_and_sauces_and_soups_are_excepted(
    declared: str, results: list[str], status: str, determined: list[str]
) -> None:
    _check((declared, results, status, determined))


def test_6b_a_soup_is_confirmed_in_21_04_by_the_exception() -> None:
    outcome = evaluate("2104.10", ["meat_fish_content=30%"])
    assert outcome.decided == ["2104"]
    assert "Soups and broths" in " ".join(outcome.firings[0].reasons)


# 7. Chapter 18 Note 1(a), Chapter 19 Note 1(a): more than 20 % meat goes to Chapter 16 before any cocoa
#    limit (was: 1904.90 with 10 % cocoa and 30 % meat → 18.06, the meat rule never reached).
MEAT_BEFORE_COCOA: list[Case] = [
    ("1904.90", ["cocoa_defatted=10%", "meat_fish_content=30%"], "decided", ["16"]),
    ("1904.90", ["cocoa_defatted=10%", "meat_fish_content=10%"], "decided", ["1806"]),
    ("1901.90", ["cocoa_defatted=45%", "meat_fish_content=25%"], "decided", ["16"]),
    ("1806.90", ["meat_fish_content=30%"], "decided", ["16"]),
    ("1806.90", ["meat_fish_content=10%"], "decided", ["180690"]),
]


@pytest.mark.parametrize(CASE_FIELDS, MEAT_BEFORE_COCOA)
def test_7_more_than_20_percent_meat_goes_to_chapter_16_before_the_cocoa_limits(
    declared: str, results: list[str], status: str, determined: list[str]
) -> None:
    _check((declared, results, status, determined))


def test_7b_the_chain_reads_the_meat_limit_first() -> None:
    assert fired_rules("1904.90", ["cocoa_defatted=10%", "meat_fish_content=30%"]) == ["ch19-meat-fish-20"]
    assert fired_rules("1904.90", ["cocoa_defatted=10%", "meat_fish_content=10%"])[:2] == [
        "ch19-meat-fish-20",
        "ch19-cocoa-1904",
    ]


# 8. Subheading Note 2 defines rape or colza oil only; 1514.91 and 1514.99 also hold mustard oil (was:
#    1514.91 at 1.5 % erucic acid → 1514.11).
ERUCIC: list[Case] = [
    ("1514.91", ["erucic_acid=1.5%"], "decided", ["151411", "151491"]),
    ("1514.99", ["erucic_acid=1.9%"], "decided", ["151419", "151499"]),
    ("1514.11", ["erucic_acid=1.5%"], "decided", ["151411"]),
    ("1514.91", ["erucic_acid=2%"], "decided", ["151491"]),
    ("1514.11", ["erucic_acid=2%"], "decided", ["151491"]),
]


@pytest.mark.parametrize(CASE_FIELDS, ERUCIC)
def test_8_below_2_percent_erucic_acid_a_mustard_oil_declaration_stays_open(
    declared: str, results: list[str], status: str, determined: list[str]
) -> None:
    _check((declared, results, status, determined))


def test_8b_the_verdict_keeps_the_declared_heading_and_names_the_rape_oil_subheading() -> None:
    outcome = evaluate("1514.91", ["erucic_acid=1.5%"])
    assert (outcome.level, outcome.mismatch) == ("heading", "none")
    assert outcome.message == (
        "Declared 1514.91 agrees at heading 15.14; subheading not determined by these results. "
        "The rules leave open subheading 1514.11."
    )


# 9. Chapter 74 Note 1(b), Section XV Note 5: copper must predominate (was: 40 % Cu, 60 % Zn → brass 7407.21).
COPPER: list[Case] = [
    ("7407.21", ["element.Cu=40%", "element.Zn=60%"], "decided", ["79"]),
    ("7403.11", ["element.Cu=45%", "element.Ni=55%"], "decided", ["75"]),
    ("7403.21", ["element.Cu=30%", "element.Al=70%"], "decided", ["76"]),
    ("7407.21", ["element.Cu=40%", "element.Ag=60%"], "decided", ["7106"]),
    ("7407.21", ["element.Cu=50%", "element.Zn=50%"], "undecided", ["740721", "79"]),
    ("7407.21", ["element.Cu=50.5%±1", "element.Zn=49.5%±1"], "undecided", ["740721", "79"]),
    ("7403.11", ["element.Cu=98.0%", "element.Zn=1.8%"], "decided", ["740321"]),
]


@pytest.mark.parametrize(CASE_FIELDS, COPPER)
def test_9_copper_must_predominate_for_chapter_74(
    declared: str, results: list[str], status: str, determined: list[str]
) -> None:
    _check((declared, results, status, determined))


def test_9b_the_reason_names_the_predominating_element_in_both_languages() -> None:
    english = evaluate("7407.21", ["element.Cu=40%", "element.Zn=60%"])
    assert english.firings[0].reasons == (
        "Copper does not predominate (Zn weighs as much or more): not Chapter 74 (Note 1(b); Section XV, "
        "Note 5).",
    )
    korean = evaluate("7407.21", ["element.Cu=40%", "element.Zn=60%"], language="ko")
    assert korean.firings[0].reasons[0].startswith("구리가 가장 많지 않으므로(Zn")


# 10. Chapter 19 Note 3: goods completely coated with chocolate go to 18.06 whatever their cocoa (was:
#     1904.10 at 5 % cocoa "19.04 stands" for a chocolate-coated cereal).
COATED_CEREALS: list[Case] = [
    ("1904.10", [COATED, "cocoa_defatted=5%"], "decided", ["1806"]),
    ("1904.10", [COATED], "decided", ["1806"]),
    ("1904.10", [NOT_COATED, "cocoa_defatted=5%"], "decided", ["190410"]),
    ("1904.10", [NOT_COATED, "cocoa_defatted=6.1%"], "decided", ["1806"]),
    ("1904.10", ["cocoa_defatted=5%"], "decided", ["190410"]),
]


@pytest.mark.parametrize(CASE_FIELDS, COATED_CEREALS)
def test_10_goods_completely_coated_with_chocolate_go_to_18_06(
    declared: str, results: list[str], status: str, determined: list[str]
) -> None:
    _check((declared, results, status, determined))


def test_10b_without_a_coating_finding_the_cocoa_limit_says_the_coating_is_not_measured() -> None:
    outcome = evaluate("1904.10", ["cocoa_defatted=5%"])
    assert [f.rule.id for f in outcome.firings] == ["ch19-cocoa-1904"]
    assert "not measured" in outcome.firings[0].reasons[0]
    assert fired_rules("1904.10", [COATED, "cocoa_defatted=5%"]) == ["ch19-chocolate-coated-1904"]
