"""Validation of the codes a declaration carries: HS codes, countries, currencies."""

from __future__ import annotations

import re
from collections.abc import Callable

import pycountry

from customslab.domain.errors import ValidationFailed

#: The chapters of the Harmonized System: 01 to 97, 77 being reserved for future use.
HS_CHAPTER_PATTERN = r"(?:0[1-9]|[1-6][0-9]|7[0-68-9]|8[0-9]|9[0-7])"
#: An HS code as declarations write it: the heading's 4 digits, the subheading's 2, then a national
#: tariff line's 2 to 4 digits if any (2208.40, 2208 40, 220840, 2208.40.10, 2208.40.1000,
#: 2208.40-1000, 2208 40 10 00). A dot or a space may separate the groups, a dash the national digits;
#: nothing else may stand between digits (22.08.40 is not a code).
_AFTER_CHAPTER = r"[0-9]{2}[. ]?[0-9]{2}(?:[. -]?[0-9]{2,4}|[. -]?[0-9]{2}[. ]?[0-9]{2})?"
HS_SHAPE_PATTERN = rf"[0-9]{{2}}{_AFTER_CHAPTER}"
#: Both rules at once, for a schema: what a declared HS code may be without a nomenclature.
DECLARED_HS_PATTERN = rf"^{HS_CHAPTER_PATTERN}{_AFTER_CHAPTER}$"
_HS_SHAPE = re.compile(HS_SHAPE_PATTERN)
_HS_CHAPTER = re.compile(HS_CHAPTER_PATTERN)
_EXAMPLES = "for example 2208.40, 2208.40.10 or 2208401000"

#: Answers whether an HS chapter/heading exists; None until the nomenclature is loaded.
HeadingExists = Callable[[str], bool]


def hs_code_digits(raw: str, field: str = "declared_hs") -> str:
    """The digits of an HS code written as a declaration writes it (HS_SHAPE_PATTERN); its shape only."""
    text = (raw or "").strip()
    digits = re.sub(r"[.\s-]", "", text)
    if not digits.isascii() or not digits.isdigit() or not 6 <= len(digits) <= 10:
        raise ValidationFailed(
            f"HS code '{raw}' is not valid: give 6 to 10 digits ({_EXAMPLES}).", field=field
        )
    if len(digits) == 7:
        raise ValidationFailed(
            f"HS code '{raw}' is not valid: a national tariff line adds 2 to 4 digits to the 6 of "
            f"the subheading ({_EXAMPLES}).",
            field=field,
        )
    if not _HS_SHAPE.fullmatch(text):
        raise ValidationFailed(
            f"HS code '{raw}' is not valid: write the heading's 4 digits first, then the 2 of the "
            f"subheading, then any national digits ({_EXAMPLES}).",
            field=field,
        )
    return digits


def check_hs_chapter(code: str, field: str = "declared_hs") -> str:
    """Refuse a chapter the Harmonized System does not have (00, 77, 98, 99) when no nomenclature says."""
    if not _HS_CHAPTER.fullmatch(code[:2]):
        raise ValidationFailed(
            f"HS chapter {code[:2]} does not exist: the chapters of the Harmonized System run from "
            "01 to 97, and 77 is reserved.",
            field=field,
        )
    return code


def normalise_hs_code(raw: str, heading_exists: HeadingExists | None = None) -> str:
    """The digits of a declared HS code: 6 to 10, grouped as declarations write them (hs_code_digits).

    With `heading_exists` (the loaded nomenclature) the chapter and heading must exist there; without
    it, the chapter must be one of the Harmonized System's (01 to 97, not 77).
    """
    code = hs_code_digits(raw)
    if heading_exists is None:
        return check_hs_chapter(code)
    if not heading_exists(code[:2]):
        raise ValidationFailed(f"HS chapter {code[:2]} does not exist.", field="declared_hs")
    if not heading_exists(code[:4]):
        raise ValidationFailed(
            f"HS heading {code[:2]}.{code[2:4]} does not exist in the loaded nomenclature.",
            field="declared_hs",
        )
    return code


def normalise_country(raw: str, field: str = "country") -> str:
    """ISO 3166-1 alpha-2, upper case."""
    code = (raw or "").strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValidationFailed(f"'{raw}' is not an ISO 3166 country code (for example KR, JP).", field=field)
    return code


def normalise_currency(raw: str) -> str:
    """ISO 4217 alphabetic code, upper case."""
    code = (raw or "").strip().upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise ValidationFailed(
            f"'{raw}' is not an ISO 4217 currency code (for example KRW, USD).", "currency"
        )
    return code
