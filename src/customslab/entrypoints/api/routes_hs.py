"""HS nomenclature, rule evaluation and classification opinions."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy import Connection

from customslab.adapters import hs_store
from customslab.domain.errors import NotFound, ValidationFailed
from customslab.entrypoints.api.deps import CurrentActor, PathId, SignedIn
from customslab.hs.decision import DecisionRule
from customslab.hs.nomenclature import HsError
from customslab.services import classification
from customslab.services.classification import (
    HS_CODE_PATTERN,
    EvaluationRequest,
    EvaluationView,
    HsChild,
    HsCodeView,
    HsSearchHit,
    Language,
    OpinionCreate,
    OpinionSearch,
    OpinionView,
    SampleEvaluation,
)
from customslab.services.contract import MAX_INT, parse
from customslab.services.ports import AbstractUnitOfWork

router = APIRouter(prefix="/api", tags=["hs"])

#: A search text holds a letter or digit to look for: a text of punctuation alone (`|`, say) has no word
#: to search. ASCII letters, since the nomenclature is written in English and JSON Schema's `\w` is ASCII.
HS_QUERY_PATTERN = r"[0-9A-Za-z]"

#: The language of the rules' titles, explanations and reasons in an evaluation (codes stay codes).
LangQuery = Annotated[
    Language, Query(description="Language of the rules' text: en (default) or ko. The verdict stays English.")
]


def _conn(uow: AbstractUnitOfWork) -> Connection:
    conn: Connection = uow.db.engine.connect()  # type: ignore[attr-defined]
    return conn


@router.get("/hs/search")
def hs_search(
    caller: SignedIn,
    q: str = Query(
        min_length=1,
        max_length=100,
        pattern=HS_QUERY_PATTERN,
        description="English words (the nomenclature's language) or the digits of a code.",
    ),
    limit: int = Query(20, ge=1, le=MAX_INT, description="At most 100 hits are returned."),
) -> list[HsSearchHit]:
    """Full-text and code-prefix search of the nomenclature."""
    with _conn(caller.uow) as conn:
        if not hs_store.is_loaded(conn):
            raise NotFound("The HS nomenclature is not loaded; run `customslab hs load`.")
        try:
            hits = hs_store.search(conn, q, limit=min(limit, 100))
        except HsError as exc:
            raise ValidationFailed(
                f"Give words or the digits of a code to search for: {exc}.", field="q"
            ) from None
    return [HsSearchHit.model_validate(h, from_attributes=True) for h in hits]


@router.get("/hs/codes/{code}")
def hs_show(
    code: Annotated[str, Path(json_schema_extra={"pattern": HS_CODE_PATTERN})],
    caller: SignedIn,
) -> HsCodeView:
    """One node of the nomenclature and its children."""
    try:
        with _conn(caller.uow) as conn:
            node = hs_store.get_node(conn, code)
            if node is None:
                raise NotFound(f"HS code {code} is not in the nomenclature.")
            kids = hs_store.children(conn, node.code)
    except HsError as exc:
        raise ValidationFailed(str(exc), field="code") from None
    return HsCodeView(
        **asdict(node), children=[HsChild.model_validate(k, from_attributes=True) for k in kids]
    )


@router.post("/hs/evaluate")
def hs_evaluate(body: EvaluationRequest, actor: CurrentActor, lang: LangQuery = "en") -> EvaluationView:
    """Evaluate results (NAME=VALUE[UNIT][±U]) against the legal-note rules for a declared code."""
    return classification.evaluate_values(body, language=lang)


@router.get("/samples/{sample_id}/hs-evaluation")
def sample_evaluation(
    request: Request,
    sample_id: PathId,
    caller: SignedIn,
    decision_rule: DecisionRule = DecisionRule.GUARDED,
    lang: LangQuery = "en",
) -> SampleEvaluation:
    """The sample's results evaluated against the rules, the opinions so far, and codes proposed from its
    identity results (evidence, never applied)."""
    return classification.evaluate_sample(
        caller.uow, caller.actor, sample_id, decision_rule, lang, request.app.state.chem_hs
    )


@router.post("/samples/{sample_id}/opinions", status_code=201)
def write_opinion(sample_id: PathId, body: OpinionCreate, caller: SignedIn) -> OpinionView:
    """Write the laboratory's classification opinion on the sample."""
    return classification.write_opinion(caller.uow, caller.actor, sample_id, body)


@router.post("/opinions/{opinion_id}/approve")
def approve_opinion(opinion_id: PathId, caller: SignedIn) -> OpinionView:
    """A reviewer other than the author approves the opinion."""
    return classification.approve_opinion(caller.uow, caller.actor, opinion_id)


@router.post("/opinions/{opinion_id}/share")
def share_opinion(opinion_id: PathId, caller: SignedIn) -> OpinionView:
    """Share an approved opinion with the network as a precedent."""
    return classification.share_opinion(caller.uow, caller.actor, opinion_id)


@router.get("/opinions")
def search_opinions(
    caller: SignedIn,
    q: str = Query("", max_length=200),
    code: str = Query("", max_length=10),
    limit: int = Query(50, ge=1, le=200),
) -> list[OpinionView]:
    """Search own opinions and the network's shared precedents."""
    query = parse(OpinionSearch, {"text": q, "code_prefix": code, "limit": limit})
    return classification.search_opinions(caller.uow, caller.actor, query)
