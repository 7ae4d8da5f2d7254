"""Joint analyses: opened by an RCL between administrations, consolidated by it, exported for the WCO.

A participant's measurements and opinion go through the ordinary routes on its own sample
(`/api/samples/{id}/tests`, `/api/samples/{id}/opinions`); these routes link that sample and read the whole.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from customslab.adapters.joint_pdf import render_joint_analysis_pdf
from customslab.entrypoints.api.deps import PathId, SignedIn
from customslab.services import joint_analysis as joint
from customslab.services.joint_analysis import (
    JointAnalysisCreate,
    JointAnalysisDocument,
    JointAnalysisSummary,
    JointAnalysisView,
    JointConsolidation,
    JointSampleLink,
)

router = APIRouter(prefix="/api/joint-analyses", tags=["joint analyses"])

PDF_CONTENT = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}


@router.get("")
def list_joint_analyses(caller: SignedIn) -> list[JointAnalysisSummary]:
    """Joint analyses the caller's organisation runs or takes part in, newest first."""
    return joint.list_joint_analyses(caller.uow, caller.actor)


@router.post("", status_code=201)
def open_joint_analysis(body: JointAnalysisCreate, caller: SignedIn) -> JointAnalysisView:
    """Open a joint analysis between administrations (an RCL's network coordinator)."""
    return joint.open_joint_analysis(caller.uow, caller.actor, body)


@router.get("/{joint_analysis_id:int}")
def get_joint_analysis(joint_analysis_id: PathId, caller: SignedIn) -> JointAnalysisView:
    """A joint analysis: participants, released measurements, approved opinions, the consolidated one."""
    return joint.joint_analysis_detail(caller.uow, caller.actor, joint_analysis_id)


@router.post("/{joint_analysis_id:int}/samples")
def link_sample(joint_analysis_id: PathId, body: JointSampleLink, caller: SignedIn) -> JointAnalysisView:
    """Link the sample (or sub-sample) the caller's laboratory holds for the participant it records for."""
    return joint.link_sample(caller.uow, caller.actor, joint_analysis_id, body)


@router.post("/{joint_analysis_id:int}/consolidation")
def consolidate(joint_analysis_id: PathId, body: JointConsolidation, caller: SignedIn) -> JointAnalysisView:
    """The RCL's consolidated opinion, explaining each participant whose code differs (closes it)."""
    return joint.consolidate(caller.uow, caller.actor, joint_analysis_id, body)


@router.get("/{joint_analysis_id:int}.json")
def export_json(joint_analysis_id: PathId, caller: SignedIn) -> JointAnalysisDocument:
    """The outcome as a document for the WCO HS Committee, in JSON."""
    return joint.export_joint_analysis(caller.uow, caller.actor, joint_analysis_id)


@router.get(
    "/{joint_analysis_id:int}.pdf",
    response_class=Response,
    responses={200: {"description": "The document for the WCO HS Committee.", "content": PDF_CONTENT}},
)
def export_pdf(joint_analysis_id: PathId, caller: SignedIn) -> Response:
    """The outcome as a document for the WCO HS Committee, in PDF."""
    document = joint.export_joint_analysis(caller.uow, caller.actor, joint_analysis_id)
    return Response(
        render_joint_analysis_pdf(document),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{document.reference}.pdf"'},
    )
