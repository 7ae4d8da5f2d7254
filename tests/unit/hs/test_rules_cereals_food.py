"""Cereals and food (rules/parts/10-cereals-food.yaml): the milling products of Chapter 11, Note 2 (starch,
ash and sieve figures of its table), and the evidence rules for rice (10.06 or 19.04), dried red pepper
(09.04 or its mixtures and preparations) and medicaments or food supplements (30.04 or 21.06)."""

from __future__ import annotations

import re

import pytest

from customslab.hs.evaluate import evaluate
from customslab.hs.measurands import measurand_key
from tests.unit.hs.rule_cases import CASE_FIELDS, status_and_codes

WHEAT_CH11 = ["110100", "110311"]
WHEAT_NOT_FLOUR = ["110311", "110320", "110419", "110429"]
MAIZE_CH11 = ["110220", "110313", "110423"]
MAIZE_NOT_FLOUR = ["110313", "110320", "110419", "110423"]
OATS_CH11 = ["110412", "110422"]
OATS_NOT_FLOUR = ["110319", "110320", "110412", "110422"]

# (declared, results, expected status, expected determined codes)
CASES = [
    # Note 2(A), wheat and rye: starch > 45 %, ash ≤ 2.5 % (dry product), otherwise 23.02
    ("1101.00", ["starch_content=60%", "ash=1.2%"], "decided", WHEAT_CH11),
    ("1101.00", ["starch_content=38%", "ash=1.2%"], "decided", ["230230"]),
    ("1101.00", ["starch_content=60%", "ash=3.1%"], "decided", ["230230"]),
    ("1101.00", ["starch_content=45%", "ash=1.2%"], "decided", ["230230"]),  # 45 % does not exceed 45 %
    ("1101.00", ["starch_content=45.1%", "ash=2.5%"], "decided", WHEAT_CH11),  # 2.5 % does not exceed it
    ("1101.00", ["starch_content=60%", "ash=2.6%"], "decided", ["230230"]),
    ("1101.00", ["starch_content=60%", "ash=25g/kg"], "decided", WHEAT_CH11),
    ("1101.00", ["starch_content=600g/kg", "ash=26g/kg"], "decided", ["230230"]),
    ("1101.00", ["starch_content=60%", "ash=2.5%±0.2"], "undecided", [*WHEAT_CH11, "230230"]),
    ("1101.00", ["starch_content=45.5%±1", "ash=1.2%"], "undecided", [*WHEAT_CH11, "230230"]),
    ("1103.11", ["starch_content=40%", "ash=1%"], "decided", ["230230"]),
    ("2302.30", ["starch_content=60%", "ash=1.2%"], "decided", WHEAT_CH11),
    ("2302.30", ["starch_content=30%", "ash=4%"], "decided", ["230230"]),
    # Maize (corn) and grain sorghum: starch > 45 %, ash ≤ 2 %
    ("1102.20", ["starch_content=70%", "ash=2%"], "decided", MAIZE_CH11),
    ("1102.20", ["starch_content=70%", "ash=2.1%"], "decided", ["230210"]),
    ("1102.20", ["starch_content=45%", "ash=1%"], "decided", ["230210"]),
    ("2302.10", ["starch_content=62%", "ash=1.1%"], "decided", MAIZE_CH11),
    ("1104.23", ["starch_content=70%", "ash=20g/kg"], "decided", MAIZE_CH11),
    ("1103.13", ["starch_content=70%", "ash=2%±0.3"], "undecided", [*MAIZE_CH11, "230210"]),
    # Oats: starch > 45 %, ash ≤ 5 %; only rolled or otherwise worked oats name the cereal
    ("1104.12", ["starch_content=55%", "ash=5%"], "decided", OATS_CH11),
    ("1104.12", ["starch_content=55%", "ash=5.1%"], "decided", ["230240"]),
    ("1104.22", ["starch_content=45%", "ash=2%"], "decided", ["230240"]),
    ("1104.22", ["starch_content=55%", "ash=50g/kg"], "decided", OATS_CH11),
    ("1104.12", ["starch_content=55%", "ash=5%±0.4"], "undecided", [*OATS_CH11, "230240"]),
    # Codes that do not name the cereal are not read; germ is always 11.04 (Note 2(A), last sentence)
    ("1102.90", ["starch_content=70%", "ash=1.8%"], "no_rule", []),
    ("1103.19", ["starch_content=30%", "ash=4%"], "no_rule", []),
    ("2302.40", ["starch_content=70%", "ash=1%"], "no_rule", []),
    ("1104.30", ["starch_content=20%", "ash=4%"], "no_rule", []),
    # Note 2(B), wheat: 80 % through 315 µm → flour of 11.01, otherwise 11.03 or 11.04
    ("1103.11", ["passing_315um=86%"], "decided", ["110100"]),
    ("1103.11", ["passing_315um=80%"], "decided", ["110100"]),
    ("1101.00", ["passing_315um=79.9%"], "decided", WHEAT_NOT_FLOUR),
    ("1101.00", ["passing_315um=800g/kg"], "decided", ["110100"]),
    ("1101.00", ["passing_315um=80%±1"], "undecided", ["110100", *WHEAT_NOT_FLOUR]),
    ("1101.00", ["passing_500um=95%"], "no_rule", []),  # maize's sieve is not wheat's
    # Note 2(B), maize: 90 % through 500 µm → 1102.20
    ("1103.13", ["passing_500um=90%"], "decided", ["110220"]),
    ("1102.20", ["passing_500um=89.9%"], "decided", MAIZE_NOT_FLOUR),
    ("1104.23", ["passing_500um=950g/kg"], "decided", ["110220"]),
    ("1102.20", ["passing_500um=90%±2"], "undecided", ["110220", *MAIZE_NOT_FLOUR]),
    ("1102.20", ["passing_315um=95%"], "no_rule", []),
    # Note 2(B), oats: 80 % through 315 µm → oat flour, a flour of 1102.90
    ("1104.12", ["passing_315um=80%"], "decided", ["110290"]),
    ("1104.22", ["passing_315um=79%"], "decided", OATS_NOT_FLOUR),
    ("1104.12", ["passing_315um=80%±0.5"], "undecided", ["110290", *OATS_NOT_FLOUR]),
    # (A) then (B): a product moved into Chapter 11 is placed by its sieve test
    ("2302.30", ["starch_content=60%", "ash=1.2%", "passing_315um=85%"], "decided", ["110100"]),
    ("2302.30", ["starch_content=60%", "ash=1.2%", "passing_315um=60%"], "decided", WHEAT_NOT_FLOUR),
    ("2302.10", ["starch_content=65%", "ash=0.9%", "passing_500um=97%"], "decided", ["110220"]),
    ("1101.00", ["starch_content=40%", "ash=1.2%", "passing_315um=95%"], "decided", ["230230"]),
    ("1104.12", ["starch_content=55%", "ash=3%", "passing_315um=92%"], "decided", ["110290"]),
]


