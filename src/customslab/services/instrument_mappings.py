"""The laboratory's column mappings of instrument result exports: saved, edited and listed per model.

The laboratory manager keeps them (`Action.MANAGE_INSTRUMENT_MAPPINGS`); the laboratory's staff read them
and import with them; a central laboratory's reviewers and managers read those of the laboratories under
it, as they read their other quality records (`Kind.QUALITY_RECORD`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator

from customslab.domain.access import LAB_STAFF, PERMISSIONS, Action, Actor
from customslab.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from customslab.domain.instrument_mapping import ColumnMapping, Delimiter, Layout, SkipRule, fold
from customslab.hs.measurands import measurand_key
from customslab.services.common import acting
from customslab.services.contract import Command, MeasurementUnit, Positive, Text, View
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.quality_register import key, lab_in_sight, labs_in_sight
from customslab.services.result_import_ports import InstrumentMappingEntry

UoW = AbstractUnitOfWork
#: A column's header as the export writes it.
Column = Annotated[str, Text(120, single_line=True)]
MAX_ALIASES = 500
_MANAGERS = tuple(PERMISSIONS[Action.MANAGE_INSTRUMENT_MAPPINGS])


def _measurand(name: str) -> str:
    return measurand_key(name)


Measurand = Annotated[str, Text(120, 1, single_line=True), AfterValidator(_measurand)]


class SkipRuleInput(Command):
    """Rows whose `column` matches one of `patterns` (`Cal*`, `QC`, `*ISTD*`) are not results."""

    column: Annotated[str, Text(120, 1, single_line=True)]
    patterns: list[Annotated[str, Text(120, 1, single_line=True)]] = Field(min_length=1, max_length=50)


class MappingFields(Command):
    """How one instrument model's exports are read; columns are named by their header text."""

    layout: Layout = Field(
        default=Layout.LONG,
        description="long: one row per sample and analyte (the analyte named in a column); wide: one row "
        "per sample, one column per analyte.",
    )
    sample_column: Annotated[str, Text(120, 1, single_line=True)] = Field(
        description="The column holding the laboratory's sample id (KCS-CCL-2026-00117)."
    )
    analyte_column: Column = ""
    value_column: Column = ""
    analyte_columns: list[Column] = Field(default_factory=list, max_length=200)
    unit_column: Column = ""
    unit: MeasurementUnit = Field(default="", description="The unit of every value, when no column gives it.")
    uncertainty_column: Column = ""
    uncertainty_relative: bool = Field(
        default=False, description="The uncertainty column is a percentage of the value, not a value."
    )
    coverage_factor_column: Column = ""
    coverage_factor: Positive | None = Field(
        default=Decimal(2), description="The k of the uncertainty when no column gives it."
    )
    lod_column: Column = ""
    loq_column: Column = ""
    header_row: int | None = Field(
        default=None, ge=1, le=1000, description="The header's line or row; blank: found by its columns."
    )
    sheet: Annotated[str, Text(100, single_line=True)] = Field(
        default="", description="XLSX: blank, the first."
    )
    delimiter: Delimiter = Delimiter.AUTO
    decimal_comma: bool | None = Field(
        default=None, description="Decimals written 12,5; blank: so when the fields are separated by ';'."
    )
    skip_rules: list[SkipRuleInput] = Field(default_factory=list, max_length=20)
    analyte_aliases: dict[Annotated[str, Text(120, 1)], Measurand] = Field(
        default_factory=dict,
        max_length=MAX_ALIASES,
        description='The instrument\'s analyte names → measurands ("208 Pb [He]": "element.Pb", "Ethanol": '
        '"alcohol_strength"); a name may also map to a free result name.',
    )
    unit_aliases: dict[Annotated[str, Text(40, 1)], MeasurementUnit] = Field(
        default_factory=dict,
        max_length=50,
        description='The instrument\'s unit spellings → units pint reads ("ppb": "µg/kg").',
    )
    test_hint: Annotated[str, Text(60, single_line=True)] = Field(
        default="",
        description="A word of the determination or method reference of the multi-analyte tests these "
        "results go on (ICP-MS, XRF).",
    )

    @field_validator("unit_aliases")
    @classmethod
    def _aliases_are_units(cls, aliases: dict[str, str]) -> dict[str, str]:
        if any(not target for target in aliases.values()):
            raise ValueError("each unit alias needs the unit it stands for")
        return aliases

    @model_validator(mode="after")
    def _fits_its_layout(self) -> MappingFields:
        faults = self.mapping().faults()
        if faults:
            raise ValidationFailed.of(faults)
        return self

    def mapping(self) -> ColumnMapping:
        """The domain's value this command describes."""
        return ColumnMapping(
            sample_column=self.sample_column,
            layout=self.layout,
            analyte_column=self.analyte_column,
            value_column=self.value_column,
            analyte_columns=tuple(self.analyte_columns),
            unit_column=self.unit_column,
            unit=self.unit,
            uncertainty_column=self.uncertainty_column,
            uncertainty_relative=self.uncertainty_relative,
            coverage_factor_column=self.coverage_factor_column,
            coverage_factor=self.coverage_factor,
            lod_column=self.lod_column,
            loq_column=self.loq_column,
            header_row=self.header_row,
            sheet=self.sheet,
            delimiter=self.delimiter,
            decimal_comma=self.decimal_comma,
            skip_rules=tuple(SkipRule(r.column, tuple(r.patterns)) for r in self.skip_rules),
            analyte_aliases=tuple(self.analyte_aliases.items()),
            unit_aliases=tuple(self.unit_aliases.items()),
            test_hint=self.test_hint,
        )


