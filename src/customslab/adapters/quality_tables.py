"""Tables of the ISO/IEC 17025 quality records and their imperative mapping.

Identity, ownership and lookup keys are real columns; the frozen domain value each entry wraps is one
JSON column, encoded field by field from the dataclass's type hints, so the audit hook (which covers
every table in `QUALITY_TABLE_NAMES`) records before/after values in full.
"""

from __future__ import annotations

import dataclasses
import types
from datetime import date, datetime
from enum import Enum
from typing import Any, Union, get_args, get_origin, get_type_hints

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator

from customslab.adapters.tables_base import metadata
from customslab.adapters.types import UTCDateTime
from customslab.domain.quality.competence import Authorisation, TrainingRecord
from customslab.domain.quality.control_charts import CorrectiveAction, QcBatch, QcBatchStatus
from customslab.domain.quality.equipment import (
    CalibrationEvent,
    Equipment,
    MaintenanceEntry,
    ReferenceMaterial,
)
from customslab.domain.quality.methods import MethodVersion
from customslab.domain.quality.proficiency import ParticipantResult, PtRound, RoundReport
from customslab.domain.quality.report import ReportData
from customslab.services import quality_ports as q


def to_plain(value: Any) -> Any:
    """A frozen domain value as JSON-ready data: dataclasses by field, enums by value, ISO dates."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    return value


def from_plain(tp: Any, value: Any) -> Any:
    """Rebuild a value of type `tp` from `to_plain` output, guided by the dataclasses' type hints."""
    if value is None:
        return None
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        return from_plain(options[0], value) if len(options) == 1 else value
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_plain(args[0], v) for v in value)
        return tuple(from_plain(a, v) for a, v in zip(args, value, strict=True))
    if origin is list:
        return [from_plain(get_args(tp)[0], v) for v in value]
    if origin is dict:
        return {k: from_plain(get_args(tp)[1], v) for k, v in value.items()}
    if tp is Any or not isinstance(tp, type):
        return value
    if dataclasses.is_dataclass(tp):
        hints = get_type_hints(tp)
        known = {f.name for f in dataclasses.fields(tp) if f.init}
        return tp(**{k: from_plain(hints[k], v) for k, v in value.items() if k in known})
    if issubclass(tp, Enum):
        return tp(value)
    if tp is datetime:
        return datetime.fromisoformat(value)
    if tp is date:
        return date.fromisoformat(value)
    if tp is float:
        return float(value)
    return value


