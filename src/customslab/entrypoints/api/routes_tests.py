"""Tests on samples: plan, assign, results, files, review, spectral identification."""

from __future__ import annotations

from fastapi import APIRouter, Request, UploadFile

from customslab.entrypoints.api.deps import CurrentActor, PathId, UowFactory
from customslab.services import analysis, identification
from customslab.services.analysis import ResultCreate, ReviewDecision, TestAssign, TestCreate, TestProgress
from customslab.services.identification import Identified, IdentifyRequest
from customslab.services.views import AttachmentView, ResultView, TestView

router = APIRouter(prefix="/api", tags=["tests"])


@router.post("/samples/{sample_id}/tests", status_code=201)
def add_test(sample_id: PathId, body: TestCreate, actor: CurrentActor, uow_factory: UowFactory) -> TestView:
    """Plan a determination on a received sample."""
    return analysis.add_test(uow_factory(), actor, sample_id, body)


@router.post("/tests/{test_id}/assign")
def assign_test(test_id: PathId, body: TestAssign, actor: CurrentActor, uow_factory: UowFactory) -> TestView:
    """Assign the test to an analyst of the laboratory."""
    return analysis.assign_test(uow_factory(), actor, test_id, body)


@router.post("/tests/{test_id}/results", status_code=201)
def enter_result(
    test_id: PathId, body: ResultCreate, actor: CurrentActor, uow_factory: UowFactory
) -> ResultView:
    """Enter a result with unit, expanded uncertainty and coverage factor."""
    return analysis.enter_result(uow_factory(), actor, test_id, body)


@router.post("/tests/{test_id}/files", status_code=201)
def attach_file(
    test_id: PathId, file: UploadFile, request: Request, actor: CurrentActor, uow_factory: UowFactory
) -> AttachmentView:
    """Attach a raw instrument file (stored by sha256)."""
    return analysis.attach_file(
        uow_factory(),
        actor,
        test_id,
        filename=file.filename or "",
        media_type=file.content_type or "application/octet-stream",
        stream=file.file,
        max_bytes=request.app.state.settings.max_upload_bytes,
    )


@router.post("/tests/{test_id}/submit")
def submit_test(test_id: PathId, actor: CurrentActor, uow_factory: UowFactory) -> TestProgress:
    """Send the test for review."""
    return analysis.submit_test(uow_factory(), actor, test_id)


@router.post("/tests/{test_id}/review")
def review_test(
    test_id: PathId, body: ReviewDecision, actor: CurrentActor, uow_factory: UowFactory
) -> TestProgress:
    """Approve the test, or return it for retest with a reason."""
    return analysis.review_test(uow_factory(), actor, test_id, body)


@router.get("/libraries")
def list_libraries(request: Request, actor: CurrentActor) -> list[str]:
    """Names of the spectral libraries a spectrum can be searched against."""
    names: list[str] = request.app.state.libraries.names()
    return names


@router.post("/tests/{test_id}/identify")
def identify_spectrum(
    test_id: PathId, body: IdentifyRequest, request: Request, actor: CurrentActor, uow_factory: UowFactory
) -> Identified:
    """Search a spectrum attached to the test against a library; keep=true stores the hit list."""
    return identification.identify_attachment(
        uow_factory(), actor, request.app.state.libraries, test_id, body
    )
