"""The ISO/IEC 17025 registers of staff competence and internal quality control, declared once each.

Training records and authorisations (17025 6.2) and QC batches with their Westgard evaluation and
corrective actions (17025 7.7.1). As in `quality`, each register declares its fields once and the
function with the domain's rules; `quality_register` makes the use cases of the declaration.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator

from customslab.domain.access import Actor
from customslab.domain.enums import Role
from customslab.domain.errors import Conflict, NotFound, ValidationFailed
from customslab.domain.quality.charts import levey_jennings_svg
from customslab.domain.quality.competence import Authorisation, AuthorisedRole, TrainingRecord
from customslab.domain.quality.control_charts import (
    CorrectiveAction,
    QcBatch,
    QcPoint,
    QcStatus,
    Violation,
    assert_batch_releasable,
    evaluate_batch,
)
from customslab.services import quality_register as qr
from customslab.services.contract import Amount, Command, Day, Id, Moment, Positive, Text, View
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.quality_ports import (
    AuthorisationEntry,
    CorrectiveActionEntry,
    EquipmentEntry,
    MethodEntry,
    QcBatchEntry,
    TrainingEntry,
)

UoW = AbstractUnitOfWork
_manager = Role.LAB_MANAGER


def _lab_user(uow: UoW, actor: Actor, user_id: int) -> Any:
    user = uow.repo.user(user_id)
    if user is None or user.org_code != actor.org_code:
        raise NotFound(f"User {user_id} is not a member of your laboratory.", field="user_id")
    return user


class StaffMember(BaseModel):
    """The member of the laboratory a competence record is about."""

    user: int = Field(description="The user's id.")
    user_id: str = Field(description="The user's username, as the record names them.")


# -- training (17025 6.2.5) --------------------------------------------------------------------
class TrainingFields(BaseModel):
    topic: Annotated[str, Text(300, 1)]
    trainer: Annotated[str, Text(200)] = ""
    method_id: Annotated[str, Text(60)] | None = Field(
        default=None, description="The method the training was for."
    )


class TrainingCreate(TrainingFields, Command):
    """A completed training of a member of the laboratory, evidence for an authorisation."""

    user_id: Id
    completed_on: Day | None = Field(default=None, description="Defaults to today.")


class TrainingView(TrainingFields, StaffMember, View):
    id: int
    completed_on: date
    evidence_sha256: str | None


def _new_training(uow: UoW, actor: Actor, cmd: TrainingCreate) -> TrainingEntry:
    """Record completed training of a staff member (evidence for authorisation)."""
    user = _lab_user(uow, actor, cmd.user_id)
    record = qr.value_of(
        TrainingRecord,
        cmd,
        user_id=user.username,
        completed_on=cmd.completed_on or uow.clock().date(),
        method_id=cmd.method_id or None,
    )
    return TrainingEntry(actor.org_code, user.id, record, actor.username, uow.clock())


def _show_training(uow: UoW, e: TrainingEntry) -> TrainingView:
    return TrainingView(id=qr.key(e), user=e.user_id, **qr.fields_of(e.record))


TRAINING = qr.Register(
    "training", "Training record", _new_training, _show_training, qr.writers("record training", _manager)
)


# -- authorisations (17025 6.2.6) ----------------------------------------------------------------
class AuthorisationFields(BaseModel):
    role: AuthorisedRole
    method_id: Annotated[str, Text(60)] | None = Field(
        default=None, description="None: every method of the catalogue."
    )
    valid_until: Day | None = None


class AuthorisationCreate(AuthorisationFields, Command):
    user_id: Id
    valid_from: Day | None = Field(default=None, description="Defaults to today.")


class AuthorisationView(AuthorisationFields, StaffMember, View):
    """An authorisation as the register keeps it; a revoked one stays listed, marked revoked."""

    id: int
    granted_by: str
    valid_from: date
    revoked: bool


def _new_authorisation(uow: UoW, actor: Actor, cmd: AuthorisationCreate) -> AuthorisationEntry:
    """Authorise a staff member as analyst or reviewer, for one method of the catalogue or for all."""
    user = _lab_user(uow, actor, cmd.user_id)
    needed = Role.ANALYST if cmd.role is AuthorisedRole.ANALYST else Role.REVIEWER
    if needed not in user.roles:
        raise Conflict(f"{user.username} does not have the {needed.value} role.", field="role")
    method_code = cmd.method_id or None
    if method_code and not uow.quality.find(MethodEntry, lab_code=actor.org_code, method_code=method_code):
        raise NotFound(f"Method {method_code} is not in your catalogue.", field="method_id")
    valid_from = cmd.valid_from or uow.clock().date()
    if cmd.valid_until is not None and cmd.valid_until < valid_from:
        raise ValidationFailed("An authorisation cannot end before it starts.", field="valid_until")
    auth = Authorisation(user.username, method_code, cmd.role, actor.username, valid_from, cmd.valid_until)
    return AuthorisationEntry(actor.org_code, user.id, auth, uow.clock())


def _show_authorisation(uow: UoW, e: AuthorisationEntry) -> AuthorisationView:
    return AuthorisationView(id=qr.key(e), user=e.user_id, **qr.fields_of(e.authorisation))


AUTHORISATIONS = qr.Register(
    "authorisations",
    "Authorisation",
    _new_authorisation,
    _show_authorisation,
    qr.writers("grant authorisations", _manager),
)


def _revoke(uow: UoW, actor: Actor, entry: AuthorisationEntry, _: qr.NoInput) -> None:
    """Revoke an authorisation; what it covered before the revocation stays valid."""
    if entry.authorisation.revoked:
        raise Conflict(f"This authorisation was already revoked on {entry.revoked_at:%Y-%m-%d}.")
    entry.authorisation = replace(entry.authorisation, revoked=True)
    entry.revoked_at = uow.clock()


revoke_authorisation = qr.Step(
    AUTHORISATIONS, "revoke", _revoke, qr.writers("revoke authorisations", _manager)
)


def lab_authorisations(uow: UoW, lab_code: str) -> list[Authorisation]:
    """Inside a unit of work: every authorisation of the laboratory, for the analysis checks."""
    return [e.authorisation for e in uow.quality.find(AuthorisationEntry, lab_code=lab_code)]


# -- internal quality control (17025 7.7.1) -------------------------------------------------------
class QcPointInput(Command):
    """One control measurement; `run_id` groups the controls measured in the same analytical run."""

    value: Amount
    run_id: Annotated[str, Text(60)] | None = None
    measured_at: Moment | None = None


class QcBatchCreate(Command):
    batch_id: Annotated[str, Text(60)] | None = Field(
        default=None, description="Numbered by the laboratory if not given."
    )
    material: Annotated[str, Text(300, 1)]
    target_mean: Amount
    target_sd: Positive
    points: list[QcPointInput | Amount] = Field(
        max_length=1000,
        json_schema_extra={"minItems": 1},  # checked by the validator below, in words
        description="The control values in measurement order, as numbers or with their run and time.",
    )
    method_version_id: Id | None = None
    equipment_id: Id | None = None

    @field_validator("points")
    @classmethod
    def _some_points(cls, points: list[QcPointInput | Amount]) -> list[QcPointInput | Amount]:
        if not points:
            raise ValueError("A QC batch needs at least one control value.")
        return points


class CorrectiveActionCreate(Command):
    description: Annotated[str, Text(4000, 1)]


class QcBatchView(View):
    id: int
    lab_code: str
    status: QcStatus
    releasable: bool
    not_releasable_because: str
    batch: QcBatch
    violations: list[Violation]
    corrective_actions: list[CorrectiveAction]
    method_version_id: int | None
    equipment_id: int | None


def _actions(uow: UoW, e: QcBatchEntry) -> list[CorrectiveAction]:
    return [a.action for a in uow.quality.find(CorrectiveActionEntry, qc_batch_entry_id=e.id)]


def _show_batch(uow: UoW, e: QcBatchEntry) -> QcBatchView:
    actions = _actions(uow, e)
    why = qr.refusal(lambda: assert_batch_releasable(e.evaluation, actions))
    return QcBatchView(
        id=qr.key(e),
        lab_code=e.lab_code,
        status=e.evaluation.status,
        releasable=not why,
        not_releasable_because=why,
        batch=e.batch,
        violations=list(e.evaluation.violations),
        corrective_actions=actions,
        method_version_id=e.method_entry_id,
        equipment_id=e.equipment_entry_id,
    )


def _point(p: QcPointInput | Amount) -> QcPoint:
    if isinstance(p, QcPointInput):
        return qr.value_of(QcPoint, p)
    return QcPoint(float(p))


def _new_batch(uow: UoW, actor: Actor, cmd: QcBatchCreate) -> QcBatchEntry:
    """Record a QC series with its target mean and SD; the Westgard evaluation is stored with it."""
    if cmd.method_version_id is not None:
        qr.own_entry(uow, actor, MethodEntry, cmd.method_version_id, "Method version", "method_version_id")
    if cmd.equipment_id is not None:
        qr.own_entry(uow, actor, EquipmentEntry, cmd.equipment_id, "Equipment", "equipment_id")
    code = cmd.batch_id or f"QC-{actor.org_code}-{uow.repo.next_number(f'qc-{actor.org_code}'):05d}"
    points = tuple(_point(p) for p in cmd.points)
    batch = QcBatch(code, cmd.material, float(cmd.target_mean), float(cmd.target_sd), points)
    evaluation = evaluate_batch(batch)
    return QcBatchEntry(
        actor.org_code,
        batch,
        evaluation,
        evaluation.status.value,
        actor.username,
        uow.clock(),
        cmd.method_version_id,
        cmd.equipment_id,
    )


QC_BATCHES = qr.Register(
    "qc-batches",
    "QC batch",
    _new_batch,
    _show_batch,
    qr.writers("record QC batches", _manager, Role.ANALYST, Role.REVIEWER),
)


def _correct(uow: UoW, actor: Actor, entry: QcBatchEntry, cmd: CorrectiveActionCreate) -> None:
    """Record what was done about an out-of-control batch; its results may then be released."""
    rules = tuple(sorted({v.rule for v in entry.evaluation.rejections}))
    action = CorrectiveAction(entry.batch.batch_id, uow.clock(), cmd.description, actor.username, rules)
    uow.quality.add(CorrectiveActionEntry(qr.key(entry), action))


record_corrective_action = qr.Step(
    QC_BATCHES,
    "corrective-actions",
    _correct,
    qr.writers("record corrective actions", _manager, Role.REVIEWER),
    adds=True,
)


def qc_chart_svg(uow: UoW, actor: Actor, batch_entry_id: int) -> str:
    """The batch's Levey–Jennings chart with the Westgard violations coloured."""
    with uow:
        return qc_chart(QC_BATCHES.get(uow, actor, batch_entry_id))


def qc_chart(e: QcBatchEntry) -> str:
    b = e.batch
    return levey_jennings_svg(b.points, b.target_mean, b.target_sd, e.evaluation.violations, b.material)


def assert_batch_entry_releasable(uow: UoW, batch_entry_id: int) -> None:
    """Inside a unit of work: refuse release of results of an out-of-control batch without action."""
    entry = uow.quality.get(QcBatchEntry, batch_entry_id)
    if entry is not None:
        assert_batch_releasable(entry.evaluation, _actions(uow, entry))
