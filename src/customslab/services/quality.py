"""Use cases of the ISO/IEC 17025 quality records: methods, equipment, competence and QC.

The rules themselves are in `domain.quality`; these functions load, check access, apply and store.
"""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

from customslab.domain.access import Actor
from customslab.domain.enums import Role
from customslab.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from customslab.domain.quality.charts import levey_jennings_svg
from customslab.domain.quality.competence import Authorisation, AuthorisedRole, TrainingRecord
from customslab.domain.quality.control_charts import (
    CorrectiveAction,
    QcBatch,
    QcPoint,
    assert_batch_releasable,
    evaluate_batch,
)
from customslab.domain.quality.equipment import (
    CalibrationEvent,
    CalibrationKind,
    Equipment,
    EquipmentStatus,
    MaintenanceEntry,
    MaintenanceKind,
    ReferenceMaterial,
    assert_usable,
    due_list,
)
from customslab.domain.quality.errors import MethodTransitionError, QualityError
from customslab.domain.quality.methods import (
    MethodOrigin,
    MethodStatus,
    MethodVersion,
    Technique,
    ValidationData,
    supersede,
    validate_method,
    withdraw_method,
)
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.quality_ports import (
    AuthorisationEntry,
    CalibrationEntry,
    CorrectiveActionEntry,
    EquipmentEntry,
    MaintenanceRecord,
    MethodEntry,
    QcBatchEntry,
    ReferenceMaterialEntry,
    TrainingEntry,
)

T = TypeVar("T")


def plain(value: Any) -> Any:
    """JSON-ready view of domain values: dataclasses by field, enums by value, ISO dates."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    return value


def require_role(actor: Actor, doing: str, *roles: Role) -> None:
    if not actor.has(*roles):
        names = " or ".join(r.value.replace("_", " ") for r in roles)
        raise PermissionDenied(f"Only a {names} may {doing}.")


def own_entry(uow: AbstractUnitOfWork, actor: Actor, kind: type[T], entry_id: int, what: str) -> T:
    """An entry of the actor's laboratory; another laboratory's record is reported as not found."""
    entry = uow.quality.get(kind, entry_id)
    if entry is None or getattr(entry, "lab_code", None) != actor.org_code:
        raise NotFound(f"{what} {entry_id} was not found.")
    return entry


def _text(data: dict[str, Any], key: str, required: bool = True) -> str:
    value = str(data.get(key) or "").strip()
    if required and not value:
        raise ValidationFailed(f"{key.replace('_', ' ').capitalize()} is required.", field=key)
    return value


def _date(data: dict[str, Any], key: str, default: date | None = None) -> date:
    raw = data.get(key)
    if raw in (None, ""):
        if default is None:
            raise ValidationFailed(f"{key.replace('_', ' ').capitalize()} is required.", field=key)
        return default
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise ValidationFailed(
            f"{key.replace('_', ' ').capitalize()} must be a date (YYYY-MM-DD).", key
        ) from None


def _number(data: dict[str, Any], key: str, required: bool = False) -> float | None:
    raw = data.get(key)
    if raw in (None, ""):
        if required:
            raise ValidationFailed(f"{key.replace('_', ' ').capitalize()} is required.", field=key)
        return None
    try:
        return float(str(raw).replace(",", "."))
    except ValueError:
        raise ValidationFailed(
            f"{key.replace('_', ' ').capitalize()} '{raw}' is not a number.", key
        ) from None


def _strings(data: dict[str, Any], key: str) -> tuple[str, ...]:
    return tuple(str(v).strip() for v in data.get(key) or () if str(v).strip())


def _enum(cls: type[Any], value: Any, key: str) -> Any:
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise ValidationFailed(f"'{value}' is not a valid {key}; use one of: {allowed}.", key) from None


# -- methods (17025 7.2) ----------------------------------------------------------------------
def method_view(e: MethodEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "lab_code": e.lab_code,
        "label": e.method.label,
        "published": e.published,
        "adopted_from_id": e.adopted_from_id,
        "origin": e.method.origin.describe() if e.method.origin else None,
        **plain(e.method),
    }


def _validation(data: dict[str, Any] | None) -> ValidationData | None:
    if not data:
        return None
    known = {f.name for f in dataclasses.fields(ValidationData)}
    numbers = {k: _number(data, k) for k in known if k not in ("unit", "uncertainty_model")}
    kwargs: dict[str, Any] = {k: v for k, v in numbers.items() if v is not None}
    kwargs["unit"] = str(data.get("unit", ""))
    kwargs["uncertainty_model"] = str(data.get("uncertainty_model", ""))
    return ValidationData(**kwargs)


def create_method_draft(uow: AbstractUnitOfWork, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """A lab manager records a new method version as a draft of the laboratory's catalogue."""
    with uow:
        require_role(actor, "manage the method catalogue", Role.LAB_MANAGER)
        uow.act_as(actor.username)
        code, version = _text(data, "method_id"), _text(data, "version")
        if uow.quality.find(MethodEntry, lab_code=actor.org_code, method_code=code, version=version):
            raise Conflict(f"Method {code} version {version} already exists in your laboratory.")
        method = MethodVersion(
            method_id=code,
            title=_text(data, "title"),
            version=version,
            technique=_enum(Technique, data.get("technique", "other"), "technique"),
            analytes=_strings(data, "analytes"),
            matrices=_strings(data, "matrices"),
            hs_headings=_strings(data, "hs_headings"),
            principle=str(data.get("principle", "")),
            scope=str(data.get("scope", "")),
            standards=_strings(data, "standards"),
            validation=_validation(data.get("validation")),
            origin=MethodOrigin(published_by=actor.org_code),
        )
        entry = MethodEntry(actor.org_code, code, version, method, actor.username, uow.clock())
        uow.quality.add(entry)
        uow.commit()
        return method_view(entry)


