"""The engine's evidence rules, presence results, exceptions and `wider: false`, on small catalogues
written here (the shipped families have their own tables): what decides, what stays open, what is named
as missing, and what the loader refuses."""

from __future__ import annotations

from typing import Any

import pytest

from customslab.domain.enums import ResultKind
from customslab.hs.evaluate import evaluate
from customslab.hs.quantities import QuantityError, parse_result, presence_measurement
from customslab.hs.rules import CatalogueError, parse_catalogue
from customslab.services.classification import result_measurement

TEXTS = {
    "conclusive": "Conclusive for {codes}.",
    "inconclusive": "Not conclusive; still needed: {missing}.",
    "conflicting": "The evidence points to {codes}.",
}


def _evidence_rule(**overrides: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": "t-pepper",
        "kind": "evidence",
        "source": "heading texts",
        "checked": "test",
        "explanation": "Dried pepper or a preparation of it.",
        "scope": ["0904", "2005", "2103"],
        "inputs": ["moisture", "gelatinisation_degree", "usefully_malleable"],
        "branches": [
            {"when": {"moisture": [["<=", 14]]}, "codes": ["0904"], "explanation": "Dry."},
            {"when": {"gelatinisation_degree": [["<=", 10]]}, "codes": ["0904"], "explanation": "Raw."},
            {"when": {"moisture": [[">", 20]]}, "codes": ["2005", "2103"], "explanation": "Wet."},
            {"when": {"usefully_malleable": "detected"}, "codes": ["2005", "2103"], "explanation": "Odd."},
        ],
        "params": {
            "conclusive": {
                "0904": [["moisture", "gelatinisation_degree"]],
                "2005": [["moisture"], ["usefully_malleable"]],
            }
        },
        "texts": TEXTS,
        "example": {"declared": "0904.21", "results": ["moisture=10%"]},
    }
    return rule | overrides


def _catalogue(*rules: dict[str, Any]) -> Any:
    return parse_catalogue({"edition": "HS2022", "rules": list(rules)})


@pytest.mark.parametrize(
    ("results", "status", "determined", "missing"),
    [
        # Conclusive: every input of the 09.04 set supports it, nothing supports another candidate.
        (["moisture=10%", "gelatinisation_degree=5%"], "decided", ["090421"], []),
        (["moisture=100g/kg", "gelatinisation_degree=5%"], "decided", ["090421"], []),  # converted
        # One piece of evidence only: undecided, naming what each candidate still needs (the measured
        # moisture refutes the preparation's one-input set, so its other set is named).
        (
            ["moisture=10%"],
            "undecided",
            ["090421", "2005", "2103"],
            ["gelatinisation_degree", "usefully_malleable"],
        ),
        # A reading whose interval reaches across the limit supports nothing; it is not "missing".
        (
            ["moisture=14%±1", "gelatinisation_degree=5%"],
            "undecided",
            ["090421", "2005", "2103"],
            ["usefully_malleable"],
        ),
        # Conflicting evidence: dry and raw, yet a presence result supports the preparation.
        (
            ["moisture=10%", "gelatinisation_degree=5%", "usefully_malleable=detected"],
            "undecided",
            ["090421", "2005", "2103"],
            [],
        ),
        # A single set of one input decides the other candidate.
        (["moisture=25%"], "decided", ["2005", "2103"], []),
    ],
)
def test_an_evidence_rule_decides_only_on_conclusive_evidence(
    results: list[str], status: str, determined: list[str], missing: list[str]
) -> None:
    outcome = evaluate("0904.21", results, catalogue=_catalogue(_evidence_rule()))
    assert (outcome.status, sorted(outcome.determined), outcome.missing_evidence) == (
        status,
        sorted(determined),
        missing,
    )
    data = outcome.to_dict()
    assert data["missing_evidence"] == missing and data["rules"][0]["kind"] == "evidence"
    supports = {c["supports"] for c in data["rules"][0]["conditions"]}
    assert supports == {"0904", "2005 2103"}


def test_the_undecided_verdict_names_the_missing_evidence_and_the_conflict() -> None:
    catalogue = _catalogue(_evidence_rule())
    missing = evaluate("0904.21", ["moisture=10%"], catalogue=catalogue)
    assert missing.message.endswith(
        "still needed: Degree of gelatinisation, Usefully malleable (iron or steel)."
    )
    assert missing.firings[0].reasons == (
        "Dry.",
        "Not conclusive; still needed: 09.04: gelatinisation_degree; 20.05 / 21.03: usefully_malleable.",
    )
    conflict = evaluate(
        "0904.21",
        ["moisture=10%", "gelatinisation_degree=5%", "usefully_malleable=yes"],
        catalogue=catalogue,
    )
    assert "The evidence points to 09.04, 20.05 / 21.03." in " ".join(conflict.firings[0].reasons)
    assert conflict.conflicting_evidence and conflict.to_dict()["conflicting_evidence"]
    assert conflict.message.startswith("Undecided: the measured evidence points to different codes")
    korean = evaluate("0904.21", ["moisture=10%"], catalogue=catalogue, language="ko")
    assert korean.message.endswith("더 필요한 결과: 호화도, 유용한 가단성(철강).")


