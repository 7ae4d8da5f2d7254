"""The report's fixed text is kept once per language, with the same keys and placeholders in each; the
English text is what reports printed before they had a language, so their verification codes hold."""

from __future__ import annotations

from dataclasses import replace
from string import Formatter
from typing import get_args

import pytest

from customslab.domain.enums import QUALITATIVE_OUTCOMES
from customslab.domain.quality.report import DecisionRule, ReportData
from customslab.domain.quality.report_example import example_report
from customslab.domain.quality.report_text import LEVEL_KEYS, REPORT_LANGUAGES, REPORT_TEXT, report_text
from customslab.hs.levels import LEVELS, NATIONAL
from customslab.services.confidentiality import WITHHELD_NOTE
from customslab.services.reports import ReportAmend, ReportIssue

#: The verification code of the example report as printed before reports had a language.
EXAMPLE_CODE = "eecf8057f959c1278478e036d16a9973cd04bca5ff46a2574c5153a7c88a4a91"


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("language", [lang for lang in REPORT_LANGUAGES if lang != "en"])
def test_every_language_has_every_key_of_the_english_text_and_no_other(language: str) -> None:
    assert set(REPORT_TEXT[language]) == set(REPORT_TEXT["en"])


@pytest.mark.parametrize("language", REPORT_LANGUAGES)
def test_every_text_has_the_placeholders_of_its_english_text_and_is_not_empty(language: str) -> None:
    for key, english in REPORT_TEXT["en"].items():
        text = REPORT_TEXT[language][key]
        assert text.strip(), key
        assert _placeholders(text) == _placeholders(english), key


def test_the_languages_a_report_is_written_in_are_the_languages_a_report_can_be_issued_in() -> None:
    assert set(REPORT_TEXT) == set(REPORT_LANGUAGES)
    assert set(get_args(ReportIssue.model_fields["language"].annotation)) == set(REPORT_LANGUAGES)


def test_the_english_text_is_what_reports_and_pages_said_before() -> None:
    assert report_text("en", "withheld") == WITHHELD_NOTE
    assert {report_text("en", key) for key in LEVEL_KEYS.values()} == {*LEVELS.values(), NATIONAL}
    assert set(LEVEL_KEYS) == {*LEVELS.values(), NATIONAL}
    assert DecisionRule.SIMPLE.explain().startswith("Simple acceptance (ILAC-G8:09/2019 4.2.1)")


def test_every_qualitative_outcome_has_a_word_in_every_language() -> None:
    for values in QUALITATIVE_OUTCOMES.values():
        for value in values:
            words = {lang: report_text(lang, f"outcome.{value}") for lang in REPORT_LANGUAGES}
            assert len(set(words.values())) == len(REPORT_LANGUAGES), words


def test_an_english_report_hashes_as_it_did_before_reports_had_a_language() -> None:
    data = example_report()
    assert data.language == "en" and '"language"' not in data.canonical_json()
    assert data.verification_code() == EXAMPLE_CODE


def test_a_korean_report_puts_its_language_in_the_hashed_data() -> None:
    korean: ReportData = replace(example_report(), language="ko")
    assert '"language":"ko"' in korean.canonical_json()
    assert korean.verification_code() != EXAMPLE_CODE


def test_an_amendment_command_knows_whether_the_language_was_given() -> None:
    assert "language" not in ReportAmend(reason="typo").model_fields_set
    assert "language" in ReportAmend(reason="typo", language="en").model_fields_set


def test_the_decision_rules_and_the_amendment_statement_are_worded_in_the_report_language() -> None:
    amendment = example_report(2).amendment
    assert amendment is not None
    assert amendment.statement("ko").startswith("이 성적서는 성적서 CCL-2025-004217 버전 1을 대체합니다.")
    assert DecisionRule.GUARDED.explain("ko").startswith("보호대역 적용 판정")
    assert DecisionRule.GUARDED.explain("fr") == DecisionRule.GUARDED.explain("en")