@pytest.mark.parametrize(CASE_FIELDS, CASES)
def test_each_milling_rule_decides_on_the_right_side_of_the_table_figures(
    declared: str, results: list[str], status: str, determined: list[str]
) -> None:
    assert status_and_codes(declared, results) == (status, sorted(determined))


def test_a_residue_moved_into_chapter_11_is_placed_by_the_sieve_test_of_note_2b() -> None:
    outcome = evaluate("2302.30", ["starch_content=60%", "ash=1.2%", "passing_315um=85%"])
    assert [f.rule.id for f in outcome.firings] == ["ch11-milling-wheat", "ch11-flour-sieve-wheat"]
    assert (outcome.determined, outcome.decided, outcome.mismatch) == (["110100"], ["110100"], "chapter")


def test_an_undecided_note_2a_stops_before_the_sieve_test() -> None:
    outcome = evaluate("1101.00", ["starch_content=60%", "ash=2.5%±0.2", "passing_315um=90%"])
    assert outcome.status == "undecided"
    assert [f.rule.id for f in outcome.firings] == ["ch11-milling-wheat"]
    assert "guarded acceptance" in outcome.message


@pytest.mark.parametrize(
    ("declared", "results"),
    [
        ("1102", ["starch_content=70%", "ash=1.8%"]),  # every cereal's flour: maize's rule is not read
        ("2302", ["starch_content=70%", "ash=1.8%"]),
        ("1103", ["passing_315um=90%"]),
        ("1104", ["starch_content=30%", "ash=6%"]),
        ("11", ["passing_500um=95%"]),
        ("10", ["gelatinisation_degree=8%", "added_ingredients=not_detected"]),
        ("0904", ["added_salt=detected", "added_seasonings=detected"]),  # also pepper of the genus Piper
        ("2106", ["therapeutic_indication=detected", "daily_dose_nrv=1250%"]),
    ],
)
def test_a_declaration_wider_than_the_codes_that_name_the_goods_is_not_read(
    declared: str, results: list[str]
) -> None:
    assert status_and_codes(declared, results) == ("no_rule", [])


