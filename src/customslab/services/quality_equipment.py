"""ISO/IEC 17025 registers of instruments (6.4), with calibrations and maintenance, and reference materials.

Reference materials are 17025 6.5. Each register declares its fields once (`...Fields`, shared by the
command that adds an entry and the view that shows one) and the function with the domain's rules;
`quality_register` makes the use cases, and the API its routes. The rules themselves are in
`domain.quality.equipment`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field

from customslab.domain.access import Actor
from customslab.domain.enums import Role
from customslab.domain.errors import Conflict, ValidationFailed
from customslab.domain.quality.equipment import (
    CalibrationEvent,
    CalibrationKind,
    Equipment,
    EquipmentStatus,
    MaintenanceEntry,
    MaintenanceKind,
    ReferenceMaterial,
    assert_usable,
    due_list,
)
from customslab.services.contract import Amount, Command, Day, Flag, NonNegative, Text, View
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.quality_ports import (
    CalibrationEntry,
    EquipmentEntry,
    MaintenanceRecord,
    ReferenceMaterialEntry,
)
from customslab.services.quality_register import (
    Register,
    Step,
    fields_of,
    key,
    refusal,
    value_of,
    writers,
)

UoW = AbstractUnitOfWork
_manager = Role.LAB_MANAGER


# -- equipment (17025 6.4) --------------------------------------------------------------------
class EquipmentFields(BaseModel):
    equipment_id: Annotated[str, Text(60, 1)]
    name: Annotated[str, Text(200, 1)]
    manufacturer: Annotated[str, Text(200)] = ""
    model: Annotated[str, Text(200)] = ""
    serial_number: Annotated[str, Text(100)] = ""
    software_version: Annotated[str, Text(100)] = ""
    location: Annotated[str, Text(200)] = ""


class EquipmentCreate(EquipmentFields, Command):
    pass


class EquipmentView(EquipmentFields, View):
    id: int
    lab_code: str
    label: str
    status: EquipmentStatus
    usable_today: bool
    not_usable_because: str
    calibrations: list[CalibrationEvent]
    maintenance: list[MaintenanceEntry]


class CalibrationCreate(Command):
    kind: CalibrationKind = CalibrationKind.CALIBRATION
    performed_on: Day | None = Field(default=None, description="Defaults to today.")
    result: Annotated[str, Text(2000, 1)]
    acceptance_criteria: Annotated[str, Text(2000, 1)]
    passed: Flag = False
    next_due: Day
    certificate: Annotated[str, Text(200)] = ""


class MaintenanceCreate(Command):
    kind: MaintenanceKind = MaintenanceKind.MAINTENANCE
    occurred_on: Day | None = Field(default=None, description="Defaults to today.")
    description: Annotated[str, Text(4000, 1)]
    performed_by: Annotated[str, Text(200)] = Field(default="", description="Defaults to the signed-in user.")
    out_of_service: Flag = False
    back_in_service: Flag = False


class DueView(View):
    """An instrument overdue or due for calibration; never calibrated ones have no kind or date."""

    id: int
    label: str
    kind: CalibrationKind | None
    due_on: date | None
    overdue: bool
    days_left: int | None


def _calibrations(uow: UoW, entry: EquipmentEntry) -> list[CalibrationEvent]:
    return [c.event for c in uow.quality.find(CalibrationEntry, equipment_entry_id=entry.id)]


def _show_equipment(uow: UoW, e: EquipmentEntry) -> EquipmentView:
    cals = _calibrations(uow, e)
    why = refusal(lambda: assert_usable(e.equipment, cals, uow.clock().date()))
    return EquipmentView(
        **fields_of(e.equipment),
        id=key(e),
        lab_code=e.lab_code,
        label=e.equipment.label,
        usable_today=not why,
        not_usable_because=why,
        calibrations=cals,
        maintenance=[m.entry for m in uow.quality.find(MaintenanceRecord, equipment_entry_id=e.id)],
    )


def _new_equipment(uow: UoW, actor: Actor, cmd: EquipmentCreate) -> EquipmentEntry:
    """Register an instrument in the laboratory's equipment list."""
    if uow.quality.find(EquipmentEntry, lab_code=actor.org_code, code=cmd.equipment_id):
        raise Conflict(f"Equipment {cmd.equipment_id} is already registered in your laboratory.")
    return EquipmentEntry(actor.org_code, cmd.equipment_id, value_of(Equipment, cmd), uow.clock())


