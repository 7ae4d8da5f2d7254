"""Joint-analysis pages: the list with the coordinator's form to open one, and the page of one joint
analysis with the forms to link a sample and to consolidate, and its JSON and PDF for the WCO."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from customslab.adapters.joint_pdf import render_joint_analysis_pdf
from customslab.domain.access import LAB_STAFF, Actor
from customslab.domain.enums import Role
from customslab.entrypoints.api.deps import PathId
from customslab.entrypoints.web.common import Form, PageActor, flash_redirect, render, say, uow_of
from customslab.entrypoints.web.listing import Format, check_whole, export, listing, read_query
from customslab.entrypoints.web.lists_admin import JOINT, joint_rows
from customslab.services import joint_analysis as joint
from customslab.services.contract import parse
from customslab.services.joint_analysis import JointAnalysisCreate, JointConsolidation, JointSampleLink

router = APIRouter(include_in_schema=False)

#: Participant rows on the form that opens a joint analysis; empty rows are left out.
PARTICIPANT_ROWS = 4


def _is_coordinator(actor: Actor) -> bool:
    return actor.has(Role.NETWORK_COORDINATOR)


@router.get("/joint-analyses")
def joint_list(request: Request, actor: PageActor) -> Response:
    """The joint analyses the organisation runs or takes part in, searched, filtered, sorted and paged;
    coordinators open new ones here."""
    query = read_query(request.query_params, JOINT)
    rows, total = joint_rows(request, actor, query)
    context = {
        "analyses": rows,
        "listing": listing(request, JOINT, query, total, "/joint-analyses"),
        "choices": joint.joint_choices(uow_of(request)) if _is_coordinator(actor) else None,
        "rows": range(PARTICIPANT_ROWS),
    }
    return render(request, "joint_list.html", context)


@router.get("/joint-analyses.{fmt}")
def export_joint_list(request: Request, actor: PageActor, fmt: Format) -> Response:
    """Every joint analysis of the list's search and filter, in its order, as CSV or XLSX."""
    rows, total = joint_rows(request, actor, read_query(request.query_params, JOINT).whole())
    check_whole(total)
    return export(request, JOINT, fmt, rows)


@router.post("/joint-analyses")
def open_joint(request: Request, actor: PageActor, form: Form) -> Response:
    """Open a joint analysis from the form: the product and one row per participating administration."""
    participants = []
    for row in range(PARTICIPANT_ROWS):
        fields = {
            k: str(form.get(f"{k}-{row}", "")).strip()
            for k in ("administration_code", "declared_code", "lab_code")
        }
        if fields["administration_code"] or fields["declared_code"]:
            participants.append({k: v for k, v in fields.items() if v})
    data = {"product": str(form.get("product", "")), "participants": participants}
    opened = joint.open_joint_analysis(uow_of(request), actor, parse(JointAnalysisCreate, data))
    return flash_redirect(
        request,
        f"/joint-analyses/{opened.id}",
        say(request, "Joint analysis {ref} opened.", ref=opened.reference),
    )


@router.get("/joint-analyses/{joint_analysis_id:int}")
def joint_page(request: Request, actor: PageActor, joint_analysis_id: PathId) -> Response:
    """One joint analysis: participants, measurements, opinions, the consolidated opinion and the forms."""
    view = joint.joint_analysis_detail(uow_of(request), actor, joint_analysis_id)
    is_open = view.state == "open"
    recording = [p for p in view.participants if p.lab_code == actor.org_code]
    can_link = is_open and bool(recording) and actor.has(*LAB_STAFF, Role.NETWORK_COORDINATOR)
    context = {
        "j": view,
        "recording": recording,
        "samples": joint.linkable_samples(uow_of(request), actor, joint_analysis_id) if can_link else [],
        "can": {
            "link": can_link,
            "consolidate": is_open and _is_coordinator(actor) and view.rcl_code == actor.org_code,
        },
    }
    return render(request, "joint_detail.html", context)


@router.post("/joint-analyses/{joint_analysis_id:int}/samples")
def link(request: Request, actor: PageActor, joint_analysis_id: PathId, form: Form) -> Response:
    """Link a sample the laboratory holds for the participant it records for."""
    data = {k: str(form.get(k, "")).strip() for k in ("sample_id", "administration_code")}
    joint.link_sample(uow_of(request), actor, joint_analysis_id, parse(JointSampleLink, data))
    return flash_redirect(request, f"/joint-analyses/{joint_analysis_id}", say(request, "Sample linked."))


@router.post("/joint-analyses/{joint_analysis_id:int}/consolidation")
def consolidate(request: Request, actor: PageActor, joint_analysis_id: PathId, form: Form) -> Response:
    """The RCL's consolidated opinion, with one explanation field per participant."""
    explanations = [
        {"administration_code": str(key).removeprefix("explanation-"), "explanation": str(value).strip()}
        for key, value in form.multi_items()
        if str(key).startswith("explanation-") and str(value).strip()
    ]
    data = {
        "determined_code": str(form.get("determined_code", "")),
        "reasoning": str(form.get("reasoning", "")),
        "explanations": explanations,
    }
    out = joint.consolidate(uow_of(request), actor, joint_analysis_id, parse(JointConsolidation, data))
    return flash_redirect(
        request,
        f"/joint-analyses/{joint_analysis_id}",
        say(request, "Joint analysis {ref} consolidated.", ref=out.reference),
    )


@router.get("/joint-analyses/{joint_analysis_id:int}.json")
def joint_json(request: Request, actor: PageActor, joint_analysis_id: PathId) -> Response:
    """The document for the WCO HS Committee, in JSON (the same as /api/joint-analyses/{id}.json)."""
    document = joint.export_joint_analysis(uow_of(request), actor, joint_analysis_id)
    return Response(
        document.model_dump_json(indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{document.reference}.json"'},
    )


@router.get("/joint-analyses/{joint_analysis_id:int}.pdf")
def joint_pdf(request: Request, actor: PageActor, joint_analysis_id: PathId) -> Response:
    """The document for the WCO HS Committee, in PDF."""
    document = joint.export_joint_analysis(uow_of(request), actor, joint_analysis_id)
    return Response(
        render_joint_analysis_pdf(document),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{document.reference}.pdf"'},
    )
