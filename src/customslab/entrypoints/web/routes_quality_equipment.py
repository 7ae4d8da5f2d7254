"""The equipment register's pages: instruments with their calibrations and maintenance, and reference
materials.

Each form posts to the use case the API's `/api/quality/equipment` and `/api/quality/reference-materials`
routes call, with the same command.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from customslab.entrypoints.api.deps import PathId
from customslab.entrypoints.web.common import Form, PageActor, flash_redirect, render, say, uow_of
from customslab.entrypoints.web.quality_forms import command
from customslab.services.quality_equipment import (
    EQUIPMENT,
    REFERENCE_MATERIALS,
    CalibrationCreate,
    EquipmentCreate,
    MaintenanceCreate,
    ReferenceMaterialCreate,
    record_calibration,
    record_maintenance,
)
from customslab.services.quality_pages import equipment_page, instrument_page

router = APIRouter(include_in_schema=False)


@router.get("/quality/equipment")
def equipment(request: Request, actor: PageActor) -> Response:
    """Instruments, the calibrations due, and reference materials of the laboratory."""
    page = equipment_page(uow_of(request), actor, request.query_params.get("lab") or None)
    return render(request, "quality_equipment.html", {"page": page})


@router.post("/quality/equipment")
def add_equipment(request: Request, actor: PageActor, form: Form) -> Response:
    """Register an instrument."""
    out = EQUIPMENT.record(uow_of(request), actor, command(request, EquipmentCreate, form))
    return flash_redirect(
        request, f"/quality/equipment/{out.id}", say(request, "{label} registered.", label=out.label)
    )


@router.get("/quality/equipment/{entry_id}")
def instrument(request: Request, actor: PageActor, entry_id: PathId) -> Response:
    """One instrument: its details, calibrations and maintenance log."""
    page = instrument_page(uow_of(request), actor, entry_id)
    return render(request, "quality_instrument.html", {"page": page, "e": page.equipment})


@router.post("/quality/equipment/{entry_id}/calibrations")
def calibrate(request: Request, actor: PageActor, entry_id: PathId, form: Form) -> Response:
    """Record a calibration or verification with its result and next due date."""
    cmd = command(request, CalibrationCreate, form)
    out = record_calibration(uow_of(request), actor, entry_id, cmd)
    return flash_redirect(
        request,
        f"/quality/equipment/{entry_id}#calibrations",
        say(request, "Calibration of {label} recorded.", label=out.label),
    )


@router.post("/quality/equipment/{entry_id}/maintenance")
def maintain(request: Request, actor: PageActor, entry_id: PathId, form: Form) -> Response:
    """Log maintenance, damage or repair, taking the instrument out of or back into service."""
    cmd = command(request, MaintenanceCreate, form)
    out = record_maintenance(uow_of(request), actor, entry_id, cmd)
    return flash_redirect(
        request,
        f"/quality/equipment/{entry_id}#maintenance",
        say(request, "Maintenance of {label} recorded.", label=out.label),
    )


@router.post("/quality/reference-materials")
def add_reference_material(request: Request, actor: PageActor, form: Form) -> Response:
    """Record a (certified) reference material."""
    out = REFERENCE_MATERIALS.record(uow_of(request), actor, command(request, ReferenceMaterialCreate, form))
    return flash_redirect(
        request,
        "/quality/equipment#reference-materials",
        say(request, "Reference material {name} recorded.", name=out.name),
    )
