"""Rule family 40-metals: the grades of Chapter 72 Subheading Note 1 (alloy pig iron, free-cutting,
silicon-electrical, high-speed and silico-manganese steel) and the copper-alloy families of Chapter 74
Subheading Note 1, each read after the class rules of the catalogue placed the goods in a heading.

Each limit is tested on both sides and exactly at it, with an interval reaching across it (undecided),
in another unit, and with the subheadings the rule does not read (form first, or another grade). An
element that could make the goods a grade is never taken as absent: the base compositions below report
every such element, and the cases without them are undecided and name what is still needed."""

from __future__ import annotations

import pytest

from customslab.hs.decision import DecisionRule, Tri
from customslab.hs.evaluate import evaluate
from customslab.hs.kinds_alloys import _combined, copper_alloy
from customslab.hs.quantities import parse_result
from customslab.hs.rules import default_catalogue
from tests.unit.hs.rule_cases import CASE_FIELDS, fired_rules, status_and_codes


def swap(base: list[str], *results: str) -> list[str]:
    """The base composition with the named results replaced (or added)."""
    names = {r.split("=", 1)[0] for r in results}
    return [r for r in base if r.split("=", 1)[0] not in names] + list(results)


#: Pig iron with every element of Subheading Note 1(a) and manganese reported, each within its limit.
PIG = [
    "element.C=4%",
    "element.Si=1.5%",
    "element.Mn=0.5%",
    "element.Cr=0.05%",
    "element.Cu=0.05%",
    "element.Ni=0.05%",
    "element.Al=0.01%",
    "element.Mo=0.01%",
    "element.Ti=0.02%",
    "element.W=0%",
    "element.V=0.02%",
]
HSS = ["element.C=0.85%", "element.Cr=4.1%", "element.Mo=5%", "element.W=6.4%", "element.V=1.9%"]
SIMN = ["element.C=0.55%", "element.Mn=0.8%", "element.Si=1.8%"]
#: Non-alloy steel bars with lead, selenium, tellurium and bismuth reported below Subheading Note 1(b).
STEEL_7214 = [
    "element.C=0.45%",
    "element.Mn=0.9%",
    "element.Pb=0.01%",
    "element.Se=0.001%",
    "element.Te=0.001%",
    "element.Bi=0.001%",
]

