"""The customs officer's pages: file a request, follow my requests, read a request and its results."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import escape

from customslab.adapters import hs_store
from customslab.domain.access import PERMISSIONS, Action, Actor
from customslab.domain.enums import OrgKind, Priority, Reason
from customslab.domain.errors import ValidationFailed
from customslab.entrypoints.api.deps import PathId
from customslab.entrypoints.web.common import Form, PageActor, flash_redirect, language, render, say, uow_of
from customslab.entrypoints.web.listing import Format, check_whole, export, listing, read_query
from customslab.entrypoints.web.lists_cases import REQUESTS, request_filter
from customslab.hs.nomenclature import HsError
from customslab.services import cases, confidentiality, federation_referral_views, queries, request_answer
from customslab.services.cases import RequestCreate, SampleCreate
from customslab.services.confidentiality import ReleaseCreate
from customslab.services.contract import parse
from customslab.services.views import OrganisationView

router = APIRouter(include_in_schema=False)

REQUEST_FIELDS = (
    "lab_code",
    "declaration_number",
    "item_number",
    "declared_hs",
    "goods_description",
    "origin_country",
    "importer",
    "declarant",
    "declared_value",
    "currency",
    "reason",
    "priority",
    "due_date",
    "question",
)


def laboratories(request: Request, actor: Actor) -> list[OrganisationView]:
    """Where a request may go: the network's laboratories, and first, for an administration without a
    laboratory, its own focal point (which registers the sample and refers it to an RCL)."""
    orgs = queries.organisations(uow_of(request))
    mine = next((o.administration_code for o in orgs if o.code == actor.org_code), None)
    focal_points = [o for o in orgs if o.kind is OrgKind.MEMBER and o.administration_code == mine]
    return focal_points + [o for o in orgs if o.kind.is_laboratory]


def _form_context(
    request: Request, actor: Actor, values: dict[str, Any], error: ValidationFailed | None = None
) -> dict[str, Any]:
    return {
        "values": values,
        "error": error,
        "labs": laboratories(request, actor),
        "reasons": [r.value for r in Reason],
        "priorities": [p.value for p in Priority],
    }


@router.get("/requests/new")
def new_request(request: Request, actor: PageActor) -> Response:
    """The request form."""
    values = {"priority": "routine", "reason": "classification", "item_number": "1"}
    return render(request, "request_form.html", _form_context(request, actor, values))


@router.post("/requests/new")
def file_request(request: Request, actor: PageActor, form: Form) -> Response:
    """File the request; a rule it breaks is shown next to its field, nothing is stored."""
    values = {k: str(form.get(k, "")).strip() for k in REQUEST_FIELDS}
    # People type codes in any case; the command takes them as ISO writes them.
    for code in ("origin_country", "currency"):
        values[code] = values[code].upper()
    data: dict[str, Any] = {k: v for k, v in values.items() if v != ""}
    determinations = str(form.get("requested_determinations", ""))
    data["requested_determinations"] = [d.strip() for d in determinations.split(",") if d.strip()]
    values["requested_determinations"] = determinations
    try:
        created = cases.file_request(uow_of(request), actor, parse(RequestCreate, data))
    except ValidationFailed as exc:
        return render(request, "request_form.html", _form_context(request, actor, values, exc), 422)
    return flash_redirect(
        request, f"/requests/{created.id}", say(request, "Request {ref} filed.", ref=created.reference)
    )


@router.get("/hs/suggest")
def hs_suggest(request: Request, actor: PageActor, declared_hs: str = "") -> HTMLResponse:
    """Nomenclature matches for what the officer typed (htmx fragment); empty when nothing is loaded."""
    text = declared_hs.strip()
    if len(text) < 2:
        return HTMLResponse("")
    db = request.app.state.db
    try:
        with db.engine.connect() as conn:
            if not hs_store.is_loaded(conn):
                return HTMLResponse("")
            hits = hs_store.search(conn, text, limit=8)
    except HsError:
        return HTMLResponse("")
    buttons = "".join(
        # static/js/page.js fills the field from data-fill/data-value (no inline script under the CSP).
        f'<button type="button" data-fill="declared_hs" data-value="{escape(h.code)}">'
        f"{escape(h.code)} — {escape(h.description[:90])}</button>"
        for h in hits
    )
    return HTMLResponse(buttons)


@router.get("/requests")
def my_requests(request: Request, actor: PageActor) -> Response:
    """The officer's requests with where each stands (a focal point's: its organisation's), searched,
    filtered, sorted and paged; a bad value in the query string is a 422 with the message."""
    query = read_query(request.query_params, REQUESTS)
    flt = request_filter(query)
    data = queries.my_requests(uow_of(request), actor, query.limit, query.offset, flt)
    context = {"data": data, "listing": listing(request, REQUESTS, query, data.total, "/requests")}
    return render(request, "my_requests.html", context)


@router.get("/requests.{fmt}")
def export_my_requests(request: Request, actor: PageActor, fmt: Format) -> Response:
    """Every request of the list's search and filter, in its order, as CSV or XLSX."""
    query = read_query(request.query_params, REQUESTS).whole()
    data = queries.my_requests(uow_of(request), actor, query.limit, 0, request_filter(query))
    check_whole(data.total)
    return export(request, REQUESTS, fmt, data.items)


