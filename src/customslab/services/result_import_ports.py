"""The stored column mappings of instrument result exports, one per instrument model and laboratory.

A mapping is a quality record (ISO/IEC 17025 7.11.2: a validated data interface): it lives with the
laboratory's registers, in the same kind of table (`quality_tables` derives it from this class), and
every change is in the audit trail with its before and after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar

from customslab.domain.instrument_mapping import ColumnMapping
from customslab.services.quality_ports import Lab, Size, Unique, Username


@dataclass(eq=False)
class InstrumentMappingEntry:
    stored_in: ClassVar = "quality_instrument_mappings"
    unique: ClassVar = Unique("uq_quality_instrument_mappings_lab_model", ("lab_code", "instrument_model"))
    lab_code: Lab
    #: The instrument model and its software, as the laboratory names it ("Agilent 7900 ICP-MS
    #: MassHunter"): the mapping's name.
    instrument_model: Annotated[str, Size(120)]
    description: str
    mapping: ColumnMapping
    created_by: Username
    created_at: datetime
    updated_by: Username = ""
    updated_at: datetime | None = None
    id: int | None = None


#: The entry classes of this feature, stored like the quality registers' (see `quality_tables`).
IMPORT_ENTRIES = (InstrumentMappingEntry,)
