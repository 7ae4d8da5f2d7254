"""The records a laboratory keeps for ISO/IEC 17025, and the repository port that stores them.

Each entry wraps one frozen value of `domain.quality` (a method version, a calibration event...) with
what the storage needs: the owning laboratory, who recorded it and when, and an id. Transitions
replace the wrapped value with a new one, so the audit trail shows the whole before and after.

An entry class is also the declaration of its table: `stored_in` names it, and the field annotations
carry what a column needs beyond its Python type (`Size` for a bounded string, `Ref` for a reference
to another table). The SQL adapter derives the tables from these classes (`adapters/quality_tables.py`),
so a field is declared once; this module names no SQL type.
"""

from __future__ import annotations

import abc
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar, TypeVar

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


@dataclass(frozen=True)
class Size:
    """A string column of at most `length` characters (an unannotated `str` is unbounded text)."""

    length: int
    unique: bool = False
    index: bool = False


@dataclass(frozen=True)
class Ref:
    """A column that holds the key of a row of `target` ("table.column")."""

    target: str
    index: bool = False
    length: int | None = None  # for a string key


@dataclass(frozen=True)
class Unique:
    """A named uniqueness rule over several columns."""

    name: str
    columns: tuple[str, ...]


Lab = Annotated[str, Ref("organisations.code", index=True, length=32)]
Code = Annotated[str, Size(60)]
Username = Annotated[str, Size(80)]
UserRef = Annotated[int, Ref("users.id", index=True)]
EquipmentRef = Annotated[int, Ref("quality_equipment.id", index=True)]
MethodRef = Annotated[int, Ref("quality_method_versions.id")]


@dataclass(eq=False)
class MethodEntry:
    stored_in: ClassVar = "quality_method_versions"
    unique: ClassVar = Unique("uq_quality_method_versions_lab_method", ("lab_code", "method_code", "version"))
    lab_code: Lab
    method_code: Code
    version: Annotated[str, Size(20)]
    method: MethodVersion
    created_by: Username
    created_at: datetime
    published: bool = False
    published_at: datetime | None = None
    adopted_from_id: MethodRef | None = None
    id: int | None = None


@dataclass(eq=False)
class EquipmentEntry:
    stored_in: ClassVar = "quality_equipment"
    unique: ClassVar = Unique("uq_quality_equipment_lab_code", ("lab_code", "code"))
    lab_code: Lab
    code: Code
    equipment: Equipment
    registered_at: datetime
    id: int | None = None


@dataclass(eq=False)
class CalibrationEntry:
    stored_in: ClassVar = "quality_calibrations"
    equipment_entry_id: EquipmentRef
    event: CalibrationEvent
    recorded_by: Username
    recorded_at: datetime
    id: int | None = None


@dataclass(eq=False)
class MaintenanceRecord:
    stored_in: ClassVar = "quality_maintenance"
    equipment_entry_id: EquipmentRef
    entry: MaintenanceEntry
    recorded_by: Username
    recorded_at: datetime
    id: int | None = None


@dataclass(eq=False)
class ReferenceMaterialEntry:
    stored_in: ClassVar = "quality_reference_materials"
    lab_code: Lab
    material: ReferenceMaterial
    recorded_by: Username
    recorded_at: datetime
    id: int | None = None


@dataclass(eq=False)
class TrainingEntry:
    stored_in: ClassVar = "quality_training"
    lab_code: Lab
    user_id: UserRef
    record: TrainingRecord
    recorded_by: Username
    recorded_at: datetime
    id: int | None = None


@dataclass(eq=False)
class AuthorisationEntry:
    stored_in: ClassVar = "quality_authorisations"
    lab_code: Lab
    user_id: UserRef
    authorisation: Authorisation
    recorded_at: datetime
    revoked_at: datetime | None = None
    id: int | None = None


