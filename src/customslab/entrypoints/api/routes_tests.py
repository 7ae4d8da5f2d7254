"""Tests on samples: plan, assign, results, files, review, spectral identification."""

from __future__ import annotations

from fastapi import APIRouter, Request, UploadFile

from customslab.entrypoints.api.deps import CurrentActor, PathId, SignedIn
from customslab.entrypoints.uploads import attach_upload
from customslab.services import analysis, identification
from customslab.services.analysis import ResultCreate, ReviewDecision, TestAssign, TestCreate, TestProgress
from customslab.services.identification import Identified, IdentifyRequest
from customslab.services.views import AttachmentView, ResultView, TestView

router = APIRouter(prefix="/api", tags=["tests"])


@router.post("/samples/{sample_id}/tests", status_code=201)
def add_test(sample_id: PathId, body: TestCreate, caller: SignedIn) -> TestView:
    """Plan a determination on a received sample."""
    return analysis.add_test(caller.uow, caller.actor, sample_id, body)


@router.post("/tests/{test_id}/assign")
def assign_test(test_id: PathId, body: TestAssign, caller: SignedIn) -> TestView:
    """Assign the test to an analyst of the laboratory."""
    return analysis.assign_test(caller.uow, caller.actor, test_id, body)


@router.post("/tests/{test_id}/results", status_code=201)
def enter_result(test_id: PathId, body: ResultCreate, request: Request, caller: SignedIn) -> ResultView:
    """Enter a result with unit, expanded uncertainty and coverage factor."""
    return analysis.enter_result(caller.uow, caller.actor, test_id, body, request.app.state.substances)


@router.post("/tests/{test_id}/files", status_code=201)
def attach_file(test_id: PathId, file: UploadFile, request: Request, caller: SignedIn) -> AttachmentView:
    """Attach a raw instrument file (stored by sha256)."""
    return attach_upload(request, caller.uow, caller.actor, test_id, file)


@router.post("/tests/{test_id}/submit")
def submit_test(test_id: PathId, caller: SignedIn) -> TestProgress:
    """Send the test for review."""
    return analysis.submit_test(caller.uow, caller.actor, test_id)


@router.post("/tests/{test_id}/review")
def review_test(test_id: PathId, body: ReviewDecision, request: Request, caller: SignedIn) -> TestProgress:
    """Approve the test, or return it for retest with a reason."""
    return analysis.review_test(caller.uow, caller.actor, test_id, body, request.app.state.substances)


@router.get("/libraries")
def list_libraries(request: Request, actor: CurrentActor) -> list[str]:
    """Names of the spectral libraries a spectrum can be searched against."""
    names: list[str] = request.app.state.libraries.names()
    return names


@router.post("/tests/{test_id}/identify")
def identify_spectrum(
    test_id: PathId, body: IdentifyRequest, request: Request, caller: SignedIn
) -> Identified:
    """Search a spectrum attached to the test against a library, each hit with its control status;
    keep=true stores the hit list."""
    return identification.identify_attachment(
        caller.uow, caller.actor, request.app.state.libraries, test_id, body, request.app.state.substances
    )
