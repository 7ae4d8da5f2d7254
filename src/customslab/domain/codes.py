"""Validation of the codes a declaration carries: HS codes, countries, currencies."""

from __future__ import annotations

import re
from collections.abc import Callable

import pycountry

from customslab.domain.errors import ValidationFailed

_HS_RE = re.compile(r"^\d{6,10}$")

#: Answers whether an HS chapter/heading exists; None until the nomenclature is loaded.
HeadingExists = Callable[[str], bool]


def normalise_hs_code(raw: str, heading_exists: HeadingExists | None = None) -> str:
    """Digits only, 6 to 10 of them; dots and spaces as written on declarations are accepted."""
    code = re.sub(r"[.\s]", "", raw or "")
    if not _HS_RE.match(code):
        raise ValidationFailed(
            f"HS code '{raw}' is not valid: give 6 to 10 digits (for example 2208.40 or 220840).",
            field="declared_hs",
        )
    if heading_exists is not None:
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
