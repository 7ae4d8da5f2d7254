"""Use cases of proficiency testing across the network: a coordinating laboratory opens a round,
participants submit results with uncertainties, the coordinator evaluates it (ISO 13528
Algorithm A; z, z′, ζ, E_n) and each laboratory reads its report with a chart."""

from __future__ import annotations

from typing import Any

from customslab.domain.access import LAB_STAFF, Actor
from customslab.domain.enums import Role
from customslab.domain.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from customslab.domain.quality.charts import z_score_bars_svg
from customslab.domain.quality.errors import QualityError
from customslab.domain.quality.proficiency import ParticipantResult, PtRound, evaluate_round
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.quality import plain, require_role
from customslab.services.quality_ports import PtResultEntry, PtRoundEntry


def _float(value: Any, field: str, *, required: bool) -> float | None:
    if value in (None, ""):
        if required:
            raise ValidationFailed(f"{field.replace('_', ' ').capitalize()} is required.", field=field)
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValidationFailed(
            f"{field.replace('_', ' ').capitalize()} '{value}' is not a number.", field
        ) from None
    if out != out or out in (float("inf"), float("-inf")):
        raise ValidationFailed(f"{field.replace('_', ' ').capitalize()} must be finite.", field=field)
    return out


def _round(uow: AbstractUnitOfWork, actor: Actor, round_id: int) -> PtRoundEntry:
    """A round the actor may see: its coordinator, its participants, and network coordinators."""
    entry = uow.quality.get(PtRoundEntry, round_id)
    if entry is None or not (
        actor.sees_network or actor.org_code == entry.coordinator_lab or actor.org_code in entry.participants
    ):
        raise NotFound(f"Proficiency-test round {round_id} was not found.")
    return entry


def round_view(uow: AbstractUnitOfWork, actor: Actor, entry: PtRoundEntry) -> dict[str, Any]:
    """Coordinators see every result and score; a participant sees the statistics and its own scores."""
    full = actor.sees_network or actor.org_code == entry.coordinator_lab
    results = uow.quality.find(PtResultEntry, round_entry_id=entry.id)
    reports = []
    for report in entry.reports or ():
        scores = [s for s in report.scores if full or s.lab_id == actor.org_code]
        reports.append(
            plain(report)
            | {
                "scores": plain(scores),
                "chart_svg": z_score_bars_svg(
                    [(s.lab_id if full or s.lab_id == actor.org_code else "·", s.z) for s in report.scores],
                    title=f"{report.measurand}: z-scores",
                ),
            }
        )
    return {
        "id": entry.id,
        "code": entry.code,
        "title": entry.title,
        "coordinator_lab": entry.coordinator_lab,
        "participants": entry.participants,
        "measurands": plain(entry.measurands),
        "state": entry.state,
        "created_at": entry.created_at.isoformat(),
        "evaluated_at": entry.evaluated_at.isoformat() if entry.evaluated_at else None,
        "results": [
            {"lab": r.lab_code, "measurand": r.measurand, "result": plain(r.result)}
            for r in results
            if full or r.lab_code == actor.org_code
        ],
        "reports": reports,
    }


