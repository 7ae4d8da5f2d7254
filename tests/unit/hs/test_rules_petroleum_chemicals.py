"""The petroleum and chemicals rules (rules/parts/30-petroleum-chemicals.yaml): biodiesel blends with the
70 % petroleum oil rule of catalogue.yaml, aromatic oils, surface-active agents, synthetic rubber and the
activated carbon evidence rule. Both sides of each limit and exactly at it, uncertainty spanning it,
converted units, the goods each rule leaves alone, and the evidence rule's conclusive, inconclusive and
conflicting answers."""

from __future__ import annotations

import re

import pytest

from customslab.hs import rules as rules_module
from customslab.hs.evaluate import evaluate
from customslab.hs.measurands import measurand, measurand_key
from customslab.hs.quantities import QUANTITIES
from customslab.hs.rules import Catalogue, load_catalogue, translate_catalogue
from tests.unit.hs.rule_cases import CASE_FIELDS, status_and_codes

FAMILY = "30-petroleum-chemicals"
RULE_IDS = [
    "ch27-biodiesel-2710-20",
    "ch38-biodiesel-3826",
    "ch38-biodiesel-not-3824",
    "ch27-aromatic-2707",
    "ch27-aromatic-coal-tar",
    "ch27-coal-tar-origin",
    "ch34-surface-active-agents",
    "ch40-synthetic-rubber",
    "ch40-thioplasts",
    "ch38-activated-carbon",
]

