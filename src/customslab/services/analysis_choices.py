"""What the forms of a test offer: the catalogued methods to plan one by, the instruments and QC batches
to measure with. The use cases check each choice again (a stale page or a crafted post is refused);
these lists only spare the analyst a choice that would be refused."""

from __future__ import annotations

from functools import partial

from pydantic import Field

from customslab.domain.access import LAB_STAFF, Actor
from customslab.domain.errors import PermissionDenied
from customslab.domain.quality.control_charts import QcStatus
from customslab.domain.quality.equipment import assert_usable
from customslab.domain.quality.methods import assert_usable_for_test
from customslab.services.contract import View
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.quality_control import QC_BATCHES
from customslab.services.quality_ports import CalibrationEntry, EquipmentEntry, MethodEntry
from customslab.services.quality_register import key, refusal

#: The QC batches a result form offers: the laboratory's latest, newest first.
RECENT_BATCHES = 30


class MethodChoice(View):
    """A validated, current method version of the laboratory's catalogue."""

    id: int
    method_code: str
    version: str
    title: str
    technique: str
    determinations: list[str] = Field(
        description="What the method determines (its analytes), offered as the test's determination."
    )


class InstrumentChoice(View):
    """An instrument in service, calibrated and not overdue today."""

    id: int
    code: str
    label: str


class QcBatchChoice(View):
    id: int
    batch_id: str
    material: str
    in_control: bool
    releasable: bool


class AnalysisChoices(View):
    methods: list[MethodChoice]
    instruments: list[InstrumentChoice]
    qc_batches: list[QcBatchChoice]


def _usable_method(entry: MethodEntry) -> bool:
    return not refusal(partial(assert_usable_for_test, entry.method))


def analysis_choices(uow: AbstractUnitOfWork, actor: Actor) -> AnalysisChoices:
    """The laboratory's validated current method versions, usable instruments and recent QC batches."""
    if not actor.has(*LAB_STAFF):
        raise PermissionDenied("The analysis forms are for laboratory staff.")
    with uow:
        lab = actor.org_code
        today = uow.clock().date()
        methods = [
            MethodChoice(
                id=key(e),
                method_code=e.method_code,
                version=e.version,
                title=e.method.title,
                technique=e.method.technique.value,
                determinations=list(e.method.analytes),
            )
            for e in uow.quality.find(MethodEntry, lab_code=lab)
            if _usable_method(e)
        ]
        instruments = []
        for eq in uow.quality.find(EquipmentEntry, lab_code=lab):
            events = [c.event for c in uow.quality.find(CalibrationEntry, equipment_entry_id=eq.id)]
            if not refusal(partial(assert_usable, eq.equipment, events, today)):
                instruments.append(InstrumentChoice(id=key(eq), code=eq.code, label=eq.equipment.label))
        batches = [
            QcBatchChoice(
                id=b.id,
                batch_id=b.batch.batch_id,
                material=b.batch.material,
                in_control=b.status is QcStatus.IN_CONTROL,
                releasable=b.releasable,
            )
            for b in reversed(QC_BATCHES.views(uow, actor)[-RECENT_BATCHES:])
        ]
        return AnalysisChoices(
            methods=sorted(methods, key=lambda m: (m.method_code, m.version)),
            instruments=sorted(instruments, key=lambda i: i.label),
            qc_batches=batches,
        )