CASES = [
    # Subheading Note 1(a): alloy pig iron (Cr > 0.2, Cu > 0.3, Ni > 0.3, Al/Mo/Ti/W/V > 0.1);
    # Note 1(b): spiegeleisen (Mn > 6 %); both 7201.50
    ("7201.10", swap(PIG, "element.Cr=0.2%"), "decided", ["720110"]),
    ("7201.10", swap(PIG, "element.Cr=0.21%"), "decided", ["720150"]),
    ("7201.10", swap(PIG, "element.Cr=2.1g/kg"), "decided", ["720150"]),
    ("7201.10", swap(PIG, "element.Cu=0.3%"), "decided", ["720110"]),
    ("7201.10", swap(PIG, "element.Cu=0.31%"), "decided", ["720150"]),
    ("7201.10", swap(PIG, "element.Ni=0.3%"), "decided", ["720110"]),
    ("7201.10", swap(PIG, "element.Ni=0.31%"), "decided", ["720150"]),
    ("7201.10", swap(PIG, "element.V=0.1%"), "decided", ["720110"]),
    ("7201.10", swap(PIG, "element.V=0.11%"), "decided", ["720150"]),
    ("7201.10", swap(PIG, "element.Ti=1100ppm"), "decided", ["720150"]),
    ("7201.10", swap(PIG, "element.Al=0.1%", "element.Mo=0.1%", "element.W=0.1%"), "decided", ["720110"]),
    ("7201.10", swap(PIG, "element.Mn=6%"), "decided", ["720110"]),
    ("7201.10", swap(PIG, "element.Mn=6.5%"), "decided", ["720150"]),
    ("7201.10", swap(PIG, "element.Cr=0.25%±0.1"), "undecided", ["720110", "720150"]),
    # A pig-iron composition declared as an ingot of 72.06 is moved to 72.01 and graded there.
    ("7206.10", swap(PIG, "element.C=4.2%"), "decided", ["720110", "720120"]),
    ("7206.10", ["element.C=4.2%", "element.Ni=0.5%"], "decided", ["720150"]),
    # An element of Note 1(a) not reported is not taken as absent: non-alloy pig iron stays open.
    ("7201.10", ["element.C=4%", "element.Si=1.5%"], "undecided", ["720110", "720150"]),
    ("7201.10", PIG[:-1], "undecided", ["720110", "720150"]),
    ("7206.10", ["element.C=4.2%", "element.Si=1.5%"], "undecided", ["720110", "720120", "720150"]),
    # ... but one reported above its limit decides alloy pig iron whatever the others
    ("7201.10", ["element.C=4%", "element.Si=1.5%", "element.Mn=6.5%"], "decided", ["720150"]),
    # 7201.10 / 7201.20: non-alloy pig iron by phosphorus (0.5 %)
    ("7201.50", [*PIG, "element.P=0.3%"], "decided", ["720110"]),
    ("7201.50", [*PIG, "element.P=0.5%"], "decided", ["720110"]),
    ("7201.10", [*PIG, "element.P=0.51%"], "decided", ["720120"]),
    ("7201.10", [*PIG, "element.P=6g/kg"], "decided", ["720120"]),
    ("7201.20", [*PIG, "element.P=0.5%±0.05"], "undecided", ["720110", "720120"]),
    ("7201.50", PIG, "decided", ["720110", "720120"]),
    ("7201.50", ["element.C=4%", "element.P=0.3%"], "undecided", ["720110", "720120", "720150"]),
    # ... but not alloy pig iron, whatever its phosphorus
    ("7201.50", swap(PIG, "element.Cr=0.5%", "element.P=0.9%"), "decided", ["720150"]),
    # Subheading Note 1(b): non-alloy free-cutting steel
    ("7214.99", [*STEEL_7214, "element.S=0.08%"], "decided", ["721430"]),
    ("7214.99", [*STEEL_7214, "element.S=0.079%"], "decided", ["721499"]),
    ("7214.30", [*STEEL_7214, "element.S=0.79g/kg"], "decided", ["721491", "721499"]),
    ("7214.91", [*STEEL_7214, "element.S=800mg/kg"], "decided", ["721430"]),
    ("7214.99", swap(STEEL_7214, "element.S=0.02%", "element.Pb=0.1%"), "decided", ["721430"]),
    ("7214.99", swap(STEEL_7214, "element.S=0.02%", "element.Pb=0.09%"), "decided", ["721499"]),
    ("7214.99", swap(STEEL_7214, "element.S=0.02%", "element.Se=0.05%"), "decided", ["721499"]),
    ("7214.99", swap(STEEL_7214, "element.S=0.02%", "element.Se=0.06%"), "decided", ["721430"]),
    ("7214.99", swap(STEEL_7214, "element.S=0.02%", "element.Te=0.01%"), "decided", ["721499"]),
    ("7214.99", swap(STEEL_7214, "element.S=0.02%", "element.Te=0.011%"), "decided", ["721430"]),
    ("7214.99", swap(STEEL_7214, "element.S=0.02%", "element.Bi=0.05%"), "decided", ["721499"]),
    ("7214.99", swap(STEEL_7214, "element.S=0.02%", "element.Bi=0.06%"), "decided", ["721430"]),
    # Lead, selenium, tellurium or bismuth not reported: not free-cutting cannot be decided ...
    ("7214.30", ["element.C=0.4%", "element.S=0.02%"], "undecided", ["721430", "721491", "721499"]),
    ("7214.99", [*STEEL_7214[:3], "element.S=0.02%"], "undecided", ["721430", "721499"]),
    # ... but enough sulphur or lead decides free-cutting steel without them
    ("7214.99", ["element.C=0.45%", "element.S=0.25%"], "decided", ["721430"]),
    ("7214.99", ["element.C=0.45%", "element.S=0.02%", "element.Pb=0.2%"], "decided", ["721430"]),
    ("7214.99", [*STEEL_7214, "element.S=0.08%±0.01"], "undecided", ["721430", "721499"]),
    ("7213.91", [*STEEL_7214, "element.S=0.3%"], "decided", ["721320"]),
    ("7213.20", [*STEEL_7214, "element.S=0.02%"], "decided", ["721391", "721399"]),
    ("7215.50", [*STEEL_7214, "element.S=0.3%"], "decided", ["721510"]),
    ("7215.10", [*STEEL_7214, "element.S=0.02%"], "decided", ["721550"]),
    # form first: reinforcing bars, forged bars and bars further worked are not read
    ("7213.10", [*STEEL_7214, "element.S=0.3%"], "decided", ["721310"]),
    ("7214.10", [*STEEL_7214, "element.S=0.3%"], "decided", ["721410"]),
    ("7214.20", [*STEEL_7214, "element.S=0.3%"], "decided", ["721420"]),
    ("7215.90", [*STEEL_7214, "element.S=0.3%"], "decided", ["721590"]),
    # 0.4 % lead makes alloy steel (Note 1(f)): the class rule moves it, free-cutting is not asked
    ("7214.99", swap(STEEL_7214, "element.S=0.02%", "element.Pb=0.4%"), "decided", ["7228"]),
    # Subheading Note 1(c): silicon-electrical steel (Si 0.6-6, C ≤ 0.08, Al ≤ 1, nothing else alloying)
    ("7225.50", ["element.C=0.003%", "element.Si=3.1%"], "decided", ["722511", "722519"]),
    ("7225.50", ["element.C=0.003%", "element.Si=31g/kg"], "decided", ["722511", "722519"]),
    ("7225.50", ["element.C=0.01%", "element.Si=0.6%"], "decided", ["722511", "722519"]),
    ("7225.50", ["element.C=0.01%", "element.Si=6%"], "decided", ["722511", "722519"]),
    ("7225.50", ["element.C=0.01%", "element.Si=6.1%"], "decided", ["722550"]),
    ("7225.50", ["element.C=0.08%", "element.Si=3%"], "decided", ["722511", "722519"]),
    ("7225.50", ["element.C=0.09%", "element.Si=3%"], "decided", ["722550"]),
    ("7225.50", ["element.C=0.08%±0.01", "element.Si=3%"], "undecided", ["722511", "722519", "722550"]),
    ("7225.50", ["element.C=0.01%", "element.Si=3%", "element.Al=1%"], "decided", ["722511", "722519"]),
    ("7225.50", ["element.C=0.01%", "element.Si=3%", "element.Al=1.1%"], "decided", ["722550"]),
    ("7225.50", ["element.C=0.01%", "element.Si=3%", "element.Mn=1.6%"], "decided", ["722511", "722519"]),
    ("7225.50", ["element.C=0.01%", "element.Si=3%", "element.Mn=1.65%"], "decided", ["722550"]),
    ("7225.50", ["element.C=0.01%", "element.Si=3%", "element.Sn=0.09%"], "decided", ["722511", "722519"]),
    ("7225.50", ["element.C=0.01%", "element.Si=3%", "element.Sn=0.1%"], "decided", ["722550"]),
    (
        "7225.50",
        ["element.C=0.01%", "element.Si=3%", "element.P=0.2%", "element.S=0.03%"],
        "decided",
        ["722511", "722519"],
    ),
    (
        "7225.11",
        ["element.C=0.3%", "element.Si=1%"],
        "decided",
        ["722530", "722540", "722550", "722591", "722592", "722599"],
    ),
    ("7226.92", ["element.C=0.003%", "element.Si=3.1%"], "decided", ["722611", "722619"]),
    ("7226.20", ["element.C=0.003%", "element.Si=3.1%"], "decided", ["722611", "722619"]),
    # Subheading Note 1(d): high-speed steel
    ("7228.30", HSS, "decided", ["722810"]),
    ("7228.30", [*HSS[:2], "element.W=64g/kg", "element.V=1.9%"], "decided", ["722810"]),
    ("7228.30", ["element.C=0.8%", "element.Cr=4%", "element.Mo=5%", "element.V=2%"], "decided", ["722810"]),
    (
        "7228.30",
        ["element.C=0.8%", "element.Cr=4%", "element.Mo=4.9%", "element.V=2%", "element.W=0%"],
        "decided",
        ["722830"],
    ),
    (
        "7228.30",
        ["element.C=0.8%", "element.Cr=4%", "element.W=18%", "element.Mo=0%", "element.V=0%"],
        "decided",
        ["722830"],
    ),
    # Molybdenum, tungsten or vanadium not reported could make it high-speed steel: open
    (
        "7228.30",
        ["element.C=0.8%", "element.Cr=4%", "element.Mo=4.9%", "element.V=2%"],
        "undecided",
        ["722810", "722830"],
    ),
    ("7228.30", ["element.C=0.8%", "element.Cr=4%", "element.W=18%"], "undecided", ["722810", "722830"]),
    (
        "7228.30",
        ["element.C=0.8%", "element.Cr=4%", "element.W=18%", "element.Mo=0%"],
        "undecided",
        ["722810", "722830"],
    ),
    ("7226.20", ["element.C=0.9%", "element.Cr=4%"], "undecided", ["722620", "722691", "722692", "722699"]),
    # ... unless carbon or chromium already rules it out
    ("7228.30", ["element.C=0.59%", "element.Cr=4%"], "decided", ["722830"]),
    ("7228.30", ["element.C=0.8%", "element.Cr=6.1%", "element.W=1%"], "decided", ["722830"]),
    ("7228.30", ["element.C=0.6%", *HSS[1:]], "decided", ["722810"]),
    ("7228.30", ["element.C=0.59%", *HSS[1:]], "decided", ["722830"]),
    ("7228.30", [HSS[0], "element.Cr=3%", *HSS[2:]], "decided", ["722810"]),
    ("7228.30", [HSS[0], "element.Cr=2.9%", *HSS[2:]], "decided", ["722830"]),
    ("7228.30", [HSS[0], "element.Cr=6%", *HSS[2:]], "decided", ["722810"]),
    ("7228.30", [HSS[0], "element.Cr=6.1%", *HSS[2:]], "decided", ["722830"]),
    ("7228.30", [HSS[0], "element.Cr=3%±0.2", *HSS[2:]], "undecided", ["722810", "722830"]),
    (
        "7228.10",
        ["element.C=0.4%", "element.Cr=1%", "element.Mo=0.2%"],
        "decided",
        ["722820", "722830", "722840", "722850", "722860"],
    ),
    ("7227.90", HSS, "decided", ["722710"]),
    ("7226.91", [*HSS, "element.Si=0.3%", "element.Mn=0.3%"], "decided", ["722620"]),
    # no high-speed subheading for wire; angles and hollow drill bars are not read
    ("7229.90", [*HSS, "element.Si=0.3%", "element.Mn=0.3%"], "decided", ["722990"]),
    ("7228.70", HSS, "decided", ["722870"]),
    ("7228.80", HSS, "decided", ["722880"]),
    # a non-alloy declaration moved into the whole heading 72.28: its form subheadings stay open
    ("7214.99", HSS, "decided", ["722810", "722870", "722880"]),
    # Subheading Note 1(e): silico-manganese steel (C ≤ 0.7, Mn 0.5-1.9, Si 0.6-2.3, nothing else alloying)
    ("7228.30", SIMN, "decided", ["722820"]),
    ("7228.30", ["element.C=0.7%", *SIMN[1:]], "decided", ["722820"]),
    ("7228.30", ["element.C=0.71%", *SIMN[1:]], "decided", ["722830"]),
    ("7228.30", [SIMN[0], "element.Mn=0.5%", SIMN[2]], "decided", ["722820"]),
    ("7228.30", [SIMN[0], "element.Mn=0.49%", SIMN[2]], "decided", ["722830"]),
    ("7228.30", [SIMN[0], "element.Mn=1.9%", SIMN[2]], "decided", ["722820"]),
    ("7228.30", [SIMN[0], "element.Mn=1.91%", SIMN[2]], "decided", ["722830"]),
    ("7228.30", [*SIMN[:2], "element.Si=0.6%"], "decided", ["722820"]),
    ("7228.30", [*SIMN[:2], "element.Si=2.3%"], "decided", ["722820"]),
    ("7228.30", [*SIMN[:2], "element.Si=2.31%"], "decided", ["722830"]),
    ("7228.30", [*SIMN[:2], "element.Si=23g/kg"], "decided", ["722820"]),
    ("7228.30", [*SIMN, "element.Cr=0.29%"], "decided", ["722820"]),
    ("7228.30", [*SIMN, "element.Cr=0.3%"], "decided", ["722830"]),
    ("7228.30", [SIMN[0], "element.Mn=1.9%±0.05", SIMN[2]], "undecided", ["722820", "722830"]),
    ("7227.90", SIMN, "decided", ["722720"]),
    ("7229.90", SIMN, "decided", ["722920"]),
    ("7229.20", [*SIMN, "element.Cr=1%"], "decided", ["722990"]),
    ("7228.70", SIMN, "decided", ["722870"]),
    # Chapter 74 Subheading Note 1(a): brass (Zn predominates, Ni < 5 %, Sn < 3 %)
    ("7407.29", ["element.Cu=63%", "element.Zn=36.7%", "element.Pb=0.2%"], "decided", ["740721"]),
    ("7407.29", ["element.Cu=63%", "element.Zn=367g/kg"], "decided", ["740721"]),
    ("7403.29", ["element.Cu=66%", "element.Zn=29.1%", "element.Ni=4.9%"], "decided", ["740321"]),
    ("7408.21", ["element.Cu=65%", "element.Zn=30%", "element.Ni=5%"], "decided", ["740822"]),
    ("7403.21", ["element.Cu=89.1%", "element.Zn=8%", "element.Sn=2.9%"], "decided", ["740321"]),
    ("7403.21", ["element.Cu=90%", "element.Zn=4%", "element.Al=5%"], "decided", ["740329"]),
    (
        "7403.21",
        ["element.Cu=90%", "element.Zn=5%±0.3", "element.Al=4.8%±0.3"],
        "undecided",
        ["740321", "740329"],
    ),
    # (b) bronze: Sn predominates; with Sn ≥ 3 % zinc may exceed it below 10 %
    ("7403.29", ["element.Cu=90%", "element.Sn=10%"], "decided", ["740322"]),
    ("7403.21", ["element.Cu=89%", "element.Zn=8%", "element.Sn=3%"], "decided", ["740322"]),
    ("7403.21", ["element.Cu=88%", "element.Sn=5%", "element.Zn=7%"], "decided", ["740322"]),
    ("7403.22", ["element.Cu=85%", "element.Sn=5%", "element.Zn=10%"], "decided", ["740329"]),
    ("7403.22", ["element.Cu=67%", "element.Zn=30%", "element.Sn=3%"], "decided", ["740329"]),
    ("7403.22", ["element.Cu=85%", "element.Sn=5%", "element.Zn=5%", "element.Pb=5%"], "decided", ["740329"]),
    ("7407.21", ["element.Cu=90%", "element.Sn=10%"], "decided", ["740729"]),
    # (c) nickel silver, (d) cupro-nickel (Zn ≤ 1 %, Ni predominates): one subheading in 74.08/09/11
    ("7408.29", ["element.Cu=62%", "element.Ni=18%", "element.Zn=20%"], "decided", ["740822"]),
    ("7411.29", ["element.Cu=70%", "element.Ni=30%"], "decided", ["741122"]),
    ("7411.29", ["element.Cu=88.5%", "element.Ni=10%", "element.Fe=1.5%"], "decided", ["741122"]),
    ("7408.29", ["element.Cu=95.5%", "element.Ni=4%", "element.Zn=0.5%"], "decided", ["740822"]),
    ("7408.29", ["element.Cu=95.5%", "element.Ni=3%", "element.Zn=1.5%"], "decided", ["740829"]),
    (
        "7408.22",
        ["element.Cu=95.5%", "element.Ni=3%", "element.Zn=1%", "element.Fe=0.5%"],
        "decided",
        ["740822"],
    ),
    ("7407.29", ["element.Cu=70%", "element.Ni=30%"], "decided", ["740729"]),
    ("7403.21", ["element.Cu=70%", "element.Ni=30%"], "decided", ["740329"]),
    # 74.09: the declared form (in coils or not) is kept where the family changes
    ("7409.31", ["element.Cu=63%", "element.Zn=37%"], "decided", ["740921"]),
    ("7409.39", ["element.Cu=63%", "element.Zn=37%"], "decided", ["740929"]),
    ("7409.21", ["element.Cu=92%", "element.Sn=8%"], "decided", ["740931"]),
    ("7409.90", ["element.Cu=63%", "element.Zn=37%"], "decided", ["740921", "740929"]),
    ("7409.21", ["element.Cu=70%", "element.Ni=30%"], "decided", ["740940"]),
    ("7409.40", ["element.Cu=92%", "element.Al=8%"], "decided", ["740990"]),
    # bronze and nickel silver both met: the Note does not say which prevails, both stay
    (
        "7409.31",
        ["element.Cu=76%", "element.Sn=10%", "element.Ni=6%", "element.Zn=8%"],
        "decided",
        ["740931", "740940"],
    ),
    # refined copper is the refined-copper rule's; this rule reads only the alloy subheadings
    ("7403.21", ["element.Cu=99.9%"], "decided", ["740311", "740312", "740313", "740319"]),
    ("7403.11", ["element.Cu=98.0%", "element.Zn=1.8%"], "decided", ["740321"]),
    ("7408.11", ["element.Cu=99.8%", "element.Fe=0.31%"], "decided", ["740829"]),
    # copper at exactly half and the rest below it still predominates
    ("7407.29", ["element.Cu=50%", "element.Zn=49%", "element.Pb=1%"], "decided", ["740721"]),
]