# Evidence rules: (declared, results, status, determined, missing evidence)
EVIDENCE_FIELDS = ("declared", "results", "status", "determined", "missing")
RICE = ["100630", "1904"]
PEPPER = ["090422", "091091", "200599", "210390"]
NOTHING_ADDED = [
    "added_salt=not_detected",
    "added_sugar=not_detected",
    "added_oil=not_detected",
    "other_spices=not_detected",
    "added_seasonings=not_detected",
]
NO_SEASONING = ["added_salt=not_detected", "added_sugar=not_detected", "added_seasonings=not_detected"]
# The parboiled evidence besides the gelatinisation: grain structure intact, nothing added, a dry grain.
PARBOILED_REST = ["grain_structure_modified=not_detected", "added_ingredients=not_detected", "moisture=12%"]
SUPPLEMENT = ["210690", "3004"]

EVIDENCE_CASES = [
    # Rice of 10.06 (raw or parboiled) or of 19.04 (pre-cooked, cooked, otherwise prepared)
    ("1006.30", ["gelatinisation_degree=8%", "added_ingredients=not_detected"], "decided", ["100630"], []),
    (
        "1006.30",
        [
            "gelatinisation_degree=85%",
            "grain_structure_modified=not_detected",
            "added_ingredients=not_detected",
            "moisture=12%",
        ],
        "decided",
        ["100630"],
        [],
    ),  # parboiled: gelatinised, but the grain structure is not considerably modified
    (
        "1006.30",
        ["gelatinisation_degree=80%", "grain_structure_modified=detected", "added_ingredients=not_detected"],
        "decided",
        ["1904"],
        [],
    ),
    ("1006.30", ["gelatinisation_degree=94%", "moisture=61%"], "decided", ["1904"], []),
    ("1006.30", ["gelatinisation_degree=94%", "moisture=610g/kg"], "decided", ["1904"], []),
    ("1006.30", ["added_ingredients=detected"], "decided", ["1904"], []),
    ("1006.30", ["gelatinisation_degree=8%"], "undecided", RICE, ["added_ingredients"]),
    (
        "1006.30",
        ["gelatinisation_degree=50%"],
        "undecided",
        RICE,
        ["grain_structure_modified", "added_ingredients", "moisture"],
    ),
    (
        "1006.30",
        ["gelatinisation_degree=20%", "added_ingredients=not_detected"],
        "undecided",
        RICE,
        ["grain_structure_modified", "moisture"],
    ),  # 20 % is not below 20 %: gelatinised, so only a parboiled rice of intact structure, dry, stays
    (
        "1006.30",
        ["gelatinisation_degree=19%±2", "added_ingredients=not_detected"],
        "undecided",
        RICE,
        ["grain_structure_modified", "moisture"],
    ),
    (
        "1006.30",
        [
            "gelatinisation_degree=19%±2",
            "added_ingredients=not_detected",
            "grain_structure_modified=not_detected",
            "moisture=12%",
        ],
        "undecided",
        RICE,
        [],
    ),  # raw or parboiled by the gelatinisation straddling 20 %: the rule does not say which
    (
        "1006.30",
        ["gelatinisation_degree=20%", *PARBOILED_REST],
        "decided",
        ["100630"],
        [],
    ),  # gelatinisation at 20 %, the lower limit of the parboiled evidence
    (
        "1006.30",
        ["gelatinisation_degree=85%", *PARBOILED_REST[:2], "moisture=29.9%"],
        "decided",
        ["100630"],
        [],
    ),
    (
        "1006.30",
        ["gelatinisation_degree=85%", *PARBOILED_REST[:2], "moisture=30%±1"],
        "undecided",
        RICE,
        [],
    ),  # the moisture straddles 30 %
    (
        "1006.40",
        ["gelatinisation_degree=85%", *PARBOILED_REST[:2], "moisture=120g/kg"],
        "decided",
        ["100640"],
        [],
    ),
    # Review finding: cooked rice not dried again, its grains reported unmodified and nothing added, was
    # taken for raw rice of 10.06 on the grain structure alone. 10.06 needs the gelatinisation, and a high
    # moisture counts against it.
    (
        "1006.30",
        ["grain_structure_modified=not_detected", "added_ingredients=not_detected", "moisture=60%"],
        "undecided",
        RICE,
        ["gelatinisation_degree"],
    ),
    (
        "1006.30",
        ["grain_structure_modified=not_detected", "added_ingredients=not_detected", "moisture=12%"],
        "undecided",
        RICE,
        ["gelatinisation_degree"],
    ),  # the grain structure and nothing added no longer decide 10.06 without the gelatinisation
    (
        "1006.30",
        [
            "gelatinisation_degree=92%",
            "grain_structure_modified=not_detected",
            *PARBOILED_REST[1:2],
            "moisture=60%",
        ],
        "decided",
        ["1904"],
        [],
    ),  # cooked and wet, whatever the structure is reported to be
    (
        "1006.30",
        ["gelatinisation_degree=8%", "added_ingredients=not_detected", "moisture=60%"],
        "undecided",
        RICE,
        [],
    ),  # conflicting: native starch, yet as wet as cooked rice
    ("1904.90", ["gelatinisation_degree=94%", "moisture=61%"], "no_rule", [], []),
    # Dried red pepper (고춧가루) of 09.04, or a spice mixture (09.10), seasoning (21.03), preparation (20.05)
    ("0904.22", [*NOTHING_ADDED, "moisture=11%"], "decided", ["090422"], []),
    ("0904.22", [*NOTHING_ADDED, "moisture=15%"], "decided", ["090422"], []),
    ("0904.21", [*NOTHING_ADDED, "moisture=110g/kg"], "decided", ["090421"], []),
    ("0904.22", [*NOTHING_ADDED, "moisture=15.1%"], "undecided", PEPPER, ["heat_treatment_marker"]),
    ("0904.22", [*NOTHING_ADDED, "moisture=15%±1"], "undecided", PEPPER, ["heat_treatment_marker"]),
    (
        "0904.22",
        [
            "added_salt=detected",
            "added_sugar=not_detected",
            "added_seasonings=detected",
            "seasoning_share=62%",
        ],
        "decided",
        ["210390"],
        [],
    ),
    # Review finding: salt and sugar detected were taken for a seasoning of 21.03. Whether the mixture keeps
    # the essential character of the spice (Chapter 9, Note 1) needs the seasonings' share or cooking.
    ("0904.22", ["added_salt=detected", "added_sugar=detected"], "undecided", PEPPER, ["seasoning_share"]),
    (
        "0904.22",
        ["added_salt=detected", "added_sugar=not_detected", "added_seasonings=detected", "moisture=9%"],
        "undecided",
        PEPPER,
        ["seasoning_share"],
    ),
    (
        "0904.22",
        ["added_salt=detected", "added_sugar=detected", "seasoning_share=50%"],
        "decided",
        ["210390"],
        [],
    ),
    (
        "0904.22",
        ["added_salt=detected", "added_sugar=detected", "seasoning_share=500g/kg"],
        "decided",
        ["210390"],
        [],
    ),
    (
        "0904.22",
        ["added_salt=detected", "added_sugar=detected", "seasoning_share=49%"],
        "undecided",
        PEPPER,
        ["added_seasonings", "heat_treatment_marker"],
    ),
    (
        "0904.22",
        ["added_salt=detected", "added_sugar=detected", "seasoning_share=50%±2"],
        "undecided",
        PEPPER,
        ["added_seasonings"],  # the share straddles 50 %; another route to 21.03 is still open
    ),
    (
        "0904.22",
        ["added_seasonings=detected", "seasoning_share=70%"],
        "undecided",
        PEPPER,
        ["added_salt"],
    ),  # one kind of seasoning: not yet a mixed seasoning
    (
        "0904.22",
        ["heat_treatment_marker=detected", "added_salt=detected", "added_seasonings=detected"],
        "decided",
        ["210390"],
        [],
    ),  # cooked with salt and garlic: a seasoning or sauce, not a prepared vegetable
    (
        "0904.22",
        ["heat_treatment_marker=not_detected", "added_salt=detected", "added_seasonings=detected"],
        "undecided",
        PEPPER,
        ["seasoning_share"],
    ),
    ("0904.22", ["other_spices=detected", *NO_SEASONING], "decided", ["091091"], []),
    ("0904.21", ["heat_treatment_marker=detected", *NO_SEASONING], "decided", ["200599"], []),
    ("0904.21", ["added_oil=detected", *NO_SEASONING], "decided", ["200599"], []),
    ("0904.22", ["added_salt=detected"], "undecided", PEPPER, ["added_seasonings", "seasoning_share"]),
    (
        "0904.22",
        ["heat_treatment_marker=detected"],
        "undecided",
        PEPPER,
        ["added_salt", "added_sugar", "added_oil", "other_spices", "added_seasonings", "moisture"],
    ),
    ("0904.22", [*NOTHING_ADDED, "moisture=11%", "heat_treatment_marker=detected"], "undecided", PEPPER, []),
    ("0904.22", ["other_spices=detected", "added_oil=detected", *NO_SEASONING], "undecided", PEPPER, []),
    ("0904.11", [*NOTHING_ADDED, "moisture=11%"], "no_rule", [], []),  # pepper of the genus Piper
    ("2103.90", ["added_salt=detected", "added_seasonings=detected"], "no_rule", [], []),
    # Medicament of 30.04 or food supplement of 21.06
    ("2106.90", ["therapeutic_indication=detected", "daily_dose_nrv=1250%"], "decided", ["3004"], []),
    ("2106.90", ["therapeutic_indication=detected", "daily_dose_nrv=300%"], "decided", ["3004"], []),
    ("2106.90", ["therapeutic_indication=detected", "daily_dose_therapeutic=100%"], "decided", ["3004"], []),
    ("2106.90", ["therapeutic_indication=not_detected", "daily_dose_nrv=150%"], "decided", ["210690"], []),
    ("3004.50", ["therapeutic_indication=not_detected", "daily_dose_nrv=150%"], "decided", ["210690"], []),
    (
        "3004.90",
        ["therapeutic_indication=not_detected", "daily_dose_therapeutic=40%"],
        "decided",
        ["210690"],
        [],
    ),
    (
        "2106.90",
        ["therapeutic_indication=detected", "daily_dose_nrv=299%"],
        "undecided",
        SUPPLEMENT,
        ["daily_dose_therapeutic"],
    ),
    (
        "2106.90",
        ["therapeutic_indication=not_detected", "daily_dose_nrv=300%"],
        "undecided",
        SUPPLEMENT,
        ["daily_dose_therapeutic"],
    ),
    (
        "2106.90",
        ["daily_dose_nrv=1250%"],
        "undecided",
        SUPPLEMENT,
        ["therapeutic_indication", "daily_dose_therapeutic"],
    ),  # without the indication on the packing the rule stays undecided
    # The NRV reading straddles 300 %: the other route (the therapeutic dose) is what would settle it.
    (
        "2106.90",
        ["therapeutic_indication=detected", "daily_dose_nrv=300%±20"],
        "undecided",
        SUPPLEMENT,
        ["daily_dose_therapeutic"],
    ),
    (
        "2106.90",
        ["therapeutic_indication=not_detected", "daily_dose_therapeutic=120%"],
        "undecided",
        SUPPLEMENT,
        [],
    ),  # conflicting: a therapeutic dose sold without an indication (an adulterated supplement)
    ("2106.10", ["therapeutic_indication=detected", "daily_dose_nrv=1250%"], "no_rule", [], []),
    ("3003.90", ["therapeutic_indication=not_detected", "daily_dose_nrv=150%"], "no_rule", [], []),
]


