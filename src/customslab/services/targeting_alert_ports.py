"""Targeting alerts' storage: the alerts raised (audited entries, like the quality registers) and the
first identification of each substance per administration (a plain table claimed insert-if-absent).

An alert is stored once per event: its `key` is unique ("first:KR:name:cocaine",
"rate:KR:0904:CN:2026-11-30", "importer:KR:<token>:2026-11-30"). A first identification is claimed
by inserting (administration, substance key) where that pair is absent: of two approvals naming a new
substance at once, one inserts and the other finds it taken, so the alert fires once.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, ClassVar

from customslab.services.quality_ports import Size


@dataclass(eq=False)
class TargetingAlert:
    """One alert raised by a targeting rule (`domain.targeting_alerts`), for an administration (or
    "*", the network, for a network-first identification)."""

    stored_in: ClassVar = "targeting_alerts"
    #: Names the event, so that it alerts once (see the module docstring).
    key: Annotated[str, Size(200, unique=True)]
    #: Which rule raised it (`domain.targeting_alerts.AlertKind`).
    rule: Annotated[str, Size(32)]
    administration_code: Annotated[str, Size(32, index=True)]
    #: What happened, in English, naming no declaration data: it is also the notification's text.
    summary: str
    raised_at: datetime
    #: A rate alert's selector; empty otherwise.
    heading: Annotated[str, Size(4)] = ""
    origin: Annotated[str, Size(2)] = ""
    #: A repeated-importer alert's importer: declaration data, shown inside its administration only.
    importer: Annotated[str, Size(200)] = ""
    #: A first identification's substance: its key and its name as the result gave it.
    substance_key: Annotated[str, Size(120)] = ""
    substance_name: Annotated[str, Size(300)] = ""
    #: Where a first identification was made: the laboratory and the sample's laboratory id.
    lab_code: Annotated[str, Size(32)] = ""
    sample_reference: Annotated[str, Size(40)] = ""
    #: The counts behind a rate or importer alert: recent (or window) cases, k of them differing, and
    #: the history's; the window as "YYYY-MM-DD/YYYY-MM-DD".
    recent_n: int = 0
    recent_k: int = 0
    history_n: int = 0
    history_k: int = 0
    period: Annotated[str, Size(40)] = ""
    #: Evidence case references (laboratory sample ids) of differing outcomes, newest first.
    evidence: list[str] = field(default_factory=list)
    #: The laboratories whose outcomes make up a rate or importer alert: who sees their targeting
    #: records may read it (`services.targeting_alerts.visible_alerts`).
    labs: list[str] = field(default_factory=list)
    id: int | None = None


#: The entry classes of this feature, stored like the quality registers' (see `quality_tables`).
TARGETING_ALERT_ENTRIES = (TargetingAlert,)


@dataclass(frozen=True)
class FirstIdentification:
    """The first approved identification of a substance in an administration ("*": the network)."""

    administration_code: str
    substance_key: str
    name: str
    sample_id: int
    sample_reference: str
    lab_code: str
    first_at: datetime


class FirstIdentificationRepository(abc.ABC):
    """The first identifications; the SQL adapter and the in-memory fake implement it."""

    @abc.abstractmethod
    def claim(self, first: FirstIdentification) -> bool:
        """Insert `first` unless its (administration, substance key) is already there; whether it was
        inserted. A concurrent claim of the same pair waits for the other transaction and then finds it
        taken (PostgreSQL's ON CONFLICT DO NOTHING on the unique key)."""

    @abc.abstractmethod
    def find(self, administration_code: str, substance_key: str) -> FirstIdentification | None: ...
