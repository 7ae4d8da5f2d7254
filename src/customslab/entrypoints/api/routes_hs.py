"""HS nomenclature, rule evaluation and classification opinions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from customslab.adapters import hs_store
from customslab.domain.errors import NotFound, ValidationFailed
from customslab.entrypoints.api.deps import CurrentActor, UowFactory
from customslab.entrypoints.api.schemas import EvaluateIn, OpinionIn
from customslab.hs.nomenclature import HsError
from customslab.services import classification

router = APIRouter(prefix="/api", tags=["hs"])


def _conn(uow_factory: UowFactory) -> Any:
    uow = uow_factory()
    return uow.db.engine.connect()  # type: ignore[attr-defined]


@router.get("/hs/search")
def hs_search(
    actor: CurrentActor,
    uow_factory: UowFactory,
    q: str = Query(min_length=1, max_length=100),
    limit: int = 20,
) -> list[dict[str, Any]]:
    """Full-text and code-prefix search of the nomenclature."""
    with _conn(uow_factory) as conn:
        if not hs_store.is_loaded(conn):
            raise NotFound("The HS nomenclature is not loaded; run `customslab hs load`.")
        hits = hs_store.search(conn, q, limit=min(limit, 100))
    return [{"code": h.code, "level": h.level, "description": h.description, "score": h.score} for h in hits]


@router.get("/hs/codes/{code}")
def hs_show(code: str, actor: CurrentActor, uow_factory: UowFactory) -> dict[str, Any]:
    """One node of the nomenclature and its children."""
    try:
        with _conn(uow_factory) as conn:
            node = hs_store.get_node(conn, code)
            if node is None:
                raise NotFound(f"HS code {code} is not in the nomenclature.")
            kids = hs_store.children(conn, node.code)
    except HsError as exc:
        raise ValidationFailed(str(exc), field="code") from None
    return {
        "code": node.code,
        "level": node.level,
        "parent": node.parent,
        "section": node.section,
        "description": node.description,
        "children": [{"code": k.code, "description": k.description} for k in kids],
    }


@router.post("/hs/evaluate")
def hs_evaluate(body: EvaluateIn, actor: CurrentActor) -> dict[str, Any]:
    """Evaluate results (NAME=VALUE[UNIT][±U]) against the legal-note rules for a declared code."""
    return classification.evaluate_values(body.declared, body.results, body.decision_rule)


@router.get("/samples/{sample_id}/hs-evaluation")
def sample_evaluation(
    sample_id: int, actor: CurrentActor, uow_factory: UowFactory, decision_rule: str = "guarded"
) -> dict[str, Any]:
    """The sample's results evaluated against the rules, with the opinions written so far."""
    return classification.evaluate_sample(uow_factory(), actor, sample_id, decision_rule)


@router.post("/samples/{sample_id}/opinions", status_code=201)
def write_opinion(
    sample_id: int, body: OpinionIn, actor: CurrentActor, uow_factory: UowFactory
) -> dict[str, Any]:
    """Write the laboratory's classification opinion on the sample."""
    return classification.write_opinion(uow_factory(), actor, sample_id, body.model_dump())


@router.post("/opinions/{opinion_id}/approve")
def approve_opinion(opinion_id: int, actor: CurrentActor, uow_factory: UowFactory) -> dict[str, Any]:
    """A reviewer other than the author approves the opinion."""
    return classification.approve_opinion(uow_factory(), actor, opinion_id)


@router.post("/opinions/{opinion_id}/share")
def share_opinion(opinion_id: int, actor: CurrentActor, uow_factory: UowFactory) -> dict[str, Any]:
    """Share an approved opinion with the network as a precedent."""
    return classification.share_opinion(uow_factory(), actor, opinion_id)


@router.get("/opinions")
def search_opinions(
    actor: CurrentActor,
    uow_factory: UowFactory,
    q: str = Query("", max_length=200),
    code: str = Query("", max_length=10),
    limit: int = Query(50, ge=1, le=200),
) -> list[dict[str, Any]]:
    """Search own opinions and the network's shared precedents."""
    return classification.search_opinions(uow_factory(), actor, q, code, limit)
