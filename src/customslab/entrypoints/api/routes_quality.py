"""ISO/IEC 17025 quality records and test reports: methods, equipment, authorisations, QC, reports."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query, Request, UploadFile
from fastapi.responses import Response

from customslab.domain.errors import ValidationFailed
from customslab.entrypoints.api.deps import CurrentActor, UowFactory
from customslab.services import quality, reports

router = APIRouter(prefix="/api", tags=["quality"])
JsonBody = Body(default_factory=dict)


@router.get("/quality/methods")
def list_methods(actor: CurrentActor, uow_factory: UowFactory) -> list[dict[str, Any]]:
    """The laboratory's method catalogue and the versions published to the network."""
    return quality.list_methods(uow_factory(), actor)


@router.post("/quality/methods", status_code=201)
def create_method(
    actor: CurrentActor, uow_factory: UowFactory, body: dict[str, Any] = JsonBody
) -> dict[str, Any]:
    """Record a method version as a draft."""
    return quality.create_method_draft(uow_factory(), actor, body)


@router.get("/quality/methods/{entry_id}")
def method_detail(entry_id: int, actor: CurrentActor, uow_factory: UowFactory) -> dict[str, Any]:
    """One method version."""
    return quality.method_detail(uow_factory(), actor, entry_id)


@router.post("/quality/methods/{entry_id}/validate")
def validate_method(
    entry_id: int, actor: CurrentActor, uow_factory: UowFactory, body: dict[str, Any] = JsonBody
) -> dict[str, Any]:
    """Approve a draft as validated, with its validation data."""
    return quality.validate_method_version(uow_factory(), actor, entry_id, body.get("validation"))


@router.post("/quality/methods/{entry_id}/withdraw")
def withdraw_method(entry_id: int, actor: CurrentActor, uow_factory: UowFactory) -> dict[str, Any]:
    """Withdraw a validated version."""
    return quality.withdraw_method_version(uow_factory(), actor, entry_id)


@router.post("/quality/methods/{entry_id}/publish")
def publish_method(entry_id: int, actor: CurrentActor, uow_factory: UowFactory) -> dict[str, Any]:
    """Publish a validated version to the network."""
    return quality.publish_method(uow_factory(), actor, entry_id)


@router.post("/quality/methods/{entry_id}/adopt", status_code=201)
def adopt_method(entry_id: int, actor: CurrentActor, uow_factory: UowFactory) -> dict[str, Any]:
    """Adopt another laboratory's published version as a draft of your catalogue."""
    return quality.adopt_method(uow_factory(), actor, entry_id)


@router.get("/quality/equipment")
def list_equipment(actor: CurrentActor, uow_factory: UowFactory) -> list[dict[str, Any]]:
    """The laboratory's instruments, with whether each may be used today."""
    return quality.list_equipment(uow_factory(), actor)


@router.post("/quality/equipment", status_code=201)
def register_equipment(
    actor: CurrentActor, uow_factory: UowFactory, body: dict[str, Any] = JsonBody
) -> dict[str, Any]:
    """Register an instrument."""
    return quality.register_equipment(uow_factory(), actor, body)


@router.get("/quality/equipment/due")
def equipment_due(
    actor: CurrentActor, uow_factory: UowFactory, horizon_days: int = Query(30, ge=0, le=366)
) -> list[dict[str, Any]]:
    """Calibrations overdue or due within the horizon, most urgent first."""
    return quality.equipment_due(uow_factory(), actor, horizon_days)


@router.get("/quality/equipment/{entry_id}")
def equipment_detail(entry_id: int, actor: CurrentActor, uow_factory: UowFactory) -> dict[str, Any]:
    """One instrument with its calibrations and maintenance log."""
    return quality.equipment_detail(uow_factory(), actor, entry_id)


@router.post("/quality/equipment/{entry_id}/calibrations", status_code=201)
def record_calibration(
    entry_id: int, actor: CurrentActor, uow_factory: UowFactory, body: dict[str, Any] = JsonBody
) -> dict[str, Any]:
    """Record a calibration or verification."""
    return quality.record_calibration(uow_factory(), actor, entry_id, body)


@router.post("/quality/equipment/{entry_id}/maintenance", status_code=201)
def record_maintenance(
    entry_id: int, actor: CurrentActor, uow_factory: UowFactory, body: dict[str, Any] = JsonBody
) -> dict[str, Any]:
    """Log maintenance, damage or repair (and take the instrument out of or back into service)."""
    return quality.record_maintenance(uow_factory(), actor, entry_id, body)


@router.get("/quality/reference-materials")
def list_reference_materials(actor: CurrentActor, uow_factory: UowFactory) -> list[dict[str, Any]]:
    """The laboratory's reference materials."""
    return quality.list_reference_materials(uow_factory(), actor)


@router.post("/quality/reference-materials", status_code=201)
def add_reference_material(
    actor: CurrentActor, uow_factory: UowFactory, body: dict[str, Any] = JsonBody
) -> dict[str, Any]:
    """Record a reference material."""
    return quality.add_reference_material(uow_factory(), actor, body)