def validate_method_version(
    uow: AbstractUnitOfWork, actor: Actor, entry_id: int, validation: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Approve a draft as validated (with its validation data); older validated versions are superseded."""
    with uow:
        require_role(actor, "validate a method", Role.LAB_MANAGER)
        uow.act_as(actor.username)
        entry = own_entry(uow, actor, MethodEntry, entry_id, "Method version")
        method = entry.method
        if validation and method.status is MethodStatus.DRAFT:
            method = replace(method, validation=_validation(validation))
        entry.method = validate_method(method, actor.username, uow.clock())
        for other in uow.quality.find(MethodEntry, lab_code=actor.org_code, method_code=entry.method_code):
            if other is not entry and other.method.status is MethodStatus.VALIDATED:
                other.method, _ = supersede(other.method, entry.method)
        uow.commit()
        return method_view(entry)


def withdraw_method_version(uow: AbstractUnitOfWork, actor: Actor, entry_id: int) -> dict[str, Any]:
    """Withdraw a validated version; no new test may start on it."""
    with uow:
        require_role(actor, "withdraw a method", Role.LAB_MANAGER)
        uow.act_as(actor.username)
        entry = own_entry(uow, actor, MethodEntry, entry_id, "Method version")
        entry.method = withdraw_method(entry.method)
        uow.commit()
        return method_view(entry)


def publish_method(uow: AbstractUnitOfWork, actor: Actor, entry_id: int) -> dict[str, Any]:
    """Make a validated method version visible to the network, for other laboratories to adopt."""
    with uow:
        require_role(actor, "publish a method", Role.LAB_MANAGER)
        uow.act_as(actor.username)
        entry = own_entry(uow, actor, MethodEntry, entry_id, "Method version")
        if entry.method.status is not MethodStatus.VALIDATED:
            raise MethodTransitionError(
                f"Method {entry.method.label} is {entry.method.status.value}; only a validated method "
                "can be published to the network."
            )
        entry.published, entry.published_at = True, uow.clock()
        uow.commit()
        return method_view(entry)


def _visible_method(uow: AbstractUnitOfWork, actor: Actor, entry_id: int) -> MethodEntry:
    entry = uow.quality.get(MethodEntry, entry_id)
    if entry is None or not (entry.lab_code == actor.org_code or entry.published or actor.sees_network):
        raise NotFound(f"Method version {entry_id} was not found.")
    return entry


def adopt_method(uow: AbstractUnitOfWork, actor: Actor, source_id: int) -> dict[str, Any]:
    """Copy a published method into the laboratory's catalogue as a draft that records its origin.

    The adopting laboratory must still verify and validate it before use (17025 7.2.1.5).
    """
    with uow:
        require_role(actor, "adopt a method", Role.LAB_MANAGER)
        uow.act_as(actor.username)
        source = _visible_method(uow, actor, source_id)
        if source.lab_code == actor.org_code:
            raise ValidationFailed("This method is already in your laboratory's catalogue.", "method")
        code, version = source.method_code, source.version
        if uow.quality.find(MethodEntry, lab_code=actor.org_code, method_code=code, version=version):
            raise Conflict(f"Method {code} version {version} is already in your catalogue.")
        method = replace(
            source.method,
            status=MethodStatus.DRAFT,
            approved_by=None,
            approved_at=None,
            superseded_by=None,
            origin=MethodOrigin(published_by=source.lab_code, adopted_from_version=version),
        )
        entry = MethodEntry(
            actor.org_code, code, version, method, actor.username, uow.clock(), adopted_from_id=source.id
        )
        uow.quality.add(entry)
        uow.commit()
        return method_view(entry)


def list_methods(uow: AbstractUnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    """The laboratory's catalogue, then the versions other laboratories published to the network."""
    with uow:
        return methods_of(uow, actor)


def methods_of(uow: AbstractUnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    """Inside a unit of work: what :func:`list_methods` returns."""
    own = uow.quality.find(MethodEntry, lab_code=actor.org_code)
    shared = [e for e in uow.quality.find(MethodEntry, published=True) if e.lab_code != actor.org_code]
    return [method_view(e) for e in own + shared]


def method_detail(uow: AbstractUnitOfWork, actor: Actor, entry_id: int) -> dict[str, Any]:
    with uow:
        return method_view(_visible_method(uow, actor, entry_id))


# -- equipment and reference materials (17025 6.4, 6.5) --------------------------------------
def _calibrations(uow: AbstractUnitOfWork, entry: EquipmentEntry) -> list[CalibrationEvent]:
    return [c.event for c in uow.quality.find(CalibrationEntry, equipment_entry_id=entry.id)]


def equipment_view(uow: AbstractUnitOfWork, entry: EquipmentEntry) -> dict[str, Any]:
    cals = _calibrations(uow, entry)
    today = uow.clock().date()
    try:
        assert_usable(entry.equipment, cals, today)
        usable, why = True, ""
    except QualityError as exc:
        usable, why = False, str(exc)
    return {
        "id": entry.id,
        "lab_code": entry.lab_code,
        "label": entry.equipment.label,
        **plain(entry.equipment),
        "usable_today": usable,
        "not_usable_because": why,
        "calibrations": [plain(c) for c in cals],
    }


def register_equipment(uow: AbstractUnitOfWork, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Register an instrument in the laboratory's equipment list."""
    with uow:
        require_role(actor, "manage equipment", Role.LAB_MANAGER)
        uow.act_as(actor.username)
        code = _text(data, "equipment_id")
        if uow.quality.find(EquipmentEntry, lab_code=actor.org_code, code=code):
            raise Conflict(f"Equipment {code} is already registered in your laboratory.")
        equipment = Equipment(
            code,
            _text(data, "name"),
            manufacturer=str(data.get("manufacturer", "")),
            model=str(data.get("model", "")),
            serial_number=str(data.get("serial_number", "")),
            software_version=str(data.get("software_version", "")),
            location=str(data.get("location", "")),
        )
        entry = EquipmentEntry(actor.org_code, code, equipment, uow.clock())
        uow.quality.add(entry)
        uow.commit()
        return equipment_view(uow, entry)


def record_calibration(
    uow: AbstractUnitOfWork, actor: Actor, equipment_entry_id: int, data: dict[str, Any]
) -> dict[str, Any]:
    """Record a calibration or verification with its result, acceptance criteria and next due date."""
    with uow:
        require_role(actor, "record a calibration", Role.LAB_MANAGER)
        uow.act_as(actor.username)
        entry = own_entry(uow, actor, EquipmentEntry, equipment_entry_id, "Equipment")
        performed = _date(data, "performed_on", uow.clock().date())
        next_due = _date(data, "next_due")
        if next_due < performed:
            raise ValidationFailed("The next due date cannot be before the calibration date.", "next_due")
        event = CalibrationEvent(
            entry.code,
            _enum(CalibrationKind, data.get("kind", "calibration"), "kind"),
            performed,
            _text(data, "result"),
            _text(data, "acceptance_criteria"),
            bool(data.get("passed", False)),
            next_due,
            str(data.get("certificate", "")),
        )
        uow.quality.add(CalibrationEntry(equipment_entry_id, event, actor.username, uow.clock()))
        uow.commit()
        return equipment_view(uow, entry)


def record_maintenance(
    uow: AbstractUnitOfWork, actor: Actor, equipment_entry_id: int, data: dict[str, Any]
) -> dict[str, Any]:
    """Log maintenance, damage or repair; `out_of_service`/`back_in_service` change the status."""
    with uow:
        require_role(actor, "record maintenance", Role.LAB_MANAGER, Role.ANALYST)
        uow.act_as(actor.username)
        entry = own_entry(uow, actor, EquipmentEntry, equipment_entry_id, "Equipment")
        log = MaintenanceEntry(
            entry.code,
            _enum(MaintenanceKind, data.get("kind", "maintenance"), "kind"),
            _date(data, "occurred_on", uow.clock().date()),
            _text(data, "description"),
            str(data.get("performed_by", actor.username)),
        )
        uow.quality.add(MaintenanceRecord(equipment_entry_id, log, actor.username, uow.clock()))
        if data.get("out_of_service"):
            entry.equipment = replace(entry.equipment, status=EquipmentStatus.OUT_OF_SERVICE)
        elif data.get("back_in_service"):
            entry.equipment = replace(entry.equipment, status=EquipmentStatus.IN_SERVICE)
        uow.commit()
        return equipment_view(uow, entry) | {
            "maintenance": [
                plain(m.entry) for m in uow.quality.find(MaintenanceRecord, equipment_entry_id=entry.id)
            ]
        }


def list_equipment(uow: AbstractUnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    with uow:
        return equipment_of(uow, actor)


def equipment_of(uow: AbstractUnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    """Inside a unit of work: the laboratory's instruments, each with whether it may be used today."""
    return [equipment_view(uow, e) for e in uow.quality.find(EquipmentEntry, lab_code=actor.org_code)]


def equipment_detail(uow: AbstractUnitOfWork, actor: Actor, entry_id: int) -> dict[str, Any]:
    with uow:
        entry = own_entry(uow, actor, EquipmentEntry, entry_id, "Equipment")
        return equipment_view(uow, entry) | {
            "maintenance": [
                plain(m.entry) for m in uow.quality.find(MaintenanceRecord, equipment_entry_id=entry.id)
            ]
        }


def equipment_due(uow: AbstractUnitOfWork, actor: Actor, horizon_days: int = 30) -> list[dict[str, Any]]:
    """Instruments overdue or due for calibration within the horizon, most urgent first."""
    with uow:
        return due_of(uow, actor, horizon_days)


def due_of(uow: AbstractUnitOfWork, actor: Actor, horizon_days: int = 30) -> list[dict[str, Any]]:
    """Inside a unit of work: what :func:`equipment_due` returns."""
    entries = uow.quality.find(EquipmentEntry, lab_code=actor.org_code)
    ids = {e.code: e.id for e in entries}
    items = due_list(
        [(e.equipment, _calibrations(uow, e)) for e in entries], uow.clock().date(), horizon_days
    )
    return [
        {
            "id": ids[i.equipment.equipment_id],
            "label": i.equipment.label,
            "kind": i.kind.value if i.kind else None,
            "due_on": i.due_on.isoformat() if i.due_on else None,
            "overdue": i.overdue,
            "days_left": i.days_left,
        }
        for i in items
    ]


def add_reference_material(uow: AbstractUnitOfWork, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Record a (certified) reference material with its certificate, lot, expiry and value ± U."""
    with uow:
        require_role(actor, "manage reference materials", Role.LAB_MANAGER)
        uow.act_as(actor.username)
        material = ReferenceMaterial(
            _text(data, "rm_id"),
            _text(data, "name"),
            _text(data, "certificate"),
            _text(data, "lot"),
            _date(data, "expiry"),
            _number(data, "certified_value", required=True) or 0.0,
            _number(data, "expanded_uncertainty", required=True) or 0.0,
            _text(data, "unit"),
        )
        entry = ReferenceMaterialEntry(actor.org_code, material, actor.username, uow.clock())
        uow.quality.add(entry)
        uow.commit()
        return {"id": entry.id, **plain(material), "expired": material.is_expired(uow.clock().date())}


def list_reference_materials(uow: AbstractUnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    with uow:
        today = uow.clock().date()
        return [
            {"id": e.id, **plain(e.material), "expired": e.material.is_expired(today)}
            for e in uow.quality.find(ReferenceMaterialEntry, lab_code=actor.org_code)
        ]


# -- competence (17025 6.2) --------------------------------------------------------------------
def _lab_user(uow: AbstractUnitOfWork, actor: Actor, user_id: Any) -> Any:
    user = uow.repo.user(int(user_id)) if str(user_id or "").isdigit() else None
    if user is None or user.org_code != actor.org_code:
        raise ValidationFailed(f"User {user_id} is not a member of your laboratory.", field="user_id")
    return user


def record_training(uow: AbstractUnitOfWork, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Record completed training of a staff member (evidence for authorisation)."""
    with uow:
        require_role(actor, "record training", Role.LAB_MANAGER)
        uow.act_as(actor.username)
        user = _lab_user(uow, actor, data.get("user_id"))
        record = TrainingRecord(
            user.username,
            _text(data, "topic"),
            _date(data, "completed_on", uow.clock().date()),
            str(data.get("trainer", "")),
            str(data["method_id"]) if data.get("method_id") else None,
        )
        entry = TrainingEntry(actor.org_code, user.id, record, actor.username, uow.clock())
        uow.quality.add(entry)
        uow.commit()
        return {"id": entry.id, **plain(record)}


def authorisation_view(e: AuthorisationEntry) -> dict[str, Any]:
    return {"id": e.id, "user": e.user_id, **plain(e.authorisation)}


def grant_authorisation(uow: AbstractUnitOfWork, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Authorise a staff member as analyst or reviewer, for one method of the catalogue or for all."""
    with uow:
        require_role(actor, "grant authorisations", Role.LAB_MANAGER)
        uow.act_as(actor.username)
        user = _lab_user(uow, actor, data.get("user_id"))
        role = _enum(AuthorisedRole, data.get("role", ""), "role")
        needed = Role.ANALYST if role is AuthorisedRole.ANALYST else Role.REVIEWER
        if needed not in user.roles:
            raise ValidationFailed(f"{user.username} does not have the {needed.value} role.", field="role")
        method_code = str(data.get("method_id") or "").strip() or None
        if method_code and not uow.quality.find(
            MethodEntry, lab_code=actor.org_code, method_code=method_code
        ):
            raise ValidationFailed(f"Method {method_code} is not in your catalogue.", field="method_id")
        valid_from = _date(data, "valid_from", uow.clock().date())
        until = _date(data, "valid_until") if data.get("valid_until") else None
        if until is not None and until < valid_from:
            raise ValidationFailed("An authorisation cannot end before it starts.", field="valid_until")
        auth = Authorisation(user.username, method_code, role, actor.username, valid_from, until)
        entry = AuthorisationEntry(actor.org_code, user.id, auth, uow.clock())
        uow.quality.add(entry)
        uow.commit()
        return authorisation_view(entry)


def revoke_authorisation(uow: AbstractUnitOfWork, actor: Actor, entry_id: int) -> dict[str, Any]:
    with uow:
        require_role(actor, "revoke authorisations", Role.LAB_MANAGER)
        uow.act_as(actor.username)
        entry = own_entry(uow, actor, AuthorisationEntry, entry_id, "Authorisation")
        entry.authorisation = replace(entry.authorisation, revoked=True)
        entry.revoked_at = uow.clock()
        uow.commit()
        return authorisation_view(entry)


def list_authorisations(uow: AbstractUnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    with uow:
        return authorisations_of(uow, actor)


def authorisations_of(uow: AbstractUnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    """Inside a unit of work: the laboratory's authorisations."""
    return [authorisation_view(e) for e in uow.quality.find(AuthorisationEntry, lab_code=actor.org_code)]


def lab_authorisations(uow: AbstractUnitOfWork, lab_code: str) -> list[Authorisation]:
    """Inside a unit of work: every authorisation of the laboratory, for the analysis checks."""
    return [e.authorisation for e in uow.quality.find(AuthorisationEntry, lab_code=lab_code)]


# -- internal quality control (17025 7.7.1) -----------------------------------------------------
def _points(raw: Any) -> tuple[QcPoint, ...]:
    points = []
    for i, p in enumerate(raw or ()):
        item = p if isinstance(p, dict) else {"value": p}
        value = _number(item, "value", required=True)
        when = item.get("measured_at")
        try:
            measured = datetime.fromisoformat(str(when)) if when else None
        except ValueError:
            raise ValidationFailed(f"Point {i}: measured_at is not a date-time.", field="points") from None
        points.append(QcPoint(float(value or 0.0), item.get("run_id"), measured))
    if not points:
        raise ValidationFailed("A QC batch needs at least one control value.", field="points")
    return tuple(points)


def qc_view(uow: AbstractUnitOfWork, e: QcBatchEntry) -> dict[str, Any]:
    actions = [a.action for a in uow.quality.find(CorrectiveActionEntry, qc_batch_entry_id=e.id)]
    try:
        assert_batch_releasable(e.evaluation, actions)
        releasable, why = True, ""
    except QualityError as exc:
        releasable, why = False, str(exc)
    return {
        "id": e.id,
        "lab_code": e.lab_code,
        "status": e.status,
        "releasable": releasable,
        "not_releasable_because": why,
        "batch": plain(e.batch),
        "violations": plain(e.evaluation.violations),
        "corrective_actions": plain(actions),
        "method_version_id": e.method_entry_id,
        "equipment_id": e.equipment_entry_id,
    }


def record_qc_batch(uow: AbstractUnitOfWork, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Record a QC series with its target mean and SD; the Westgard evaluation is stored with it."""
    with uow:
        require_role(actor, "record QC batches", Role.LAB_MANAGER, Role.ANALYST, Role.REVIEWER)
        uow.act_as(actor.username)
        sd = _number(data, "target_sd", required=True) or 0.0
        if not sd > 0:
            raise ValidationFailed("The target SD must be positive.", field="target_sd")
        method_id = data.get("method_version_id")
        if method_id is not None:
            own_entry(uow, actor, MethodEntry, int(method_id), "Method version")
        equipment_id = data.get("equipment_id")
        if equipment_id is not None:
            own_entry(uow, actor, EquipmentEntry, int(equipment_id), "Equipment")
        code = str(data.get("batch_id") or "").strip()
        code = code or f"QC-{actor.org_code}-{uow.repo.next_number(f'qc-{actor.org_code}'):05d}"
        batch = QcBatch(
            code,
            _text(data, "material"),
            _number(data, "target_mean", True) or 0.0,
            sd,
            _points(data.get("points")),
        )
        evaluation = evaluate_batch(batch)
        entry = QcBatchEntry(
            actor.org_code,
            batch,
            evaluation,
            evaluation.status.value,
            actor.username,
            uow.clock(),
            int(method_id) if method_id is not None else None,
            int(equipment_id) if equipment_id is not None else None,
        )
        uow.quality.add(entry)
        uow.commit()
        return qc_view(uow, entry)


def record_corrective_action(
    uow: AbstractUnitOfWork, actor: Actor, batch_entry_id: int, description: str
) -> dict[str, Any]:
    """Record what was done about an out-of-control batch; its results may then be released."""
    with uow:
        require_role(actor, "record corrective actions", Role.LAB_MANAGER, Role.REVIEWER)
        uow.act_as(actor.username)
        entry = own_entry(uow, actor, QcBatchEntry, batch_entry_id, "QC batch")
        if not description.strip():
            raise ValidationFailed("Describe the corrective action.", field="description")
        rules = tuple(sorted({v.rule for v in entry.evaluation.rejections}))
        action = CorrectiveAction(
            entry.batch.batch_id, uow.clock(), description.strip(), actor.username, rules
        )
        assert entry.id is not None
        uow.quality.add(CorrectiveActionEntry(entry.id, action))
        uow.commit()
        return qc_view(uow, entry)


def qc_batch_detail(uow: AbstractUnitOfWork, actor: Actor, batch_entry_id: int) -> dict[str, Any]:
    with uow:
        return qc_view(uow, own_entry(uow, actor, QcBatchEntry, batch_entry_id, "QC batch"))


def list_qc_batches(uow: AbstractUnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    with uow:
        return [qc_view(uow, e) for e in uow.quality.find(QcBatchEntry, lab_code=actor.org_code)]


def qc_chart_svg(uow: AbstractUnitOfWork, actor: Actor, batch_entry_id: int) -> str:
    """The batch's Levey–Jennings chart with the Westgard violations coloured."""
    with uow:
        return qc_chart(own_entry(uow, actor, QcBatchEntry, batch_entry_id, "QC batch"))


def qc_chart(e: QcBatchEntry) -> str:
    b = e.batch
    return levey_jennings_svg(b.points, b.target_mean, b.target_sd, e.evaluation.violations, b.material)


def assert_batch_entry_releasable(uow: AbstractUnitOfWork, batch_entry_id: int) -> None:
    """Inside a unit of work: refuse release of results of an out-of-control batch without action."""
    entry = uow.quality.get(QcBatchEntry, batch_entry_id)
    if entry is None:
        return
    actions = [a.action for a in uow.quality.find(CorrectiveActionEntry, qc_batch_entry_id=entry.id)]
    assert_batch_releasable(entry.evaluation, actions)