def create_round(uow: AbstractUnitOfWork, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """A network coordinator opens a round with its measurands and participating laboratories."""
    with uow:
        require_role(actor, "open a proficiency-test round", Role.NETWORK_COORDINATOR)
        uow.act_as(actor.username)
        title = str(data.get("title") or "").strip()
        if not title:
            raise ValidationFailed("Give the round a title.", field="title")
        participants = sorted({str(p) for p in data.get("participants") or []})
        if not participants:
            raise ValidationFailed("Name the participating laboratories.", field="participants")
        for code in participants:
            org = uow.repo.org(code)
            if org is None or not org.is_laboratory:
                raise ValidationFailed(f"'{code}' is not a laboratory of the network.", field="participants")
        now = uow.clock()
        code = f"PT-{now.year}-{uow.repo.next_number(f'pt-{now.year}'):03d}"
        measurands = []
        for i, m in enumerate(data.get("measurands") or []):
            name, unit = str(m.get("measurand") or "").strip(), str(m.get("unit") or "").strip()
            if not name or not unit:
                raise ValidationFailed(f"Measurand {i + 1} needs a name and a unit.", field="measurands")
            measurands.append(
                PtRound(
                    round_id=code,
                    scheme=str(data.get("scheme") or "customslab network PT"),
                    measurand=name,
                    unit=unit,
                    assigned_value=_float(m.get("assigned_value"), "assigned_value", required=False),
                    assigned_standard_uncertainty=_float(
                        m.get("assigned_standard_uncertainty"),
                        "assigned_standard_uncertainty",
                        required=False,
                    ),
                    sigma_pt=_float(m.get("sigma_pt"), "sigma_pt", required=False),
                )
            )
        if not measurands:
            raise ValidationFailed("A round needs at least one measurand.", field="measurands")
        if len({m.measurand for m in measurands}) != len(measurands):
            raise ValidationFailed("Each measurand may appear once.", field="measurands")
        entry = PtRoundEntry(
            actor.org_code, code, title, tuple(measurands), participants, actor.username, now
        )
        uow.quality.add(entry)
        uow.commit()
        return round_view(uow, actor, entry)


def submit_result(
    uow: AbstractUnitOfWork, actor: Actor, round_id: int, data: dict[str, Any]
) -> dict[str, Any]:
    """A participating laboratory submits its result with its uncertainty, once per measurand."""
    with uow:
        if not actor.roles & LAB_STAFF:
            raise ValidationFailed("Results are submitted by laboratory staff.", field="actor")
        uow.act_as(actor.username)
        entry = _round(uow, actor, round_id)
        if actor.org_code not in entry.participants:
            raise NotFound(f"Your laboratory does not take part in round {entry.code}.")
        if entry.state != "open":
            raise InvalidTransition(f"Round {entry.code} is closed; results can no longer be submitted.")
        measurand = str(data.get("measurand") or "")
        if measurand not in {m.measurand for m in entry.measurands}:
            raise ValidationFailed(f"Round {entry.code} has no measurand '{measurand}'.", field="measurand")
        done = uow.quality.find(
            PtResultEntry, round_entry_id=entry.id, lab_code=actor.org_code, measurand=measurand
        )
        if done:
            raise Conflict(f"Your laboratory already submitted {measurand} for round {entry.code}.")
        value = _float(data.get("value"), "value", required=True)
        assert value is not None
        result = ParticipantResult(
            actor.org_code,
            value,
            standard_uncertainty=_float(
                data.get("standard_uncertainty"), "standard_uncertainty", required=False
            ),
            expanded_uncertainty=_float(
                data.get("expanded_uncertainty"), "expanded_uncertainty", required=False
            ),
        )
        assert entry.id is not None
        uow.quality.add(
            PtResultEntry(entry.id, actor.org_code, measurand, result, actor.username, uow.clock())
        )
        uow.commit()
        return {"round": entry.code, "measurand": measurand, "lab": actor.org_code, "value": value}


def evaluate(uow: AbstractUnitOfWork, actor: Actor, round_id: int) -> dict[str, Any]:
    """Close the round and score every participant with robust statistics (ISO 13528 Algorithm A)."""
    with uow:
        require_role(actor, "evaluate a proficiency-test round", Role.NETWORK_COORDINATOR)
        uow.act_as(actor.username)
        entry = _round(uow, actor, round_id)
        if entry.coordinator_lab != actor.org_code:
            raise NotFound(
                f"Round {entry.code} is coordinated by {entry.coordinator_lab}, not your laboratory."
            )
        if entry.state != "open":
            raise InvalidTransition(f"Round {entry.code} was already evaluated.")
        reports = []
        for pt in entry.measurands:
            rows = uow.quality.find(PtResultEntry, round_entry_id=entry.id, measurand=pt.measurand)
            if not rows:
                raise ValidationFailed(f"No results were submitted for {pt.measurand}.", field="measurand")
            try:
                reports.append(evaluate_round(pt, [r.result for r in rows]))
            except QualityError as exc:
                raise ValidationFailed(str(exc), field="measurand") from None
        entry.reports = tuple(reports)
        entry.state = "evaluated"
        entry.evaluated_at = uow.clock()
        uow.commit()
        return round_view(uow, actor, entry)


def round_detail(uow: AbstractUnitOfWork, actor: Actor, round_id: int) -> dict[str, Any]:
    with uow:
        return round_view(uow, actor, _round(uow, actor, round_id))


def list_rounds(uow: AbstractUnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    """Rounds the actor's laboratory coordinates or takes part in (all of them for coordinators)."""
    with uow:
        return rounds_of(uow, actor)


def rounds_of(uow: AbstractUnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    """Inside a unit of work: what :func:`list_rounds` returns."""
    return [
        {
            "id": r.id,
            "code": r.code,
            "title": r.title,
            "state": r.state,
            "coordinator_lab": r.coordinator_lab,
        }
        for r in uow.quality.find(PtRoundEntry)
        if actor.sees_network or actor.org_code == r.coordinator_lab or actor.org_code in r.participants
    ]
