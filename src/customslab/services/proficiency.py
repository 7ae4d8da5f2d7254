"""Use cases of proficiency testing across the network: a coordinating laboratory opens a round,
participants submit results with uncertainties, the coordinator evaluates it (ISO 13528
Algorithm A; z, z′, ζ, E_n) and each laboratory reads its report with a chart."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator

from customslab.domain.access import (
    LAB_STAFF,
    Actor,
    Directory,
    Holding,
    Kind,
    Relation,
    orgs_seen,
    relations,
    sees,
)
from customslab.domain.enums import Role
from customslab.domain.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from customslab.domain.quality.charts import z_score_bars_svg
from customslab.domain.quality.errors import QualityError
from customslab.domain.quality.proficiency import (
    ParticipantResult,
    Performance,
    PtRound,
    RoundReport,
    evaluate_round,
)
from customslab.services.contract import Amount, Command, MeasurementUnit, NonNegative, Positive, Text, View
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.quality import require_role
from customslab.services.quality_ports import PtResultEntry, PtRoundEntry

RoundState = Literal["open", "evaluated"]


def _float(value: Amount | None) -> float | None:
    # The statistics of ISO 13528 are computed in floating point; the command keeps the exact input.
    return None if value is None else float(value)


class PtMeasurandCreate(Command):
    """A measurand of the test items; the assigned value may be left to the participants' consensus."""

    measurand: Annotated[str, Text(120, 1)]
    unit: MeasurementUnit
    assigned_value: Amount | None = None
    assigned_standard_uncertainty: NonNegative | None = None
    sigma_pt: Positive | None = None


