"""A result of any kind, checked where it enters, and the controls of 17025 on the analyst's side.

A result is a quantity (a value with its unit, U with k, LOD/LOQ) or a qualitative outcome: detected /
not detected, positive / negative, a text, or an identity backed by a stored spectral identification
of the same test. `ResultCreate` checks what a result of its kind needs once, where it enters (API,
form, CLI); `add_result` checks what needs the database (the identification, the instrument, the QC
batch, the analyst's authorisation) inside the caller's unit of work.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from customslab.domain.access import Actor
from customslab.domain.enums import QUALITATIVE_OUTCOMES, ResultKind
from customslab.domain.errors import FieldError, ValidationFailed
from customslab.domain.model import AnalysisTest, Identification, Result
from customslab.domain.quality.competence import assert_analyst_authorised
from customslab.domain.quality.equipment import assert_usable
from customslab.domain.quality.methods import assert_usable_for_test
from customslab.hs.measurands import measurand_key
from customslab.hs.quantities import QuantityError, check_result_unit
from customslab.services.contract import (
    Amount,
    Command,
    Id,
    MeasurementUnit,
    NonNegative,
    Positive,
    Text,
    record_of,
)
from customslab.services.control_mark import result_controls
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.quality import lab_authorisations, own_entry
from customslab.services.quality_ports import CalibrationEntry, EquipmentEntry, MethodEntry, QcBatchEntry
from customslab.services.substances import mark_controlled, officer_register
from customslab.substances.register import Register

#: What a quantity alone may carry; a qualitative result refuses each of them by name.
_QUANTITY_FIELDS = ("value", "unit", "expanded_uncertainty", "lod", "loq")
#: Qualitative kinds that keep the limits of detection and quantification they were decided against.
_LIMITED_KINDS = (ResultKind.DETECTION, ResultKind.SCREENING)


def outcome_key(text: str) -> str:
    """An outcome as stored: "Not detected" and "not-detected" are `not_detected`."""
    return "_".join(text.strip().lower().replace("-", " ").split())


class ResultCreate(Command):
    """A quantity measured (value, unit, expanded uncertainty U with k, LOD/LOQ) or a qualitative outcome
    (`kind`): detection (detected / not_detected), screening (positive / negative), a text finding, or an
    identity backed by a spectral identification stored with the same test."""

    name: Annotated[str, Text(120)] = Field(
        default="",
        description="The measurand: a key of the measurand list (alcohol_strength, element.Cr, "
        "monomer.ethylene...), its English label (mapped to the key), or a free name; blank: the "
        "test's determination.",
    )
    kind: ResultKind = ResultKind.QUANTITY
    value: Amount | None = None
    unit: MeasurementUnit = Field(
        default="",
        description="Any unit pint reads (%, % m/m, %vol, mg/kg, g/L, °C, 1 for a ratio) or a laboratory "
        "scale (EBC, pH...); for a named quantity (alcohol_strength, element.Cr...), one of its dimension.",
    )
    expanded_uncertainty: NonNegative | None = None
    coverage_factor: Positive | None = None
    lod: NonNegative | None = None
    loq: NonNegative | None = None
    observation: Annotated[str, Text(4000)] = ""
    equipment_id: Id | None = None
    qc_batch_id: Id | None = None
    text_value: Annotated[str, Text(500)] = Field(
        default="",
        description="A qualitative result's outcome: detected or not_detected (detection), positive or "
        "negative (screening), the finding (text), or the substance (identity: a hit of the "
        "identification's list, by default its best hit).",
    )
    identification_id: Id | None = Field(
        default=None, description="An identity result's evidence: an identification stored with the test."
    )

    @field_validator("name")
    @classmethod
    def _measurand_key(cls, name: str) -> str:
        """A measurand's label typed in ("Alcoholic strength") is stored as its key, read by HS rules."""
        return measurand_key(name) if name else name

    @field_validator("unit")
    @classmethod
    def _unit_of_the_quantity(cls, unit: str, info: ValidationInfo) -> str:
        """A named quantity's unit has its dimension: %vol, not g/kg, for alcohol_strength."""
        # `name` is declared before `unit`, so it has been validated (or refused) by now.
        name = str(info.data.get("name") or "")
        if unit and name:
            try:
                check_result_unit(unit, name)
            except QuantityError as exc:
                raise ValueError(str(exc)) from None
        return unit

    @field_validator("text_value")
    @classmethod
    def _outcome_spelling(cls, text: str, info: ValidationInfo) -> str:
        """Detection and screening outcomes are stored as their keys (not_detected)."""
        return outcome_key(text) if info.data.get("kind") in QUALITATIVE_OUTCOMES else text

    @model_validator(mode="after")
    def _fits_its_kind(self) -> ResultCreate:
        # Raised as the domain's error, so every fault reaches its own field (pydantic would name none).
        faults = kind_faults(self)
        if faults:
            raise ValidationFailed.of(faults)
        return self


