"""National tariff lines (8–10 digits) with duty rates, read from a CSV a country provides.

CSV columns (header row required, UTF-8, a byte-order mark is tolerated):

==================  ========  ==============================================================
column              required  meaning
==================  ========  ==============================================================
``code``            yes       national line, 8 to 10 digits (dots and spaces are ignored);
                              its first six digits must be a subheading of the HS edition
``description``     yes       national description
``ad_valorem``      yes       ad valorem duty in percent of the customs value (``8`` = 8 %);
                              empty or ``free`` means 0
``specific``        no        specific duty in currency per ``specific_unit`` (empty = none)
``specific_unit``   no        unit the specific duty is charged on, e.g. ``kg``, ``l``,
                              ``l alc. 100 %``; required when ``specific`` is given
``unit``            no        statistical unit of quantity, e.g. ``kg``, ``l``, ``u``
==================  ========  ==============================================================

Several editions of a country's tariff live side by side; the edition is given when loading
(e.g. ``KR-2025``), not read from the file. A malformed row rejects the whole file, naming the row.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from customslab.hs.nomenclature import HsError, normalise_code

REQUIRED_COLUMNS = ("code", "description", "ad_valorem")
OPTIONAL_COLUMNS = ("specific", "specific_unit", "unit")


@dataclass(frozen=True, slots=True)
class TariffLine:
    code: str
    description: str
    ad_valorem: float
    specific: float | None = None
    specific_unit: str | None = None
    unit: str | None = None

    def duty(self, customs_value: float, quantity: float | None = None) -> float:
        """value × ad valorem / 100, plus quantity × specific when both are known."""
        amount = customs_value * self.ad_valorem / 100.0
        if self.specific is not None and quantity is not None:
            amount += quantity * self.specific
        return amount


def _rate(text: str, column: str, where: str) -> float | None:
    cleaned = text.strip().rstrip("%").strip()
    if cleaned == "":
        return None
    if cleaned.lower() == "free":
        return 0.0
    try:
        value = float(cleaned)
    except ValueError:
        raise HsError(f"{where}: {column} {text!r} is not a number") from None
    if value < 0:
        raise HsError(f"{where}: {column} must not be negative")
    return value


def parse_tariff_csv(text: str, source: str = "tariff CSV") -> list[TariffLine]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = {c.strip() for c in reader.fieldnames or []}
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise HsError(f"{source}: missing column(s) {', '.join(missing)}; need {', '.join(REQUIRED_COLUMNS)}")
    lines: dict[str, TariffLine] = {}
    for number, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        where = f"{source} line {number}"
        try:
            code = normalise_code(row["code"], allow_national=True)
        except HsError as error:
            raise HsError(f"{where}: {error}") from None
        if len(code) < 8:
            raise HsError(f"{where}: national line {row['code']!r} must have 8 to 10 digits")
        if code in lines:
            raise HsError(f"{where}: line {code} appears twice")
        specific = _rate(row.get("specific", ""), "specific", where)
        if specific is not None and not row.get("specific_unit"):
            raise HsError(f"{where}: a specific duty needs its specific_unit")
        lines[code] = TariffLine(
            code=code,
            description=row["description"],
            ad_valorem=_rate(row["ad_valorem"], "ad_valorem", where) or 0.0,
            specific=specific,
            specific_unit=row.get("specific_unit") or None,
            unit=row.get("unit") or None,
        )
    if not lines:
        raise HsError(f"{source}: no tariff lines")
    return list(lines.values())


def read_tariff_csv(path: Path | str) -> list[TariffLine]:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise HsError(f"cannot read tariff file {file}: {error}") from None
    return parse_tariff_csv(text, file.name)


def line_for(lines: list[TariffLine], code: str) -> TariffLine | None:
    """The single national line for a code: exact, or the only line beneath an HS code."""
    exact = [line for line in lines if line.code == code]
    if exact:
        return exact[0]
    beneath = [line for line in lines if line.code.startswith(code)]
    return beneath[0] if len(beneath) == 1 else None
