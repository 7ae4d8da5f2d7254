"""HS pages: the nomenclature browser with search, and the evaluation panel of a sample."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from customslab.adapters import hs_store
from customslab.domain.enums import Role
from customslab.domain.errors import ValidationFailed
from customslab.entrypoints.web.common import Form, PageActor, flash_redirect, render, uow_of
from customslab.entrypoints.web.hs_panel import DECISION_RULES
from customslab.entrypoints.web.routes_lab import _say
from customslab.hs.nomenclature import HsError
from customslab.services import classification, queries

router = APIRouter(include_in_schema=False)


@router.get("/hs")
def browser(request: Request, actor: PageActor, q: str = "", code: str = "") -> Response:
    """Search the nomenclature by words or code, or walk it from the chapters down."""
    context: dict[str, object] = {
        "q": q,
        "code": code,
        "hits": [],
        "node": None,
        "children": [],
        "error": None,
    }
    with request.app.state.db.engine.connect() as conn:
        context["loaded"] = loaded = hs_store.is_loaded(conn)
        if loaded:
            try:
                if q.strip():
                    context["hits"] = hs_store.search(conn, q, limit=25)
                node = hs_store.get_node(conn, code) if code else None
                context["node"] = node
                context["children"] = hs_store.children(conn, code or None)
            except HsError as exc:
                context["error"] = str(exc)
    return render(request, "hs.html", context)


@router.get("/samples/{sample_id}/hs")
def evaluation(request: Request, actor: PageActor, sample_id: int, rule: str = "guarded") -> Response:
    """The sample's results through the HS measurement rules: what fires, and declared vs determined."""
    if rule not in DECISION_RULES:
        raise ValidationFailed(f"Choose a decision rule among: {', '.join(DECISION_RULES)}.", "rule")
    detail = queries.sample_detail(uow_of(request), actor, sample_id)
    ev = classification.evaluate_sample(uow_of(request), actor, sample_id, rule)
    ev["skipped"] = [{"name": s["name"], "why": s["reason"]} for s in ev["skipped_results"]]
    ev["decision_rule_choice"] = rule
    if not ev["measurements_used"]:
        ev |= {"status": "no_results", "message": "No result of this sample can be used by the HS rules."}
    if request.headers.get("accept", "").startswith("application/json"):
        return JSONResponse(ev)
    can_write = detail["held_by_me"] and actor.has(Role.ANALYST, Role.REVIEWER)
    return render(
        request,
        "hs_evaluation.html",
        {
            "s": detail,
            "ev": ev,
            "rules": DECISION_RULES,
            "rule": rule,
            "can": {
                "write": can_write,
                "approve": actor.has(Role.REVIEWER),
                "share": actor.has(Role.REVIEWER, Role.LAB_MANAGER),
            },
            "me": actor.user_id,
        },
    )


@router.post("/samples/{sample_id}/opinions")
def write_opinion(request: Request, actor: PageActor, sample_id: int, form: Form) -> Response:
    """Write the laboratory's classification opinion on the sample."""
    refs = [r.strip() for r in str(form.get("references", "")).splitlines() if r.strip()]
    data = {
        "determined_code": str(form.get("determined_code", "")),
        "reasoning": str(form.get("reasoning", "")),
        "references": refs,
        "decision_rule": str(form.get("decision_rule", "guarded")),
    }
    out = classification.write_opinion(uow_of(request), actor, sample_id, data)
    return flash_redirect(
        request,
        f"/samples/{sample_id}/hs#opinions",
        _say(request, "Opinion {id} recorded as a draft.", id=out["id"]),
    )


@router.post("/opinions/{opinion_id}/approve")
def approve_opinion(request: Request, actor: PageActor, opinion_id: int, form: Form) -> Response:
    """A reviewer other than the author approves the opinion."""
    out = classification.approve_opinion(uow_of(request), actor, opinion_id)
    return flash_redirect(
        request,
        f"/samples/{out['sample_id']}/hs#opinions",
        _say(request, "Opinion {id} approved.", id=opinion_id),
    )


@router.post("/opinions/{opinion_id}/share")
def share_opinion(request: Request, actor: PageActor, opinion_id: int, form: Form) -> Response:
    """Share an approved opinion with the network as a precedent."""
    out = classification.share_opinion(uow_of(request), actor, opinion_id)
    return flash_redirect(
        request,
        f"/samples/{out['sample_id']}/hs#opinions",
        _say(request, "Opinion {id} shared with the network.", id=opinion_id),
    )