@pytest.mark.parametrize(CASE_FIELDS, CASES)
def test_metal_grades_follow_the_subheading_notes(
    declared: str, results: list[str], status: str, determined: list[str]
) -> None:
    assert status_and_codes(declared, results) == (status, sorted(determined))


@pytest.mark.parametrize(
    ("declared", "results", "rule_id"),
    [
        ("7213.10", [*STEEL_7214, "element.S=0.3%"], "ch72-free-cutting-steel"),
        ("7214.20", [*STEEL_7214, "element.S=0.3%"], "ch72-free-cutting-steel"),
        ("7215.90", [*STEEL_7214, "element.S=0.3%"], "ch72-free-cutting-steel"),
        ("7228.70", HSS, "ch72-high-speed-steel"),
        ("7228.80", [*SIMN, *HSS[1:]], "ch72-silico-manganese-steel"),
        ("7201.50", swap(PIG, "element.Cr=0.5%", "element.P=0.9%"), "ch72-pig-iron-phosphorus"),
        ("7403.21", ["element.Cu=99.9%"], "ch74-copper-alloy-families"),
    ],
)
def test_subheadings_outside_a_rule_are_not_read_by_it(
    declared: str, results: list[str], rule_id: str
) -> None:
    assert rule_id not in fired_rules(declared, results)


