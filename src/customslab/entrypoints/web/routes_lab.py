"""The laboratory's pages: queue, my work, the sample page with its actions, the printable label."""

from __future__ import annotations

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from customslab.domain.access import PERMISSIONS, Action, Actor
from customslab.domain.enums import OrgKind, Role
from customslab.domain.errors import NotFound, ValidationFailed
from customslab.domain.workflow import referable_states
from customslab.entrypoints.api.deps import PathId
from customslab.entrypoints.uploads import attach_upload, uploaded_file
from customslab.entrypoints.web import analysis_forms, lists_cases
from customslab.entrypoints.web.common import Form, PageActor, flash_redirect, render, say, uow_of
from customslab.entrypoints.web.listing import listing
from customslab.entrypoints.web.routes_knowledge import related_context
from customslab.services import analysis, cases, dashboard, federation_referrals, queries, referrals, reports
from customslab.services.analysis import ReviewDecision, TestAssign
from customslab.services.cases import CustodyCreate, SampleReceipt
from customslab.services.contract import parse
from customslab.services.ports import QueueFilter
from customslab.services.referrals import ReferralCreate, ShareCreate

router = APIRouter(include_in_schema=False)

PAGE = 50


def _queue_filter(params: dict[str, str], analyst_id: int | None = None) -> QueueFilter:
    """Translate the query string into a QueueFilter; a bad value is a plain-language error."""
    return lists_cases.queue_filter(params, analyst_id)


def _queue_page(request: Request, actor: Actor, title: str, analyst_id: int | None) -> Response:
    params = dict(request.query_params)
    partial = bool(request.headers.get("hx-request"))
    status = 200
    try:
        flt = _queue_filter(params, analyst_id)
        lab = params.get("lab") or None
        data = queries.lab_queue(uow_of(request), actor, flt, lab_code=lab)
        error = None
    except ValidationFailed as exc:
        flt = QueueFilter(limit=PAGE)
        data = queries.QueuePage(lab_code=actor.org_code, total=0, limit=PAGE, offset=0, items=[])
        # htmx swaps only a 2xx answer: the fragment with the message comes as 200, the page as 422.
        error, status = exc, 200 if partial else 422
    export_path = "/queue" if analyst_id is None else "/my-work"
    context = {
        # New requests are the actor's own laboratory's to take in, not an overseen laboratory's.
        "incoming": dashboard.incoming_requests(uow_of(request), actor)
        if analyst_id is None and data.lab_code == actor.org_code
        else [],
        "listing": listing(
            request,
            lists_cases.QUEUE,
            lists_cases.queue_query(flt),
            data.total,
            export_path,
            data.total_exact,
        ),
        "title": title,
        "data": data,
        "params": params,
        "error": error,
    }
    # A partial answer also swaps the heading's laboratory, which the chooser may have changed.
    context["partial"] = partial
    return render(request, "_queue_rows.html" if partial else "queue.html", context, status)


@router.get("/queue")
def queue(request: Request, actor: PageActor) -> Response:
    """The laboratory's open work, filtered and sorted; urgent and overdue stand out."""
    return _queue_page(request, actor, "Laboratory queue", None)


@router.get("/my-work")
def my_work(request: Request, actor: PageActor) -> Response:
    """The tests assigned to the signed-in analyst."""
    return _queue_page(request, actor, "My work", actor.user_id)


def _staff_names(request: Request, org_code: str) -> dict[int, str]:
    uow = uow_of(request)
    with uow:
        return {u.id: u.full_name or u.username for u in uow.repo.users(org_code) if u.id is not None}


def _analysts(request: Request, org_code: str) -> list[tuple[int, str]]:
    uow = uow_of(request)
    with uow:
        return [
            (u.id, u.full_name or u.username)
            for u in uow.repo.users(org_code)
            if u.id is not None and Role.ANALYST in u.roles and u.active
        ]


