"""What result import takes and shows: the commands, the preview and its rows, the import page.

The API serialises these views, the pages render them and the CLI prints them (`result_import` makes
them). Files are handed over as `ImportFile`: the edges read the upload, the use cases its bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, BinaryIO

from pydantic import Field, StringConstraints

from customslab.domain.access import LAB_STAFF, Actor
from customslab.domain.enums import ResultKind, Role, State
from customslab.domain.errors import PermissionDenied, ValidationFailed
from customslab.services.analysis_choices import InstrumentChoice, QcBatchChoice, analysis_choices
from customslab.services.contract import Command, Id, View
from customslab.services.instrument_mappings import MappingView, list_mappings
from customslab.services.ports import AbstractUnitOfWork, UploadTooLarge
from customslab.services.quality_ports import EquipmentEntry
from customslab.services.result_import_files import MAX_FILE_BYTES, FileRefused
from customslab.services.result_import_rows import SkipReason

UoW = AbstractUnitOfWork


Fingerprint = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


@dataclass(frozen=True)
class ImportFile:
    """An uploaded export: its name as uploaded and its bytes."""

    name: str
    content: bytes


class ImportOptions(Command):
    """What an import is read and entered with, besides the file."""

    mapping_id: Id = Field(description="The laboratory's mapping of the instrument model the file is from.")
    equipment_id: Id | None = Field(
        default=None, description="The instrument (equipment register) the results were measured on."
    )
    qc_batch_id: Id | None = Field(default=None, description="The QC batch the results were measured with.")


class ImportConfirm(ImportOptions):
    """The preview's options again, and its fingerprint: only what that preview showed is written."""

    fingerprint: Fingerprint = Field(description="The fingerprint of the preview being confirmed.")


class ImportRow(View):
    """A result the import writes: where it goes and what it states."""

    line: int
    sample: str = Field(description="The lab sample id, as in the file.")
    analyte: str = Field(description="The analyte, as the instrument names it.")
    measurand: str = Field(description="The measurand key the result is recorded under.")
    measurand_label: str
    sample_id: int
    test_id: int
    determination: str
    test_state: State
    kind: ResultKind
    value: Decimal | None
    unit: str
    expanded_uncertainty: Decimal | None
    coverage_factor: Decimal | None
    lod: Decimal | None
    loq: Decimal | None
    text_value: str


class SkippedRow(View):
    """A row of the file that writes nothing, and why."""

    line: int
    sample: str
    analyte: str
    reason: SkipReason
    detail: str


class ImportPreview(View):
    """What an import would write and what it would not, before anything is written."""

    file_name: str
    file_sha256: str
    file_format: str = Field(description="csv or xlsx.")
    header_line: int
    mapping_id: int
    instrument_model: str
    equipment_id: int | None
    qc_batch_id: int | None
    rows: list[ImportRow]
    skipped: list[SkippedRow]
    fingerprint: str = Field(description="Give it back to commit exactly these rows.")


class ImportCommitted(View):
    """The results written, on which tests."""

    written: int
    tests: list[int]
    result_ids: list[int]
    fingerprint: str


def keep_import_file(uow: UoW, stream: BinaryIO) -> str:
    """Keep an uploaded export in the file store between its preview and its confirmation (pages): its
    sha256. The store is content-addressed, so keeping the same file twice keeps one copy."""
    try:
        return uow.files.put(stream, MAX_FILE_BYTES).sha256
    except UploadTooLarge:
        raise FileRefused(
            f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: not a result export."
        ) from None


def kept_import_file(uow: UoW, sha256: str) -> bytes:
    """The bytes of an export kept by `keep_import_file`."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256) or not uow.files.exists(sha256):
        raise ValidationFailed("The previewed file is no longer kept: choose it again.", field="file")
    with uow.files.open(sha256) as kept:
        return kept.read(MAX_FILE_BYTES + 1)


class ImportPage(View):
    """The import form of a laboratory: its mappings, its usable instruments and recent QC batches."""

    lab_code: str
    mappings: list[MappingView]
    instruments: list[InstrumentChoice]
    qc_batches: list[QcBatchChoice]
    may_import: bool = Field(description="Only analysts enter results, by hand or imported.")
    may_manage: bool = Field(description="Whether the reader keeps the laboratory's mappings.")


def import_page(uow: UoW, actor: Actor) -> ImportPage:
    """What the import form offers the signed-in member of a laboratory's staff."""
    if not actor.has(*LAB_STAFF):
        raise PermissionDenied("Result import is for laboratory staff.")
    choices = analysis_choices(uow, actor)
    kept = list_mappings(uow, actor)
    return ImportPage(
        lab_code=kept.lab_code,
        mappings=kept.mappings,
        instruments=choices.instruments,
        qc_batches=choices.qc_batches,
        may_import=actor.has(Role.ANALYST),
        may_manage=kept.may_manage,
    )


def equipment_by_code(uow: UoW, actor: Actor, code: str) -> int:
    """The id of the laboratory's instrument with this equipment code (the command line names codes)."""
    with uow:
        found = uow.quality.find(EquipmentEntry, lab_code=actor.org_code, code=code.strip())
        if not found or found[0].id is None:
            raise ValidationFailed(f"Your laboratory has no instrument '{code}'.", field="equipment_id")
        return found[0].id
