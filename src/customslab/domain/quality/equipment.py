"""Equipment, calibration/verification records and reference materials (ISO/IEC 17025 6.4, 6.5)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from customslab.domain.quality.errors import EquipmentNotUsable


class EquipmentStatus(StrEnum):
    IN_SERVICE = "in_service"
    OUT_OF_SERVICE = "out_of_service"


class CalibrationKind(StrEnum):
    CALIBRATION = "calibration"
    VERIFICATION = "verification"


class MaintenanceKind(StrEnum):
    MAINTENANCE = "maintenance"
    DAMAGE = "damage"
    REPAIR = "repair"


@dataclass(frozen=True)
class Equipment:
    equipment_id: str
    name: str
    manufacturer: str = ""
    model: str = ""
    serial_number: str = ""
    software_version: str = ""
    location: str = ""
    status: EquipmentStatus = EquipmentStatus.IN_SERVICE

    @property
    def label(self) -> str:
        return f"{self.name} ({self.equipment_id})"


@dataclass(frozen=True)
class CalibrationEvent:
    equipment_id: str
    kind: CalibrationKind
    performed_on: date
    result: str
    acceptance_criteria: str
    passed: bool
    next_due: date
    certificate: str = ""


@dataclass(frozen=True)
class MaintenanceEntry:
    equipment_id: str
    kind: MaintenanceKind
    occurred_on: date
    description: str
    performed_by: str = ""


@dataclass(frozen=True)
class ReferenceMaterial:
    """A (certified) reference material; certified value ± expanded uncertainty U in `unit`."""

    rm_id: str
    name: str
    certificate: str
    lot: str
    expiry: date
    certified_value: float
    expanded_uncertainty: float
    unit: str

    def is_expired(self, on: date) -> bool:
        return on > self.expiry


@dataclass(frozen=True)
class DueItem:
    equipment: Equipment
    kind: CalibrationKind | None
    due_on: date | None
    overdue: bool
    days_left: int | None


def _latest(calibrations: Iterable[CalibrationEvent], equipment_id: str, on: date) -> CalibrationEvent | None:
    # Records dated after `on` did not exist yet at that date, so they cannot vouch for it.
    relevant = [c for c in calibrations if c.equipment_id == equipment_id and c.performed_on <= on]
    return max(relevant, key=lambda c: (c.performed_on, c.next_due), default=None)


def assert_usable(equipment: Equipment, calibrations: Iterable[CalibrationEvent], on: date) -> None:
    """Refuse use of an instrument that is out of service, never calibrated, overdue or failed."""
    if equipment.status is EquipmentStatus.OUT_OF_SERVICE:
        raise EquipmentNotUsable(f"Instrument {equipment.label} is out of service and cannot be used.")
    latest = _latest(calibrations, equipment.equipment_id, on)
    if latest is None:
        raise EquipmentNotUsable(
            f"Instrument {equipment.label} has never been calibrated or verified and cannot be used."
        )
    if not latest.passed:
        raise EquipmentNotUsable(
            f"Instrument {equipment.label} failed its last {latest.kind.value} on "
            f"{latest.performed_on.isoformat()} ({latest.result}) and cannot be used until it passes."
        )
    if on > latest.next_due:
        raise EquipmentNotUsable(
            f"Instrument {equipment.label}: {latest.kind.value} overdue since "
            f"{latest.next_due.isoformat()}; it cannot be used until it is recalibrated."
        )


def due_list(
    equipment_with_calibrations: Sequence[tuple[Equipment, Sequence[CalibrationEvent]]],
    today: date,
    horizon_days: int = 30,
) -> list[DueItem]:
    """Instruments overdue or due within `horizon_days`, most urgent first; out-of-service ones skipped."""
    horizon = today + timedelta(days=horizon_days)
    items: list[DueItem] = []
    for equipment, calibrations in equipment_with_calibrations:
        if equipment.status is EquipmentStatus.OUT_OF_SERVICE:
            continue
        latest = _latest(calibrations, equipment.equipment_id, today)
        if latest is None:
            # Never calibrated: the most urgent case of all, listed with no due date.
            items.append(DueItem(equipment, None, None, overdue=True, days_left=None))
            continue
        if latest.next_due <= horizon:
            days_left = (latest.next_due - today).days
            items.append(DueItem(equipment, latest.kind, latest.next_due, days_left < 0, days_left))
    return sorted(items, key=lambda i: (i.due_on is not None, i.days_left if i.days_left is not None else 0))