@router.get("/samples/{sample_id}")
def sample_page(request: Request, actor: PageActor, sample_id: PathId) -> Response:
    """A sample: its request, custody timeline, tests with results and files, referrals and history."""
    detail = queries.sample_detail(uow_of(request), actor, sample_id)
    in_progress = actor.sees_work_in_progress
    history = queries.entity_history(uow_of(request), actor, sample_id) if in_progress else []
    orgs = queries.organisations(uow_of(request))
    labs = [o for o in orgs if o.kind.value in ("central", "local", "rcl")]
    holder = next((o.kind for o in orgs if o.code == actor.org_code), None)
    if holder is OrgKind.MEMBER:
        labs.sort(key=lambda o: not o.is_rcl)  # a member without a laboratory refers to an RCL
    held = detail.held_by_me
    state = detail.state.value

    def may(action: Action) -> bool:
        return bool(actor.roles & PERMISSIONS[action])

    context = {
        "s": detail,
        "reports": reports.reports_for_sample(uow_of(request), actor, sample_id),
        "history": history,
        # The names of the holding laboratory's analysts (an overseeing central laboratory's staff read
        # a local laboratory's sample); officers and focal points see their own organisation's only.
        "names": _staff_names(request, detail.lab_code if in_progress else actor.org_code),
        "analysts": _analysts(request, actor.org_code) if held else [],
        "labs": [o for o in labs if o.code != actor.org_code],
        "can": {
            "receive": held and state == "registered" and actor.has(*_LAB_STAFF),
            "add_test": held
            and state in ("received", "in_analysis", "retest")
            and actor.has(Role.ANALYST, Role.REVIEWER, Role.LAB_MANAGER),
            "assign": held and actor.has(Role.REVIEWER, Role.LAB_MANAGER),
            "analyse": held and actor.has(Role.ANALYST),
            "review": held and actor.has(Role.REVIEWER),
            "report": held and state == "approved" and actor.has(Role.REVIEWER, Role.LAB_MANAGER),
            "reject": held
            and state in ("registered", "received")
            and actor.has(Role.REVIEWER, Role.LAB_MANAGER),
            "cancel": held
            and state in ("registered", "received", "in_analysis", "retest")
            and actor.has(Role.REVIEWER, Role.LAB_MANAGER),
            "archive": held
            and state in ("reported", "rejected", "cancelled")
            and actor.has(Role.REVIEWER, Role.LAB_MANAGER),
            "custody": held and may(Action.RECORD_CUSTODY) and not detail.disposed_at,
            "share": actor.has(Role.LAB_MANAGER, Role.REVIEWER, Role.NETWORK_COORDINATOR),
            # The referrer calls off a referral to a partner's server (its laboratory may not have it yet).
            "cancel_external": may(Action.REFER)
            and any(r.from_lab == actor.org_code for r in detail.referrals),
            "refer": held
            and holder is not None
            and detail.state in referable_states(holder)
            and may(Action.REFER),
        },
    }
    context |= analysis_forms.analysis_context(request, actor, context["can"])
    context |= related_context(request, actor, sample_id)
    return render(request, "sample.html", context)


_LAB_STAFF = (Role.ANALYST, Role.REVIEWER, Role.LAB_MANAGER)


@router.post("/samples/{sample_id}/receive")
def receive(request: Request, actor: PageActor, sample_id: PathId, form: Form) -> Response:
    """Receipt with condition, storage location and seal check."""
    data = {
        "condition": str(form.get("condition", "")),
        "storage_location": str(form.get("storage_location", "")),
        "seal_intact": form.get("seal_intact") == "yes",
        "note": str(form.get("note", "")),
    }
    out = cases.receive_sample(uow_of(request), actor, sample_id, parse(SampleReceipt, data))
    return flash_redirect(
        request, f"/samples/{sample_id}", say(request, "Sample {id} received.", id=out.lab_sample_id)
    )


@router.post("/samples/{sample_id}/tests")
def add_test(request: Request, actor: PageActor, sample_id: PathId, form: Form) -> Response:
    """Plan a test by a catalogued method version (or a non-catalogued method), optionally assigned."""
    out = analysis.add_test(uow_of(request), actor, sample_id, analysis_forms.test_command(form))
    return flash_redirect(
        request, f"/samples/{sample_id}", say(request, "Test '{name}' added.", name=out.determination)
    )