@router.get("/requests/{request_id}")
def request_page(request: Request, actor: PageActor, request_id: PathId) -> Response:
    """One request: declaration data, samples and, once approved, the results; the answer (where it
    stands, the classification decided, the approved opinion, the report) also as JSON."""
    answer = request_answer.request_answer(uow_of(request), actor, request_id, language(request))
    if request.headers.get("accept", "").startswith("application/json"):
        return JSONResponse(answer.model_dump(mode="json"))
    data = queries.request_detail(uow_of(request), actor, request_id)
    can_register = data.lab_code == actor.org_code and bool(actor.roles & PERMISSIONS[Action.REGISTER_SAMPLE])
    release = confidentiality.release_panel(uow_of(request), actor, request_id)
    context = {"req": data, "can_register": can_register, "release": release, "answer": answer}
    return render(request, "request.html", context)


@router.get("/samples/{sample_id}/received-reports/{received_id}.pdf")
def received_report_pdf(
    request: Request, actor: PageActor, sample_id: PathId, received_id: PathId
) -> Response:
    """Download a report a partner's laboratory issued on a referred sample, as received."""
    filename, pdf = federation_referral_views.received_report_pdf(
        uow_of(request), actor, sample_id, received_id
    )
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{filename}"'}
    )


@router.post("/requests/{request_id}/releases")
def release_declaration(request: Request, actor: PageActor, request_id: PathId, form: Form) -> Response:
    """The sender releases declaration fields of the request to another administration."""
    data = {
        "administration_code": str(form.get("administration_code", "")),
        "fields": [str(f) for f in form.getlist("fields")],
        "reason": str(form.get("reason", "")),
    }
    out = confidentiality.release_declaration(uow_of(request), actor, request_id, parse(ReleaseCreate, data))
    message = say(
        request,
        "Released to {administration}: {fields}.",
        administration=data["administration_code"],
        fields=", ".join(r.field_name for r in out),
    )
    return flash_redirect(request, f"/requests/{request_id}#release", message)


@router.post("/requests/{request_id}/samples")
def register_sample(request: Request, actor: PageActor, request_id: PathId, form: Form) -> Response:
    """The laboratory (or a member administration's focal point) registers a sample of the request."""
    data = {k: str(form.get(k, "")) for k in ("quantity", "unit", "seal_number", "description")}
    created = cases.register_sample(uow_of(request), actor, request_id, parse(SampleCreate, data))
    return flash_redirect(
        request, f"/samples/{created.id}", say(request, "Sample {id} registered.", id=created.lab_sample_id)
    )