# (declared, results, expected status, expected determined codes)
CASES = [
    # Biodiesel within 27.10 (Subheading Note 5), after the 70 % rule of catalogue.yaml
    ("2710.19", ["biodiesel_content=7%", "petroleum_oil_content=93%"], "decided", ["271020"]),
    ("2710.19", ["biodiesel_content=7%"], "decided", ["271020"]),
    ("2710.19", ["biodiesel_content=70g/kg"], "decided", ["271020"]),
    ("2710.12", ["biodiesel_content=0.1%"], "decided", ["271020"]),
    ("2710.19", ["biodiesel_content=30%"], "decided", ["271020"]),
    ("2710.19", ["biodiesel_content=30.1%"], "decided", ["3403", "3826"]),
    ("2710.20", ["biodiesel_content=0%"], "decided", ["271012", "271019"]),
    ("2710.20", ["biodiesel_content=0%", "distilled_210=93%vol"], "decided", ["271012"]),
    ("2710.20", ["biodiesel_content=5%", "petroleum_oil_content=70%"], "decided", ["271020"]),
    ("2710", ["biodiesel_content=5%", "petroleum_oil_content=95%"], "decided", ["271020"]),
    ("2710.19", ["biodiesel_content=0.02%±0.05"], "undecided", ["271019", "271020"]),
    # A trace at or below 0.05 % (the lower end of EN 14078): 2710.20 stays open (the rule's policy)
    ("2710.19", ["biodiesel_content=0.05%"], "decided", ["271019", "271020"]),
    ("2710.19", ["biodiesel_content=0.5g/kg"], "decided", ["271019", "271020"]),
    ("2710.19", ["biodiesel_content=0.01%"], "decided", ["271019", "271020"]),
    ("2710.20", ["biodiesel_content=0.03%"], "decided", ["271012", "271019", "271020"]),
    ("2710.19", ["biodiesel_content=0.06%"], "decided", ["271020"]),
    ("2710.19", ["biodiesel_content=0.05%±0.02"], "undecided", ["271019", "271020"]),
    ("2710.19", ["biodiesel_content=30%±1"], "undecided", ["271020", "3403", "3826"]),
    ("2710.91", ["biodiesel_content=5%"], "no_rule", []),  # waste oils: outside the rule
    # Below 70 % petroleum oils a blend with biodiesel is 38.26 (34.03 stays open: function)
    ("2710.19", ["biodiesel_content=45%", "petroleum_oil_content=55%"], "decided", ["3403", "3824", "3826"]),
    ("2710.19", ["biodiesel_content=60%", "petroleum_oil_content=40%"], "decided", ["3403", "3826"]),
    ("2710.19", ["biodiesel_content=45%"], "decided", ["3403", "3826"]),
    ("2710.20", ["biodiesel_content=5%", "petroleum_oil_content=60%"], "decided", ["3826"]),
    # Heading 38.26 needs biodiesel and less than 70 % petroleum oils
    ("3826.00", ["biodiesel_content=100%"], "decided", ["382600"]),
    ("3826.00", ["biodiesel_content=100%", "petroleum_oil_content=0%"], "decided", ["382600"]),
    ("3826.00", ["biodiesel_content=20%", "petroleum_oil_content=69.9%"], "decided", ["382600"]),
    ("3826.00", ["biodiesel_content=7%", "petroleum_oil_content=93%"], "decided", ["271020"]),
    ("3826.00", ["biodiesel_content=7%"], "undecided", ["271020", "382600"]),
    ("3826.00", ["biodiesel_content=0%", "petroleum_oil_content=40%"], "decided", ["3403", "3824"]),
    ("3826.00", ["biodiesel_content=0%", "petroleum_oil_content=95%"], "decided", ["271012", "271019"]),
    ("3826.00", ["biodiesel_content=0%"], "undecided", ["271012", "271019", "3403", "3824"]),
    # 38.24 yields to 38.26 only when biodiesel predominates (> 50 %, the rule's own limit); other
    # headings keep their goods
    ("3824.99", ["biodiesel_content=80%"], "decided", ["3826"]),
    ("3824.99", ["biodiesel_content=50.1%"], "decided", ["3826"]),
    ("3824.99", ["biodiesel_content=501g/kg"], "decided", ["3826"]),
    ("3824.99", ["biodiesel_content=50%"], "decided", ["382499", "3826"]),
    ("3824.99", ["biodiesel_content=45%"], "decided", ["382499", "3826"]),
    ("3824.99", ["biodiesel_content=50%±1"], "undecided", ["382499", "3826"]),
    ("3824.99", ["biodiesel_content=10%", "petroleum_oil_content=50%"], "decided", ["382499", "3826"]),
    ("3824.99", ["biodiesel_content=5%", "petroleum_oil_content=0%"], "decided", ["382499", "3826"]),
    ("3824.99", ["biodiesel_content=10%"], "undecided", ["271020", "382499", "3826"]),
    ("3824.99", ["biodiesel_content=0%"], "decided", ["382499"]),
    ("3403.19", ["biodiesel_content=10%", "petroleum_oil_content=50%"], "decided", ["340319"]),
    ("3811.21", ["biodiesel_content=10%", "petroleum_oil_content=50%"], "decided", ["381121"]),
    # 27.07 or 27.10 at 50 % aromatic constituents by weight (Chapter 27 Note 2). A 27.10 declaration:
    # the origin (crude petroleum) is not measured, so 27.07 stays open at 50 % or more, beside the
    # subheading declared or decided before.
    ("2710.19", ["aromatic_content=72%"], "decided", ["2707", "271019"]),
    ("2710.19", ["aromatic_content=50.1%"], "decided", ["2707", "271019"]),
    ("2710.19", ["aromatic_content=49.9%"], "decided", ["271019"]),
    ("2710.20", ["aromatic_content=72%"], "decided", ["2707", "271020"]),
    ("2710", ["aromatic_content=72%"], "decided", ["2707", "2710"]),
    ("2710.19", ["aromatic_content=49.5%±1"], "undecided", ["2707", "271019"]),
    # Exactly 50 %: neither proviso is met, so only a coal tar product could be 27.07: the origin decides
    ("2710.19", ["aromatic_content=50%"], "undecided", ["2707", "271019"]),
    ("2710.19", ["aromatic_content=50%", "coal_tar_origin=not_detected"], "decided", ["271019"]),
    ("2710.19", ["aromatic_content=50%", "coal_tar_origin=detected"], "decided", ["2707"]),
    # A 27.07 declaration: more than 50 % stands; at 50 % or less the origin decides
    ("2707.99", ["aromatic_content=85%"], "decided", ["270799"]),
    ("2707.99", ["aromatic_content=85%", "coal_tar_origin=not_detected"], "decided", ["270799"]),
    ("2707.99", ["aromatic_content=50%"], "undecided", ["2710", "270799"]),
    ("2707.99", ["aromatic_content=50%", "coal_tar_origin=not_detected"], "decided", ["2710"]),
    ("2707.99", ["aromatic_content=30%"], "undecided", ["2710", "270799"]),
    ("2707.99", ["aromatic_content=30%", "coal_tar_origin=detected"], "decided", ["270799"]),
    ("2707.99", ["aromatic_content=30%", "coal_tar_origin=not_detected"], "decided", ["2710"]),
    ("2707.50", ["aromatic_content=300g/kg", "coal_tar_origin=absent"], "decided", ["2710"]),
    ("2707.99", ["aromatic_content=50.5%±1"], "undecided", ["2710", "270799"]),
    ("2707.99", ["aromatic_content=49.5%±1", "coal_tar_origin=detected"], "decided", ["270799"]),
    (
        "2707.99",
        ["aromatic_content=49.5%±1", "coal_tar_origin=not_detected"],
        "undecided",
        ["2710", "270799"],
    ),
    # Products of high temperature coal tar are 27.07 by origin, also when declared in 27.10
    ("2710.19", ["coal_tar_origin=detected"], "decided", ["2707"]),
    ("2710.19", ["coal_tar_origin=detected", "aromatic_content=30%"], "decided", ["2707"]),
    ("2707.99", ["coal_tar_origin=detected"], "decided", ["270799"]),
    ("2710.19", ["coal_tar_origin=not_detected"], "decided", ["271019"]),
    ("2710.91", ["aromatic_content=70%"], "no_rule", []),
    ("2710.91", ["coal_tar_origin=detected"], "no_rule", []),
    # Chapter 34 Note 3: 0.5 % in water at 20 °C, one hour; (a) no insoluble matter, (b) ≤ 45 mN/m
    ("3402.42", ["surface_tension=45mN/m", "insoluble_separation=not_detected"], "decided", ["340242"]),
    ("3402.39", ["surface_tension=32mN/m", "insoluble_separation=absent"], "decided", ["340239"]),
    ("3402.42", ["surface_tension=0.045N/m", "insoluble_separation=not_detected"], "decided", ["340242"]),
    (
        "3402.42",
        ["surface_tension=45.1mN/m", "insoluble_separation=not_detected"],
        "decided",
        ["29", "3404", "38", "39"],
    ),
    (
        "3402.41",
        ["surface_tension=46dyn/cm", "insoluble_separation=not_detected"],
        "decided",
        ["29", "3404", "38", "39"],
    ),
    ("3402.42", ["surface_tension=52mN/m"], "decided", ["29", "3404", "38", "39"]),
    ("3402.31", ["surface_tension=50mN/m"], "decided", ["29", "3404", "38", "39"]),
    (
        "3402.42",
        ["surface_tension=38mN/m", "insoluble_separation=detected"],
        "decided",
        ["29", "3404", "38", "39"],
    ),
    ("3402.42", ["surface_tension=38mN/m"], "undecided", ["29", "340242", "3404", "38", "39"]),
    (
        "3402.42",
        ["surface_tension=45mN/m±1", "insoluble_separation=not_detected"],
        "undecided",
        ["29", "340242", "3404", "38", "39"],
    ),
    ("3907.29", ["surface_tension=30mN/m", "insoluble_separation=not_detected"], "decided", ["340242"]),
    ("3907.29", ["surface_tension=60mN/m"], "decided", ["390729"]),
    ("3402.90", ["surface_tension=52mN/m"], "no_rule", []),  # preparations: not defined by the test
    ("3402.50", ["surface_tension=52mN/m"], "no_rule", []),
    ("3402", ["surface_tension=52mN/m"], "no_rule", []),  # the whole heading is not read
    ("3401.11", ["surface_tension=52mN/m"], "no_rule", []),  # soap
    ("3824.99", ["surface_tension=30mN/m", "insoluble_separation=not_detected"], "no_rule", []),
    # Chapter 40 Note 4(a): no break at three times the length (> 200 %), back to ≤ 1.5 times
    ("4002.19", ["rubber_elongation_at_break=450%", "rubber_recovered_length=1.1"], "decided", ["400219"]),
    ("4002.19", ["rubber_elongation_at_break=201%", "rubber_recovered_length=1.5"], "decided", ["400219"]),
    ("4002.19", ["rubber_elongation_at_break=200%", "rubber_recovered_length=1.1"], "decided", ["39"]),
    ("4002.19", ["rubber_elongation_at_break=450%", "rubber_recovered_length=1.51"], "decided", ["39"]),
    ("4002.59", ["rubber_elongation_at_break=150%"], "decided", ["39"]),
    ("4002.19", ["rubber_elongation_at_break=450%"], "undecided", ["39", "400219"]),
    (
        "4002.19",
        ["rubber_elongation_at_break=200%±10", "rubber_recovered_length=1.1"],
        "undecided",
        ["39", "400219"],
    ),
    (
        "4002.19",
        ["rubber_elongation_at_break=450%", "rubber_recovered_length=1.5±0.1"],
        "undecided",
        ["39", "400219"],
    ),
    ("3901.40", ["rubber_elongation_at_break=600%", "rubber_recovered_length=1.2"], "decided", ["4002"]),
    ("3901.40", ["rubber_elongation_at_break=100%"], "decided", ["390140"]),
    (
        "4002.19",
        ["rubber_elongation_at_break=150%", "monomer.styrene=60%", "monomer.butene=40%"],
        "decided",
        ["390320", "390330", "390390"],
    ),
    ("4002.80", ["rubber_elongation_at_break=100%"], "no_rule", []),  # mixtures with natural rubber
    ("4001.22", ["rubber_elongation_at_break=100%"], "no_rule", []),  # natural rubber: not tested
    ("3920.10", ["rubber_elongation_at_break=600%"], "no_rule", []),  # film: not a primary form
    # Chapter 40 Note 4(b): thioplasts are synthetic rubber without the test
    ("4002.99", ["thioplast=detected", "rubber_elongation_at_break=150%"], "decided", ["400299"]),
    ("4002.99", ["thioplast=not_detected", "rubber_elongation_at_break=150%"], "decided", ["39"]),
    ("4002.99", ["thioplast=not_detected"], "decided", ["400299"]),
    ("3911.90", ["thioplast=detected"], "decided", ["400299"]),
]


