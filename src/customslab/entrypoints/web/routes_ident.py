"""Spectral identification on a test: upload or pick a spectrum, search a library, plot, keep the hits."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from customslab.domain.access import Actor
from customslab.domain.errors import NotFound, ValidationFailed
from customslab.entrypoints.api.deps import PathId
from customslab.entrypoints.uploads import attach_upload, uploaded_file
from customslab.entrypoints.web.common import Form, PageActor, flash_redirect, render, say, uow_of
from customslab.entrypoints.web.routes_lab import _sample_of_test
from customslab.services import identification, queries, substances
from customslab.services.contract import View
from customslab.services.identification import SearchResult
from customslab.services.queries import SampleDetail
from customslab.services.views import SpectralHit, TestView
from customslab.spectra.confidence import RELIABLE
from customslab.spectra.model import Spectrum, Technique

router = APIRouter(include_in_schema=False)


def _test_and_sample(request: Request, actor: Actor, test_id: int) -> tuple[TestView, SampleDetail]:
    sample_id = _sample_of_test(request, actor, test_id)
    detail = queries.sample_detail(uow_of(request), actor, sample_id)
    test = next((t for t in detail.tests if t.id == test_id), None)
    if test is None:
        raise NotFound(f"Test {test_id} was not found.")
    return test, detail


LIBRARY_TITLES = {"default": "Reference library: MassBank GC-EI-MS, MPX and RaMPP polymer FTIR/Raman"}


def _libraries(request: Request) -> dict[str, dict[str, str]]:
    names = request.app.state.libraries.names()
    return {n: {"title": LIBRARY_TITLES.get(n, n)} for n in names}


def _query_spectrum(request: Request, test: TestView, sha256: str) -> Spectrum:
    attachment = next((a for a in test.attachments if a.sha256 == sha256), None)
    if attachment is None:
        raise ValidationFailed("Pick a file attached to this test.", field="attachment")
    uow = uow_of(request)
    with uow, uow.files.open(sha256) as handle:
        data = handle.read()
    return identification.read_query(data, attachment.filename)


def _search(
    request: Request, actor: Actor, test: TestView, sha256: str, library: str
) -> tuple[Spectrum, SearchResult]:
    if library not in _libraries(request):
        raise ValidationFailed(f"There is no spectral library '{library}'.", field="library")
    query = _query_spectrum(request, test, sha256)
    register = substances.register_for_test(uow_of(request), actor, request.app.state.substances, test.id)
    return query, identification.search_spectrum(request.app.state.libraries, query, library, 10, register)


class MirrorPlot(View):
    """uPlot data: query up, library hit down, both scaled to 100 at their largest value."""

    x: list[float]
    query: list[float | None]
    hit: list[float | None]
    query_name: str
    hit_name: str


def _mirror_plot(query: Spectrum, hit_x: list[float], hit_y: list[float], hit_name: str) -> MirrorPlot:
    """Both spectra binned on one axis (whole m/z for EI-MS, 0.1 cm-1 otherwise) so uPlot draws them."""

    def sticks(xs: Any, ys: Any) -> dict[float, float]:
        top = max((abs(float(y)) for y in ys), default=1.0) or 1.0
        out: dict[float, float] = {}
        for x, y in zip(xs, ys, strict=True):
            key = round(float(x), 0 if query.technique is Technique.EI_MS else 1)
            out[key] = max(out.get(key, 0.0), float(y) / top * 100.0)
        return out

    q, h = sticks(query.x, query.y), sticks(hit_x, hit_y)
    xs = sorted(set(q) | set(h))
    return MirrorPlot(
        x=xs,
        query=[round(q[x], 2) if x in q else None for x in xs],
        hit=[-round(h[x], 2) if x in h else None for x in xs],
        query_name=query.name or "query",
        hit_name=hit_name,
    )


def _chosen(hits: list[SpectralHit], rank: int) -> SpectralHit:
    """The hit of the given rank (the best when there is none); a search without hits is an error."""
    if not hits:
        raise ValidationFailed("No spectrum of this technique in the library matches.", field="file")
    return next((h for h in hits if h.rank == rank), hits[0])


@router.get("/tests/{test_id}/identify")
def identify_page(
    request: Request,
    actor: PageActor,
    test_id: PathId,
    attachment: str = "",
    library: str = "default",
    hit: int = 1,
) -> Response:
    """The identification page: choose a spectrum and a library; hits, scores and a mirror plot."""
    test, sample = _test_and_sample(request, actor, test_id)
    context: dict[str, object] = {
        "test": test,
        "s": sample,
        "libraries": _libraries(request),
        "library": library,
        "attachment": attachment,
        "result": None,
        "plot": None,
        "hit": hit,
        "error": None,
        "reliable_threshold": RELIABLE,
    }
    if attachment:
        try:
            query, result = _search(request, actor, test, attachment, library)
            chosen = _chosen(result.hits, hit)
            hit_x, hit_y = identification.library_spectrum(request.app.state.libraries, library, chosen.row)
            plot = _mirror_plot(query, hit_x, hit_y, chosen.name)
            context |= {
                "result": result,
                "plot": Markup(json.dumps(plot.model_dump()).replace("</", "<\\/")),
                "chosen": chosen,
            }
        except ValidationFailed as exc:
            context["error"] = exc
    return render(request, "identify.html", context)


@router.post("/tests/{test_id}/identify/upload")
def upload_spectrum(request: Request, actor: PageActor, test_id: PathId, form: Form) -> Response:
    """Attach the spectrum file to the test, then search it."""
    upload = uploaded_file(form, "Choose a spectrum file to upload.")
    _test_and_sample(request, actor, test_id)
    # Spectrum files are text exports (MSP, JCAMP-DX, CSV): sent without a type, they are stored as text.
    out = attach_upload(request, uow_of(request), actor, test_id, upload, media_type="text/plain")
    library = str(form.get("library") or "default")
    return flash_redirect(
        request,
        f"/tests/{test_id}/identify?attachment={out.sha256}&library={library}",
        say(request, "File {name} attached.", name=out.filename),
    )


@router.post("/tests/{test_id}/identify")
def record(request: Request, actor: PageActor, test_id: PathId, form: Form) -> Response:
    """Keep the hit list with the test (the search is run again here; the browser's copy is not trusted)."""
    test, sample = _test_and_sample(request, actor, test_id)
    sha = str(form.get("attachment", ""))
    _, result = _search(request, actor, test, sha, str(form.get("library", "default")))
    best = _chosen(result.hits, 1)
    identification.record_identification(uow_of(request), actor, test_id, sha, result)
    return flash_redirect(
        request,
        f"/samples/{sample.id}#test-{test_id}",
        say(
            request,
            "Identification attached to the test: {name} ({score}).",
            name=best.name,
            score=best.score,
        ),
    )


@router.post("/tests/{test_id}/identify/result")
def record_as_result(request: Request, actor: PageActor, test_id: PathId, form: Form) -> Response:
    """Keep the hit list and record the chosen hit as the test's identity result, in one step."""
    test, sample = _test_and_sample(request, actor, test_id)
    sha = str(form.get("attachment", ""))
    _, result = _search(request, actor, test, sha, str(form.get("library", "default")))
    rank = str(form.get("hit") or "1").strip()
    if not rank.isdigit():
        raise ValidationFailed(f"'{rank}' is not the rank of a hit.", field="hit")
    chosen = _chosen(result.hits, int(rank))
    out = identification.record_identity_result(
        uow_of(request), actor, test_id, sha, result, chosen.name, request.app.state.substances
    )
    return flash_redirect(
        request,
        f"/samples/{sample.id}#test-{test_id}",
        say(request, "Identity result recorded: {name}.", name=out.text_value),
    )
