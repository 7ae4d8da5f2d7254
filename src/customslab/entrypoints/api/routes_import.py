"""Instrument result import: the laboratory's column mappings, and an export previewed then committed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, UploadFile
from starlette.datastructures import UploadFile as StarletteUpload

from customslab.entrypoints.api.deps import PathId, SignedIn
from customslab.services import instrument_mappings as mappings
from customslab.services import result_import
from customslab.services.contract import MAX_INT
from customslab.services.instrument_mappings import MappingList, MappingSave, MappingView
from customslab.services.result_import import (
    ImportCommitted,
    ImportConfirm,
    ImportFile,
    ImportOptions,
    ImportPreview,
)
from customslab.services.result_import_files import MAX_FILE_BYTES, FileRefused

router = APIRouter(prefix="/api", tags=["results import"])

MappingId = Annotated[
    int, Form(ge=1, le=MAX_INT, description="The laboratory's mapping of the instrument model.")
]
EquipmentId = Annotated[
    int | None, Form(ge=1, le=MAX_INT, description="The instrument the results were measured on.")
]
QcBatchId = Annotated[int | None, Form(ge=1, le=MAX_INT, description="The QC batch measured with them.")]


def uploaded_export(upload: StarletteUpload) -> ImportFile:
    """The upload's name and bytes, read no further than an export can be long."""
    content = upload.file.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise FileRefused(
            f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: not a result export."
        )
    return ImportFile((upload.filename or "export").strip()[:255] or "export", content)


@router.get("/instrument-mappings")
def list_mappings(
    caller: SignedIn,
    lab: Annotated[
        str | None, Query(max_length=32, description="A laboratory under yours (default: yours).")
    ] = None,
) -> MappingList:
    """The column mappings of instrument result exports kept by the laboratory, one per instrument model."""
    return mappings.list_mappings(caller.uow, caller.actor, lab)


@router.post("/instrument-mappings", status_code=201)
def create_mapping(body: MappingSave, caller: SignedIn) -> MappingView:
    """Save how an instrument model's result exports are read (laboratory managers)."""
    return mappings.create_mapping(caller.uow, caller.actor, body)


@router.get("/instrument-mappings/{mapping_id}")
def get_mapping(mapping_id: PathId, caller: SignedIn) -> MappingView:
    """One column mapping of the laboratory (or of a laboratory under it)."""
    return mappings.mapping_detail(caller.uow, caller.actor, mapping_id)


@router.put("/instrument-mappings/{mapping_id}")
def update_mapping(mapping_id: PathId, body: MappingSave, caller: SignedIn) -> MappingView:
    """Change a column mapping (laboratory managers); previews made with the old one no longer commit."""
    return mappings.update_mapping(caller.uow, caller.actor, mapping_id, body)


@router.post("/results/import/preview")
def preview_import(
    file: UploadFile,
    mapping_id: MappingId,
    caller: SignedIn,
    equipment_id: EquipmentId = None,
    qc_batch_id: QcBatchId = None,
) -> ImportPreview:
    """Read an instrument export (CSV or XLSX) and show what would be written, and what not and why.

    Nothing is written. The preview's fingerprint commits exactly the rows it lists."""
    options = ImportOptions(mapping_id=mapping_id, equipment_id=equipment_id, qc_batch_id=qc_batch_id)
    return result_import.preview_import(caller.uow, caller.actor, options, uploaded_export(file))


@router.post("/results/import", status_code=201)
def commit_import(
    file: UploadFile,
    mapping_id: MappingId,
    fingerprint: Annotated[
        str, Form(pattern=r"^[0-9a-f]{64}$", description="The fingerprint of the preview being confirmed.")
    ],
    caller: SignedIn,
    equipment_id: EquipmentId = None,
    qc_batch_id: QcBatchId = None,
) -> ImportCommitted:
    """Write the results a preview showed, with the same file and its fingerprint: all of them or none.

    409 when the file, the mapping or a test changed since the preview; 422 when the controls of result
    entry refuse a result now, each refusal listed."""
    confirm = ImportConfirm(
        mapping_id=mapping_id, equipment_id=equipment_id, qc_batch_id=qc_batch_id, fingerprint=fingerprint
    )
    return result_import.commit_import(caller.uow, caller.actor, confirm, uploaded_export(file))
