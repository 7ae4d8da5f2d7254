"""Instrument result import: an export previewed, then written onto the right tests, all or nothing.

**Preview** reads the file with the laboratory's mapping of the instrument model, finds each row's test
and applies the controls of hand entry (`result_entry`), writing nothing. It lists the results it
would write and every row it would not, each with its reason, and gives a *fingerprint*: the sha256 of
the file, the mapping, the instrument and QC batch chosen and the list of results to write.

**Commit** takes the same file and the fingerprint, plans again and refuses (409, nothing written) when
the fingerprint differs: the file, the mapping, or a test's state or analyst changed since the preview.
It then enters each result through the ordinary use case (`check_result_controls`, `own_open_test`,
`add_result`) in one unit of work: a result the controls refuse now (an instrument that fell due, an
authorisation revoked) refuses the whole import, with every reason listed, and nothing is written. The
file is attached to every test it wrote on (the raw data behind the results, ISO/IEC 17025 7.5).

Which test a row goes on (sample S, measurand M):
1. S is the laboratory's sample with the row's lab sample id; one of another laboratory is unknown.
2. The tests of S whose determination names M ("Alcoholic strength" for `alcohol_strength`); if there
   are none, the tests of S that name no single measurand ("Heavy metals", "Oxides by XRF"), narrowed
   to those whose determination or method mentions the mapping's test hint (ICP-MS) when it has one.
3. Of these, the open ones (registered, received, in analysis, returned for retest) that are the
   actor's or nobody's. Exactly one: the row goes on it. None: skipped, saying why (no such test, not
   open, another analyst's). Several: skipped as ambiguous, the tests named; enter those by hand.

A unit that pint cannot read at all refuses the whole file (the line is named); a unit pint reads but
of another dimension than the measurand's (µg/L for element.Pb, a mass fraction) skips the row as a
unit mismatch. The same sample and measurand twice in the file: one row with the same result is a
duplicate (the first is written), different results conflict (none is written). A result the test
already holds, identical in every field it states (value, unit, U, k, LOD, LOQ, outcome), is not written
again, so importing a file twice writes it once; one that differs in any of them (a new LOD) is written
as a new result beside it, as a result entered by hand again would be.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn

from customslab.domain.access import Action, Actor
from customslab.domain.enums import ResultKind, State
from customslab.domain.errors import Conflict, DomainError, FieldError, ValidationFailed
from customslab.domain.instrument_mapping import fold
from customslab.domain.model import AnalysisTest, Attachment, Result, Sample
from customslab.domain.plain import to_plain
from customslab.domain.quality.errors import QualityError
from customslab.hs.measurands import measurand, measurand_key, measurand_label
from customslab.hs.quantities import QuantityError, check_result_unit
from customslab.services.analysis import own_open_test
from customslab.services.common import acting, held_test
from customslab.services.contract import parse
from customslab.services.instrument_mappings import own_mapping
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.quality_ports import EquipmentEntry, QcBatchEntry
from customslab.services.quality_register import own_entry
from customslab.services.result_entry import ResultCreate, add_result, check_result_controls
from customslab.services.result_import_files import MAX_FILE_BYTES, read_table
from customslab.services.result_import_ports import InstrumentMappingEntry
from customslab.services.result_import_rows import Reading, Skip, SkipReason, clip, extract, measurand_of
from customslab.services.result_import_views import (
    ImportCommitted,
    ImportConfirm,
    ImportFile,
    ImportOptions,
    ImportPreview,
    ImportRow,
    SkippedRow,
    keep_import_file,
    kept_import_file,
)

__all__ = [
    "ImportCommitted",
    "ImportConfirm",
    "ImportFile",
    "ImportOptions",
    "ImportPreview",
    "commit_import",
    "keep_import_file",
    "kept_import_file",
    "preview_import",
]

UoW = AbstractUnitOfWork
#: States in which a test takes results (`analysis.own_open_test` moves the first three into analysis).
OPEN = (State.REGISTERED, State.RECEIVED, State.IN_ANALYSIS, State.RETEST)


@dataclass(frozen=True)
class _Planned:
    row: ImportRow
    command: ResultCreate


@dataclass
class _Plan:
    preview: ImportPreview
    planned: list[_Planned]


def preview_import(uow: UoW, actor: Actor, options: ImportOptions, file: ImportFile) -> ImportPreview:
    """Read an export with a mapping and show what would be written, and what not and why; write nothing."""
    with acting(uow, actor, Action.ENTER_RESULT):
        return _plan(uow, actor, options, file).preview


def commit_import(uow: UoW, actor: Actor, confirm: ImportConfirm, file: ImportFile) -> ImportCommitted:
    """Write exactly the results a preview showed, through the controls of hand entry; all or nothing."""
    with acting(uow, actor, Action.ENTER_RESULT):
        plan = _plan(uow, actor, confirm, file)
        if plan.preview.fingerprint != confirm.fingerprint:
            _refuse_what_changed(uow, actor, confirm, file, plan)
        if not plan.planned:
            raise ValidationFailed("The preview has no result to write.", field="file")
        written: list[Result] = []
        refusals: list[FieldError] = []
        touched: dict[int, AnalysisTest] = {}
        for item in plan.planned:
            try:
                # What `analysis.enter_result` does for one result, in this one unit of work.
                test, _ = held_test(uow, actor, item.row.test_id)
                check_result_controls(uow, actor, test, item.command)
                test, _ = own_open_test(uow, actor, item.row.test_id)
                written.append(add_result(uow, actor, test, item.command))
                touched[item.row.test_id] = test
            except (DomainError, QualityError) as exc:
                refusals.append(_line_fault(item.row.line, item.row.sample, item.row.analyte, _said(exc)))
        if refusals:
            raise ValidationFailed.of([FieldError("file", NOTHING_WRITTEN), *refusals])
        _attach(uow, actor, file, plan.preview.file_sha256, touched.values())
        uow.commit()
        return ImportCommitted(
            written=len(written),
            tests=sorted(touched),
            result_ids=[r.id for r in written if r.id is not None],
            fingerprint=plan.preview.fingerprint,
        )


NOTHING_WRITTEN = "Nothing was written: the controls of result entry refuse a result the preview showed."


def _line_fault(line: int, sample: str, analyte: str, why: str) -> FieldError:
    return FieldError("file", f"Line {line} ({sample}, {analyte}): {why}")


def _refuse_what_changed(
    uow: UoW, actor: Actor, confirm: ImportConfirm, file: ImportFile, plan: _Plan
) -> NoReturn:
    """The commit's refusal when its plan is not the preview's: 422 with the reasons when only the
    controls of result entry changed their verdict on rows the preview would write (an instrument fell
    due, an authorisation was revoked); 409 for any other change (file, mapping, a test)."""
    unchecked = _plan(uow, actor, confirm, file, controls=False)
    if unchecked.preview.fingerprint == confirm.fingerprint:
        refused = [s for s in plan.preview.skipped if s.reason is SkipReason.REFUSED]
        raise ValidationFailed.of(
            [
                FieldError("file", NOTHING_WRITTEN),
                *(_line_fault(s.line, s.sample, s.analyte, s.detail) for s in refused),
            ]
        )
    raise Conflict(
        "The file, the mapping or a test changed since the preview, so what it showed is not what would be "
        "written now. Nothing was written: preview the file again.",
        field="fingerprint",
    )


# -- the plan: what would be written ----------------------------------------------------------------


def _plan(uow: UoW, actor: Actor, options: ImportOptions, file: ImportFile, controls: bool = True) -> _Plan:
    entry = own_mapping(uow, actor, options.mapping_id, field="mapping_id")
    if options.equipment_id is not None:
        own_entry(uow, actor, EquipmentEntry, options.equipment_id, "Instrument", "equipment_id")
    if options.qc_batch_id is not None:
        own_entry(uow, actor, QcBatchEntry, options.qc_batch_id, "QC batch", "qc_batch_id")
    sha = hashlib.sha256(file.content).hexdigest()
    table = read_table(file.name, file.content, entry.mapping)
    extracted = extract(table, entry.mapping)
    skipped = list(extracted.skipped)
    candidates: list[_Planned] = []
    samples: dict[str, Sample | None] = {}  # a sample has many rows: it is looked up once
    for reading in extracted.readings:
        if reading.sample not in samples:
            samples[reading.sample] = uow.repo.sample_by_lab_id(reading.sample)
        outcome = _place(
            uow,
            actor,
            entry,
            options,
            reading,
            samples[reading.sample],
            _provenance(file.name, sha, reading, entry),
            controls,
        )
        if isinstance(outcome, Skip):
            skipped.append(outcome)
        else:
            candidates.append(outcome)
    planned = _without_repeats(candidates, skipped)
    skipped.sort(key=lambda s: (s.line, s.analyte))
    rows = [p.row for p in planned]
    preview = ImportPreview(
        file_name=file.name,
        file_sha256=sha,
        file_format=table.format,
        header_line=extracted.header_line,
        mapping_id=key_of(entry),
        instrument_model=entry.instrument_model,
        equipment_id=options.equipment_id,
        qc_batch_id=options.qc_batch_id,
        rows=rows,
        skipped=[
            SkippedRow(line=s.line, sample=s.sample, analyte=s.analyte, reason=s.reason, detail=s.detail)
            for s in skipped
        ],
        fingerprint=_fingerprint(sha, file.name, entry, options, rows),
    )
    return _Plan(preview, planned)


def key_of(entry: InstrumentMappingEntry) -> int:
    assert entry.id is not None
    return entry.id


def _provenance(name: str, sha: str, reading: Reading, entry: InstrumentMappingEntry) -> str:
    return (
        f"Imported from {name} (sha256 {sha[:12]}), line {reading.line}, analyte '{reading.analyte}', "
        f"with the mapping '{entry.instrument_model}'."
    )


def _said(exc: Exception) -> str:
    return exc.message if isinstance(exc, DomainError) else str(exc)


def _place(
    uow: UoW,
    actor: Actor,
    entry: InstrumentMappingEntry,
    options: ImportOptions,
    reading: Reading,
    sample: Sample | None,
    observation: str,
    controls: bool = True,
) -> _Planned | Skip:
    """The row's test and result command, or why it is skipped; reads only."""

    def skip(reason: SkipReason, detail: str) -> Skip:
        return Skip(reading.line, reading.sample, reading.analyte, reason, detail)

    key = measurand_of(reading.analyte, entry.mapping)
    if key is None:
        return skip(
            SkipReason.UNKNOWN_ANALYTE,
            f"'{clip(reading.analyte)}' names no measurand: give it one in the mapping's analyte aliases.",
        )
    if sample is None or sample.lab_code != actor.org_code or sample.id is None:
        return skip(
            SkipReason.UNKNOWN_SAMPLE, f"No sample {clip(reading.sample)} is held by your laboratory."
        )
    if reading.unit and (reading.kind is ResultKind.QUANTITY or (reading.lod, reading.loq) != (None, None)):
        try:
            check_result_unit(reading.unit, key)
        except QuantityError as exc:
            return skip(SkipReason.UNIT_MISMATCH, str(exc))
    found = _test_for(sample, key, entry.mapping.test_hint, actor)
    if isinstance(found, tuple):
        return skip(*found)
    command = _command(reading, key, options, observation)
    if isinstance(command, Skip):
        return command
    if any(_same_result(r, command) for r in found.results):
        return skip(SkipReason.ALREADY_RECORDED, f"Test {found.id} already holds this result.")
    try:
        if controls:
            check_result_controls(uow, actor, found, command)
    except (DomainError, QualityError) as exc:
        return skip(SkipReason.REFUSED, _said(exc))
    assert found.id is not None
    row = ImportRow(
        line=reading.line,
        sample=reading.sample,
        analyte=reading.analyte,
        measurand=key,
        measurand_label=measurand_label(key),
        sample_id=sample.id,
        test_id=found.id,
        determination=found.determination,
        test_state=found.state,
        kind=command.kind,
        value=command.value,
        unit=command.unit,
        expanded_uncertainty=command.expanded_uncertainty,
        coverage_factor=command.coverage_factor,
        lod=command.lod,
        loq=command.loq,
        text_value=command.text_value,
    )
    return _Planned(row, command)