@pytest.mark.parametrize(EVIDENCE_FIELDS, EVIDENCE_CASES)
def test_each_evidence_rule_decides_only_on_conclusive_evidence_and_names_what_is_missing(
    declared: str, results: list[str], status: str, determined: list[str], missing: list[str]
) -> None:
    outcome = evaluate(declared, results)
    assert (outcome.status, sorted(outcome.determined)) == (status, sorted(determined))
    assert outcome.missing_evidence == missing
    assert outcome.to_dict()["missing_evidence"] == missing


@pytest.mark.parametrize(
    ("declared", "results", "rule_id", "why"),
    [
        ("1006.30", ["gelatinisation_degree=8%"], "ch10-rice-raw-or-prepared", "still needed"),
        (
            "1006.30",
            ["gelatinisation_degree=8%", "added_ingredients=not_detected", "moisture=60%"],
            "ch10-rice-raw-or-prepared",
            "supports more than one heading (10.06, 19.04)",
        ),
        (
            "1006.30",
            ["grain_structure_modified=not_detected", "added_ingredients=not_detected", "moisture=60%"],
            "ch10-rice-raw-or-prepared",
            "still needed — 10.06: gelatinisation_degree; 19.04: gelatinisation_degree",
        ),
        (
            "0904.22",
            ["added_salt=detected", "added_sugar=detected"],
            "ch09-capsicum-or-preparation",
            "still needed — 2103.90: seasoning_share",
        ),
        ("0904.22", ["added_salt=detected"], "ch09-capsicum-or-preparation", "still needed"),
        (
            "0904.22",
            [*NOTHING_ADDED, "moisture=11%", "heat_treatment_marker=detected"],
            "ch09-capsicum-or-preparation",
            "supports more than one heading (09.04, 2005.99)",
        ),
        (
            "2106.90",
            ["therapeutic_indication=not_detected", "daily_dose_therapeutic=120%"],
            "ch30-medicament-or-food-supplement",
            "supports both a medicament and a food supplement (30.04, 2106.90)",
        ),
    ],
)
def test_an_undecided_evidence_rule_says_whether_evidence_is_missing_or_conflicting(
    declared: str, results: list[str], rule_id: str, why: str
) -> None:
    outcome = evaluate(declared, results)
    (firing,) = outcome.firings
    assert (firing.rule.id, firing.status) == (rule_id, "undecided")
    assert why in " ".join(firing.reasons)


