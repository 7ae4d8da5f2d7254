"""The textile and mineral rules (rules/parts/50-textiles-minerals.yaml): Section XI Note 2 (the
predominating textile material, chapter first, Chapters 54 and 55 as one, ties to the last heading), the
85 % and weight limits of the woven fabric headings and subheadings, and the aluminous cement / refractory
composition evidence rule. Both sides of each limit and exactly at it, uncertainty spanning it, converted
units (g/kg, oz/yd², kg/m²), ties, unreported parts of the composition, and the evidence rule's
conclusive, inconclusive and conflicting answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from customslab.hs import kinds_fibres
from customslab.hs.evaluate import evaluate
from customslab.hs.measurands import MEASURANDS, measurand
from customslab.hs.nomenclature import HsError, load_nomenclature
from customslab.hs.quantities import parse_result
from customslab.hs.rules import Rule, default_catalogue
from tests.unit.hs.rule_cases import CASE_FIELDS, status_and_codes

PART_RULES = [
    "sec11-textile-predominance",
    "ch52-cotton-woven-fabrics",
    "ch52-cotton-plain-weave-100",
    "ch52-other-cotton-fabrics-200",
    "ch55-synthetic-staple-woven-fabrics",
    "ch55-artificial-staple-woven-fabrics",
    "ch51-carded-wool-woven-fabrics",
    "ch51-combed-wool-woven-fabrics",
    "ch53-flax-woven-fabrics",
    "ch54-artificial-filament-woven-fabrics",
    "ch25-ch38-aluminous-cement-refractory",
]
FABRIC_RULES = [i for i in PART_RULES if i.startswith(("ch51", "ch52-cotton-woven", "ch53", "ch54", "ch55"))]
W150 = "fabric_weight=150g/m²"
W250 = "fabric_weight=250g/m²"

# (declared, results, expected status, expected determined codes)
CASES = [
    # Section XI Note 2(A): the material predominating by weight; its heading's own rule then applies
    ("5208.11", ["fibre.cotton=60%", "fibre.polyester_staple=40%", W150], "decided", ["5210"]),
    ("5208.11", ["fibre.cotton=40%", "fibre.polyester_staple=60%", W150], "decided", ["5513"]),
    ("5208.11", ["fibre.cotton=50.5%", "fibre.polyester_staple=49.5%", W150], "decided", ["5210"]),
    ("5208.11", ["fibre.cotton=50.5%±0.3", "fibre.polyester_staple=49.5%±0.3", W150], "decided", ["5210"]),
    ("5208.11", ["fibre.cotton=600g/kg", "fibre.polyester_staple=400g/kg", W150], "decided", ["5210"]),
    # ... no material predominates: the heading last in numerical order
    ("5208.11", ["fibre.cotton=50%", "fibre.polyester_staple=50%", W150], "decided", ["5513"]),
    ("5309.21", ["fibre.flax=50%", "fibre.cotton=50%"], "decided", ["530921"]),
    # ... an uncertainty that reaches across the tie is undecided
    (
        "5208.12",
        ["fibre.cotton=50%±1", "fibre.polyester_staple=50%±1", W150],
        "undecided",
        ["520812", "5512", "5513", "5514", "5515"],
    ),
    # Note 2(B)(b): the chapter first (flax + jute outweigh cotton), then the heading within it
    (
        "5211.49",
        ["fibre.flax=40%", "fibre.cotton=35%", "fibre.polyester_staple=25%"],
        "decided",
        ["530921", "530929"],
    ),
    ("5208.11", ["fibre.cotton=45%", "fibre.flax=30%", "fibre.jute=25%"], "decided", ["530921", "530929"]),
    # Note 2(B)(c): Chapters 54 and 55 with another chapter count as one chapter...
    (
        "5112.19",
        ["fibre.polyester_filament=35%", "fibre.polyester_staple=25%", "fibre.wool=40%", W250],
        "decided",
        ["5407"],
    ),
    # ... but alone they are two chapters (55 outweighs 54)
    ("5407.52", ["fibre.polyester_filament=45%", "fibre.polyester_staple=55%", W150], "decided", ["5515"]),
    # Note 2(B)(d): wool and fine animal hair (one heading names both) are one material: 60 % > 40 % cotton;
    # carded or combed is not measured, so both wool headings stay
    (
        "5208.21",
        ["fibre.wool=30%", "fibre.fine_animal_hair=30%", "fibre.cotton=40%", W250],
        "decided",
        ["511190", "511290"],
    ),
    (
        "5208.11",
        ["fibre.polyester_staple=30%", "fibre.acrylic_staple=30%", "fibre.cotton=40%", W150],
        "decided",
        ["5513"],
    ),
    # Note 2(B)(a): metallised yarn and gimped horsehair yarn are one material each
    (
        "5208.11",
        ["fibre.metallised_yarn=45%", "fibre.cotton=30%", "fibre.polyester_staple=25%"],
        "decided",
        ["5809"],
    ),
    (
        "5208.11",
        ["fibre.gimped_horsehair_yarn=40%", "fibre.cotton=35%", "fibre.polyester_staple=25%"],
        "decided",
        ["5113"],
    ),
    # A partial composition decides only what the unreported rest could not change
    ("5208.11", ["fibre.cotton=90%", "fabric_weight=90g/m²"], "decided", ["520811"]),
    (
        "5208.12",
        ["fibre.cotton=45%", "fibre.polyester_staple=40%", W150],
        "undecided",
        ["520812", "5512", "5513", "5514", "5515"],
    ),
    # Cotton (52.08 to 52.12): 85 % cotton, exactly at it and either side
    ("5210.11", ["fibre.cotton=85%", "fibre.polyester_staple=15%", W150], "decided", ["5208"]),
    ("5208.11", ["fibre.cotton=84.9%", "fibre.polyester_staple=15.1%", W150], "decided", ["5210"]),
    (
        "5208.32",
        ["fibre.cotton=85%±0.5", "fibre.polyester_staple=15%", W150],
        "undecided",
        ["520832", "5210"],
    ),
    # ... 200 g/m²: exactly, either side, spanning, and in other units
    ("5209.11", ["fibre.cotton=100%", "fabric_weight=200g/m²"], "decided", ["5208"]),
    ("5208.39", ["fibre.cotton=100%", "fabric_weight=200.1g/m²"], "decided", ["5209"]),
    ("5208.39", ["fibre.cotton=100%", "fabric_weight=200g/m²±3"], "undecided", ["520839", "5209"]),
    ("5208.39", ["fibre.cotton=100%", "fabric_weight=5.9oz/yd²"], "decided", ["5209"]),
    ("5209.12", ["fibre.cotton=100%", "fabric_weight=5.89oz/yd²"], "decided", ["5208"]),
    ("5208.39", ["fibre.cotton=100%", "fabric_weight=0.21kg/m²"], "decided", ["5209"]),
    # ... mixed mainly or solely with man-made fibres, or not
    ("5210.11", ["fibre.cotton=70%", "fibre.viscose_staple=30%", W250], "decided", ["5211"]),
    (
        "5210.11",
        ["fibre.cotton=60%", "fibre.wool=25%", "fibre.polyester_staple=15%", W150],
        "decided",
        ["5212"],
    ),
    (
        "5210.11",
        ["fibre.cotton=70%", "fibre.polyester_staple=15%", "fibre.wool=15%", W150],
        "decided",
        ["5212"],
    ),
    # ... the two readings of "mainly" disagree: both headings stay open
    (
        "5210.11",
        ["fibre.cotton=70%", "fibre.polyester_staple=12%", "fibre.wool=10%", "fibre.flax=8%", W150],
        "undecided",
        ["521011", "5212"],
    ),
    # ... the unreported rest could be another admixed fibre: 20 % man-made beats it, 15 % does not
    ("5212.11", ["fibre.cotton=70%", "fibre.polyester_staple=20%", W150], "decided", ["5210"]),
    ("5212.11", ["fibre.cotton=70%", "fibre.polyester_staple=15%", W150], "undecided", ["5210", "521211"]),
    # 5208 plain weave: 100 g/m² for each finish
    ("5208.12", ["fabric_weight=95g/m²"], "decided", ["520811"]),
    ("5208.11", ["fabric_weight=100g/m²"], "decided", ["520811"]),
    ("5208.11", ["fabric_weight=100.1g/m²"], "decided", ["520812"]),
    ("5208.51", ["fabric_weight=0.15kg/m²"], "decided", ["520852"]),
    ("5208.42", ["fabric_weight=3oz/yd²"], "decided", ["520842"]),
    ("5208.12", ["fabric_weight=100g/m²±2"], "undecided", ["520811", "520812"]),
    ("5208.32", ["fibre.cotton=95%", "fibre.elastane=5%", "fabric_weight=80g/m²"], "decided", ["520831"]),
    # 5212: 200 g/m² for each finish
    ("5212.13", ["fabric_weight=230g/m²"], "decided", ["521223"]),
    ("5212.23", ["fabric_weight=200g/m²"], "decided", ["521213"]),
    ("5212.11", ["fabric_weight=200.5g/m²"], "decided", ["521221"]),
    ("5212.11", ["fabric_weight=5.9oz/yd²"], "decided", ["521221"]),
    ("5212.11", ["fabric_weight=200g/m²±1"], "undecided", ["521211", "521221"]),
    # Synthetic staple fibres (55.12 to 55.15): 85 %, cotton mainly, 170 g/m²
    ("5513.11", ["fibre.polyester_staple=85%", "fibre.cotton=15%", W150], "decided", ["5512"]),
    ("5513.11", ["fibre.polyester_staple=90%", "fibre.cotton=10%", W250], "decided", ["5512"]),
    (
        "5512.11",
        ["fibre.polyester_staple=84.9%", "fibre.cotton=15.1%", "fabric_weight=170g/m²"],
        "decided",
        ["5513"],
    ),
    (
        "5512.11",
        ["fibre.polyester_staple=84.9%", "fibre.cotton=15.1%", "fabric_weight=170.1g/m²"],
        "decided",
        ["5514"],
    ),
    (
        "5513.11",
        ["fibre.polyester_staple=65%", "fibre.cotton=35%", "fabric_weight=170g/m²±2"],
        "undecided",
        ["551311", "5514"],
    ),
    ("5513.11", ["fibre.polyester_staple=60%", "fibre.viscose_staple=40%", W150], "decided", ["5515"]),
    ("5512.19", ["fibre.polyester_staple=84%±2", "fibre.cotton=16%", W150], "undecided", ["551219", "5513"]),
    # ... Chapters 54 and 55 as one with cotton, then the readings of "mainly" with cotton disagree
    (
        "5208.11",
        [
            "fibre.polyester_filament=20%",
            "fibre.polyester_staple=30%",
            "fibre.viscose_staple=20%",
            "fibre.cotton=30%",
            W150,
        ],
        "undecided",
        ["5513", "5515"],
    ),
    # Artificial staple fibres (55.16): the finish (last digit) is kept when the composition moves
    ("5516.12", ["fibre.viscose_staple=70%", "fibre.cotton=30%"], "decided", ["551642"]),
    ("5516.42", ["fibre.viscose_staple=85%", "fibre.polyester_filament=15%"], "decided", ["551612"]),
    ("5516.93", ["fibre.viscose_staple=60%", "fibre.polyamide_filament=40%"], "decided", ["551623"]),
    ("5516.11", ["fibre.lyocell_staple=60%", "fibre.wool=40%"], "decided", ["551631"]),
    ("5516.11", ["fibre.viscose_staple=60%", "fibre.polyester_staple=40%"], "decided", ["551691"]),
    (
        "5516",
        ["fibre.modal_staple=90%", "fibre.cotton=10%"],
        "decided",
        ["551611", "551612", "551613", "551614"],
    ),
    ("5516.14", ["fibre.viscose_staple=85%±1", "fibre.cotton=15%"], "undecided", ["551614", "551644"]),
    # Wool (51.11 carded, 300 g/m²; 51.12 combed, 200 g/m²)
    (
        "5111.19",
        ["fibre.wool=85%", "fibre.polyamide_filament=15%", "fabric_weight=300g/m²"],
        "decided",
        ["511111"],
    ),
    (
        "5111.11",
        ["fibre.wool=90%", "fibre.polyamide_filament=10%", "fabric_weight=300.5g/m²"],
        "decided",
        ["511119"],
    ),
    ("5111.11", ["fibre.wool=60%", "fibre.polyester_staple=40%", W250], "decided", ["511130"]),
    (
        "5112.11",
        ["fibre.wool=84.9%", "fibre.polyester_staple=15.1%", "fabric_weight=180g/m²"],
        "decided",
        ["511230"],
    ),
    (
        "5112.30",
        ["fibre.wool=60%", "fibre.polyester_filament=40%", "fabric_weight=180g/m²"],
        "decided",
        ["511220"],
    ),
    ("5112.30", ["fibre.wool=84.9%", "fibre.cotton=15.1%", "fabric_weight=180g/m²"], "decided", ["511290"]),
    (
        "5112.90",
        [
            "fibre.wool=50%",
            "fibre.fine_animal_hair=40%",
            "fibre.polyamide_filament=10%",
            "fabric_weight=200g/m²",
        ],
        "decided",
        ["511211"],
    ),
    ("5112.11", ["fibre.wool=100%", "fabric_weight=200g/m²±5"], "undecided", ["511211", "511219"]),
    # Flax (53.09): 85 %, the finish kept
    ("5309.21", ["fibre.flax=85%", "fibre.cotton=15%"], "decided", ["530911"]),
    ("5309.29", ["fibre.flax=100%"], "decided", ["530919"]),
    ("5309.11", ["fibre.flax=84.9%", "fibre.cotton=15.1%"], "decided", ["530921"]),
    ("5309.21", ["fibre.flax=85%±1", "fibre.cotton=15%"], "undecided", ["530911", "530921"]),
    # Artificial filament (54.08): 85 %, the finish kept; high tenacity viscose (5408.10) is not read
    ("5408.22", ["fibre.viscose_filament=70%", "fibre.cotton=30%"], "decided", ["540832"]),
    ("5408.33", ["fibre.viscose_filament=85%", "fibre.polyester_filament=15%"], "decided", ["540823"]),
    ("5408.21", ["fibre.acetate_filament=84.9%", "fibre.elastane=15.1%"], "decided", ["540831"]),
    ("5408.21", ["fibre.viscose_filament=85%±0.5", "fibre.elastane=15%"], "undecided", ["540821", "540831"]),
    ("5408.10", ["fibre.viscose_filament=90%", "fibre.cotton=10%"], "decided", ["540810"]),
    # Aluminous cement (2523.30) or refractory composition (38.16): evidence
    ("3816.00", ["alumina_content=40%", "refractory_aggregate=not_detected"], "decided", ["252330"]),
    ("3816.00", ["alumina_content=35%", "refractory_aggregate=not_detected"], "decided", ["252330"]),
    ("3816.00", ["alumina_content=82%", "refractory_aggregate=not_detected"], "decided", ["252330"]),
    ("3816.00", ["alumina_content=400g/kg", "refractory_aggregate=absent"], "decided", ["252330"]),
    ("2523.30", ["refractory_aggregate=detected"], "decided", ["3816"]),
    ("2523.30", ["alumina_content=45%", "refractory_aggregate=detected"], "decided", ["3816"]),
    # Al2O3 alone decides nothing: high-alumina cement grades (about 80 %, alumina added) are 2523.30
    ("2523.30", ["alumina_content=82.1%"], "undecided", ["252330", "3816"]),
    ("2523.30", ["alumina_content=83%"], "undecided", ["252330", "3816"]),
    ("3816.00", ["alumina_content=95%"], "undecided", ["252330", "381600"]),
    ("2523.30", ["alumina_content=90%", "refractory_aggregate=detected"], "decided", ["3816"]),
    ("2523.30", ["alumina_content=40%"], "undecided", ["252330", "3816"]),
    ("2523.30", ["refractory_aggregate=not_detected"], "undecided", ["252330", "3816"]),
    (
        "2523.30",
        ["alumina_content=90%", "refractory_aggregate=not_detected"],
        "undecided",
        ["252330", "3816"],
    ),
    (
        "2523.30",
        ["alumina_content=82%±1", "refractory_aggregate=not_detected"],
        "undecided",
        ["252330", "3816"],
    ),
    (
        "2523.30",
        ["alumina_content=34.9%", "refractory_aggregate=not_detected"],
        "undecided",
        ["252330", "3816"],
    ),
    ("2523.29", ["alumina_content=5%", "refractory_aggregate=not_detected"], "no_rule", []),
    ("2523", ["alumina_content=40%", "refractory_aggregate=not_detected"], "no_rule", []),
]


@pytest.mark.parametrize(CASE_FIELDS, CASES)
def test_each_rule_decides_on_the_right_side_of_its_limit(
    declared: str, results: list[str], status: str, determined: list[str]
) -> None:
    assert status_and_codes(declared, results) == (status, sorted(determined))


def _fired(declared: str, results: list[str], **kwargs: Any) -> dict[str, Any]:
    return {f.rule.id: f for f in evaluate(declared, results, **kwargs).firings}


def test_a_blend_is_classified_chapter_first_then_heading_with_the_reasons() -> None:
    outcome = evaluate("5211.49", ["fibre.flax=40%", "fibre.cotton=35%", "fibre.polyester_staple=25%"])
    fired = {f.rule.id: f for f in outcome.firings}
    assert fired["sec11-textile-predominance"].codes == ("5309",)
    assert fired["sec11-textile-predominance"].reasons == (
        "Chapter 53 predominates by weight, then the heading of its predominating material: 53.09.",
    )
    assert fired["ch53-flax-woven-fabrics"].reasons == (
        "Less than 85 % by weight of flax: 5309.21, 5309.29.",
    )
    assert outcome.mismatch == "chapter" and outcome.decided == ["530921", "530929"]


def test_a_tie_goes_to_the_heading_last_in_numerical_order_and_says_so() -> None:
    fired = _fired("5208.11", ["fibre.cotton=50%", "fibre.polyester_staple=50%", W150])
    assert (
        fired["sec11-textile-predominance"].reasons[0].startswith("No single textile material predominates")
    )
    assert "55.12, 55.13, 55.14, 55.15 (Chapter 55)" in fired["sec11-textile-predominance"].reasons[0]


def test_chapters_54_and_55_merge_only_with_another_chapter() -> None:
    merged = _fired(
        "5112.19", ["fibre.polyester_filament=35%", "fibre.polyester_staple=25%", "fibre.wool=40%", W250]
    )
    assert merged["sec11-textile-predominance"].reasons[0].startswith("Chapters 54 and 55 both occur")
    alone = _fired("5407.52", ["fibre.polyester_filament=45%", "fibre.polyester_staple=55%", W150])
    assert "single chapter" not in alone["sec11-textile-predominance"].reasons[0]


def test_without_the_chapter_54_55_merge_the_heading_would_differ() -> None:
    """35 % filament + 25 % staple against 40 % wool: merged they outweigh the wool (54.07); taken apart
    the wool would lead. A test that would fail if Note 2(B)(c) were not applied."""
    outcome = evaluate(
        "5112.19", ["fibre.polyester_filament=35%", "fibre.polyester_staple=25%", "fibre.wool=40%", W250]
    )
    assert outcome.determined == ["5407"] and outcome.mismatch == "chapter"


def test_the_unreported_rest_of_the_composition_is_named_as_missing_evidence() -> None:
    outcome = evaluate("5208.12", ["fibre.cotton=45%", "fibre.polyester_staple=40%", W150])
    assert outcome.missing_evidence == ["the rest of the fibre composition (15 % not reported)"]
    assert "still needed: the rest of the fibre composition" in outcome.message
    mainly = evaluate("5212.11", ["fibre.cotton=70%", "fibre.polyester_staple=15%", W150])
    assert mainly.missing_evidence == ["the rest of the fibre composition (15 % not reported)"]


def test_an_uncertain_predominance_is_undecided_without_missing_evidence() -> None:
    outcome = evaluate("5208.12", ["fibre.cotton=50%±1", "fibre.polyester_staple=50%±1", W150])
    assert outcome.status == "undecided" and outcome.missing_evidence == []
    assert "under guarded acceptance" in outcome.message
    simple = evaluate("5208.12", ["fibre.cotton=50%±1", "fibre.polyester_staple=50%±1", W150], "simple")
    assert simple.determined == ["5513"]  # the values tie: the last heading


def test_the_readings_of_mainly_that_disagree_are_explained() -> None:
    fired = _fired(
        "5210.11", ["fibre.cotton=70%", "fibre.polyester_staple=12%", "fibre.wool=10%", "fibre.flax=8%", W150]
    )
    reasons = fired["ch52-cotton-woven-fabrics"].reasons
    assert all('does not define "mainly"' in r for r in reasons) and len(reasons) == 2


def test_the_cotton_levels_follow_what_the_rules_measure() -> None:
    # The weight moves a plain weave to the subheading of its finish: decided in full.
    plain = evaluate("5208.12", ["fibre.cotton=90%", "fibre.polyester_staple=10%", "fabric_weight=90g/m²"])
    assert (plain.determined, plain.decided, plain.mismatch) == (["520811"], ["520811"], "subheading")
    # A twill of 52.08: the heading is measured, the weave is not.
    twill = evaluate("5208.13", ["fibre.cotton=90%", "fibre.polyester_staple=10%", "fabric_weight=180g/m²"])
    assert (twill.determined, twill.level, twill.open_levels) == (["520813"], "heading", ["subheading"])
    # Moved out of cotton, decided at the heading the rules name.
    moved = evaluate("5208.12", ["fibre.cotton=40%", "fibre.polyester_staple=60%", W150])
    assert (moved.decided, moved.mismatch) == (["5513"], "chapter")


def test_the_plain_weave_rule_leaves_twill_and_heavier_fabrics_alone() -> None:
    assert "ch52-cotton-plain-weave-100" not in _fired("5208.13", ["fabric_weight=90g/m²"])
    heavy = _fired("5208.12", ["fabric_weight=250g/m²"])["ch52-cotton-plain-weave-100"]
    assert heavy.status == "no_outcome"


def test_a_fibre_reported_at_zero_is_absent() -> None:
    # 0 % polyester filament does not bring Chapter 54 in, so Chapters 54 and 55 are not merged.
    fired = _fired(
        "5208.11", ["fibre.cotton=60%", "fibre.polyester_staple=40%", "fibre.polyester_filament=0%", W150]
    )
    assert "single chapter" not in fired["sec11-textile-predominance"].reasons[0]
    assert evaluate("5208.11", ["fibre.cotton=0%"]).firings[0].status == "no_outcome"


def test_an_unmapped_fibre_is_refused_rather_than_guessed() -> None:
    with pytest.raises(HsError, match="not mapped to a textile material"):
        evaluate("5208.11", ["fibre.cotton=60%", "fibre.unobtainium=40%", W150])


def test_fibre_shares_adding_up_to_more_than_the_blend_are_refused() -> None:
    with pytest.raises(HsError, match="add up to 130 %"):
        evaluate("5208.11", ["fibre.cotton=70%", "fibre.polyester_staple=60%", W150])
    # rounding of each share is accepted
    assert evaluate("5208.11", ["fibre.cotton=60.2%", "fibre.polyester_staple=40.2%", W150]).determined == [
        "5210"
    ]


def test_the_fibre_rules_speak_korean() -> None:
    fired = _fired("5208.11", ["fibre.cotton=40%", "fibre.polyester_staple=60%", W150], language="ko")
    assert fired["sec11-textile-predominance"].reasons[0].startswith("중량으로 제55류가 우세하며")
    assert fired["ch55-synthetic-staple-woven-fabrics"].reasons[0] == (
        "합성스테이플섬유 85 % 미만으로서 주로 또는 전용으로 면과 혼용: 55.13."
    )
    rest = evaluate("5208.12", ["fibre.cotton=45%", "fibre.polyester_staple=40%", W150], language="ko")
    assert rest.missing_evidence == ["나머지 섬유 조성(15 % 미보고)"]


# -- the evidence rule ---------------------------------------------------------------------------------

EVIDENCE = "ch25-ch38-aluminous-cement-refractory"


@pytest.mark.parametrize(
    ("results", "status", "missing"),
    [
        (["alumina_content=40%", "refractory_aggregate=not_detected"], "decided", []),
        (["refractory_aggregate=detected"], "decided", []),
        (["alumina_content=40%"], "undecided", ["refractory_aggregate"]),
        (["refractory_aggregate=not_detected"], "undecided", ["alumina_content"]),
        (["alumina_content=90%", "refractory_aggregate=not_detected"], "undecided", []),
        (["alumina_content=83%"], "undecided", ["refractory_aggregate"]),
    ],
)
def test_the_cement_evidence_rule_decides_only_on_conclusive_evidence(
    results: list[str], status: str, missing: list[str]
) -> None:
    outcome = evaluate("2523.30", results)
    assert (outcome.status, outcome.missing_evidence) == (status, missing)
    assert outcome.firings[0].rule.id == EVIDENCE


def test_conclusive_cement_evidence_names_both_pieces() -> None:
    firing = _fired("3816.00", ["alumina_content=40%", "refractory_aggregate=not_detected"])[EVIDENCE]
    assert firing.status == "decided" and firing.codes == ("252330",)
    assert firing.reasons[0].endswith("The evidence is conclusive: 2523.30.")
    assert "Al2O3 of 35 to 82 %" in firing.reasons[0]


def test_inconclusive_cement_evidence_names_what_is_missing() -> None:
    outcome = evaluate("2523.30", ["alumina_content=40%"])
    assert outcome.message == (
        "Undecided: these results do not yet tell apart subheading 2523.30 and heading 38.16; "
        "still needed: Refractory aggregate."
    )
    assert evaluate("2523.30", ["alumina_content=40%"], language="ko").message.endswith(
        "더 필요한 결과: 내화성 골재."
    )
    assert outcome.firings[0].to_dict()["missing_evidence"] == ["refractory_aggregate"]


def test_conflicting_cement_evidence_says_it_points_both_ways() -> None:
    firing = _fired("2523.30", ["alumina_content=90%", "refractory_aggregate=not_detected"])[EVIDENCE]
    assert firing.status == "undecided" and set(firing.codes) == {"252330", "3816"}
    assert any("The evidence conflicts (2523.30, 38.16)" in r for r in firing.reasons)


def test_the_evidence_limits_are_said_not_to_be_legal_numbers() -> None:
    rule = default_catalogue().rule(EVIDENCE)
    assert "indicative" in rule.explanation and "not legal" in rule.explanation
    assert "indicative" in rule.checked
    assert "참고값" in default_catalogue("ko").rule(EVIDENCE).explanation


# -- the data the rules read ---------------------------------------------------------------------------


def _rules() -> list[Rule]:
    catalogue = default_catalogue()
    return [catalogue.rule(i) for i in PART_RULES]


def test_every_family_rule_names_its_checked_copy_and_the_notes_it_encodes() -> None:
    for rule in _rules():
        assert rule.notes and rule.example is not None, rule.id
        # Honest provenance: a copy read on a date, or recall; never the WCO text itself.
        assert "2026-11-29" in rule.checked or "Recall" in rule.checked, rule.id
        assert "WCO legal text" not in rule.checked or "not compared with the WCO legal text" in rule.checked


def test_the_fibre_rules_share_one_fibre_table_and_know_every_material_they_name() -> None:
    predominance = default_catalogue().rule("sec11-textile-predominance")
    fibres = predominance.params["fibres"]
    materials = predominance.params["materials"]
    assert set(fibres.values()) == set(materials)
    for rule_id in FABRIC_RULES:
        p = default_catalogue().rule(rule_id).params
        assert p["fibres"] == fibres, rule_id
        named = {*p["main"], *(m for e in p.get("mixed") or [] for m in e["with"])}
        assert named <= set(materials), rule_id


def test_the_fibres_result_entry_offers_are_the_fibres_the_rules_know() -> None:
    fibres = default_catalogue().rule("sec11-textile-predominance").params["fibres"]
    offered = {m.key.removeprefix("fibre.") for m in MEASURANDS if m.key.startswith("fibre.")}
    assert offered == set(fibres)
    cotton = measurand("fibre.cotton")
    assert (
        cotton is not None
        and cotton.hs
        and (cotton.label, cotton.label_ko) == ("cotton (fibre share)", "면(혼용률)")
    )
    assert parse_result("fibre.cotton=600g/kg±5").value == 60.0


def test_every_code_the_fibre_rules_name_is_in_the_nomenclature(shared_data: Path) -> None:
    hs = load_nomenclature(shared_data / "hs")
    for rule in _rules():
        p = rule.params
        codes = set(rule.scope) | {c for b in rule.branches for c in b.codes}
        for material in (p.get("materials") or {}).values():
            codes |= set(material["woven"])
        for spec in [p.get("share"), p.get("other"), *(p.get("mixed") or [])]:
            if spec:
                codes |= {c for k in ("codes", "light", "heavy") for c in spec.get(k, [])}
        assert all(c in hs for c in codes), (rule.id, sorted(c for c in codes if c not in hs))


def test_the_fabric_weight_reads_the_units_laboratories_write() -> None:
    assert parse_result("fabric_weight=5.9oz/yd²").value == pytest.approx(200.04, abs=0.01)
    assert parse_result("fabric_weight=0.2kg/m²").value == 200.0
    assert parse_result("fabric_weight=150gsm").value == 150.0


def test_the_kinds_are_registered_with_their_reason_texts() -> None:
    assert set(kinds_fibres.EVALUATORS) == {"textile_predominance", "textile_fabric"}
    cotton = default_catalogue().rule("ch52-cotton-woven-fabrics")
    assert kinds_fibres.TEXTS["textile_fabric"](cotton.params) == [
        "main",
        "other",
        "rest",
        "mixed_man_made",
        "reading",
    ]


def test_an_alumina_content_alone_never_decides_a_refractory_composition() -> None:
    """High-alumina calcium aluminate cement grades (about 80 % Al2O3, alumina added) are 2523.30: more
    than 82 % Al2O3 supports 38.16 but decides it only with the refractory aggregate evidence."""
    rule = default_catalogue().rule(EVIDENCE)
    assert rule.params["conclusive"]["3816"] == [["refractory_aggregate"]]
    high = evaluate("2523.30", ["alumina_content=83%"])
    assert (high.status, high.missing_evidence) == ("undecided", ["refractory_aggregate"])
    assert high.message == (
        "Undecided: these results do not yet tell apart subheading 2523.30 and heading 38.16; "
        "still needed: Refractory aggregate."
    )
    assert "without deciding it" in " ".join(high.firings[0].reasons)
    found = evaluate("2523.30", ["alumina_content=83%", "refractory_aggregate=detected"])
    assert (found.status, found.determined) == ("decided", ["3816"])