def _names_measurand(test: AnalysisTest, key: str) -> bool:
    return measurand_key(test.determination) == key


def _multi_analyte(test: AnalysisTest, hint: str) -> bool:
    if measurand(measurand_key(test.determination)) is not None:
        return False
    return not hint or fold(hint) in fold(f"{test.determination} {test.method_ref}")


def _test_for(sample: Sample, key: str, hint: str, actor: Actor) -> AnalysisTest | tuple[SkipReason, str]:
    """The one test of the sample the row goes on (rules 2 and 3 of the module's docstring), or why not."""
    tests = [t for t in sample.tests if t.active]
    named = [t for t in tests if _names_measurand(t, key)]
    fitting = named or [t for t in tests if _multi_analyte(t, hint)]
    label = measurand_label(key)
    if not fitting:
        return SkipReason.NO_TEST, f"Sample {sample.lab_sample_id} has no test for {label}."
    open_ = [t for t in fitting if t.state in OPEN]
    if not open_:
        states = ", ".join(f"test {t.id} is {t.state.value.replace('_', ' ')}" for t in fitting)
        return SkipReason.TEST_NOT_OPEN, f"No open test for {label}: {states}."
    mine = [t for t in open_ if t.analyst_id in (None, actor.user_id)]
    if not mine:
        return (
            SkipReason.NOT_YOURS,
            f"The test for {label} (test {open_[0].id}) is assigned to another analyst.",
        )
    if len(mine) > 1:
        listed = ", ".join(f"{t.id} ({t.determination})" for t in mine)
        return (
            SkipReason.AMBIGUOUS_TEST,
            f"Several open tests could take {label}: {listed}; enter it by hand.",
        )
    return mine[0]


