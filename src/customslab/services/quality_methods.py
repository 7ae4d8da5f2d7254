"""The ISO/IEC 17025 method catalogue (7.2): versions, their validation, publication and adoption.

The register declares its fields once (`MethodFields`, shared by the command that adds a version and
the view that shows one), the rules for a new version and the steps of one version; `quality_register`
makes the use cases, and the API its routes. The rules themselves are in `domain.quality.methods`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field

from customslab.domain.access import Actor
from customslab.domain.enums import Role
from customslab.domain.errors import Conflict, NotFound
from customslab.domain.quality.errors import MethodTransitionError
from customslab.domain.quality.methods import (
    DocumentRef,
    MethodOrigin,
    MethodStatus,
    MethodVersion,
    Technique,
    ValidationData,
    supersede,
    validate_method,
    withdraw_method,
)
from customslab.services.contract import Command, NonNegative, Positive, Text, View
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.quality_ports import MethodEntry
from customslab.services.quality_register import (
    NoInput,
    Register,
    Step,
    fields_of,
    key,
    labs_in_sight,
    value_of,
    writers,
)

UoW = AbstractUnitOfWork
_manager = Role.LAB_MANAGER
#: A list of short labels (analytes, matrices, HS headings, standards).
Labels = Annotated[tuple[Annotated[str, Text(200, 1)], ...], Field(max_length=100)]


class MethodFields(BaseModel):
    method_id: Annotated[str, Text(60, 1)]
    title: Annotated[str, Text(300, 1)]
    version: Annotated[str, Text(20, 1)]
    technique: Technique = Technique.OTHER
    analytes: Labels = ()
    matrices: Labels = ()
    hs_headings: Labels = ()
    principle: Annotated[str, Text(4000)] = ""
    scope: Annotated[str, Text(4000)] = ""
    standards: Labels = ()


class ValidationInput(Command):
    """Performance characteristics established during validation; see `domain.quality.ValidationData`."""

    repeatability_sr: NonNegative | None = None
    reproducibility_sR: NonNegative | None = None
    recovery_percent: NonNegative | None = None
    lod: NonNegative | None = None
    loq: NonNegative | None = None
    unit: Annotated[str, Text(40)] = ""
    uncertainty_model: Annotated[str, Text(2000)] = ""
    expanded_uncertainty_relative: NonNegative | None = None
    expanded_uncertainty_absolute: NonNegative | None = None
    coverage_factor: Positive = Decimal(2)


class MethodCreate(MethodFields, Command):
    validation: ValidationInput | None = None


class MethodValidation(Command):
    """Validation data given (or corrected) when a draft is approved."""

    validation: ValidationInput | None = None


class MethodView(MethodFields, View):
    id: int
    lab_code: str
    label: str
    status: MethodStatus
    published: bool
    adopted_from_id: int | None
    reagents: tuple[str, ...]
    apparatus: tuple[str, ...]
    validation: ValidationData | None
    documents: tuple[DocumentRef, ...]
    approved_by: str | None
    approved_at: datetime | None
    origin: MethodOrigin | None
    superseded_by: str | None


def _validation(given: ValidationInput | None) -> ValidationData | None:
    return value_of(ValidationData, given) if given is not None and given.model_fields_set else None


def _show_method(uow: UoW, e: MethodEntry) -> MethodView:
    return MethodView(
        id=key(e),
        lab_code=e.lab_code,
        label=e.method.label,
        published=e.published,
        adopted_from_id=e.adopted_from_id,
        **fields_of(e.method),
    )


def _refuse_second_copy(uow: UoW, actor: Actor, code: str, version: str, where: str) -> None:
    if uow.quality.find(MethodEntry, lab_code=actor.org_code, method_code=code, version=version):
        raise Conflict(f"Method {code} version {version} {where}.")


def _new_method(uow: UoW, actor: Actor, cmd: MethodCreate) -> MethodEntry:
    """A lab manager records a new method version as a draft of the laboratory's catalogue."""
    _refuse_second_copy(uow, actor, cmd.method_id, cmd.version, "already exists in your laboratory")
    method = value_of(
        MethodVersion,
        cmd,
        validation=_validation(cmd.validation),
        origin=MethodOrigin(published_by=actor.org_code),
    )
    return MethodEntry(actor.org_code, cmd.method_id, cmd.version, method, actor.username, uow.clock())


def _methods_seen(uow: UoW, actor: Actor, lab: str | None) -> list[MethodEntry]:
    """The catalogue of the laboratory read (when the actor may read it), then the versions other
    laboratories published to the network."""
    own = uow.quality.find(MethodEntry, lab_code=lab) if lab is not None else []
    shared = [e for e in uow.quality.find(MethodEntry, published=True) if e.lab_code != lab]
    return own + shared


