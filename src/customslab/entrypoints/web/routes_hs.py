"""HS pages: the nomenclature browser with search, and the evaluation panel of a sample."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from customslab.adapters import hs_store
from customslab.domain.enums import Role
from customslab.domain.errors import ValidationFailed
from customslab.entrypoints.api.deps import PathId
from customslab.entrypoints.web.common import (
    N_,
    Form,
    PageActor,
    flash_redirect,
    language,
    render,
    say,
    uow_of,
)
from customslab.entrypoints.web.hs_panel import (
    DECISION_RULES,
    EVIDENCE_STATES,
    FIRING_STATES,
    NO_RESULTS,
    PROPOSAL_AGREEMENT,
    determined_codes,
    proposed_code,
    rules_language,
)
from customslab.entrypoints.web.routes_knowledge import related_context
from customslab.hs.decision import DecisionRule
from customslab.hs.nomenclature import HsError
from customslab.services import classification, queries
from customslab.services.classification import OpinionCreate, OpinionView
from customslab.services.contract import parse

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
def evaluation(
    request: Request, actor: PageActor, sample_id: PathId, rule: str = "guarded", use: str = ""
) -> Response:
    """The sample's results through the HS measurement rules: what fires, declared vs determined, and the
    codes proposed from identification; `use` copies a proposed code into the opinion form, no further."""
    if rule not in DECISION_RULES:
        choices = ", ".join(DECISION_RULES)
        raise ValidationFailed(
            say(request, N_("Choose a decision rule among: {choices}."), choices=choices), "rule"
        )
    detail = queries.sample_detail(uow_of(request), actor, sample_id)
    lang = rules_language(language(request))
    chem_hs = request.app.state.chem_hs
    ev = classification.evaluate_sample(uow_of(request), actor, sample_id, DecisionRule(rule), lang, chem_hs)
    # With no usable result the rules' "no rule applies" would mislead; the page says why instead.
    status, message = (
        (ev.status, ev.message) if ev.measurements_used else ("no_results", say(request, NO_RESULTS))
    )
    if request.headers.get("accept", "").startswith("application/json"):
        skipped = [{"name": s.name, "why": s.reason} for s in ev.skipped_results]
        extra = {"status": status, "message": message, "skipped": skipped, "decision_rule_choice": rule}
        return JSONResponse(ev.model_dump(mode="json") | extra)
    can_write = detail.held_by_me and actor.has(Role.ANALYST, Role.REVIEWER)
    return render(
        request,
        "hs_evaluation.html",
        {
            "s": detail,
            "ev": ev,
            "verdict": {"status": status, "message": message},
            "determined": determined_codes(ev),
            "rules": DECISION_RULES,
            "firing_states": FIRING_STATES,
            "evidence_states": EVIDENCE_STATES,
            "agreement": PROPOSAL_AGREEMENT,
            "use": proposed_code(ev, use) if can_write else "",
            "rule": rule,
            "can": {
                "write": can_write,
                "approve": actor.has(Role.REVIEWER),
                "share": actor.has(Role.REVIEWER, Role.LAB_MANAGER),
            },
            "me": actor.user_id,
        }
        | related_context(request, actor, sample_id),
    )


def _to_opinions(request: Request, opinion: OpinionView, message: str) -> Response:
    """After each step of an opinion: back to its sample's HS page, at the opinions, saying what changed."""
    return flash_redirect(
        request, f"/samples/{opinion.sample_id}/hs#opinions", say(request, message, id=opinion.id)
    )


@router.post("/samples/{sample_id}/opinions")
def write_opinion(request: Request, actor: PageActor, sample_id: PathId, form: Form) -> Response:
    """Write the laboratory's classification opinion on the sample."""
    refs = [r.strip() for r in str(form.get("references", "")).splitlines() if r.strip()]
    cmd = parse(
        OpinionCreate,
        {
            "determined_code": form.get("determined_code"),
            "reasoning": form.get("reasoning"),
            "references": refs,
            "decision_rule": form.get("decision_rule"),
        },
    )
    out = classification.write_opinion(uow_of(request), actor, sample_id, cmd)
    return _to_opinions(request, out, N_("Opinion {id} recorded as a draft."))


@router.post("/opinions/{opinion_id}/approve")
def approve_opinion(request: Request, actor: PageActor, opinion_id: PathId, form: Form) -> Response:
    """A reviewer other than the author approves the opinion."""
    out = classification.approve_opinion(uow_of(request), actor, opinion_id)
    return _to_opinions(request, out, N_("Opinion {id} approved."))


@router.post("/opinions/{opinion_id}/share")
def share_opinion(request: Request, actor: PageActor, opinion_id: PathId, form: Form) -> Response:
    """Share an approved opinion with the network as a precedent."""
    out = classification.share_opinion(uow_of(request), actor, opinion_id)
    return _to_opinions(request, out, N_("Opinion {id} shared with the network."))