@pytest.mark.parametrize(CASE_FIELDS, CASES)
def test_each_rule_decides_on_the_right_side_of_its_limit(
    declared: str, results: list[str], status: str, determined: list[str]
) -> None:
    assert status_and_codes(declared, results) == (status, sorted(determined))


@pytest.mark.parametrize(
    ("declared", "results", "decided"),
    [
        # Where the declaration stands, the decided code shows that a branch (not silence) kept it.
        ("3402.42", ["surface_tension=45mN/m", "insoluble_separation=not_detected"], ["3402"]),
        ("3907.29", ["surface_tension=45.1mN/m"], [""]),  # Chapters 29, 38, 39 or 34.04: no level decided
        ("4002.19", ["rubber_elongation_at_break=201%", "rubber_recovered_length=1.5"], ["4002"]),
        ("3901.40", ["rubber_elongation_at_break=200%"], ["39"]),
        ("2710.19", ["aromatic_content=49.9%"], ["2710"]),
        ("2707.99", ["aromatic_content=50.1%"], ["2707"]),
        ("2707.99", ["aromatic_content=30%", "coal_tar_origin=detected"], ["2707"]),
        ("2710.19", ["aromatic_content=50%", "coal_tar_origin=not_detected"], ["2710"]),
        ("3826.00", ["biodiesel_content=30.1%"], ["3826"]),
        ("3826.00", ["biodiesel_content=20%", "petroleum_oil_content=69.9%"], ["3826"]),
        ("2710.20", ["biodiesel_content=0.1%", "petroleum_oil_content=70%"], ["271020"]),
        ("2710.19", ["biodiesel_content=0%"], ["2710"]),  # 2710.12 or 2710.19: the heading only
        ("4002.99", ["thioplast=detected"], ["400299"]),
        ("3802.10", ["iodine_number=300mg/g", "bet_surface_area=500m²/g"], ["380210"]),
        ("4402.20", ["iodine_number=299mg/g", "bet_surface_area=299m²/g"], ["4402"]),
    ],
)
def test_a_declaration_that_stands_at_a_limit_is_decided_by_the_rule(
    declared: str, results: list[str], decided: list[str]
) -> None:
    outcome = evaluate(declared, results)
    assert (outcome.status, outcome.mismatch, outcome.decided) == ("decided", "none", decided)


