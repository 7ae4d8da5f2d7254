"""The in-memory first identifications, for the unit tests' unit of work."""

from __future__ import annotations

from customslab.services.targeting_alert_ports import FirstIdentification, FirstIdentificationRepository


class FakeFirstIdentificationRepository(FirstIdentificationRepository):
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], FirstIdentification] = {}

    def claim(self, first: FirstIdentification) -> bool:
        key = (first.administration_code, first.substance_key)
        if key in self.rows:
            return False
        self.rows[key] = first
        return True

    def find(self, administration_code: str, substance_key: str) -> FirstIdentification | None:
        return self.rows.get((administration_code, substance_key))