def test_an_evidence_rule_that_requires_an_input_waits_for_it() -> None:
    catalogue = _catalogue(_evidence_rule(requires=["gelatinisation_degree"]))
    waiting = evaluate("0904.21", ["moisture=10%"], catalogue=catalogue)
    assert waiting.status == "no_rule"
    assert waiting.not_evaluated == [{"id": "t-pepper", "missing": ["gelatinisation_degree"]}]
    both = evaluate("0904.21", ["moisture=10%", "gelatinisation_degree=5%"], catalogue=catalogue)
    assert both.status == "decided"


def test_an_evidence_rule_without_any_of_its_inputs_is_listed_as_not_evaluated() -> None:
    outcome = evaluate("0904.21", ["ash=3%"], catalogue=_catalogue(_evidence_rule()))
    assert outcome.status == "no_rule"
    assert outcome.not_evaluated == [
        {"id": "t-pepper", "missing": ["moisture", "gelatinisation_degree", "usefully_malleable"]}
    ]


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"params": {"conclusive": {"0904": [["moisture"]]}}}, "params.conclusive must map each candidate"),
        (
            {"params": {"conclusive": {"0904": [["ash"]], "2005": [["moisture"]]}}},
            "names inputs not in 'inputs'",
        ),
        (
            {"params": {"conclusive": {"0904": [["usefully_malleable"]], "2005": [["moisture"]]}}},
            "needs evidence no branch for it reads",
        ),
        ({"texts": {"conclusive": "x"}}, "'texts' needs inconclusive, conflicting"),
        ({"example": None}, "every rule keeps a worked example"),
    ],
)
def test_a_malformed_evidence_rule_is_refused_at_load(change: dict[str, Any], refusal: str) -> None:
    with pytest.raises(CatalogueError, match=refusal):
        _catalogue(_evidence_rule(**change))


def test_a_word_condition_needs_a_presence_quantity() -> None:
    rule = _evidence_rule()
    rule["branches"][0]["when"] = {"moisture": "detected"}
    with pytest.raises(CatalogueError, match="a word condition is detected or not_detected"):
        _catalogue(rule)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("usefully_malleable=detected", 1.0),
        ("usefully_malleable=not_detected", 0.0),
        ("usefully_malleable=not detected", 0.0),
        ("usefully_malleable=Yes", 1.0),
        ("usefully_malleable=no", 0.0),
        ("usefully_malleable=1", 1.0),
    ],
)
def test_a_presence_result_is_read_from_its_words(text: str, value: float) -> None:
    assert parse_result(text).value == value


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("usefully_malleable=maybe", "is not one of"),
        ("usefully_malleable=0.5", "write detected or not_detected"),
        ("moisture=detected", "is a measured quantity"),
    ],
)
def test_a_presence_result_in_other_words_is_refused(text: str, refusal: str) -> None:
    with pytest.raises(QuantityError, match=refusal):
        parse_result(text)


def test_a_stored_detection_result_reaches_the_rules_and_a_free_text_does_not() -> None:
    detected = result_measurement("usefully_malleable", None, "", None, ResultKind.DETECTION, "detected")
    assert detected == presence_measurement("usefully_malleable", "detected")
    assert result_measurement("colour", None, "", None, ResultKind.DETECTION, "detected") is None
    assert result_measurement("moisture", None, "", None, ResultKind.TEXT, "damp") is None
    quantity = result_measurement("moisture", "12.5", "%", "0.2", ResultKind.QUANTITY, "")
    assert quantity is not None and (quantity.value, quantity.expanded_uncertainty) == (12.5, 0.2)


def _threshold(**overrides: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": "t-ethanol",
        "kind": "threshold",
        "source": "s",
        "checked": "c",
        "explanation": "e",
        "scope": ["220710", "220890"],
        "inputs": ["alcohol_strength"],
        "branches": [
            {"when": {"alcohol_strength": [[">=", 80]]}, "codes": ["220710"], "explanation": "high"},
            {"when": {"alcohol_strength": [["<", 80]]}, "codes": ["220890"], "explanation": "low"},
        ],
        "example": {"declared": "2207.10", "results": ["alcohol_strength=85%vol"]},
    }
    return rule | overrides


def test_a_rule_that_reads_only_its_own_scope_leaves_a_wider_declaration_alone() -> None:
    wide = evaluate("2208", ["alcohol_strength=40%vol"], catalogue=_catalogue(_threshold()))
    assert wide.determined == ["220890"]  # by default a wider declared heading is narrowed
    narrow = evaluate("2208", ["alcohol_strength=40%vol"], catalogue=_catalogue(_threshold(wider=False)))
    assert narrow.status == "no_rule"


def test_an_exception_keeps_the_goods_and_decides_only_its_own_level() -> None:
    rule = _threshold(exceptions=[{"codes": ["220890"], "decides": "2208", "explanation": "Spirits stay."}])
    outcome = evaluate("2208.90", ["alcohol_strength=85%vol"], catalogue=_catalogue(rule))
    assert (outcome.determined, outcome.decided, outcome.level) == (["220890"], ["2208"], "heading")
    assert outcome.firings[0].reasons == ("Spirits stay.",)
    with pytest.raises(CatalogueError, match="must contain every code of the exception"):
        _catalogue(_threshold(exceptions=[{"codes": ["220890"], "decides": "2207", "explanation": "x"}]))
