"""The internal quality control pages: QC batches with their Westgard evaluation, and corrective actions.

Each form posts to the use case the API's `/api/quality/qc-batches` routes call, with the same command.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from customslab.entrypoints.api.deps import PathId
from customslab.entrypoints.web.common import Form, PageActor, flash_redirect, render, say, uow_of
from customslab.entrypoints.web.quality_forms import command
from customslab.services.quality_control import (
    QC_BATCHES,
    CorrectiveActionCreate,
    QcBatchCreate,
    record_corrective_action,
)
from customslab.services.quality_pages import qc_batch_page, qc_page

router = APIRouter(include_in_schema=False)


@router.get("/quality/qc")
def batches(request: Request, actor: PageActor) -> Response:
    """The laboratory's QC batches, in or out of control, and whether their results may be released."""
    page = qc_page(uow_of(request), actor, request.query_params.get("lab") or None)
    return render(request, "quality_qc.html", {"page": page})


@router.post("/quality/qc")
def add_batch(request: Request, actor: PageActor, form: Form) -> Response:
    """Record a QC batch: its control values are evaluated against the Westgard rules as it is stored."""
    out = QC_BATCHES.record(uow_of(request), actor, command(request, QcBatchCreate, form, words=("points",)))
    return flash_redirect(
        request,
        f"/quality/qc/{out.id}",
        say(request, "QC batch {id} recorded: {status}.", id=out.batch.batch_id, status=out.status.value),
    )


@router.get("/quality/qc/{entry_id}")
def batch(request: Request, actor: PageActor, entry_id: PathId) -> Response:
    """One QC batch: its Levey–Jennings chart, control values, violations and corrective actions."""
    page = qc_batch_page(uow_of(request), actor, entry_id)
    # The chart is SVG written by domain/quality/charts.py, which escapes every text it draws.
    return render(
        request, "quality_qc_batch.html", {"page": page, "b": page.batch, "chart": Markup(page.chart)}
    )


@router.post("/quality/qc/{entry_id}/corrective-actions")
def correct(request: Request, actor: PageActor, entry_id: PathId, form: Form) -> Response:
    """Record what was done about an out-of-control batch."""
    record_corrective_action(uow_of(request), actor, entry_id, command(request, CorrectiveActionCreate, form))
    return flash_redirect(
        request, f"/quality/qc/{entry_id}#corrective-actions", say(request, "Corrective action recorded.")
    )