class MappingSave(MappingFields):
    """A mapping to save under its instrument model's name."""

    instrument_model: Annotated[str, Text(120, 1, single_line=True)] = Field(
        description="The instrument model and software the exports come from (Agilent 7900 ICP-MS "
        "MassHunter): the mapping's name, one per model in a laboratory."
    )
    description: Annotated[str, Text(2000)] = ""


class SkipRuleView(View):
    column: str
    patterns: list[str]


class MappingView(View):
    id: int
    lab_code: str
    instrument_model: str
    description: str
    layout: Layout
    sample_column: str
    analyte_column: str
    value_column: str
    analyte_columns: list[str]
    unit_column: str
    unit: str
    uncertainty_column: str
    uncertainty_relative: bool
    coverage_factor_column: str
    coverage_factor: Decimal | None
    lod_column: str
    loq_column: str
    header_row: int | None
    sheet: str
    delimiter: Delimiter
    decimal_comma: bool | None
    skip_rules: list[SkipRuleView]
    analyte_aliases: dict[str, str]
    unit_aliases: dict[str, str]
    test_hint: str
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime | None

    @classmethod
    def of(cls, entry: InstrumentMappingEntry) -> MappingView:
        m = entry.mapping
        return cls(
            id=key(entry),
            lab_code=entry.lab_code,
            instrument_model=entry.instrument_model,
            description=entry.description,
            layout=m.layout,
            sample_column=m.sample_column,
            analyte_column=m.analyte_column,
            value_column=m.value_column,
            analyte_columns=list(m.analyte_columns),
            unit_column=m.unit_column,
            unit=m.unit,
            uncertainty_column=m.uncertainty_column,
            uncertainty_relative=m.uncertainty_relative,
            coverage_factor_column=m.coverage_factor_column,
            coverage_factor=m.coverage_factor,
            lod_column=m.lod_column,
            loq_column=m.loq_column,
            header_row=m.header_row,
            sheet=m.sheet,
            delimiter=m.delimiter,
            decimal_comma=m.decimal_comma,
            skip_rules=[SkipRuleView(column=r.column, patterns=list(r.patterns)) for r in m.skip_rules],
            analyte_aliases=dict(m.analyte_aliases),
            unit_aliases=dict(m.unit_aliases),
            test_hint=m.test_hint,
            created_by=entry.created_by,
            created_at=entry.created_at,
            updated_by=entry.updated_by,
            updated_at=entry.updated_at,
        )


class MappingList(View):
    """The mappings of a laboratory, and whether the reader may change them."""

    lab_code: str
    labs: list[str]
    may_manage: bool
    mappings: list[MappingView]


def _require_staff(actor: Actor) -> None:
    if not actor.has(*LAB_STAFF):
        raise PermissionDenied("Instrument mappings are for laboratory staff.")


