"""ISO/IEC 17025 test reports: issue, amend, read, download and verify."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, UploadFile
from fastapi.responses import Response

from customslab.adapters.federation.gate import FhirMessageGate
from customslab.domain.errors import ValidationFailed
from customslab.entrypoints.api.deps import PathId, SignedIn
from customslab.services import federation_referral_views, reports
from customslab.services.reports import ReportAmend, ReportIssue, ReportView, Verdict

router = APIRouter(prefix="/api", tags=["reports"])

#: The PDF itself, documented as binary so a generated client returns bytes.
PDF_CONTENT = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}


@router.post("/samples/{sample_id}/report", status_code=201)
def issue_report(
    sample_id: PathId,
    caller: SignedIn,
    body: Annotated[ReportIssue, Body(default_factory=ReportIssue)],
) -> ReportView:
    """Issue the ISO/IEC 17025 test report of an approved sample (the body is optional)."""
    return reports.issue_report(caller.uow, caller.actor, sample_id, body)


@router.get("/samples/{sample_id}/reports")
def sample_reports(sample_id: PathId, caller: SignedIn) -> list[ReportView]:
    """Every issued version of the sample's report."""
    return reports.reports_for_sample(caller.uow, caller.actor, sample_id)


@router.get("/reports/{entry_id:int}")
def report_detail(entry_id: PathId, caller: SignedIn) -> ReportView:
    """One issued report version."""
    return reports.report_detail(caller.uow, caller.actor, entry_id)


@router.post("/reports/{entry_id:int}/amend", status_code=201)
def amend_report(entry_id: PathId, body: ReportAmend, caller: SignedIn) -> ReportView:
    """Issue a new version that supersedes this one, with the reason."""
    return reports.amend_report(caller.uow, caller.actor, entry_id, body)


@router.get(
    "/reports/{entry_id:int}/pdf",
    response_class=Response,
    responses={200: {"description": "The issued PDF, byte for byte.", "content": PDF_CONTENT}},
)
def report_pdf(entry_id: PathId, caller: SignedIn) -> Response:
    """The issued PDF, exactly as stored."""
    name, pdf = reports.report_pdf(caller.uow, caller.actor, entry_id)
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


@router.get(
    "/samples/{sample_id}/received-reports/{received_id}/pdf",
    response_class=Response,
    responses={200: {"description": "The received PDF, byte for byte.", "content": PDF_CONTENT}},
)
def received_report_pdf(sample_id: PathId, received_id: PathId, caller: SignedIn) -> Response:
    """A report a partner's laboratory issued on the referred sample, exactly as received."""
    name, pdf = federation_referral_views.received_report_pdf(
        caller.uow, caller.actor, sample_id, received_id
    )
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


@router.post("/reports/verify")
def verify_report(file: UploadFile, request: Request, caller: SignedIn) -> Verdict:
    """Upload a report PDF: issued, superseded or unknown (a partner's report: its signature checked)."""
    limit = request.app.state.settings.max_upload_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise ValidationFailed(f"The file is larger than the limit of {limit} bytes.", field="file")
    return reports.verify_report(caller.uow, data, FhirMessageGate().report_signature_valid)