@pytest.mark.parametrize(
    ("declared", "results", "status", "determined", "missing"),
    [
        # Conclusive: high iodine number with a high surface area, or with evidence of activation.
        ("4402.20", ["iodine_number=950mg/g", "bet_surface_area=1050m²/g"], "decided", ["380210"], []),
        ("4402.20", ["iodine_number=0.95g/g", "activation_evidence=detected"], "decided", ["380210"], []),
        ("4402.90", ["iodine_number=300mg/g", "bet_surface_area=500m²/g"], "decided", ["380210"], []),
        ("3802", ["iodine_number=850mg/g", "bet_surface_area=900m²/g"], "decided", ["380210"], []),
        # Conclusive for charcoal: low iodine number with a low surface area or no activation.
        ("3802.10", ["iodine_number=150mg/g", "bet_surface_area=120m²/g"], "decided", ["4402"], []),
        ("3802.10", ["iodine_number=299mg/g", "bet_surface_area=299m²/g"], "decided", ["4402"], []),
        ("3802.10", ["iodine_number=150mg/g", "activation_evidence=not_detected"], "decided", ["4402"], []),
        ("4402.20", ["iodine_number=150mg/g", "bet_surface_area=120m²/g"], "decided", ["440220"], []),
        # Inconclusive: the nearest set still lacks an input, which is named.
        ("3802.10", ["iodine_number=850mg/g"], "undecided", ["380210", "4402"], ["bet_surface_area"]),
        (
            "4402.90",
            ["activation_evidence=detected"],
            "undecided",
            ["380210", "440290"],
            ["iodine_number", "bet_surface_area"],
        ),
        # A surface area between 300 and 500 m²/g supports neither candidate.
        (
            "3802.10",
            ["iodine_number=850mg/g", "bet_surface_area=400m²/g"],
            "undecided",
            ["380210", "4402"],
            ["activation_evidence"],
        ),
        # An iodine number whose interval spans 300 mg/g supports nothing.
        (
            "3802.10",
            ["iodine_number=300mg/g±20", "bet_surface_area=900m²/g"],
            "undecided",
            ["380210", "4402"],
            ["activation_evidence"],
        ),
        # Conflicting: measured evidence for both candidates; nothing is missing, the rule does not decide.
        (
            "3802.10",
            ["iodine_number=850mg/g", "bet_surface_area=250m²/g"],
            "undecided",
            ["380210", "4402"],
            [],
        ),
        (
            "4402.20",
            ["iodine_number=150mg/g", "activation_evidence=detected"],
            "undecided",
            ["380210", "440220"],
            [],
        ),
        # Outside the rule: other goods of 38.02 (activated earths, animal black).
        ("3802.90", ["iodine_number=850mg/g", "bet_surface_area=900m²/g"], "no_rule", [], []),
    ],
)
def test_activated_carbon_is_decided_only_on_conclusive_evidence(
    declared: str, results: list[str], status: str, determined: list[str], missing: list[str]
) -> None:
    outcome = evaluate(declared, results)
    assert (outcome.status, sorted(outcome.determined), outcome.missing_evidence) == (
        status,
        sorted(determined),
        missing,
    )
    assert outcome.to_dict()["missing_evidence"] == missing