def _same_model(uow: UoW, lab: str, model: str, other_than: int | None) -> None:
    taken = [
        e
        for e in uow.quality.find(InstrumentMappingEntry, lab_code=lab)
        if fold(e.instrument_model) == fold(model) and e.id != other_than
    ]
    if taken:
        raise Conflict(
            f"Your laboratory already has a mapping for '{taken[0].instrument_model}': edit that one.",
            field="instrument_model",
        )


def create_mapping(uow: UoW, actor: Actor, cmd: MappingSave) -> MappingView:
    """Save how an instrument model's result exports are read (the laboratory manager)."""
    with acting(uow, actor, Action.MANAGE_INSTRUMENT_MAPPINGS):
        _same_model(uow, actor.org_code, cmd.instrument_model, None)
        entry = InstrumentMappingEntry(
            actor.org_code,
            cmd.instrument_model,
            cmd.description,
            cmd.mapping(),
            actor.username,
            uow.clock(),
        )
        uow.quality.add(entry)
        uow.commit()
        return MappingView.of(entry)


def own_mapping(uow: UoW, actor: Actor, mapping_id: int, field: str | None = None) -> InstrumentMappingEntry:
    """Inside a unit of work: a mapping of the actor's laboratory (another's is not found)."""
    entry = uow.quality.get(InstrumentMappingEntry, mapping_id)
    if entry is None or entry.lab_code != actor.org_code:
        raise NotFound(f"Instrument mapping {mapping_id} was not found.", field)
    return entry


def update_mapping(uow: UoW, actor: Actor, mapping_id: int, cmd: MappingSave) -> MappingView:
    """Change a mapping of the laboratory; imports previewed with the old one must be previewed again."""
    with acting(uow, actor, Action.MANAGE_INSTRUMENT_MAPPINGS):
        entry = own_mapping(uow, actor, mapping_id)
        _same_model(uow, actor.org_code, cmd.instrument_model, entry.id)
        entry.instrument_model = cmd.instrument_model
        entry.description = cmd.description
        entry.mapping = cmd.mapping()
        entry.updated_by = actor.username
        entry.updated_at = uow.clock()
        uow.commit()
        return MappingView.of(entry)


def list_mappings(uow: UoW, actor: Actor, lab: str | None = None) -> MappingList:
    """The instrument mappings of the laboratory (or of one under it, read-only), by model name."""
    _require_staff(actor)
    with uow:
        code = lab_in_sight(uow, actor, lab)
        if code is None:
            raise PermissionDenied("Instrument mappings are for laboratory staff.")
        entries = sorted(
            uow.quality.find(InstrumentMappingEntry, lab_code=code), key=lambda e: fold(e.instrument_model)
        )
        return MappingList(
            lab_code=code,
            labs=sorted(labs_in_sight(uow, actor)),
            may_manage=code == actor.org_code and actor.has(*_MANAGERS),
            mappings=[MappingView.of(e) for e in entries],
        )


def mapping_detail(uow: UoW, actor: Actor, mapping_id: int) -> MappingView:
    """One mapping of the laboratory, or of one under it."""
    _require_staff(actor)
    with uow:
        entry = uow.quality.get(InstrumentMappingEntry, mapping_id)
        if entry is None or entry.lab_code not in labs_in_sight(uow, actor):
            raise NotFound(f"Instrument mapping {mapping_id} was not found.")
        return MappingView.of(entry)


def mapping_named(uow: UoW, actor: Actor, name: str) -> MappingView:
    """The laboratory's mapping of the instrument model `name` (case and spacing ignored)."""
    _require_staff(actor)
    with uow:
        found = [
            e
            for e in uow.quality.find(InstrumentMappingEntry, lab_code=actor.org_code)
            if fold(e.instrument_model) == fold(name)
        ]
        if not found:
            known = ", ".join(
                sorted(
                    e.instrument_model
                    for e in uow.quality.find(InstrumentMappingEntry, lab_code=actor.org_code)
                )
            )
            raise NotFound(
                f"Your laboratory has no mapping named '{name}'" + (f"; it has: {known}." if known else "."),
                field="mapping",
            )
        return MappingView.of(found[0])
