"""What the pages of the quality registers show: one read per page (compute once, render many).

Each page reads a register as its API lists it, adds what its forms need (the laboratory's staff, its
methods and instruments to choose from) and says which use cases the reader may take there. Those
roles are read from the registers' own declarations (`Register.writers`, `Step.writers`) and from
`domain.access`, so a form is offered exactly to the roles its use case accepts; the use case still
checks them when the form is posted.
"""

from __future__ import annotations

from typing import Any

from customslab.domain.access import LAB_STAFF, Actor
from customslab.domain.enums import Role
from customslab.domain.errors import PermissionDenied
from customslab.domain.quality.equipment import CalibrationKind, MaintenanceKind
from customslab.domain.quality.methods import MethodStatus, Technique
from customslab.services import proficiency
from customslab.services.contract import View
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.proficiency import PtRoundSummary, PtRoundView
from customslab.services.quality_control import (
    AUTHORISATIONS,
    QC_BATCHES,
    TRAINING,
    AuthorisationView,
    QcBatchView,
    TrainingView,
    qc_chart,
    record_corrective_action,
    revoke_authorisation,
)
from customslab.services.quality_equipment import (
    EQUIPMENT,
    REFERENCE_MATERIALS,
    DueView,
    EquipmentView,
    ReferenceMaterialView,
    due_of,
    record_calibration,
    record_maintenance,
)
from customslab.services.quality_methods import (
    METHODS,
    MethodView,
    adopt_method,
    publish_method,
    validate_method_version,
    withdraw_method_version,
)
from customslab.services.quality_ports import MethodEntry
from customslab.services.quality_register import Register, Step, lab_in_sight, labs_in_sight

UoW = AbstractUnitOfWork


class StaffOption(View):
    """A member of the laboratory, as the competence forms offer them."""

    id: int
    username: str
    name: str
    roles: list[Role]


class LabRegisters(View):
    """The frame of a register page: whose registers, whose else the reader may open, what they may do.

    `may` maps a register's path (add an entry) or `<register>/<step>` (a step of an entry) to whether
    the reader may take that use case here: only in their own laboratory, only with a role it accepts.
    """

    lab_code: str
    labs: list[str]
    own: bool
    may: dict[str, bool]


class MethodsPage(LabRegisters):
    methods: list[MethodView]
    techniques: list[str]


class MethodPage(View):
    method: MethodView
    own: bool
    may: dict[str, bool]
    versions: list[MethodView]  # every version of the same method the reader sees, this one included
    techniques: list[str]


class EquipmentPage(LabRegisters):
    due: list[DueView]
    equipment: list[EquipmentView]
    materials: list[ReferenceMaterialView]


class InstrumentPage(View):
    equipment: EquipmentView
    own: bool
    may: dict[str, bool]
    calibration_kinds: list[str]
    maintenance_kinds: list[str]


class StaffPage(LabRegisters):
    training: list[TrainingView]
    authorisations: list[AuthorisationView]
    staff: list[StaffOption]
    method_codes: list[str]  # the laboratory's catalogue, one entry per method


class QcPage(LabRegisters):
    batches: list[QcBatchView]
    methods: list[MethodView]  # the laboratory's validated versions, to link a batch to
    equipment: list[EquipmentView]


class QcBatchPage(View):
    batch: QcBatchView
    chart: str  # the Levey–Jennings chart, SVG with every text escaped (domain.quality.charts)
    own: bool
    may: dict[str, bool]


class PtPage(View):
    rounds: list[PtRoundSummary]
    laboratories: list[tuple[str, str]]  # (code, name) of the laboratories a round may invite
    may_open: bool


class PtRoundPage(View):
    round: PtRoundView
    may_submit: bool
    may_evaluate: bool
    to_submit: list[str]  # the measurands the reader's laboratory has yet to submit


def name_of(declared: Register[Any, Any, Any] | Step[Any, Any, Any]) -> str:
    """The key of a use case in a page's `may`: the register's path, or `<register>/<step>`."""
    if isinstance(declared, Step):
        return f"{declared.register.path}/{declared.path}"
    return declared.path


def _may(
    actor: Actor, own: bool, *declared: Register[Any, Any, Any] | Step[Any, Any, Any]
) -> dict[str, bool]:
    # Registers are changed by their own laboratory only; an overseen laboratory's are read-only.
    return {name_of(d): own and actor.has(*d.writers.roles) for d in declared}


def _require_staff(actor: Actor) -> None:
    if not actor.has(*LAB_STAFF):
        raise PermissionDenied("The quality registers are for laboratory staff.")


def _frame(uow: UoW, actor: Actor, lab: str | None) -> tuple[str, list[str], bool]:
    """Inside a unit of work: the laboratory read, those the reader may open (theirs first), whether it
    is their own; laboratory staff only."""
    _require_staff(actor)
    code = lab_in_sight(uow, actor, lab) or actor.org_code
    labs = sorted(labs_in_sight(uow, actor), key=lambda c: (c != actor.org_code, c))
    return code, labs, code == actor.org_code


def methods_page(uow: UoW, actor: Actor, lab: str | None = None) -> MethodsPage:
    """The method catalogue of a laboratory (and the versions published to the network)."""
    with uow:
        code, labs, own = _frame(uow, actor, lab)
        return MethodsPage(
            lab_code=code,
            labs=labs,
            own=own,
            may=_may(actor, own, METHODS),
            methods=METHODS.views(uow, actor, code),
            techniques=[t.value for t in Technique],
        )