def test_the_evidence_verdicts_name_what_is_missing_and_the_conflict() -> None:
    missing = evaluate("3802.10", ["iodine_number=850mg/g"])
    assert missing.message == (
        "Undecided: these results do not yet tell apart subheading 3802.10 and heading 44.02; "
        "still needed: BET specific surface area."
    )
    reasons = " ".join(missing.firings[0].reasons)
    assert "Iodine number 300 mg/g or more" in reasons
    assert "still needed: 3802.10: bet_surface_area" in reasons
    conflict = evaluate("3802.10", ["iodine_number=850mg/g", "bet_surface_area=250m²/g"])
    assert "points to more than one heading" in " ".join(conflict.firings[0].reasons)
    conclusive = evaluate("4402.20", ["iodine_number=950mg/g", "bet_surface_area=1050m²/g"])
    assert conclusive.firings[0].reasons[-1].endswith("The evidence is conclusive for 3802.10.")
    assert conclusive.mismatch == "chapter" and conclusive.decided == ["380210"]


def test_a_biodiesel_blend_chains_through_the_70_percent_rule() -> None:
    """The 70 % rule of catalogue.yaml fires first; the biodiesel rules read what it leaves."""
    b7 = evaluate("2710.19", ["biodiesel_content=7%", "petroleum_oil_content=93%"])
    assert [f.rule.id for f in b7.firings] == ["ch27-petroleum-preparations-70", "ch27-biodiesel-2710-20"]
    assert (b7.determined, b7.decided, b7.mismatch) == (["271020"], ["271020"], "subheading")
    assert b7.message == "Declared 2710.19 ≠ determined subheading 2710.20 (differs at subheading level)."
    b45 = evaluate("2710.19", ["biodiesel_content=45%", "petroleum_oil_content=55%"])
    assert [f.rule.id for f in b45.firings] == [
        "ch27-petroleum-preparations-70",
        "ch38-biodiesel-3826",
        "ch38-biodiesel-not-3824",
    ]
    assert b45.message == (
        "Declared 2710.19 ≠ determined heading 34.03, heading 38.26 or heading 38.24 "
        "(differs at chapter level)."
    )