@dataclass(eq=False)
class QcBatchEntry:
    stored_in: ClassVar = "quality_qc_batches"
    lab_code: Lab
    batch: QcBatch
    evaluation: QcBatchStatus
    status: Annotated[str, Size(20)]
    recorded_by: Username
    recorded_at: datetime
    method_entry_id: MethodRef | None = None
    equipment_entry_id: Annotated[int, Ref("quality_equipment.id")] | None = None
    id: int | None = None


@dataclass(eq=False)
class CorrectiveActionEntry:
    stored_in: ClassVar = "quality_corrective_actions"
    qc_batch_entry_id: Annotated[int, Ref("quality_qc_batches.id", index=True)]
    action: CorrectiveAction
    id: int | None = None


@dataclass(eq=False)
class PtRoundEntry:
    """A proficiency-test round of the network: one PtRound per measurand of the test items."""

    stored_in: ClassVar = "quality_pt_rounds"
    coordinator_lab: Lab
    code: Annotated[str, Size(60, unique=True)]
    title: str
    measurands: tuple[PtRound, ...]
    participants: list[str]
    created_by: Username
    created_at: datetime
    state: Annotated[str, Size(16)] = "open"  # open | evaluated
    reports: tuple[RoundReport, ...] | None = None
    evaluated_at: datetime | None = None
    id: int | None = None


@dataclass(eq=False)
class PtResultEntry:
    stored_in: ClassVar = "quality_pt_results"
    unique: ClassVar = Unique("uq_quality_pt_results_round_lab", ("round_entry_id", "lab_code", "measurand"))
    round_entry_id: Annotated[int, Ref("quality_pt_rounds.id", index=True)]
    lab_code: Lab
    measurand: Annotated[str, Size(120)]
    result: ParticipantResult
    submitted_by: Username
    submitted_at: datetime
    id: int | None = None


@dataclass(eq=False)
class IssuedReport:
    """One issued version of a test report; amendments add a version, nothing is overwritten."""

    stored_in: ClassVar = "quality_issued_reports"
    unique: ClassVar = Unique("uq_quality_issued_reports_report_version", ("report_id", "version"))
    report_id: Annotated[str, Size(60, index=True)]
    version: int
    sample_id: Annotated[int, Ref("samples.id", index=True)]
    lab_code: Lab
    verification_code: Annotated[str, Size(64, unique=True)]
    pdf_sha256: Annotated[str, Size(64)]
    data: ReportData
    issued_by: Annotated[int, Ref("users.id")]
    issued_at: datetime
    supersedes_id: Annotated[int, Ref("quality_issued_reports.id")] | None = None
    superseded_by_id: int | None = None
    superseded_at: datetime | None = None
    amendment_reason: str = ""
    id: int | None = None


QUALITY_ENTRIES = (
    MethodEntry,
    EquipmentEntry,
    CalibrationEntry,
    MaintenanceRecord,
    ReferenceMaterialEntry,
    TrainingEntry,
    AuthorisationEntry,
    QcBatchEntry,
    CorrectiveActionEntry,
    PtRoundEntry,
    PtResultEntry,
    IssuedReport,
)

E = TypeVar("E")


class QualityRepository(abc.ABC):
    """Stores the quality entries above; the SQL adapter and the in-memory fake implement it."""

    @abc.abstractmethod
    def add(self, entry: object) -> None:
        """Store a new entry and give it its id."""

    @abc.abstractmethod
    def get(self, kind: type[E], entry_id: int) -> E | None: ...

    @abc.abstractmethod
    def find(self, kind: type[E], **equal: object) -> list[E]:
        """Entries of `kind` whose attributes equal the given values, oldest first."""

    def find_any(self, kind: type[E], **any_of: Collection[object]) -> list[E]:
        """Entries of `kind` whose attributes are each one of the given values, oldest first: a page of
        records in one query, not one per record (the SQL adapter's IN; here, a filter over them all)."""
        return [e for e in self.find(kind) if all(getattr(e, k) in v for k, v in any_of.items())]
