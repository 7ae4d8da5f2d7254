"""Use cases of HS classification: evaluate results against the legal-note rules, write, approve,
share and search classification opinions."""

from __future__ import annotations

from typing import Any

from customslab.domain.access import LAB_STAFF, Actor
from customslab.domain.enums import Role
from customslab.domain.errors import NotFound, PermissionDenied, ValidationFailed
from customslab.domain.model import ClassificationOpinion, Sample
from customslab.hs.decision import parse_decision_rule
from customslab.hs.evaluate import evaluate, mismatch_level
from customslab.hs.nomenclature import HsError, normalise_code
from customslab.hs.quantities import Measurement, make_measurement
from customslab.services.common import visible_sample
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.views import RELEASED, iso


def _rule(name: str) -> Any:
    try:
        return parse_decision_rule(name)
    except (HsError, ValueError) as exc:
        raise ValidationFailed(str(exc), field="decision_rule") from None


def evaluate_values(declared: str, results: list[str], decision_rule: str = "guarded") -> dict[str, Any]:
    """Evaluate NAME=VALUE[UNIT][±U] results against the catalogue for a declared code."""
    try:
        return evaluate(declared, results, _rule(decision_rule)).to_dict()
    except HsError as exc:
        raise ValidationFailed(str(exc), field="results") from None


def sample_measurements(
    sample: Sample, released_only: bool
) -> tuple[list[Measurement], list[dict[str, str]]]:
    """The sample's results the HS rules understand, and the others with the reason they are left out."""
    used: list[Measurement] = []
    skipped: list[dict[str, str]] = []
    for test in sample.tests:
        if released_only and test.state not in RELEASED:
            continue
        for r in test.results:
            if r.value is None:
                continue
            try:
                u = float(r.expanded_uncertainty) if r.expanded_uncertainty is not None else None
                unit = "" if r.unit in ("1", "-") else r.unit
                used.append(make_measurement(r.name, float(r.value), unit, u))
            except HsError as exc:
                skipped.append({"name": r.name, "reason": str(exc)})
    return used, skipped


def evaluate_sample(
    uow: AbstractUnitOfWork, actor: Actor, sample_id: int, decision_rule: str = "guarded"
) -> dict[str, Any]:
    """The HS evaluation panel of a sample: its results, the rules that fire, declared vs determined."""
    with uow:
        sample = visible_sample(uow, actor, sample_id)
        req = uow.repo.request(sample.request_id or 0)
        assert req is not None
        measurements, skipped = sample_measurements(sample, released_only=actor.is_requester_only)
        try:
            out = evaluate(req.declared_hs, measurements, _rule(decision_rule)).to_dict()
        except HsError as exc:
            raise ValidationFailed(str(exc), field="results") from None
        out["skipped_results"] = skipped
        out["measurements_used"] = len(measurements)
        out["opinions"] = [opinion_view(o) for o in uow.repo.opinions_for(sample_id)]
        return out


def opinion_view(o: ClassificationOpinion) -> dict[str, Any]:
    return {
        "id": o.id,
        "sample_id": o.sample_id,
        "lab_code": o.lab_code,
        "declared_code": o.declared_code,
        "determined_code": o.determined_code,
        "mismatch": mismatch_level(o.declared_code, [o.determined_code]),
        "reasoning": o.reasoning,
        "references": o.references,
        "goods_description": o.goods_description,
        "author_id": o.author_id,
        "created_at": iso(o.created_at),
        "state": o.state,
        "reviewer_id": o.reviewer_id,
        "reviewed_at": iso(o.reviewed_at),
        "shared": o.shared,
    }


def write_opinion(
    uow: AbstractUnitOfWork, actor: Actor, sample_id: int, data: dict[str, Any]
) -> dict[str, Any]:
    """An analyst or reviewer writes the laboratory's opinion, with the evaluation behind it."""
    with uow:
        if not actor.has(Role.ANALYST, Role.REVIEWER):
            raise PermissionDenied("Only an analyst or a reviewer may write a classification opinion.")
        uow.act_as(actor.username)
        sample = visible_sample(uow, actor, sample_id)
        if sample.lab_code != actor.org_code:
            raise NotFound(f"Sample {sample_id} is not held by your laboratory.")
        req = uow.repo.request(sample.request_id or 0)
        assert req is not None
        try:
            determined = normalise_code(str(data.get("determined_code", "")), allow_national=True)
        except HsError as exc:
            raise ValidationFailed(str(exc), field="determined_code") from None
        reasoning = str(data.get("reasoning", "")).strip()
        if len(reasoning) < 20:
            raise ValidationFailed(
                "Give the reasoning (at least a sentence) behind the opinion.", "reasoning"
            )
        measurements, _ = sample_measurements(sample, released_only=False)
        evaluation = evaluate(req.declared_hs, measurements, _rule(str(data.get("decision_rule", "guarded"))))
        refs = [str(r) for r in data.get("references") or []] or [
            f["source"] for f in evaluation.to_dict()["rules"]
        ]
        opinion = ClassificationOpinion(
            sample_id=sample_id,
            lab_code=actor.org_code,
            declared_code=req.declared_hs,
            determined_code=determined,
            reasoning=reasoning,
            references=refs,
            evaluation=evaluation.to_dict(),
            author_id=actor.user_id,
            created_at=uow.clock(),
            goods_description=req.goods_description,
        )
        uow.repo.add(opinion)
        uow.repo.flush()
        uow.commit()
        return opinion_view(opinion)


def _own_opinion(uow: AbstractUnitOfWork, actor: Actor, opinion_id: int) -> ClassificationOpinion:
    opinion = uow.repo.opinion(opinion_id)
    if opinion is None or opinion.lab_code != actor.org_code:
        raise NotFound(f"Opinion {opinion_id} was not found.")
    return opinion


def approve_opinion(uow: AbstractUnitOfWork, actor: Actor, opinion_id: int) -> dict[str, Any]:
    """A reviewer other than the author approves the opinion."""
    with uow:
        if not actor.has(Role.REVIEWER):
            raise PermissionDenied("Only a reviewer may approve a classification opinion.")
        uow.act_as(actor.username)
        opinion = _own_opinion(uow, actor, opinion_id)
        opinion.approve(actor.user_id, uow.clock())
        uow.commit()
        return opinion_view(opinion)


def share_opinion(uow: AbstractUnitOfWork, actor: Actor, opinion_id: int) -> dict[str, Any]:
    """Publish an approved opinion to the network's precedent library."""
    with uow:
        if not actor.has(Role.REVIEWER, Role.LAB_MANAGER):
            raise PermissionDenied("Only a reviewer or a lab manager may share an opinion with the network.")
        uow.act_as(actor.username)
        opinion = _own_opinion(uow, actor, opinion_id)
        opinion.share()
        uow.commit()
        return opinion_view(opinion)


def search_opinions(
    uow: AbstractUnitOfWork, actor: Actor, text: str = "", code_prefix: str = "", limit: int = 50
) -> list[dict[str, Any]]:
    """Search the laboratory's own opinions and the network's shared precedents."""
    with uow:
        if not (actor.roles & LAB_STAFF or actor.sees_network):
            raise PermissionDenied("The precedent library is for laboratory staff and coordinators.")
        prefix = "".join(ch for ch in code_prefix if ch.isdigit())
        org = None if actor.sees_network else actor.org_code
        return [opinion_view(o) for o in uow.repo.search_opinions(org, text, prefix, limit)]