def _sample_of_test(request: Request, actor: Actor, test_id: int) -> int:
    """The sample a test belongs to, when the actor may see it (else NotFound, as for any record)."""
    uow = uow_of(request)
    with uow:
        test = uow.repo.test(test_id)
        sample = uow.repo.sample(test.sample_id) if test and test.sample_id else None
        if sample is None or not uow.repo.can_see_sample(actor, sample):
            raise NotFound(f"Test {test_id} was not found.")
        assert sample.id is not None
        return sample.id


@router.post("/tests/{test_id}/assign")
def assign(request: Request, actor: PageActor, test_id: PathId, form: Form) -> Response:
    sample_id = _sample_of_test(request, actor, test_id)
    cmd = parse(TestAssign, {"analyst_id": str(form.get("analyst_id", ""))})
    analysis.assign_test(uow_of(request), actor, test_id, cmd)
    return flash_redirect(request, f"/samples/{sample_id}", say(request, "Test assigned."))


@router.post("/tests/{test_id}/results")
def enter_result(request: Request, actor: PageActor, test_id: PathId, form: Form) -> Response:
    """A result of any kind: a quantity with its unit and expanded uncertainty, or an outcome."""
    sample_id = _sample_of_test(request, actor, test_id)
    cmd = analysis_forms.result_command(request, form)
    out = analysis.enter_result(uow_of(request), actor, test_id, cmd, request.app.state.substances)
    return flash_redirect(
        request, f"/samples/{sample_id}", say(request, "Result '{name}' recorded.", name=out.name)
    )


@router.post("/tests/{test_id}/files")
async def upload_file(request: Request, actor: PageActor, test_id: PathId, form: Form) -> Response:
    """Attach a raw instrument file to the test."""
    upload = uploaded_file(form, "Choose a file to upload.")
    sample_id = _sample_of_test(request, actor, test_id)
    out = attach_upload(request, uow_of(request), actor, test_id, upload)
    target = str(form.get("next") or f"/samples/{sample_id}")
    if not target.startswith("/"):
        target = f"/samples/{sample_id}"
    return flash_redirect(request, target, say(request, "File {name} attached.", name=out.filename))


@router.post("/tests/{test_id}/submit")
def submit(request: Request, actor: PageActor, test_id: PathId, form: Form) -> Response:
    sample_id = _sample_of_test(request, actor, test_id)
    analysis.submit_test(uow_of(request), actor, test_id)
    return flash_redirect(request, f"/samples/{sample_id}", say(request, "Test submitted for review."))


@router.post("/tests/{test_id}/review")
def review(request: Request, actor: PageActor, test_id: PathId, form: Form) -> Response:
    """Approve, or return for retest with a reason."""
    sample_id = _sample_of_test(request, actor, test_id)
    cmd = parse(ReviewDecision, {"approve": form.get("decision") == "approve", "reason": form.get("reason")})
    if not cmd.approve and not cmd.reason:
        # Said here as a form error on the reason field, before the workflow refuses the step.
        raise ValidationFailed("Say why the test is returned for retest.", field="reason")
    analysis.review_test(uow_of(request), actor, test_id, cmd, request.app.state.substances)
    message = "Test approved." if cmd.approve else "Test returned for retest."
    return flash_redirect(request, f"/samples/{sample_id}", say(request, message))


@router.post("/samples/{sample_id}/refer")
def refer(request: Request, actor: PageActor, sample_id: PathId, form: Form) -> Response:
    """Refer the sample (or a sub-sample) to another laboratory."""
    keys = ("to_lab", "reason", "sub_sample_quantity", "unit", "seal_number")
    data = {k: str(form.get(k, "")).strip() for k in keys}
    out = referrals.refer_sample(uow_of(request), actor, sample_id, parse(ReferralCreate, data))
    # A laboratory goes back to its queue; a member's focal point follows the sample to the RCL.
    back_to_queue = not data["sub_sample_quantity"] and actor.has(*_LAB_STAFF)
    return flash_redirect(
        request,
        "/queue" if back_to_queue else f"/samples/{sample_id}",
        say(request, "Sample {id} referred to {lab}.", id=out.lab_sample_id, lab=out.to_lab),
    )