def test_rice_that_stays_in_10_06_is_decided_at_heading_level_only() -> None:
    outcome = evaluate("1006.30", ["gelatinisation_degree=8%", "added_ingredients=not_detected"])
    assert (outcome.determined, outcome.decided, outcome.level) == (["100630"], ["1006"], "heading")
    assert outcome.message == (
        "Declared 1006.30 agrees at heading 10.06; subheading not determined by these results."
    )


def test_parboiled_rice_is_named_by_the_subheadings_of_rice_and_decided_at_the_heading() -> None:
    outcome = evaluate("1006.30", ["gelatinisation_degree=85%", *PARBOILED_REST])
    (firing,) = outcome.firings
    assert firing.reasons[-1].endswith(
        "The evidence is conclusive for 1006.10 / 1006.20 / 1006.30 / 1006.40."
    )
    assert (outcome.determined, outcome.decided, outcome.level) == (["100630"], ["1006"], "heading")


def test_missing_evidence_is_named_in_the_verdict() -> None:
    outcome = evaluate("2106.90", ["daily_dose_nrv=1250%"])
    assert outcome.message.startswith("Undecided: these results do not yet tell apart heading 30.04")
    assert "still needed" in outcome.message


def test_the_evidence_rules_give_their_reasons_in_korean() -> None:
    outcome = evaluate("0904.22", ["added_salt=detected"], language="ko")
    reasons = " ".join(outcome.firings[0].reasons)
    assert "추가로 필요한 증거" in reasons and re.search(r"[\uac00-\ud7a3]", outcome.firings[0].rule.title)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("소금 첨가", "added_salt"),
        ("첨가 식염", "added_salt"),
        ("설탕 첨가", "added_sugar"),
        ("마늘·양파 첨가", "added_seasonings"),
        ("다른 향신료 혼합", "other_spices"),
        ("가열 조리 흔적", "heat_treatment_marker"),
        ("양념 비율", "seasoning_share"),
        ("seasoning share", "seasoning_share"),
        ("315 µm 체 통과율", "passing_315um"),
        ("500 µm 통과율", "passing_500um"),
        ("낟알 구조 변형", "grain_structure_modified"),
        ("%NRV", "daily_dose_nrv"),
        ("효능·효과 표시", "therapeutic_indication"),
    ],
)
def test_the_new_quantities_are_found_by_their_korean_and_usual_names(typed: str, key: str) -> None:
    assert measurand_key(typed) == key