def test_a_form_subheading_is_named_when_the_goods_enter_a_whole_heading() -> None:
    outcome = evaluate("7214.99", HSS)
    firing = next(f for f in outcome.firings if f.rule.id == "ch72-high-speed-steel")
    assert "High-speed steel" in firing.reasons[0]
    assert "7228.70, 7228.80" in firing.reasons[0] and "stay possible" in firing.reasons[0]
    assert outcome.mismatch == "heading"


def test_a_declaration_among_the_other_grades_is_decided_only_at_its_heading() -> None:
    # Not high-speed steel: 7228.30 stands, but hot-rolled against forged is the form's, not the rule's.
    outcome = evaluate("7228.30", ["element.C=0.4%", "element.Cr=1%", "element.Mo=0.2%"])
    assert (outcome.status, outcome.determined, outcome.decided) == ("decided", ["722830"], ["7228"])
    assert outcome.level == "heading" and outcome.open_levels == ["subheading"]
    # A grade with one subheading decides it.
    graded = evaluate("7228.10", HSS)
    assert (graded.decided, graded.level) == (["722810"], "subheading")


def test_the_grade_moves_a_declaration_with_its_reason_and_level() -> None:
    outcome = evaluate("7214.99", [*STEEL_7214, "element.S=0.25%"])
    assert (outcome.determined, outcome.decided, outcome.mismatch) == (["721430"], ["721430"], "subheading")
    assert (
        outcome.message == "Declared 7214.99 ≠ determined subheading 7214.30 (differs at subheading level)."
    )
    firing = outcome.firings[-1]
    assert firing.rule.id == "ch72-free-cutting-steel"
    assert firing.reasons == ("Non-alloy free-cutting steel (Subheading Note 1(b)).",)
    checks = firing.conditions[0]["checks"][0]["checks"]
    assert {c["condition"]: c["result"] for c in checks}["element.S ≥ 0.08 %"] == "true"


