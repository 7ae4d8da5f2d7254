"""Duty difference between the declared and the determined national tariff line.

duty = value × ad valorem rate / 100 + quantity × specific rate (when both are known).
The difference is determined − declared: positive means revenue at stake for customs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from customslab.hs.tariff import TariffLine


@dataclass(frozen=True)
class DutyComparison:
    declared_line: TariffLine
    determined_line: TariffLine
    customs_value: float
    quantity: float | None
    currency: str

    @property
    def declared_duty(self) -> float:
        return self.declared_line.duty(self.customs_value, self.quantity)

    @property
    def determined_duty(self) -> float:
        return self.determined_line.duty(self.customs_value, self.quantity)

    @property
    def difference(self) -> float:
        return self.determined_duty - self.declared_duty

    def to_dict(self) -> dict[str, Any]:
        return {
            "declared_line": self.declared_line.code,
            "determined_line": self.determined_line.code,
            "customs_value": self.customs_value,
            "quantity": self.quantity,
            "currency": self.currency,
            "declared_duty": round(self.declared_duty, 2),
            "determined_duty": round(self.determined_duty, 2),
            "difference": round(self.difference, 2),
        }


def compare_duty(
    declared_line: TariffLine,
    determined_line: TariffLine,
    customs_value: float,
    quantity: float | None = None,
    currency: str = "",
) -> DutyComparison:
    if customs_value < 0:
        raise ValueError("customs value must not be negative")
    return DutyComparison(declared_line, determined_line, customs_value, quantity, currency)