def test_each_verdict_names_the_level_the_rules_decided() -> None:
    fame = evaluate("3826.00", ["biodiesel_content=100%"])
    assert (fame.level, fame.open_levels) == ("heading", ["subheading"])
    assert (
        fame.message
        == "Declared 3826.00 agrees at heading 38.26; subheading not determined by these results."
    )
    aromatic = evaluate("2710.19", ["aromatic_content=72%"])
    assert aromatic.message == (
        "Declared 2710.19 agrees at chapter 27; heading and subheading not determined by these results. "
        "The rules leave open heading 27.07."
    )
    assert (aromatic.determined, aromatic.decided) == (["271019", "2707"], ["2710", "2707"])
    rubber = evaluate("4002.19", ["rubber_elongation_at_break=450%", "rubber_recovered_length=1.1"])
    assert (rubber.decided, rubber.level) == (["4002"], "heading")
    # An agent stands at heading level only: the test does not tell anionic from non-ionic agents.
    agent = evaluate("3402.42", ["surface_tension=38mN/m", "insoluble_separation=not_detected"])
    assert (agent.decided, agent.level, agent.open_levels) == (["3402"], "heading", ["subheading"])
    plastics = evaluate("3402.42", ["surface_tension=52mN/m"])
    assert plastics.message == (
        "Declared 3402.42 ≠ determined chapter 29, heading 34.04, chapter 38 or chapter 39 "
        "(differs at heading level)."
    )


def test_an_unmeasured_second_condition_leaves_the_rule_open_and_says_so() -> None:
    outcome = evaluate("3402.42", ["surface_tension=38mN/m"])
    conditions = outcome.to_dict()["rules"][0]["conditions"]
    unmeasured = [c for c in conditions if c["condition"].startswith("insoluble_separation")]
    assert unmeasured and all(c["result"] == "not measured" and c["value"] is None for c in unmeasured)
    assert outcome.missing_evidence == ["insoluble_separation"]
    assert outcome.message == (
        "Undecided: these results do not yet tell apart heading 34.02, chapter 29, heading 34.04, chapter 38 "
        "and chapter 39; still needed: Separation of insoluble matter (0.5 % in water, 1 h)."
    )