def test_the_defining_element_the_rule_requires_is_named_when_missing() -> None:
    # Free-cutting needs sulphur: without it the rule is not evaluated and says what is missing.
    outcome = evaluate("7214.99", ["element.C=0.3%", "element.Pb=0.2%"])
    assert outcome.determined == ["721499"]
    assert {"id": "ch72-free-cutting-steel", "missing": ["element.S"]} in outcome.not_evaluated


@pytest.mark.parametrize(
    ("declared", "results", "missing", "needed"),
    [
        (
            "7214.30",
            ["element.C=0.4%", "element.S=0.02%"],
            ["element.Pb", "element.Se", "element.Te", "element.Bi"],
            "lead (Pb), selenium (Se), tellurium (Te), bismuth (Bi)",
        ),
        (
            "7214.99",
            ["element.C=0.4%", "element.S=0.02%", "element.Pb=0.01%", "element.Bi=0.01%"],
            ["element.Se", "element.Te"],
            "selenium (Se), tellurium (Te)",
        ),
        (
            "7226.20",
            ["element.C=0.9%", "element.Cr=4%"],
            ["element.Mo", "element.W", "element.V"],
            "molybdenum (Mo), tungsten (W), vanadium (V)",
        ),
        (
            "7228.30",
            ["element.C=0.8%", "element.Cr=4%", "element.W=18%", "element.Mo=0%"],
            ["element.V"],
            "vanadium (V)",
        ),
        ("7201.10", PIG[:-2], ["element.W", "element.V"], "tungsten (W), vanadium (V)"),
    ],
)
def test_a_grade_is_not_ruled_out_on_an_element_nobody_reported(
    declared: str, results: list[str], missing: list[str], needed: str
) -> None:
    outcome = evaluate(declared, results)
    assert outcome.status == "undecided"
    assert outcome.missing_evidence == missing
    assert outcome.message.endswith(f"still needed: {needed}.")
    assert outcome.level == ""


