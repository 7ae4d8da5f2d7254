"""Every threshold rule: both sides of each limit, exactly at it, and uncertainty spanning it."""

from __future__ import annotations

import pytest

from customslab.hs.evaluate import evaluate
from tests.unit.hs.rule_cases import CASE_FIELDS, status_and_codes

# (declared, results, expected status, expected determined codes)
CASES = [
    # Chapter 22 Note 3: non-alcoholic ≤ 0.5 % vol
    ("2203.00", ["alcohol_strength=0.4%vol"], "decided", ["220291"]),
    ("2203.00", ["alcohol_strength=0.5%vol"], "decided", ["220291"]),
    ("2203.00", ["alcohol_strength=0.6%vol"], "decided", ["220300"]),
    ("2202.91", ["alcohol_strength=2.5%vol"], "decided", ["2203", "2204", "2205", "2206", "2208"]),
    ("2203.00", ["alcohol_strength=0.5%vol±0.05"], "undecided", ["220291", "220300"]),
    # 22.07 vs 22.08 at 80 % vol: undenatured ethyl alcohol only (2207.10 / 2208.90)
    ("2208.40", ["alcohol_strength=85%vol"], "decided", ["220840"]),  # rum stays rum at any strength
    ("2207.10", ["alcohol_strength=85%vol"], "decided", ["220710"]),
    ("2207.10", ["alcohol_strength=80%vol"], "decided", ["220710"]),
    ("2207.10", ["alcohol_strength=79.9%vol"], "decided", ["220890"]),
    ("2208.90", ["alcohol_strength=79.9%vol"], "decided", ["220890"]),
    ("2208.90", ["alcohol_strength=85%vol"], "decided", ["220710", "220890"]),  # ethanol or a spirit
    ("2207.10", ["alcohol_strength=40%vol"], "decided", ["220890"]),
    ("2207.10", ["alcohol_strength=80.2%vol±0.4"], "undecided", ["220710", "220890"]),
    ("2207.10", ["alcohol_strength=80.2%±0.1"], "decided", ["220710"]),
    ("2207.10", ["alcohol_strength=80%"], "decided", ["220710"]),  # a bare % on a volume is % vol
    ("2207.20", ["alcohol_strength=70%vol"], "no_rule", []),  # denatured alcohol: outside the rule
    # Sparkling wine, excess pressure ≥ 3 bar
    ("2204.21", ["excess_pressure=3.6bar"], "decided", ["220410"]),
    ("2204.21", ["excess_pressure=3bar"], "decided", ["220410"]),
    ("2204.21", ["excess_pressure=299kPa"], "decided", ["220421"]),
    ("2204.10", ["excess_pressure=2.5bar"], "decided", ["220421", "220422", "220429"]),
    ("2204.10", ["excess_pressure=3.05bar±0.1"], "undecided", ["220410", "220421", "220422", "220429"]),
    # Chapter 17 subheading notes 1 and 2
    ("1701.14", ["polarisation=99.7°Z"], "decided", ["170191", "170199"]),
    ("1701.14", ["polarisation=99.5"], "decided", ["170191", "170199"]),
    ("1701.14", ["polarisation=99.4°"], "decided", ["170114"]),
    ("1701.13", ["polarisation=93°Z"], "decided", ["170114"]),
    ("1701.13", ["polarisation=92.9°Z"], "decided", ["170113"]),
    ("1701.13", ["polarisation=69°Z"], "decided", ["170113"]),
    ("1701.13", ["polarisation=68.9°Z"], "decided", ["170114"]),
    ("1701.13", ["polarisation=92.9°Z±0.3"], "undecided", ["170113", "170114"]),
    # Chapter 19 Note 3: 19.04 above 6 % cocoa (defatted) → 18.06; theobromine + caffeine × 31
    ("1904.10", ["cocoa_defatted=6.1%"], "decided", ["1806"]),
    ("1904.10", ["cocoa_defatted=6%"], "decided", ["190410"]),
    ("1904.10", ["cocoa_defatted=60g/kg"], "decided", ["190410"]),
    ("1904.10", ["theobromine=0.21%", "caffeine=0.02%"], "decided", ["1806"]),
    ("1904.10", ["theobromine=1.5g/kg"], "decided", ["190410"]),
    ("1904.10", ["cocoa_defatted=6.1%±0.3"], "undecided", ["1806", "190410"]),
    ("1905.90", ["cocoa_defatted=25%"], "no_rule", []),
    # Heading 19.01: 5 % and 40 %
    ("1901.90", ["cocoa_defatted=4.9%"], "decided", ["190190"]),
    ("1901.90", ["cocoa_defatted=5%"], "decided", ["1901", "1806"]),
    ("1901.20", ["cocoa_defatted=12%"], "decided", ["190120"]),
    ("1901.20", ["cocoa_defatted=40%"], "decided", ["1806"]),
    # Chapter 19 Note 1(a) / Chapter 16 Note 2: 20 % meat or fish; stuffed pasta excepted
    ("1902.30", ["meat_fish_content=25%"], "decided", ["16"]),
    ("1902.30", ["meat_fish_content=20%"], "decided", ["190230"]),
    ("1902.30", ["meat_fish_content=200g/kg"], "decided", ["190230"]),
    ("1902.20", ["meat_fish_content=35%"], "decided", ["190220"]),  # stuffed pasta: the exception
    ("1902", ["meat_fish_content=35%"], "decided", ["16", "190220"]),
    ("1602.50", ["meat_fish_content=15%"], "decided", ["18", "19", "20", "21"]),
    ("2104.10", ["meat_fish_content=35%"], "decided", ["210410"]),  # soups and broths: the exception
    ("2106.90", ["meat_fish_content=20.1%"], "decided", ["16"]),
    ("1902.30", ["meat_fish_content=20.5%±1"], "undecided", ["16", "190230"]),
    # Chapter 27 subheading notes 1 and 2 (coal)
    ("2701.12", ["volatile_matter=14%"], "decided", ["270111"]),
    ("2701.11", ["volatile_matter=14.1%", "calorific_value=5833kcal/kg"], "decided", ["270112"]),
    ("2701.11", ["volatile_matter=31%", "calorific_value=24.42MJ/kg"], "decided", ["270119"]),
    ("2701.11", ["volatile_matter=31%", "calorific_value=24.43MJ/kg"], "decided", ["270112"]),
    ("2701.12", ["volatile_matter=31%", "calorific_value=5800kcal/kg"], "decided", ["270119"]),
    ("2701.12", ["volatile_matter=31%"], "undecided", ["270112", "270119"]),
    ("2701.12", ["volatile_matter=14%±0.5"], "undecided", ["270111", "270112", "270119"]),
    # Chapter 27 Note 2 (liquid synthetic polyolefins only) and heading 27.10 (70 %)
    (
        "2710.19",
        ["liquid_synthetic_polyolefin=detected", "distilled_300=42%vol"],
        "decided",
        ["3901", "3902"],
    ),
    ("2710.19", ["liquid_synthetic_polyolefin=detected", "distilled_300=60%vol"], "decided", ["271019"]),
    ("3902.90", ["liquid_synthetic_polyolefin=detected", "distilled_300=75%vol"], "decided", ["2710"]),
    ("2710.19", ["distilled_300=42%vol"], "no_rule", []),  # not identified as a polyolefin: not read
    ("3403.19", ["petroleum_oil_content=85%"], "decided", ["2710"]),
    ("3403.19", ["petroleum_oil_content=70%"], "decided", ["2710"]),
    ("2710.19", ["petroleum_oil_content=69.9%"], "decided", ["3403", "3824", "3826"]),
    ("2710.19", ["petroleum_oil_content=70%±1"], "undecided", ["271019", "3403", "3824", "3826"]),
    ("2710.20", ["petroleum_oil_content=60%"], "decided", ["3826"]),  # a biodiesel blend below 70 %
    ("2710.20", ["petroleum_oil_content=700g/kg"], "decided", ["271020"]),
    ("3826.00", ["petroleum_oil_content=75%"], "decided", ["271020"]),
    ("3811.21", ["petroleum_oil_content=75%"], "decided", ["381121"]),  # additives: the exception
    ("3811.21", ["petroleum_oil_content=40%"], "decided", ["381121"]),
    # Chapter 27 subheading note 4 (light oils)
    ("2710.19", ["distilled_210=90%vol"], "decided", ["271012"]),
    ("2710.12", ["distilled_210=89.9%vol"], "decided", ["271019"]),
    # 3901.10 vs 3901.20 at specific gravity 0.94
    ("3901.10", ["specific_gravity=0.952"], "decided", ["390120"]),
    ("3901.10", ["specific_gravity=0.94"], "decided", ["390120"]),
    ("3901.20", ["specific_gravity=0.939"], "decided", ["390110"]),
    ("3901.20", ["specific_gravity=0.941±0.002"], "undecided", ["390110", "390120"]),
    # Chapter 15 subheading note: low erucic acid rape oil < 2 %
    ("1514.11", ["erucic_acid=4.5%"], "decided", ["151491"]),
    ("1514.19", ["erucic_acid=2%"], "decided", ["151499"]),
    ("1514.99", ["erucic_acid=1.9%"], "decided", ["151419", "151499"]),  # or mustard oil
    ("1514.11", ["erucic_acid=19g/kg"], "decided", ["151411"]),
    ("1514.11", ["erucic_acid=2%±0.2"], "undecided", ["151411", "151491"]),
]


@pytest.mark.parametrize(CASE_FIELDS, CASES)
def test_each_threshold_rule_decides_on_the_right_side_of_its_limit(
    declared: str, results: list[str], status: str, determined: list[str]
) -> None:
    assert status_and_codes(declared, results) == (status, sorted(determined))


@pytest.mark.parametrize(
    ("results", "determined"),
    [(["alcohol_strength=80.2%vol±0.4"], ["220710"]), (["alcohol_strength=79.9%vol±0.4"], ["220890"])],
)
def test_simple_acceptance_decides_on_the_value_even_when_the_uncertainty_spans_the_limit(
    results: list[str], determined: list[str]
) -> None:
    outcome = evaluate("2207.10", results, "simple")
    assert (outcome.status, outcome.determined) == ("decided", determined)
