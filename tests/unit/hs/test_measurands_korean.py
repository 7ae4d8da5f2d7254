"""Every measurand has a Korean label, which a test report issued in Korean prints."""

from __future__ import annotations

import re

from customslab.hs.measurands import ELEMENT_NAMES, ELEMENT_NAMES_KO, MEASURANDS, measurand_label

HANGUL = re.compile(r"[\uac00-\ud7a3]")
#: Labels that are a symbol in every language.
SYMBOLS = {"ph"}


def test_every_measurand_has_a_korean_label_in_hangul() -> None:
    missing = [m.key for m in MEASURANDS if not m.label_ko]
    assert missing == []
    latin = [m.key for m in MEASURANDS if m.key not in SYMBOLS and not HANGUL.search(m.label_ko)]
    assert latin == []


def test_every_element_has_a_korean_name() -> None:
    assert list(ELEMENT_NAMES_KO) == list(ELEMENT_NAMES)
    assert all(HANGUL.fullmatch(name[0]) for name in ELEMENT_NAMES_KO.values())


def test_a_result_name_reads_in_korean_when_asked_and_in_english_otherwise() -> None:
    assert measurand_label("alcohol_strength", "ko") == "알코올 도수(부피 기준)"
    assert measurand_label("alcohol_strength") == "Alcoholic strength by volume"
    assert measurand_label("element.Cr", "ko") == "크롬(Cr)"
    assert measurand_label("element.Xe", "ko") == "제논(Xe)"  # an element the list does not offer
    assert measurand_label("monomer.ethylene", "ko") == "에틸렌(단량체 단위)"
    assert measurand_label("monomer.norbornene", "ko") == "norbornene(단량체 단위)"
    assert measurand_label("Stable carbon isotope ratio", "ko") == "Stable carbon isotope ratio"