def test_the_missing_elements_are_named_in_korean_and_in_the_conditions() -> None:
    outcome = evaluate("7214.30", ["element.C=0.4%", "element.S=0.02%"], language="ko")
    assert outcome.message.endswith("더 필요한 결과: 납(Pb), 셀렌(Se), 텔루르(Te), 비스무트(Bi).")
    firing = outcome.firings[-1]
    assert firing.status == "undecided" and firing.rule.id == "ch72-free-cutting-steel"
    grade = firing.conditions[0]
    assert grade["missing"] == ["element.Pb", "element.Se", "element.Te", "element.Bi"]
    lead = next(c for c in grade["checks"][0]["checks"] if c["condition"].startswith("element.Pb"))
    assert (lead["value"], lead["result"]) == (None, "not reported")


def test_a_grade_decided_either_way_names_nothing_missing() -> None:
    # For the grade on reported elements; against it on a reported carbon content.
    for declared, results in [
        ("7214.99", ["element.C=0.45%", "element.S=0.25%"]),
        ("7228.30", ["element.C=0.59%", "element.Cr=4%"]),
        ("7201.10", ["element.C=4%", "element.Cr=0.35%"]),
    ]:
        outcome = evaluate(declared, results)
        assert outcome.status == "decided" and outcome.missing_evidence == [], declared