class DomainJson(TypeDecorator[Any]):
    """A frozen domain value (or a tuple of them) stored as JSON and rebuilt on load."""

    impl = JSON
    cache_ok = True

    def __init__(self, value_type: Any) -> None:
        super().__init__()
        self.value_type = value_type

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else to_plain(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else from_plain(self.value_type, value)


def _lab(name: str = "lab_code", nullable: bool = False) -> Column[Any]:
    return Column(name, String(32), ForeignKey("organisations.code"), nullable=nullable, index=True)


def _id() -> Column[Any]:
    return Column("id", Integer, primary_key=True, autoincrement=True)


method_versions = Table(
    "quality_method_versions",
    metadata,
    _id(),
    _lab(),
    Column("method_code", String(60), nullable=False),
    Column("version", String(20), nullable=False),
    Column("method", DomainJson(MethodVersion), nullable=False),
    Column("created_by", String(80), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("published", Boolean, nullable=False, default=False),
    Column("published_at", UTCDateTime, nullable=True),
    Column("adopted_from_id", Integer, ForeignKey("quality_method_versions.id"), nullable=True),
    UniqueConstraint("lab_code", "method_code", "version", name="uq_quality_method_versions_lab_method"),
)

equipment = Table(
    "quality_equipment",
    metadata,
    _id(),
    _lab(),
    Column("code", String(60), nullable=False),
    Column("equipment", DomainJson(Equipment), nullable=False),
    Column("registered_at", UTCDateTime, nullable=False),
    UniqueConstraint("lab_code", "code", name="uq_quality_equipment_lab_code"),
)


def _equipment_fk() -> Column[Any]:
    return Column(
        "equipment_entry_id", Integer, ForeignKey("quality_equipment.id"), nullable=False, index=True
    )


calibrations = Table(
    "quality_calibrations",
    metadata,
    _id(),
    _equipment_fk(),
    Column("event", DomainJson(CalibrationEvent), nullable=False),
    Column("recorded_by", String(80), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)

maintenance = Table(
    "quality_maintenance",
    metadata,
    _id(),
    _equipment_fk(),
    Column("entry", DomainJson(MaintenanceEntry), nullable=False),
    Column("recorded_by", String(80), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)

reference_materials = Table(
    "quality_reference_materials",
    metadata,
    _id(),
    _lab(),
    Column("material", DomainJson(ReferenceMaterial), nullable=False),
    Column("recorded_by", String(80), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)

training = Table(
    "quality_training",
    metadata,
    _id(),
    _lab(),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("record", DomainJson(TrainingRecord), nullable=False),
    Column("recorded_by", String(80), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)

authorisations = Table(
    "quality_authorisations",
    metadata,
    _id(),
    _lab(),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("authorisation", DomainJson(Authorisation), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)

qc_batches = Table(
    "quality_qc_batches",
    metadata,
    _id(),
    _lab(),
    Column("batch", DomainJson(QcBatch), nullable=False),
    Column("evaluation", DomainJson(QcBatchStatus), nullable=False),
    Column("status", String(20), nullable=False),
    Column("recorded_by", String(80), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("method_entry_id", Integer, ForeignKey("quality_method_versions.id"), nullable=True),
    Column("equipment_entry_id", Integer, ForeignKey("quality_equipment.id"), nullable=True),
)

corrective_actions = Table(
    "quality_corrective_actions",
    metadata,
    _id(),
    Column("qc_batch_entry_id", Integer, ForeignKey("quality_qc_batches.id"), nullable=False, index=True),
    Column("action", DomainJson(CorrectiveAction), nullable=False),
)

pt_rounds = Table(
    "quality_pt_rounds",
    metadata,
    _id(),
    _lab("coordinator_lab"),
    Column("code", String(60), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("measurands", DomainJson(tuple[PtRound, ...]), nullable=False),
    Column("participants", JSON, nullable=False),
    Column("created_by", String(80), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("state", String(16), nullable=False),
    Column("reports", DomainJson(tuple[RoundReport, ...]), nullable=True),
    Column("evaluated_at", UTCDateTime, nullable=True),
)

pt_results = Table(
    "quality_pt_results",
    metadata,
    _id(),
    Column("round_entry_id", Integer, ForeignKey("quality_pt_rounds.id"), nullable=False, index=True),
    _lab(),
    Column("measurand", String(120), nullable=False),
    Column("result", DomainJson(ParticipantResult), nullable=False),
    Column("submitted_by", String(80), nullable=False),
    Column("submitted_at", UTCDateTime, nullable=False),
    UniqueConstraint("round_entry_id", "lab_code", "measurand", name="uq_quality_pt_results_round_lab"),
)

issued_reports = Table(
    "quality_issued_reports",
    metadata,
    _id(),
    Column("report_id", String(60), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("sample_id", Integer, ForeignKey("samples.id"), nullable=False, index=True),
    _lab(),
    Column("verification_code", String(64), nullable=False, unique=True),
    Column("pdf_sha256", String(64), nullable=False),
    Column("data", DomainJson(ReportData), nullable=False),
    Column("issued_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("supersedes_id", Integer, ForeignKey("quality_issued_reports.id"), nullable=True),
    Column("superseded_by_id", Integer, nullable=True),
    Column("superseded_at", UTCDateTime, nullable=True),
    Column("amendment_reason", Text, nullable=False, default=""),
    UniqueConstraint("report_id", "version", name="uq_quality_issued_reports_report_version"),
)

TABLE_OF: dict[type[Any], Table] = {
    q.MethodEntry: method_versions,
    q.EquipmentEntry: equipment,
    q.CalibrationEntry: calibrations,
    q.MaintenanceRecord: maintenance,
    q.ReferenceMaterialEntry: reference_materials,
    q.TrainingEntry: training,
    q.AuthorisationEntry: authorisations,
    q.QcBatchEntry: qc_batches,
    q.CorrectiveActionEntry: corrective_actions,
    q.PtRoundEntry: pt_rounds,
    q.PtResultEntry: pt_results,
    q.IssuedReport: issued_reports,
}

#: Added to `orm.AUDITED`: every quality record is in the hash-chained audit trail.
QUALITY_TABLE_NAMES = frozenset(t.name for t in TABLE_OF.values())


def map_quality(reg: registry) -> None:
    """Map the quality entries onto their tables (called once from `orm.start_mappers`)."""
    for cls, table in TABLE_OF.items():
        reg.map_imperatively(cls, table)


__all__ = ["QUALITY_TABLE_NAMES", "TABLE_OF", "DomainJson", "from_plain", "map_quality", "to_plain"]
