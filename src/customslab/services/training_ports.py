"""Training programmes and their participations, as stored records.

Low-volume records of the same shape as the quality registers: `quality_tables` derives their tables
from these classes, and every change is in the hash-chained audit trail with its before and after. The
participation names the participant's organisation and user as columns, so a laboratory finds its own
staff's participations (and the completions awaiting its acceptance) without reading every programme.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar

from customslab.domain.training import Participation, Programme
from customslab.services.quality_ports import Lab, Ref, Size, Username

ProgrammeRef = Annotated[int, Ref("training_programmes.id", index=True)]


@dataclass(eq=False)
class ProgrammeEntry:
    stored_in: ClassVar = "training_programmes"
    host_code: Lab
    programme: Programme
    created_by: Username
    created_at: datetime
    updated_at: datetime | None = None
    id: int | None = None


@dataclass(eq=False)
class ParticipationEntry:
    stored_in: ClassVar = "training_participations"
    programme_entry_id: ProgrammeRef
    #: The participant's organisation: whose manager accepts the completion, who may read the entry.
    org_code: Lab
    participation: Participation
    #: Mirrors the participation's state, for the lists (registered, attended, completed, withdrawn).
    state: Annotated[str, Size(16)]
    registered_by: Username
    registered_at: datetime
    user_id: Annotated[int, Ref("users.id", index=True)] | None = None
    #: The competence record an accepted completion became (in the participant's laboratory).
    training_entry_id: Annotated[int, Ref("quality_training.id")] | None = None
    id: int | None = None


#: The entry classes of this feature, stored like the quality registers' (see `quality_tables`).
TRAINING_ENTRIES = (ProgrammeEntry, ParticipationEntry)