class PtRoundCreate(Command):
    title: Annotated[str, Text(200, 1)]
    scheme: Annotated[str, Text(200)] = ""
    participants: list[Annotated[str, Text(40, 1)]] = Field(
        max_length=200, description="Codes of the laboratories.", json_schema_extra={"minItems": 1}
    )
    measurands: list[PtMeasurandCreate] = Field(max_length=50)

    @field_validator("participants")
    @classmethod
    def _some_participants(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("Name the participating laboratories.")
        return value

    @field_validator("measurands")
    @classmethod
    def _each_measurand_once(cls, value: list[PtMeasurandCreate]) -> list[PtMeasurandCreate]:
        if len({m.measurand for m in value}) != len(value):
            raise ValueError("Each measurand may appear once.")
        return value


class PtResultCreate(Command):
    """A participant's result for one measurand, with its uncertainty when the laboratory states one."""

    measurand: Annotated[str, Text(120, 1)]
    value: Amount
    standard_uncertainty: NonNegative | None = None
    expanded_uncertainty: NonNegative | None = None


class PtMeasurandView(View):
    round_id: str
    scheme: str
    measurand: str
    unit: str
    assigned_value: float | None
    assigned_standard_uncertainty: float | None
    sigma_pt: float | None
    coverage_factor: float


class ParticipantResultView(View):
    lab_id: str
    value: float
    standard_uncertainty: float | None
    expanded_uncertainty: float | None


class PtResultView(View):
    lab: str
    measurand: str
    result: ParticipantResultView


class RobustStatisticsView(View):
    """ISO 13528:2022 Algorithm A: robust mean x*, robust standard deviation s*, from p results."""

    x_star: float
    s_star: float
    p: int
    iterations: int
    converged: bool
    note: str


class LabScoreView(View):
    lab_id: str
    value: float
    z: float
    z_prime: float
    zeta: float | None
    en: float | None
    z_performance: Performance
    en_performance: Performance | None


class PtReportView(View):
    round_id: str
    measurand: str
    unit: str
    p: int
    robust: RobustStatisticsView
    assigned_value: float
    u_assigned: float
    sigma_pt: float
    scores: list[LabScoreView] = Field(description="Every score for coordinators; a participant's own.")
    notes: list[str]
    chart_svg: str = Field(description="z-score bars; laboratories other than the reader's are anonymised.")


class PtRoundView(View):
    id: int | None
    code: str
    title: str
    coordinator_lab: str
    participants: list[str]
    measurands: list[PtMeasurandView]
    state: RoundState
    created_at: datetime
    evaluated_at: datetime | None
    results: list[PtResultView]
    reports: list[PtReportView]


class PtRoundSummary(View):
    id: int | None
    code: str
    title: str
    state: RoundState
    coordinator_lab: str


class PtSubmission(View):
    round: str
    measurand: str
    lab: str
    value: float


def _round(uow: AbstractUnitOfWork, actor: Actor, round_id: int, lab: str | None = None) -> PtRoundEntry:
    """A round the actor may see: its coordinator, its participants, and network coordinators; with
    `lab`, a round that laboratory (one whose PT rounds the actor may read) coordinates or takes part in."""
    entry = uow.quality.get(PtRoundEntry, round_id)
    if entry is not None:
        if lab is None and _sees_round(actor, uow.repo.directory(), entry):
            return entry
        if lab is not None and lab in (entry.coordinator_lab, *entry.participants):
            return entry
    raise NotFound(f"Proficiency-test round {round_id} was not found.")


def _pt_lab(uow: AbstractUnitOfWork, actor: Actor, lab: str | None) -> str | None:
    """The laboratory whose PT rounds a read is about, when it is not the actor's own: one the visibility
    table lets the actor read (a laboratory under their central laboratory), or NotFound."""
    if lab is None or lab == actor.org_code:
        return None
    if lab not in orgs_seen(actor, Kind.PT_ROUND, uow.repo.directory()):
        raise NotFound(f"There are no proficiency-test rounds of '{lab}' for you.", "lab")
    return lab


def _report_view(reader: str, report: RoundReport, full: bool) -> PtReportView:
    scores = [s for s in report.scores if full or s.lab_id == reader]
    chart = z_score_bars_svg(
        [(s.lab_id if full or s.lab_id == reader else "·", s.z) for s in report.scores],
        title=f"{report.measurand}: z-scores",
    )
    return PtReportView.of_record(report, scores=scores, chart_svg=chart)


def round_view(
    uow: AbstractUnitOfWork, actor: Actor, entry: PtRoundEntry, lab: str | None = None
) -> PtRoundView:
    """Coordinators see every result and score; a participant sees the statistics and its own scores.

    With `lab`, the round as that laboratory reads it (a central laboratory overseeing a local one)."""
    reader = lab or actor.org_code
    # The coordinating laboratory, and the central laboratory above it, see every result and score.
    full = reader == entry.coordinator_lab or (
        lab is None and _sees_round(actor, uow.repo.directory(), entry, (Relation.CHILD,))
    )
    results = uow.quality.find(PtResultEntry, round_entry_id=entry.id)
    seen = [r for r in results if full or r.lab_code == reader]
    return PtRoundView.of_record(
        entry,
        results=[PtResultView.of_record(r, lab=r.lab_code) for r in seen],
        reports=[_report_view(reader, report, full) for report in entry.reports or ()],
    )


def create_round(uow: AbstractUnitOfWork, actor: Actor, cmd: PtRoundCreate) -> PtRoundView:
    """A network coordinator opens a round with its measurands and participating laboratories."""
    with uow:
        require_role(actor, "open a proficiency-test round", Role.NETWORK_COORDINATOR)
        uow.act_as(actor.username)
        participants = sorted(set(cmd.participants))
        for code in participants:
            org = uow.repo.org(code)
            if org is None:
                raise NotFound(f"There is no laboratory '{code}' in the network.", field="participants")
            if not org.is_laboratory:
                raise ValidationFailed(f"'{code}' is not a laboratory of the network.", field="participants")
        # Checked after the participants, which name the more common mistake first.
        if not cmd.measurands:
            raise ValidationFailed("A round needs at least one measurand.", field="measurands")
        now = uow.clock()
        code = f"PT-{now.year}-{uow.repo.next_number(f'pt-{now.year}'):03d}"
        measurands = tuple(
            PtRound(
                round_id=code,
                scheme=cmd.scheme or "customslab network PT",
                measurand=m.measurand,
                unit=m.unit,
                assigned_value=_float(m.assigned_value),
                assigned_standard_uncertainty=_float(m.assigned_standard_uncertainty),
                sigma_pt=_float(m.sigma_pt),
            )
            for m in cmd.measurands
        )
        entry = PtRoundEntry(actor.org_code, code, cmd.title, measurands, participants, actor.username, now)
        uow.quality.add(entry)
        uow.commit()
        return round_view(uow, actor, entry)


def submit_result(uow: AbstractUnitOfWork, actor: Actor, round_id: int, cmd: PtResultCreate) -> PtSubmission:
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
        measurand = cmd.measurand
        if measurand not in {m.measurand for m in entry.measurands}:
            raise ValidationFailed(f"Round {entry.code} has no measurand '{measurand}'.", field="measurand")
        done = uow.quality.find(
            PtResultEntry, round_entry_id=entry.id, lab_code=actor.org_code, measurand=measurand
        )
        if done:
            raise Conflict(f"Your laboratory already submitted {measurand} for round {entry.code}.")
        value = float(cmd.value)
        result = ParticipantResult(
            actor.org_code,
            value,
            standard_uncertainty=_float(cmd.standard_uncertainty),
            expanded_uncertainty=_float(cmd.expanded_uncertainty),
        )
        assert entry.id is not None
        uow.quality.add(
            PtResultEntry(entry.id, actor.org_code, measurand, result, actor.username, uow.clock())
        )
        uow.commit()
        return PtSubmission(round=entry.code, measurand=measurand, lab=actor.org_code, value=value)


def evaluate(uow: AbstractUnitOfWork, actor: Actor, round_id: int) -> PtRoundView:
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
                # The round's state, not the request, is wrong: it cannot be scored yet (409, not 422).
                raise InvalidTransition(
                    f"No results were submitted for {pt.measurand}; round {entry.code} cannot be scored yet."
                )
            try:
                reports.append(evaluate_round(pt, [r.result for r in rows]))
            except QualityError as exc:
                raise ValidationFailed(str(exc), field="measurand") from None
        entry.reports = tuple(reports)
        entry.state = "evaluated"
        entry.evaluated_at = uow.clock()
        uow.commit()
        return round_view(uow, actor, entry)


def round_detail(uow: AbstractUnitOfWork, actor: Actor, round_id: int, lab: str | None = None) -> PtRoundView:
    """A round with the results and scores the actor's laboratory may see (or, read-only, those of
    `lab`, a laboratory under the actor's central laboratory)."""
    with uow:
        reader = _pt_lab(uow, actor, lab)
        return round_view(uow, actor, _round(uow, actor, round_id, reader), reader)


def list_rounds(uow: AbstractUnitOfWork, actor: Actor, lab: str | None = None) -> list[PtRoundSummary]:
    """Rounds the actor's laboratory coordinates or takes part in (or those of `lab`, a laboratory under
    the actor's central laboratory)."""
    with uow:
        return rounds_of(uow, actor, lab)


def rounds_of(uow: AbstractUnitOfWork, actor: Actor, lab: str | None = None) -> list[PtRoundSummary]:
    """Inside a unit of work: what :func:`list_rounds` returns."""
    reader = _pt_lab(uow, actor, lab)
    directory = uow.repo.directory()
    return [
        PtRoundSummary.of_record(r)
        for r in uow.quality.find(PtRoundEntry)
        if (
            _sees_round(actor, directory, r)
            if reader is None
            else reader in (r.coordinator_lab, *r.participants)
        )
    ]


def _sees_round(
    actor: Actor, directory: Directory, entry: PtRoundEntry, only: tuple[Relation, ...] | None = None
) -> bool:
    """The visibility table's verdict on a round: its coordinator owns it, its participants share it."""
    holding = Holding(frozenset({entry.coordinator_lab}), shared=frozenset(entry.participants))
    found = relations(actor, directory, holding)
    return sees(actor, Kind.PT_ROUND, found if only is None else found & set(only))