def _command(reading: Reading, key: str, options: ImportOptions, observation: str) -> ResultCreate | Skip:
    limited = reading.lod is not None or reading.loq is not None
    data = {
        "name": key,
        "kind": reading.kind,
        "value": reading.value,
        # An outcome keeps its unit only with the limits it was decided against.
        "unit": reading.unit if reading.kind is ResultKind.QUANTITY or limited else "",
        "expanded_uncertainty": reading.expanded_uncertainty,
        "coverage_factor": reading.coverage_factor,
        "lod": reading.lod,
        "loq": reading.loq,
        "text_value": reading.text_value,
        "observation": observation,
        "equipment_id": options.equipment_id,
        "qc_batch_id": options.qc_batch_id,
    }
    try:
        return parse(ResultCreate, data)
    except ValidationFailed as exc:
        return Skip(reading.line, reading.sample, reading.analyte, SkipReason.REFUSED, exc.message)


#: What a result states: the same in a stored result and a row's command is the same result.
_STATED = (
    "name",
    "kind",
    "value",
    "unit",
    "expanded_uncertainty",
    "coverage_factor",
    "lod",
    "loq",
    "text_value",
)


def _same_result(stored: Result, cmd: ResultCreate) -> bool:
    """Whether the test already holds the row's result, every stated field alike (a changed LOD, LOQ or
    k is a new result, written as a changed value is)."""
    return all(getattr(stored, f) == getattr(cmd, f) for f in _STATED)