def test_the_no_other_element_conditions_keep_the_documented_assumption() -> None:
    # Silicon-electrical and silico-manganese steel: their defining elements are required; the "no other
    # element" condition (and the aluminium limit) read the reported elements, an unreported one absent.
    for declared, results, codes in [
        ("7225.50", ["element.C=0.003%", "element.Si=3.1%"], ["722511", "722519"]),
        ("7228.30", SIMN, ["722820"]),
    ]:
        outcome = evaluate(declared, results)
        assert (outcome.status, outcome.determined, outcome.missing_evidence) == ("decided", codes, [])


def test_a_combined_content_stays_open_while_one_of_its_elements_is_unreported() -> None:
    el = {"Mo": parse_result("element.Mo=5%"), "V": parse_result("element.V=1%")}
    rule = DecisionRule.GUARDED
    # A lower bound the reported ones miss, or an upper bound they meet, could change: open.
    assert _combined(el, ["Mo", "W", "V"], ">=", 7, rule)[0] is Tri.UNDECIDED
    assert _combined(el, ["Mo", "W", "V"], ">=", 7, rule)[1]["missing"] == ["element.W"]
    assert _combined(el, ["Mo", "W", "V"], "<=", 7, rule)[0] is Tri.UNDECIDED
    # A lower bound they meet, or an upper bound they miss, stands whatever the rest.
    assert _combined(el, ["Mo", "W", "V"], ">=", 6, rule)[0] is Tri.TRUE
    assert _combined(el, ["Mo", "W", "V"], "<=", 5, rule)[0] is Tri.FALSE
    assert _combined(el, ["Mo", "V"], ">=", 7, rule)[0] is Tri.FALSE


def test_a_chromium_bar_with_2_2_percent_carbon_stays_undecided_before_any_grade() -> None:
    outcome = evaluate("7228.30", ["element.C=2.2%", "element.Cr=1.5%"])
    assert outcome.status == "undecided"
    assert [f.rule.id for f in outcome.firings] == ["ch72-iron-steel-classes"]


def _copper_family_outcomes(declared: str, results: list[str]) -> list[tuple[str, ...]]:
    rule = default_catalogue().rule("ch74-copper-alloy-families")
    measured = {m.name: m for m in map(parse_result, results)}
    return [o.codes for o in copper_alloy(rule, declared, measured, DecisionRule.GUARDED)]