def _family_only(monkeypatch: pytest.MonkeyPatch) -> tuple[Catalogue, Catalogue]:
    """catalogue.yaml with this family only, in English and Korean (other families are tested apart)."""
    real = rules_module._parts
    monkeypatch.setattr(
        rules_module, "_parts", lambda language: [(n, p) for n, p in real(language) if n.startswith(FAMILY)]
    )
    english = load_catalogue()
    return english, translate_catalogue(english, rules_module._shipped_translation("ko"))


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?", re.sub(r"(?<=\d),(?=\d{3})", "", text)))


def test_the_family_is_written_in_korean_and_each_branch_states_its_limits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    english, korean = _family_only(monkeypatch)
    family = [r for r in english.rules if r.id in RULE_IDS]
    assert [r.id for r in family] == RULE_IDS
    for rule in family:
        ko = korean.rule(rule.id)
        assert ko.title != rule.title and re.search(r"[\uac00-\ud7a3]", ko.explanation), rule.id
        assert [b.codes for b in ko.branches] == [b.codes for b in rule.branches]
        for number, branch in enumerate(ko.branches, start=1):
            limits = {f"{c.limit:g}" for c in branch.conditions}
            assert limits <= _numbers(branch.explanation), f"{rule.id} branch {number}"
        assert rule.notes and rule.example is not None, rule.id
    outcome = evaluate("4002.19", ["rubber_elongation_at_break=150%"], catalogue=korean, language="ko")
    reasons = outcome.firings[0].reasons
    assert reasons == (korean.rule("ch40-synthetic-rubber").branches[1].explanation,)
    assert "200 %" in reasons[0]


# -- Findings of the legal review (each test fails on the behaviour before the fix) ----------------------


def test_a_failed_surface_active_test_leaves_open_every_place_the_notes_name() -> None:
    """Not 34.02 is all the test shows: Chapter 29 (Chapter 34 Note 1(b)), 34.04 (artificial waxes, Note
    5), Chapter 39 and Chapter 38 stay open, and the rule says the list is not a finding."""
    for results in (["surface_tension=50mN/m"], ["surface_tension=30mN/m", "insoluble_separation=detected"]):
        outcome = evaluate("3402.31", results)
        assert (outcome.status, outcome.determined) == ("decided", ["29", "3404", "38", "39"])
        assert "Chapter 29 if chemically defined, 34.04 if an artificial wax" in outcome.firings[0].reasons[0]
    rule = evaluate("3402.31", ["surface_tension=50mN/m"]).firings[0].rule
    assert "not a finding that the goods can be nowhere else" in rule.explanation
    assert "Chapter 34 Note 1(b)" in rule.explanation and "Chapter 34 Note 5" in rule.explanation


@pytest.mark.parametrize(
    ("biodiesel", "determined", "decided"),
    [
        ("5%", ["382499", "3826"], ["3824", "3826"]),
        ("50%", ["382499", "3826"], ["3824", "3826"]),
        ("50.1%", ["3826"], ["3826"]),
    ],
)
def test_a_preparation_goes_to_3826_only_when_biodiesel_predominates(
    biodiesel: str, determined: list[str], decided: list[str]
) -> None:
    outcome = evaluate("3824.99", [f"biodiesel_content={biodiesel}", "petroleum_oil_content=0%"])
    assert (outcome.status, outcome.determined, outcome.decided) == ("decided", determined, decided)
    firing = next(f for f in outcome.firings if f.rule.id == "ch38-biodiesel-not-3824")
    if determined != ["3826"]:
        assert outcome.mismatch == "none" and outcome.level == "chapter"
        assert "the biodiesel does not predominate" in " ".join(firing.reasons)
    assert "not a legal one" in firing.rule.explanation