@router.post("/samples/{sample_id}/external-referrals/{referral_id}/cancel")
def cancel_external_referral(
    request: Request, actor: PageActor, sample_id: PathId, referral_id: PathId, form: Form
) -> Response:
    """Call off a referral to a partner's server; the sample returns to the referrer's custody."""
    federation_referrals.cancel_external_referral(
        uow_of(request), actor, referral_id, str(form.get("reason", "")), sample_id=sample_id
    )
    return flash_redirect(request, f"/samples/{sample_id}", say(request, "Referral cancelled."))


@router.post("/samples/{sample_id}/reject")
def reject(request: Request, actor: PageActor, sample_id: PathId, form: Form) -> Response:
    """Reject the sample with a reason the officer will read."""
    cases.reject_sample(uow_of(request), actor, sample_id, str(form.get("reason", "")))
    return flash_redirect(request, f"/samples/{sample_id}", say(request, "Sample rejected."))


@router.post("/samples/{sample_id}/cancel")
def cancel(request: Request, actor: PageActor, sample_id: PathId, form: Form) -> Response:
    """Cancel the sample and its open tests, with a reason."""
    cases.cancel_sample(uow_of(request), actor, sample_id, str(form.get("reason", "")))
    return flash_redirect(request, f"/samples/{sample_id}", say(request, "Sample cancelled."))


@router.post("/samples/{sample_id}/archive")
def archive(request: Request, actor: PageActor, sample_id: PathId, form: Form) -> Response:
    """Archive a reported, rejected or cancelled sample."""
    cases.archive_sample(uow_of(request), actor, sample_id)
    return flash_redirect(request, f"/samples/{sample_id}", say(request, "Sample archived."))


@router.post("/samples/{sample_id}/custody")
def custody(request: Request, actor: PageActor, sample_id: PathId, form: Form) -> Response:
    """Append a custody event: hand-over, transport, storage move or disposal."""
    seal = str(form.get("seal_intact", ""))
    data = {
        k: str(form.get(k, "")).strip() for k in ("kind", "from", "to", "location", "seal_number", "note")
    }
    intact = {"yes": True, "no": False}.get(seal)
    cases.record_custody(
        uow_of(request), actor, sample_id, parse(CustodyCreate, data | {"seal_intact": intact})
    )
    return flash_redirect(request, f"/samples/{sample_id}#custody", say(request, "Custody event recorded."))


@router.post("/samples/{sample_id}/share")
def share(request: Request, actor: PageActor, sample_id: PathId, form: Form) -> Response:
    """Let another laboratory of the network read this sample."""
    org = str(form.get("org_code", ""))
    cmd = parse(ShareCreate, {"org_code": org, "note": str(form.get("note", ""))})
    referrals.share_sample(uow_of(request), actor, sample_id, cmd)
    return flash_redirect(
        request, f"/samples/{sample_id}", say(request, "Sample shared with {lab}.", lab=org)
    )


@router.post("/samples/{sample_id}/report")
def issue_report(request: Request, actor: PageActor, sample_id: PathId, form: Form) -> Response:
    """Issue the test report of an approved sample, in the language chosen; a draft opinion is left out
    only when ticked."""
    data = {"leave_out_draft_opinion": form.get("leave_out_draft_opinion") or "no"}
    if form.get("language"):
        data["language"] = str(form.get("language"))
    out = reports.issue_report(uow_of(request), actor, sample_id, parse(reports.ReportIssue, data))
    return flash_redirect(
        request, f"/samples/{sample_id}#reports", say(request, "Report {id} issued.", id=out.report_id)
    )


@router.get("/reports/{entry_id}.pdf")
def report_pdf(request: Request, actor: PageActor, entry_id: PathId) -> Response:
    """Download an issued report (any version the user may see)."""
    filename, pdf = reports.report_pdf(uow_of(request), actor, entry_id)
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{filename}"'}
    )


@router.get("/samples/{sample_id}/label")
def label(request: Request, actor: PageActor, sample_id: PathId) -> Response:
    """A printable label with a QR code of the laboratory sample id."""
    detail = queries.sample_detail(uow_of(request), actor, sample_id)
    qr = segno.make(detail.lab_sample_id, error="m")
    svg = qr.svg_inline(scale=4, title=detail.lab_sample_id)
    return render(request, "label.html", {"s": detail, "qr": Markup(svg)})