def kind_faults(cmd: ResultCreate) -> list[FieldError]:
    """What a result of its kind lacks or must not have, each fault on its field."""
    kind = cmd.kind
    if kind is ResultKind.QUANTITY:
        faults = []
        if cmd.value is None and not cmd.observation:
            faults.append(FieldError("value", "Value is required."))
        if cmd.value is not None and not cmd.unit:
            faults.append(FieldError("unit", "A numeric result needs its unit (use 1 for dimensionless)."))
        if cmd.expanded_uncertainty is not None and cmd.coverage_factor is None:
            faults.append(
                FieldError(
                    "coverage_factor", "An expanded uncertainty needs its coverage factor k (often 2)."
                )
            )
        if cmd.text_value:
            faults.append(FieldError("text_value", "A quantity has no outcome: give its value and unit."))
        if cmd.identification_id is not None:
            faults.append(FieldError("identification_id", "Only an identity result cites an identification."))
        return faults
    # A detection or screening outcome keeps its limits ("not detected" means below the LOD), and the
    # unit they are in; a text finding or an identity has neither.
    allowed: tuple[str, ...] = ("lod", "loq") if kind in _LIMITED_KINDS else ()
    if allowed and (cmd.lod is not None or cmd.loq is not None):
        allowed += ("unit",)
    faults = [
        FieldError(name, f"A {kind.value} result has no {name.replace('_', ' ')}: it states an outcome.")
        for name in _QUANTITY_FIELDS
        if name not in allowed and getattr(cmd, name) not in (None, "")
    ]
    outcomes = QUALITATIVE_OUTCOMES.get(kind)
    if outcomes is not None and cmd.text_value not in outcomes:
        choices = " or ".join(o.replace("_", " ") for o in outcomes)
        faults.append(FieldError("text_value", f"A {kind.value} result is {choices}."))
    if kind is ResultKind.TEXT and not cmd.text_value:
        faults.append(FieldError("text_value", "Write the finding."))
    if kind is ResultKind.IDENTITY and cmd.identification_id is None:
        faults.append(
            FieldError(
                "identification_id",
                "An identity result needs the identification that supports it: identify the spectrum "
                "on this test first.",
            )
        )
    if kind is not ResultKind.IDENTITY and cmd.identification_id is not None:
        faults.append(FieldError("identification_id", "Only an identity result cites an identification."))
    return faults


def identified_substance(identification: Identification, chosen: str) -> str:
    """The substance an identity result names: `chosen` if it is a hit of the list (as the list spells
    it), else the best hit when nothing is chosen; any other name is refused."""
    names = [str(h.get("name", "")) for h in identification.hits if h.get("name")]
    if not names:
        raise ValidationFailed("This identification found no hit to name.", field="identification_id")
    if not chosen:
        return names[0]
    match = next((n for n in names if n.casefold() == chosen.strip().casefold()), None)
    if match is None:
        listed = ", ".join(names[:10])
        raise ValidationFailed(
            f"'{chosen}' is not a hit of this identification; choose one of: {listed}.", field="text_value"
        )
    return match


