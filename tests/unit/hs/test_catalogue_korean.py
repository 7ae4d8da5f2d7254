"""The rules catalogue in Korean: every rule, branch and reason has its Korean text, and the two files
cannot drift apart."""

from __future__ import annotations

import copy
import re
from importlib import resources
from typing import Any

import pytest
import yaml

from customslab.hs.decision import DecisionRule
from customslab.hs.evaluate import evaluate
from customslab.hs.rules import (
    CATALOGUE_LANGUAGES,
    CatalogueError,
    default_catalogue,
    parse_catalogue,
    translate_catalogue,
)

HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _shipped(name: str) -> Any:
    return yaml.safe_load(resources.files("customslab.hs").joinpath(f"rules/{name}").read_text("utf-8"))


def _korean() -> dict[str, Any]:
    data: dict[str, Any] = _shipped("catalogue.ko.yaml")
    return data


def _refusal(data: dict[str, Any]) -> str:
    with pytest.raises(CatalogueError) as refused:
        translate_catalogue(default_catalogue("en"), data)
    return str(refused.value)


def _numbers(text: str) -> set[str]:
    """The numbers a text states, thousands separators dropped ('5,833' → '5833')."""
    return set(re.findall(r"\d+(?:\.\d+)?", re.sub(r"(?<=\d),(?=\d{3})", "", text)))


def test_every_rule_branch_text_and_derived_source_has_its_korean_text() -> None:
    english, korean = default_catalogue("en"), default_catalogue("ko")
    assert [r.id for r in korean.rules] == [r.id for r in english.rules]
    for en, ko in zip(english.rules, korean.rules, strict=True):
        prose = [
            ko.title,
            ko.source,
            ko.explanation,
            *(b.explanation for b in ko.branches),
            *ko.texts.values(),
        ]
        assert all(HANGUL.search(text) for text in prose), en.id
        assert ko.title != en.title and ko.explanation != en.explanation
        assert len(ko.branches) == len(en.branches) and set(ko.texts) == set(en.texts)
        # Only the words change: the logic of the rule is the English catalogue's.
        assert [b.codes for b in ko.branches] == [b.codes for b in en.branches]
        assert [b.conditions for b in ko.branches] == [b.conditions for b in en.branches]
    assert all(HANGUL.search(d.source) for d in korean.derived)


def test_each_korean_branch_states_the_limits_its_conditions_test() -> None:
    """A branch renumbered in one file and not the other would explain another limit."""
    for rule in default_catalogue("ko").rules:
        for number, branch in enumerate(rule.branches, start=1):
            limits = {f"{c.limit:g}" for c in branch.conditions}
            assert limits <= _numbers(branch.explanation), f"{rule.id} branch {number}: {branch.explanation}"


def test_a_rule_missing_from_the_korean_file_is_refused() -> None:
    data = _korean()
    del data["rules"]["ch22-sparkling-wine"]
    assert "rules: no text for ch22-sparkling-wine" in _refusal(data)


def test_a_branch_without_korean_text_is_refused() -> None:
    data = _korean()
    del data["rules"]["ch17-non-centrifugal-cane-sugar"]["branches"][3]
    assert "rule ch17-non-centrifugal-cane-sugar branch: no text for 3" in _refusal(data)


def test_an_empty_korean_explanation_is_refused() -> None:
    data = _korean()
    data["rules"]["ch22-non-alcoholic"]["explanation"] = " "
    assert "rule ch22-non-alcoholic: no text for explanation" in _refusal(data)


def test_a_korean_rule_or_branch_the_catalogue_does_not_have_is_refused() -> None:
    data = _korean()
    data["rules"]["ch99-invented"] = copy.deepcopy(data["rules"]["ch22-non-alcoholic"])
    data["rules"]["ch22-ethyl-alcohol-80"]["branches"][3] = "세 번째 분기"
    refusal = _refusal(data)
    assert "rules: ch99-invented is not in the English catalogue" in refusal
    assert "rule ch22-ethyl-alcohol-80 branch: 3 is not in the English catalogue" in refusal


