"""The national lists of controlled substances an administration loads, as stored records.

A loaded list is an external document under the laboratory's document control (ISO/IEC 17025 8.3): it
lives in the same kind of table as the quality registers (`quality_tables` derives it from this class),
and every load or replacement is in the audit trail with its before and after. The parsed rows are kept
as they were read (`substances.register.Substance`), so a list reads back without its file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar

from customslab.services.quality_ports import Ref, Size, Unique, Username
from customslab.substances.register import Substance


@dataclass(eq=False)
class NationalControlList:
    stored_in: ClassVar = "controlled_substance_lists"
    unique: ClassVar = Unique("uq_controlled_substance_lists_admin_name", ("administration_code", "name"))
    administration_code: Annotated[str, Ref("administrations.code", index=True, length=32)]
    #: The list's name as its entries show it ("KR Act on the Control of Narcotics").
    name: Annotated[str, Size(120)]
    #: The legal reference (act, decree, edition, date).
    reference: Annotated[str, Size(300)]
    entries: tuple[Substance, ...]
    rows: int
    #: The loaded file's sha256: which file the list came from.
    sha256: Annotated[str, Size(64)]
    loaded_by: Username
    loaded_at: datetime
    id: int | None = None


#: The entry classes of this feature, stored like the quality registers' (see `quality_tables`).
SUBSTANCE_ENTRIES = (NationalControlList,)