@pytest.mark.parametrize(
    "results",
    [
        ["element.Cu=40%", "element.Zn=60%"],  # zinc predominates
        ["element.Cu=45%", "element.Zn=45%", "element.Ni=10%"],  # copper does not exceed zinc
        ["element.Cu=50%±1", "element.Zn=49%±1", "element.Pb=1%"],  # within the uncertainty
        ["element.Cu=48%", "element.Zn=44%", "element.Pb=8%"],  # below half, but over each other element
    ],
)
def test_no_family_is_decided_where_copper_may_not_predominate(results: list[str]) -> None:
    # Chapter 74 Note 1(b): a copper alloy is one in which copper predominates by weight over each other
    # element; only the one case where it does (48 > 44, 48 > 8) is a family of Subheading Note 1.
    outcomes = _copper_family_outcomes("740721", results)
    if results[0] == "element.Cu=48%":
        assert outcomes == [("740721",)]
    else:
        assert outcomes == []


def test_a_zinc_alloy_declared_as_brass_is_not_confirmed_as_brass() -> None:
    outcome = evaluate("7407.21", ["element.Cu=40%", "element.Zn=60%"])
    families = [f for f in outcome.firings if f.rule.id == "ch74-copper-alloy-families"]
    # The family rule decides nothing (no outcome); once the class rule moves the goods to the
    # predominating metal's chapter it does not fire at all.
    assert all(f.status == "no_outcome" and not f.reasons for f in families)
    assert outcome.level != "subheading"
    if not families:
        assert [c[:2] for c in outcome.determined] == ["79"]


def test_overlapping_copper_families_say_so() -> None:
    outcome = evaluate("7409.31", ["element.Cu=76%", "element.Sn=10%", "element.Ni=6%", "element.Zn=8%"])
    firing = outcome.firings[-1]
    assert firing.rule.id == "ch74-copper-alloy-families"
    assert all("does not say which prevails" in r for r in firing.reasons)


def test_a_predominance_within_the_uncertainty_is_undecided_with_both_reasons() -> None:
    outcome = evaluate("7403.21", ["element.Cu=90%", "element.Zn=5%±0.3", "element.Al=4.8%±0.3"])
    firing = outcome.firings[-1]
    assert firing.status == "undecided"
    brass = firing.conditions[0]
    check = next(c for c in brass["checks"] if c["condition"] == "element.Zn > element.Al")
    assert check["result"] == "undecided" and check["expanded_uncertainty"] == pytest.approx(0.424, abs=0.001)
    assert "under guarded acceptance" in outcome.message


def test_the_rules_speak_korean() -> None:
    outcome = evaluate("7214.99", [*STEEL_7214, "element.S=0.25%"], language="ko")
    assert outcome.firings[-1].reasons == ("비합금 쾌삭강(소호주 제1호나목).",)
    brass = evaluate("7407.29", ["element.Cu=63%", "element.Zn=37%"], language="ko")
    assert brass.firings[-1].reasons == ("구리-아연 합금(황동), 소호주 제1호가목.",)
    form = evaluate("7214.99", HSS, language="ko").firings[-1].reasons[0]
    assert "7228.70, 7228.80" in form and "가능하다" in form


def test_the_note_1f_table_the_grades_read_is_the_class_rules_table() -> None:
    catalogue = default_catalogue()
    classes = catalogue.rule("ch72-iron-steel-classes").params
    for rule_id in ("ch72-silicon-electrical-steel", "ch72-silico-manganese-steel"):
        params = catalogue.rule(rule_id).params
        assert params["alloy_limits"] == classes["alloy_limits"], rule_id
        assert params["other_element_limit"] == classes["other_element_limit"], rule_id
        assert params["not_alloying"] == classes["not_alloying"], rule_id


def test_every_code_a_metal_grade_names_is_inside_its_scope_or_left_open() -> None:
    catalogue = default_catalogue()
    for rule in catalogue.rules:
        if rule.kind not in ("ferrous_grade", "copper_alloy"):
            continue
        for heading, family in rule.params["families"].items():
            named = {c for key, codes in family.items() if key != "open" for c in codes}
            assert named <= set(rule.scope), (rule.id, heading)
            assert not set(family.get("open", [])) & set(rule.scope), (rule.id, heading)
            assert all(c.startswith(heading) for c in named | set(family.get("open", []))), rule.id