@router.post("/quality/training", status_code=201)
def record_training(
    actor: CurrentActor, uow_factory: UowFactory, body: dict[str, Any] = JsonBody
) -> dict[str, Any]:
    """Record completed training."""
    return quality.record_training(uow_factory(), actor, body)


@router.get("/quality/authorisations")
def list_authorisations(actor: CurrentActor, uow_factory: UowFactory) -> list[dict[str, Any]]:
    """The laboratory's analyst and reviewer authorisations."""
    return quality.list_authorisations(uow_factory(), actor)


@router.post("/quality/authorisations", status_code=201)
def grant_authorisation(
    actor: CurrentActor, uow_factory: UowFactory, body: dict[str, Any] = JsonBody
) -> dict[str, Any]:
    """Authorise a staff member as analyst or reviewer."""
    return quality.grant_authorisation(uow_factory(), actor, body)


@router.post("/quality/authorisations/{entry_id}/revoke")
def revoke_authorisation(entry_id: int, actor: CurrentActor, uow_factory: UowFactory) -> dict[str, Any]:
    """Revoke an authorisation."""
    return quality.revoke_authorisation(uow_factory(), actor, entry_id)


@router.get("/quality/qc-batches")
def list_qc_batches(actor: CurrentActor, uow_factory: UowFactory) -> list[dict[str, Any]]:
    """The laboratory's QC batches with their Westgard status."""
    return quality.list_qc_batches(uow_factory(), actor)


@router.post("/quality/qc-batches", status_code=201)
def record_qc_batch(
    actor: CurrentActor, uow_factory: UowFactory, body: dict[str, Any] = JsonBody
) -> dict[str, Any]:
    """Record a QC series; the Westgard evaluation is stored with it."""
    return quality.record_qc_batch(uow_factory(), actor, body)


@router.get("/quality/qc-batches/{entry_id}")
def qc_batch_detail(entry_id: int, actor: CurrentActor, uow_factory: UowFactory) -> dict[str, Any]:
    """One QC batch, its violations and corrective actions."""
    return quality.qc_batch_detail(uow_factory(), actor, entry_id)


@router.get("/quality/qc-batches/{entry_id}/chart.svg")
def qc_chart(entry_id: int, actor: CurrentActor, uow_factory: UowFactory) -> Response:
    """The Levey–Jennings chart of a QC batch."""
    return Response(quality.qc_chart_svg(uow_factory(), actor, entry_id), media_type="image/svg+xml")


@router.post("/quality/qc-batches/{entry_id}/corrective-actions", status_code=201)
def record_corrective_action(
    entry_id: int, actor: CurrentActor, uow_factory: UowFactory, body: dict[str, Any] = JsonBody
) -> dict[str, Any]:
    """Record a corrective action on an out-of-control batch."""
    return quality.record_corrective_action(uow_factory(), actor, entry_id, str(body.get("description", "")))


@router.post("/samples/{sample_id}/report", status_code=201)
def issue_report(
    sample_id: int, actor: CurrentActor, uow_factory: UowFactory, body: dict[str, Any] = JsonBody
) -> dict[str, Any]:
    """Issue the ISO/IEC 17025 test report of an approved sample."""
    return reports.issue_report(uow_factory(), actor, sample_id, body)


@router.get("/samples/{sample_id}/reports")
def sample_reports(sample_id: int, actor: CurrentActor, uow_factory: UowFactory) -> list[dict[str, Any]]:
    """Every issued version of the sample's report."""
    return reports.reports_for_sample(uow_factory(), actor, sample_id)


@router.get("/reports/{entry_id}")
def report_detail(entry_id: int, actor: CurrentActor, uow_factory: UowFactory) -> dict[str, Any]:
    """One issued report version."""
    return reports.report_detail(uow_factory(), actor, entry_id)


@router.post("/reports/{entry_id}/amend", status_code=201)
def amend_report(
    entry_id: int, actor: CurrentActor, uow_factory: UowFactory, body: dict[str, Any] = JsonBody
) -> dict[str, Any]:
    """Issue a new version that supersedes this one, with the reason."""
    return reports.amend_report(uow_factory(), actor, entry_id, str(body.get("reason", "")), body)


@router.get("/reports/{entry_id}/pdf")
def report_pdf(entry_id: int, actor: CurrentActor, uow_factory: UowFactory) -> Response:
    """The issued PDF, exactly as stored."""
    name, pdf = reports.report_pdf(uow_factory(), actor, entry_id)
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


@router.post("/reports/verify")
def verify_report(
    file: UploadFile, request: Request, actor: CurrentActor, uow_factory: UowFactory
) -> dict[str, Any]:
    """Upload a report PDF: issued, superseded or unknown."""
    limit = request.app.state.settings.max_upload_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise ValidationFailed(f"The file is larger than the limit of {limit} bytes.", field="file")
    return reports.verify_report(uow_factory(), data)
