"""The records a laboratory keeps for ISO/IEC 17025, and the repository port that stores them.

Each entry wraps one frozen value of `domain.quality` (a method version, a calibration event...) with
what the storage needs: the owning laboratory, who recorded it and when, and an id. Transitions
replace the wrapped value with a new one, so the audit trail shows the whole before and after.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

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


@dataclass(eq=False)
class MethodEntry:
    lab_code: str
    method_code: str
    version: str
    method: MethodVersion
    created_by: str
    created_at: datetime
    published: bool = False
    published_at: datetime | None = None
    adopted_from_id: int | None = None
    id: int | None = None


@dataclass(eq=False)
class EquipmentEntry:
    lab_code: str
    code: str
    equipment: Equipment
    registered_at: datetime
    id: int | None = None


@dataclass(eq=False)
class CalibrationEntry:
    equipment_entry_id: int
    event: CalibrationEvent
    recorded_by: str
    recorded_at: datetime
    id: int | None = None


@dataclass(eq=False)
class MaintenanceRecord:
    equipment_entry_id: int
    entry: MaintenanceEntry
    recorded_by: str
    recorded_at: datetime
    id: int | None = None


@dataclass(eq=False)
class ReferenceMaterialEntry:
    lab_code: str
    material: ReferenceMaterial
    recorded_by: str
    recorded_at: datetime
    id: int | None = None


@dataclass(eq=False)
class TrainingEntry:
    lab_code: str
    user_id: int
    record: TrainingRecord
    recorded_by: str
    recorded_at: datetime
    id: int | None = None


@dataclass(eq=False)
class AuthorisationEntry:
    lab_code: str
    user_id: int
    authorisation: Authorisation
    recorded_at: datetime
    revoked_at: datetime | None = None
    id: int | None = None


@dataclass(eq=False)
class QcBatchEntry:
    lab_code: str
    batch: QcBatch
    evaluation: QcBatchStatus
    status: str
    recorded_by: str
    recorded_at: datetime
    method_entry_id: int | None = None
    equipment_entry_id: int | None = None
    id: int | None = None


@dataclass(eq=False)
class CorrectiveActionEntry:
    qc_batch_entry_id: int
    action: CorrectiveAction
    id: int | None = None


@dataclass(eq=False)
class PtRoundEntry:
    """A proficiency-test round of the network: one PtRound per measurand of the test items."""

    coordinator_lab: str
    code: str
    title: str
    measurands: tuple[PtRound, ...]
    participants: list[str]
    created_by: str
    created_at: datetime
    state: str = "open"  # open | evaluated
    reports: tuple[RoundReport, ...] | None = None
    evaluated_at: datetime | None = None
    id: int | None = None


@dataclass(eq=False)
class PtResultEntry:
    round_entry_id: int
    lab_code: str
    measurand: str
    result: ParticipantResult
    submitted_by: str
    submitted_at: datetime
    id: int | None = None


@dataclass(eq=False)
class IssuedReport:
    """One issued version of a test report; amendments add a version, nothing is overwritten."""

    report_id: str
    version: int
    sample_id: int
    lab_code: str
    verification_code: str
    pdf_sha256: str
    data: ReportData
    issued_by: int
    issued_at: datetime
    supersedes_id: int | None = None
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