def method_page(uow: UoW, actor: Actor, entry_id: int) -> MethodPage:
    """One method version with the other versions of the method, and the steps the reader may take."""
    _require_staff(actor)
    with uow:
        entry = METHODS.get(uow, actor, entry_id)
        own = entry.lab_code == actor.org_code
        readable = entry.lab_code in labs_in_sight(uow, actor)
        siblings = uow.quality.find(MethodEntry, lab_code=entry.lab_code, method_code=entry.method_code)
        may = _may(actor, own, METHODS, validate_method_version, withdraw_method_version, publish_method)
        # Adoption copies another laboratory's published version into the reader's own catalogue.
        may[name_of(adopt_method)] = not own and entry.published and actor.has(*adopt_method.writers.roles)
        return MethodPage(
            method=METHODS.show(uow, entry),
            own=own,
            may=may,
            versions=[METHODS.show(uow, e) for e in siblings if readable or e.published],
            techniques=[t.value for t in Technique],
        )


def equipment_page(uow: UoW, actor: Actor, lab: str | None = None) -> EquipmentPage:
    """Instruments with their due calibrations, and reference materials, of a laboratory."""
    with uow:
        code, labs, own = _frame(uow, actor, lab)
        return EquipmentPage(
            lab_code=code,
            labs=labs,
            own=own,
            may=_may(actor, own, EQUIPMENT, REFERENCE_MATERIALS),
            due=due_of(uow, actor, lab=code),
            equipment=EQUIPMENT.views(uow, actor, code),
            materials=REFERENCE_MATERIALS.views(uow, actor, code),
        )


def instrument_page(uow: UoW, actor: Actor, entry_id: int) -> InstrumentPage:
    """One instrument with its calibrations and maintenance log."""
    _require_staff(actor)
    with uow:
        entry = EQUIPMENT.get(uow, actor, entry_id)
        own = entry.lab_code == actor.org_code
        return InstrumentPage(
            equipment=EQUIPMENT.show(uow, entry),
            own=own,
            may=_may(actor, own, record_calibration, record_maintenance),
            calibration_kinds=[k.value for k in CalibrationKind],
            maintenance_kinds=[k.value for k in MaintenanceKind],
        )


def staff_page(uow: UoW, actor: Actor, lab: str | None = None) -> StaffPage:
    """Training records and authorisations of a laboratory's staff."""
    with uow:
        code, labs, own = _frame(uow, actor, lab)
        members = [u for u in uow.repo.users(code) if u.id is not None and u.active]
        codes = {e.method_code for e in uow.quality.find(MethodEntry, lab_code=code)}
        return StaffPage(
            lab_code=code,
            labs=labs,
            own=own,
            may=_may(actor, own, TRAINING, AUTHORISATIONS, revoke_authorisation),
            training=TRAINING.views(uow, actor, code),
            authorisations=AUTHORISATIONS.views(uow, actor, code),
            staff=[
                StaffOption(
                    id=u.id,
                    username=u.username,
                    name=u.full_name or u.username,
                    roles=sorted(u.roles & LAB_STAFF),
                )
                for u in members
                if u.id is not None and u.roles & LAB_STAFF
            ],
            method_codes=sorted(codes),
        )


def qc_page(uow: UoW, actor: Actor, lab: str | None = None) -> QcPage:
    """The QC batches of a laboratory with their Westgard status, and what a new batch may refer to."""
    with uow:
        code, labs, own = _frame(uow, actor, lab)
        methods = [m for m in METHODS.views(uow, actor, code) if m.lab_code == code]
        return QcPage(
            lab_code=code,
            labs=labs,
            own=own,
            may=_may(actor, own, QC_BATCHES),
            batches=QC_BATCHES.views(uow, actor, code),
            methods=[m for m in methods if m.status is MethodStatus.VALIDATED],
            equipment=EQUIPMENT.views(uow, actor, code),
        )


def qc_batch_page(uow: UoW, actor: Actor, entry_id: int) -> QcBatchPage:
    """One QC batch: its control values, chart, Westgard violations and corrective actions."""
    _require_staff(actor)
    with uow:
        entry = QC_BATCHES.get(uow, actor, entry_id)
        own = entry.lab_code == actor.org_code
        return QcBatchPage(
            batch=QC_BATCHES.show(uow, entry),
            chart=qc_chart(entry),
            own=own,
            may=_may(actor, own, record_corrective_action),
        )


def _require_pt_reader(actor: Actor) -> None:
    if not actor.has(*LAB_STAFF, Role.NETWORK_COORDINATOR):
        raise PermissionDenied("Proficiency testing is for laboratory staff and network coordinators.")


def pt_page(uow: UoW, actor: Actor) -> PtPage:
    """The rounds the reader's laboratory coordinates or takes part in, and the laboratories to invite."""
    _require_pt_reader(actor)
    may_open = actor.has(Role.NETWORK_COORDINATOR)
    with uow:
        labs = [(o.code, o.name) for o in uow.repo.orgs() if o.is_laboratory] if may_open else []
        return PtPage(rounds=proficiency.rounds_of(uow, actor), laboratories=labs, may_open=may_open)


def pt_round_page(uow: UoW, actor: Actor, round_id: int, lab: str | None = None) -> PtRoundPage:
    """A round with the results and scores the reader's laboratory may see, and what it may do next;
    with `lab`, read-only, as a laboratory under the reader's central laboratory sees it."""
    _require_pt_reader(actor)
    view = proficiency.round_detail(uow, actor, round_id, lab)
    is_open = view.state == "open" and lab in (None, actor.org_code)
    submitted = {r.measurand for r in view.results if r.lab == actor.org_code}
    return PtRoundPage(
        round=view,
        may_submit=is_open and actor.has(*LAB_STAFF) and actor.org_code in view.participants,
        may_evaluate=is_open
        and actor.has(Role.NETWORK_COORDINATOR)
        and view.coordinator_lab == actor.org_code,
        to_submit=[m.measurand for m in view.measurands if m.measurand not in submitted],
    )