def _stated(row: ImportRow) -> tuple[object, ...]:
    return (
        row.kind,
        row.value,
        row.unit,
        row.expanded_uncertainty,
        row.coverage_factor,
        row.lod,
        row.loq,
        row.text_value,
    )


def _without_repeats(candidates: list[_Planned], skipped: list[Skip]) -> list[_Planned]:
    """One result per test and measurand: a repeated identical row is a duplicate, different ones
    conflict and none of them is written."""
    groups: dict[tuple[int, str], list[_Planned]] = {}
    for item in candidates:
        groups.setdefault((item.row.test_id, item.row.measurand), []).append(item)
    kept: list[_Planned] = []
    for items in groups.values():
        first = items[0]
        if all(_stated(i.row) == _stated(first.row) for i in items):
            kept.append(first)
            skipped.extend(
                Skip(
                    i.row.line,
                    i.row.sample,
                    i.row.analyte,
                    SkipReason.DUPLICATE,
                    f"The same result as line {first.row.line}.",
                )
                for i in items[1:]
            )
            continue
        lines = ", ".join(str(i.row.line) for i in items)
        skipped.extend(
            Skip(
                i.row.line,
                i.row.sample,
                i.row.analyte,
                SkipReason.CONFLICTING,
                f"Lines {lines} give different results for {i.row.sample}, {i.row.measurand_label}; "
                "none is written.",
            )
            for i in items
        )
    return sorted(kept, key=lambda p: (p.row.line, p.row.analyte))


def _fingerprint(
    sha: str, name: str, entry: InstrumentMappingEntry, options: ImportOptions, rows: list[ImportRow]
) -> str:
    """sha256 of what the preview stands for: the file, the mapping, the choices and the rows to write
    (each with its test's state, so a test moved on since the preview changes it)."""
    stated = {
        "file": sha,
        "name": name,
        "mapping": [key_of(entry), entry.instrument_model, to_plain(entry.mapping)],
        "equipment": options.equipment_id,
        "qc_batch": options.qc_batch_id,
        "rows": [row.model_dump(mode="json") for row in rows],
    }
    return hashlib.sha256(json.dumps(stated, sort_keys=True, default=str).encode()).hexdigest()


def _attach(uow: UoW, actor: Actor, file: ImportFile, sha: str, tests: Iterable[AnalysisTest]) -> None:
    """The export, kept once in the file store, attached to every test it wrote on."""
    stored = uow.files.put(io.BytesIO(file.content), MAX_FILE_BYTES)
    xlsx = file.content.startswith(b"PK")
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if xlsx else "text/csv"
    for test in tests:
        if any(a.sha256 == sha for a in test.attachments):
            continue
        test.attachments.append(
            Attachment(
                stored.sha256,
                (file.name.strip() or "import")[:255],
                media,
                stored.size,
                actor.user_id,
                uow.clock(),
            )
        )
    uow.repo.flush()