def test_a_reason_text_missing_renamed_or_with_other_placeholders_is_refused() -> None:
    data = _korean()
    texts = data["rules"]["ch39-copolymers"]["texts"]
    texts["poly"] = "제{heading}호; 폴리 소호."
    texts["polymer"] = texts.pop("copolymer")
    refusal = _refusal(data)
    assert "rule ch39-copolymers text poly: placeholders must be those of" in refusal
    assert "rule ch39-copolymers text: no text for copolymer" in refusal
    assert "rule ch39-copolymers text: polymer is not in the English catalogue" in refusal


def test_a_derived_quantity_without_korean_source_is_refused() -> None:
    data = _korean()
    data["derived"] = {}
    assert "derived: no text for cocoa_defatted" in _refusal(data)


def test_a_computed_rule_without_its_reason_texts_is_refused_at_load() -> None:
    data = _shipped("catalogue.yaml")
    ferrous = next(r for r in data["rules"] if r["id"] == "ch72-iron-steel-classes")
    del ferrous["texts"]["stainless"]
    with pytest.raises(CatalogueError, match="'texts' needs stainless"):
        parse_catalogue(data)


def test_a_language_without_a_catalogue_is_refused() -> None:
    assert CATALOGUE_LANGUAGES == ("en", "ko")
    with pytest.raises(CatalogueError, match="not written in 'fr'"):
        default_catalogue("fr")


def test_the_ethyl_alcohol_is_explained_in_korean_and_in_english_by_default() -> None:
    korean = evaluate("2207.10", ["alcohol_strength=40.1%vol±0.2"], language="ko").to_dict()
    english = evaluate("2207.10", ["alcohol_strength=40.1%vol±0.2"]).to_dict()
    assert korean["determined"] == english["determined"] == ["220890"]
    fired = {r["id"]: r for r in korean["rules"]}["ch22-ethyl-alcohol-80"]
    assert fired["reasons"] == [
        "80 % vol 미만이므로 제2207.10호가 아닌 제2208.90호의 변성하지 않은 에틸알코올이다."
    ]
    assert (
        fired["title"].startswith("변성하지 않은 에틸알코올") and "알코올 용량 도수" in fired["explanation"]
    )
    assert fired["source"].startswith("HS 2022 제2207호 및 제2208호(호의 용어)")
    assert korean["decision_rule"]["statement"].startswith("보호대역 적용 판정")
    english_fired = {r["id"]: r for r in english["rules"]}["ch22-ethyl-alcohol-80"]
    assert english_fired["reasons"] == [
        "Less than 80 % vol, so undenatured ethyl alcohol of 2208.90, not 2207.10."
    ]
    assert english["decision_rule"]["statement"] == DecisionRule.GUARDED.statement


def test_an_exception_is_explained_in_korean() -> None:
    korean = evaluate("1902.20", ["meat_fish_content=25%"], language="ko").to_dict()
    fired = {r["id"]: r for r in korean["rules"]}["ch19-meat-fish-20"]
    assert fired["reasons"][0].startswith("제1902호의 속을 채운 파스타는 20 % 한도의 예외")


@pytest.mark.parametrize(
    ("declared", "results", "english", "korean"),
    [
        (
            "7208.51",
            ["element.C=0.05%", "element.Cr=18.1%", "element.Ni=8.2%"],
            "Stainless steel (Note 1(e)).",
            "스테인리스강(주 제1호마목).",
        ),
        (
            "3901.90",
            ["monomer.ethylene=5%", "monomer.propylene=95%"],
            "Heading 3902; propylene units ≥ 95 %: the 'poly' subheading.",
            '제3902호; propylene 단위가 95 % 이상이므로 "폴리" 소호.',
        ),
        (
            "7106.91",
            ["element.Ag=1%", "element.Cu=99%"],
            "Base-metal alloy; Cu predominates (Section XV, Note 5).",
            "비금속(卑金屬) 합금; Cu 함유량이 가장 많다(제15부 주 제5호).",
        ),
        (
            "7403.11",
            ["element.Cu=98.0%", "element.Zn=1.8%"],
            "Copper alloy (Note 1(b)).",
            "구리 합금(주 제1호나목).",
        ),
    ],
)
def test_the_computed_rules_give_their_reasons_in_the_catalogue_language(
    declared: str, results: list[str], english: str, korean: str
) -> None:
    assert english in evaluate(declared, results).firings[0].reasons
    assert korean in evaluate(declared, results, language="ko").firings[0].reasons