def _identification_of(uow: AbstractUnitOfWork, test: AnalysisTest, identification_id: int) -> Identification:
    found = next((i for i in uow.repo.identifications_for(test.id or 0) if i.id == identification_id), None)
    if found is None:
        raise ValidationFailed(
            f"Identification {identification_id} is not one of this test's: identify the spectrum on "
            "this test, then record it.",
            field="identification_id",
        )
    return found


def check_result_controls(
    uow: AbstractUnitOfWork, actor: Actor, test: AnalysisTest, cmd: ResultCreate
) -> None:
    """Authorisation, instrument and QC-batch checks (17025 6.2, 6.4, 7.7), whatever the page offered.

    Tests planned with a free-text method reference keep the behaviour they had before the catalogue.
    """
    today = uow.clock().date()
    if test.method_version_id is not None:
        entry = uow.quality.get(MethodEntry, test.method_version_id)
        if entry is not None:
            # Withdrawn or superseded since the test was planned: no new result on it (17025 7.2).
            assert_usable_for_test(entry.method)
            auths = lab_authorisations(uow, actor.org_code)
            assert_analyst_authorised(actor.username, entry.method_code, auths, today)
        if cmd.kind is ResultKind.QUANTITY and cmd.equipment_id is None:
            # A quantity on a catalogued method names its instrument, so its calibration is checked
            # (17025 6.4); a qualitative identity from a spectrum may name none.
            raise ValidationFailed("Choose the instrument this result was measured on.", field="equipment_id")
    if cmd.equipment_id is not None:
        equipment = own_entry(uow, actor, EquipmentEntry, cmd.equipment_id, "Instrument", "equipment_id")
        events = [c.event for c in uow.quality.find(CalibrationEntry, equipment_entry_id=equipment.id)]
        assert_usable(equipment.equipment, events, today)
    if cmd.qc_batch_id is not None:
        own_entry(uow, actor, QcBatchEntry, cmd.qc_batch_id, "QC batch", "qc_batch_id")


def add_result(
    uow: AbstractUnitOfWork,
    actor: Actor,
    test: AnalysisTest,
    cmd: ResultCreate,
    bundled: Register | None = None,
) -> Result:
    """Inside the caller's unit of work: the result on the actor's open test, once its kind's evidence
    is found (an identity's identification of the same test) and its name and unit suit each other. An
    identity of a controlled substance, or a text finding naming one exactly, marks the case (by the
    `bundled` UN lists and the requesting administration's national lists; without `bundled`, by the
    controls the identification stored only)."""
    given: dict[str, Any] = {"name": cmd.name or measurand_key(test.determination)}
    identification: Identification | None = None
    if cmd.kind is ResultKind.QUANTITY and cmd.unit and not cmd.name:
        # The result takes the test's determination as its name: its unit must suit that quantity.
        try:
            check_result_unit(cmd.unit, given["name"])
        except QuantityError as exc:
            raise ValidationFailed(str(exc), field="unit") from None
    if cmd.kind is not ResultKind.QUANTITY:
        given["coverage_factor"] = None  # k qualifies a U, which an outcome has not
    if cmd.kind is ResultKind.IDENTITY and cmd.identification_id is not None:
        identification = _identification_of(uow, test, cmd.identification_id)
        given["text_value"] = identified_substance(identification, cmd.text_value)
    result = record_of(Result, cmd, entered_by=actor.user_id, entered_at=uow.clock(), **given)
    test.results.append(result)
    sample = uow.repo.sample(test.sample_id) if test.sample_id is not None else None
    register = officer_register(uow, bundled, sample) if bundled is not None and sample else None
    mark_controlled(uow, actor, test, result_controls(result, identification, register))
    uow.repo.flush()
    return result