@pytest.mark.parametrize(
    "results",
    [
        ["distilled_210=95%vol", "aromatic_content=72%"],
        ["aromatic_content=72%", "distilled_210=95%vol"],
    ],
)
def test_the_aromatic_rule_keeps_the_subheading_an_earlier_rule_decided(results: list[str]) -> None:
    outcome = evaluate("2710.19", results)
    fired = [f.rule.id for f in outcome.firings]
    assert fired.index("ch27-light-oils") < fired.index("ch27-aromatic-2707")
    assert (outcome.determined, outcome.decided) == (["271012", "2707"], ["271012", "2707"])
    assert outcome.mismatch == "subheading"
    assert outcome.message == (
        "Declared 2710.19 ≠ determined subheading 2710.12 or heading 27.07 (differs at subheading level)."
    )


def test_the_aromatic_rule_keeps_any_subheading_of_27_10_and_reads_in_either_rule_order() -> None:
    fame = evaluate("2710.19", ["biodiesel_content=5%", "aromatic_content=72%"])
    assert (fame.determined, fame.decided, fame.mismatch) == (
        ["271020", "2707"],
        ["271020", "2707"],
        "subheading",
    )
    # The other order: the aromatic (27.07) rule moves the goods to 27.10, then the light oils rule reads.
    light = evaluate(
        "2707.99", ["distilled_210=95%vol", "coal_tar_origin=not_detected", "aromatic_content=30%"]
    )
    fired = [f.rule.id for f in light.firings]
    assert fired.index("ch27-aromatic-coal-tar") < fired.index("ch27-light-oils")
    assert (light.status, light.determined, light.decided) == ("decided", ["271012"], ["271012"])


def test_a_coal_tar_declaration_below_50_percent_waits_for_the_origin() -> None:
    """Heading 27.07 names products of high temperature coal tar whatever their aromatic share."""
    unknown = evaluate("2707.99", ["aromatic_content=40%"])
    assert (unknown.status, sorted(unknown.determined)) == ("undecided", ["270799", "2710"])
    assert unknown.missing_evidence == ["coal_tar_origin"]
    assert unknown.message == (
        "Undecided: these results do not yet tell apart heading 27.07 and heading 27.10; still needed: "
        "Product of high temperature coal tar distillation."
    )
    coal_tar = evaluate("2707.99", ["aromatic_content=40%", "coal_tar_origin=detected"])
    assert (coal_tar.status, coal_tar.determined, coal_tar.decided) == ("decided", ["270799"], ["2707"])
    other = evaluate("2707.99", ["aromatic_content=40%", "coal_tar_origin=not_detected"])
    assert (other.status, other.determined, other.mismatch) == ("decided", ["2710"], "heading")
    # Declared in 27.10 but found to be a coal tar product: 27.07 by its origin.
    moved = evaluate("2710.19", ["aromatic_content=40%", "coal_tar_origin=detected"])
    assert (moved.determined, moved.mismatch) == (["2707"], "heading")
    # A 27.10 declaration below 50 % does not need the origin: the measurement agrees with it.
    petroleum = evaluate("2710.19", ["aromatic_content=40%"])
    assert (petroleum.status, petroleum.determined, petroleum.missing_evidence) == (
        "decided",
        ["271019"],
        [],
    )


@pytest.mark.parametrize("trace", ["0.05%", "0.01%", "500mg/kg"])
def test_a_fame_trace_within_the_en14078_floor_leaves_2710_20_open(trace: str) -> None:
    outcome = evaluate("2710.19", [f"biodiesel_content={trace}"])
    assert (outcome.status, outcome.determined, outcome.decided) == (
        "decided",
        ["271019", "271020"],
        ["2710", "271020"],
    )
    assert outcome.level == "heading" and outcome.open_levels == ["subheading"]
    rule = outcome.firings[0].rule
    assert "EN 14078" in rule.explanation and "a choice of the rule, not a legal" in rule.explanation
    assert "EN 14078" in rule.checked


def test_the_coal_tar_origin_is_a_presence_result_in_both_languages() -> None:
    spec = measurand("coal_tar_origin")
    assert spec is not None and spec.label_ko == "고온 콜타르 증류 생산품"
    assert measurand_key("콜타르 기원") == measurand_key("coal tar origin") == "coal_tar_origin"
    assert QUANTITIES["coal_tar_origin"].kind == "presence"