def _visible_method(uow: UoW, actor: Actor, entry_id: int) -> MethodEntry:
    """A version of a catalogue the actor may read, or one published to the network."""
    entry = uow.quality.get(MethodEntry, entry_id)
    if entry is None or not (entry.published or entry.lab_code in labs_in_sight(uow, actor)):
        raise NotFound(f"Method version {entry_id} was not found.")
    return entry


def _adoptable_method(uow: UoW, actor: Actor, entry_id: int) -> MethodEntry:
    """A version published to the network, or one of the laboratory's own (which adoption refuses):
    what a laboratory merely oversees is not offered for adoption until it is published."""
    entry = uow.quality.get(MethodEntry, entry_id)
    if entry is None or not (entry.published or entry.lab_code == actor.org_code):
        raise NotFound(f"Method version {entry_id} was not found.")
    return entry


#: The catalogue lists the versions other laboratories published too, and shows any of them.
METHODS = Register(
    "methods",
    "Method version",
    _new_method,
    _show_method,
    writers("manage the method catalogue", _manager),
    listing=_methods_seen,
    reach=_visible_method,
)


def _validate(uow: UoW, actor: Actor, entry: MethodEntry, cmd: MethodValidation) -> None:
    """Approve a draft as validated (with its validation data); older validated versions are superseded."""
    method, data = entry.method, _validation(cmd.validation)
    if data is not None and method.status is MethodStatus.DRAFT:
        method = replace(method, validation=data)
    entry.method = validate_method(method, actor.username, uow.clock())
    for other in uow.quality.find(MethodEntry, lab_code=actor.org_code, method_code=entry.method_code):
        if other is not entry and other.method.status is MethodStatus.VALIDATED:
            other.method, _ = supersede(other.method, entry.method)


def _withdraw(uow: UoW, actor: Actor, entry: MethodEntry, _: NoInput) -> None:
    """Withdraw a validated version; no new test may start on it."""
    entry.method = withdraw_method(entry.method)


def _publish(uow: UoW, actor: Actor, entry: MethodEntry, _: NoInput) -> None:
    """Make a validated method version visible to the network, for other laboratories to adopt."""
    if entry.method.status is not MethodStatus.VALIDATED:
        raise MethodTransitionError(
            f"Method {entry.method.label} is {entry.method.status.value}; only a validated method "
            "can be published to the network."
        )
    if entry.published:
        raise Conflict(f"Method {entry.method.label} is already published to the network.")
    entry.published, entry.published_at = True, uow.clock()


def _adopt(uow: UoW, actor: Actor, source: MethodEntry, _: NoInput) -> MethodEntry:
    """Copy a published method into the laboratory's catalogue as a draft that records its origin.

    The laboratory must still verify and validate it before use (17025 7.2.1.5).
    """
    if source.lab_code == actor.org_code:
        raise Conflict("This method is already in your laboratory's catalogue.")
    origin = MethodOrigin(published_by=source.lab_code, adopted_from_version=source.version)
    return adopt_as_draft(uow, actor, source.method, origin, adopted_from_id=source.id)


def adopt_as_draft(
    uow: UoW, actor: Actor, method: MethodVersion, origin: MethodOrigin, adopted_from_id: int | None = None
) -> MethodEntry:
    """Inside a unit of work: `method` added to the actor's laboratory catalogue as a draft that records
    its origin (a version published on this server, or one a partner deployment shared).

    The approval and any supersession were the publisher's; the laboratory verifies and validates anew.
    """
    code, version = method.method_id, method.version
    _refuse_second_copy(uow, actor, code, version, "is already in your catalogue")
    draft = replace(
        method,
        status=MethodStatus.DRAFT,
        approved_by=None,
        approved_at=None,
        superseded_by=None,
        origin=origin,
    )
    copy = MethodEntry(
        actor.org_code, code, version, draft, actor.username, uow.clock(), adopted_from_id=adopted_from_id
    )
    uow.quality.add(copy)
    return copy


validate_method_version = Step(METHODS, "validate", _validate, writers("validate a method", _manager))
withdraw_method_version = Step(METHODS, "withdraw", _withdraw, writers("withdraw a method", _manager))
publish_method = Step(METHODS, "publish", _publish, writers("publish a method", _manager))
adopt_method = Step(
    METHODS, "adopt", _adopt, writers("adopt a method", _manager), adds=True, reach=_adoptable_method
)
