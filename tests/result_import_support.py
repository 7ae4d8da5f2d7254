"""The example instrument exports (tests/fixtures/instrument-exports) and their mappings, for the tests.

The exports name samples KCS-CCL-2026-00117 and so on; a test that imports one into its own database
renames them to the samples it registered (`renamed`), in the CSV text or the workbook's cells.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from customslab.domain.instrument_mapping import ColumnMapping
from customslab.services.instrument_mappings import MappingSave

EXPORTS = Path(__file__).resolve().parent / "fixtures" / "instrument-exports"
ICPMS = "agilent-7900-icpms-masshunter.csv"
XRF = "bruker-s8-tiger-xrf.xlsx"
GCFID = "shimadzu-labsolutions-gcfid.csv"


def export(name: str) -> bytes:
    return (EXPORTS / name).read_bytes()


def mapping_body(name: str, **changes: Any) -> dict[str, Any]:
    """The example mapping of the export `name`, as the API takes it."""
    stem = name.rsplit(".", 1)[0]
    body: dict[str, Any] = json.loads((EXPORTS / f"{stem}.mapping.json").read_text(encoding="utf-8"))
    return body | changes


def mapping_command(name: str, **changes: Any) -> MappingSave:
    return MappingSave.model_validate(mapping_body(name, **changes))


def mapping_of(name: str, **changes: Any) -> ColumnMapping:
    return mapping_command(name, **changes).mapping()


def renamed(name: str, ids: dict[str, str], content: bytes | None = None) -> bytes:
    """The export with its sample ids replaced as `ids` says (file's id → the test database's)."""
    data = export(name) if content is None else content
    if not name.endswith(".xlsx"):
        encoding = "latin-1" if name == GCFID else "utf-8"
        text = data.decode(encoding)
        for old, new in ids.items():
            text = text.replace(old, new)
        return text.encode(encoding)
    book = load_workbook(io.BytesIO(data))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value in ids:
                    cell.value = ids[cell.value]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