EQUIPMENT = Register(
    "equipment", "Equipment", _new_equipment, _show_equipment, writers("manage equipment", _manager)
)


def _calibrate(uow: UoW, actor: Actor, entry: EquipmentEntry, cmd: CalibrationCreate) -> None:
    """Record a calibration or verification with its result, acceptance criteria and next due date."""
    performed = cmd.performed_on or uow.clock().date()
    if cmd.next_due < performed:
        raise ValidationFailed("The next due date cannot be before the calibration date.", "next_due")
    event = value_of(CalibrationEvent, cmd, equipment_id=entry.code, performed_on=performed)
    uow.quality.add(CalibrationEntry(key(entry), event, actor.username, uow.clock()))


def _maintain(uow: UoW, actor: Actor, entry: EquipmentEntry, cmd: MaintenanceCreate) -> None:
    """Log maintenance, damage or repair; `out_of_service` and `back_in_service` change the status."""
    log = value_of(
        MaintenanceEntry,
        cmd,
        equipment_id=entry.code,
        occurred_on=cmd.occurred_on or uow.clock().date(),
        performed_by=cmd.performed_by or actor.username,
    )
    uow.quality.add(MaintenanceRecord(key(entry), log, actor.username, uow.clock()))
    if cmd.out_of_service:
        entry.equipment = replace(entry.equipment, status=EquipmentStatus.OUT_OF_SERVICE)
    elif cmd.back_in_service:
        entry.equipment = replace(entry.equipment, status=EquipmentStatus.IN_SERVICE)


record_calibration = Step(
    EQUIPMENT, "calibrations", _calibrate, writers("record a calibration", _manager), adds=True
)
record_maintenance = Step(
    EQUIPMENT, "maintenance", _maintain, writers("record maintenance", _manager, Role.ANALYST), adds=True
)


def equipment_due(uow: UoW, actor: Actor, horizon_days: int = 30, lab: str | None = None) -> list[DueView]:
    """Instruments overdue or due for calibration within the horizon, most urgent first (of the
    laboratory's own, or of `lab`, one under its central laboratory)."""
    with uow:
        return due_of(uow, actor, horizon_days, lab)


def due_of(uow: UoW, actor: Actor, horizon_days: int = 30, lab: str | None = None) -> list[DueView]:
    """Inside a unit of work: what :func:`equipment_due` returns."""
    entries = EQUIPMENT.entries(uow, actor, lab)
    ids = {e.code: key(e) for e in entries}
    items = due_list(
        [(e.equipment, _calibrations(uow, e)) for e in entries], uow.clock().date(), horizon_days
    )
    return [DueView.of_record(i, id=ids[i.equipment.equipment_id], label=i.equipment.label) for i in items]


# -- reference materials (17025 6.5) -----------------------------------------------------------
class ReferenceMaterialFields(BaseModel):
    rm_id: Annotated[str, Text(60, 1)]
    name: Annotated[str, Text(200, 1)]
    certificate: Annotated[str, Text(200, 1)]
    lot: Annotated[str, Text(60, 1)]
    expiry: Day
    unit: Annotated[str, Text(40, 1)]


class ReferenceMaterialCreate(ReferenceMaterialFields, Command):
    """A (certified) reference material: certified value ± expanded uncertainty U in `unit`."""

    certified_value: Amount
    expanded_uncertainty: NonNegative


class ReferenceMaterialView(ReferenceMaterialFields, View):
    id: int
    certified_value: float
    expanded_uncertainty: float
    expired: bool


def _show_material(uow: UoW, e: ReferenceMaterialEntry) -> ReferenceMaterialView:
    expired = e.material.is_expired(uow.clock().date())
    return ReferenceMaterialView(id=key(e), **fields_of(e.material), expired=expired)


def _new_material(uow: UoW, actor: Actor, cmd: ReferenceMaterialCreate) -> ReferenceMaterialEntry:
    """Record a (certified) reference material with its certificate, lot, expiry and value ± U."""
    material = value_of(ReferenceMaterial, cmd)
    return ReferenceMaterialEntry(actor.org_code, material, actor.username, uow.clock())


REFERENCE_MATERIALS = Register(
    "reference-materials",
    "Reference material",
    _new_material,
    _show_material,
    writers("manage reference materials", _manager),
)
