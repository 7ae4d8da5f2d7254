"""Bulk receipt: several samples of the laboratory received at once by the codes on their labels.

A morning's delivery is scanned label by label (a hand scanner types the code and Enter); the samples
are then received together, all or nothing, with the same receipt as one sample (cases.record_receipt).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from customslab.domain.access import Action, Actor
from customslab.domain.enums import State
from customslab.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from customslab.domain.model import Sample
from customslab.services.cases import SampleReceipt, record_receipt
from customslab.services.common import acting, held_sample
from customslab.services.contract import Command, Flag, Text, View
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.views import SampleSummary

#: A delivery larger than this is received in several goes: one transaction stays short.
MAX_CODES = 200
#: The form field the codes come in; every refusal of a code names it.
CODES = "codes"


class BulkReceipt(Command):
    """The label codes (laboratory sample ids) of samples received together, and what holds for all of
    them: condition, storage location and whether the seals are intact."""

    codes: list[Annotated[str, Text(60, 1)]] = Field(
        max_length=MAX_CODES,
        description="Laboratory sample ids as printed on the labels (KCS-ICN-2026-00042), each once.",
    )
    condition: Annotated[str, Text(2000)] = ""
    storage_location: Annotated[str, Text(120)] = ""
    seal_intact: Flag = True
    note: Annotated[str, Text(2000)] = ""


class BulkReceived(View):
    """The samples received, in the order their codes were given."""

    received: list[SampleSummary]


def receive_samples(uow: AbstractUnitOfWork, actor: Actor, cmd: BulkReceipt) -> BulkReceived:
    """Receive several registered samples of the actor's laboratory in one transaction: every code is
    checked first, and any bad one (unknown, another laboratory's, not registered, repeated) refuses the
    whole delivery, each bad code named."""
    if not cmd.codes:
        raise ValidationFailed("Scan or type at least one label code.", field=CODES)
    with acting(uow, actor, Action.RECEIVE_SAMPLE):
        samples = _receivable(uow, actor, cmd.codes)
        now = uow.clock()
        receipt = SampleReceipt(
            condition=cmd.condition,
            storage_location=cmd.storage_location,
            seal_intact=cmd.seal_intact,
            note=cmd.note,
        )
        for sample in samples:
            record_receipt(uow, actor, sample, receipt, now)
        uow.commit()
        received = []
        for sample in samples:
            req = uow.repo.request(sample.request_id or 0)
            assert req is not None
            received.append(SampleSummary.of(sample, req, now.date(), now))
        return BulkReceived(received=received)


def _receivable(uow: AbstractUnitOfWork, actor: Actor, codes: list[str]) -> list[Sample]:
    """The samples the codes name, each held by the actor's laboratory and registered; else every fault."""
    faults: list[FieldError] = []
    samples: list[Sample] = []
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            faults.append(FieldError(CODES, f"{code}: scanned more than once."))
            continue
        seen.add(code)
        problem, sample = _check(uow, actor, code)
        if problem:
            faults.append(FieldError(CODES, problem))
        elif sample is not None:
            samples.append(sample)
    if faults:
        raise ValidationFailed.of(faults)
    return samples


def _check(uow: AbstractUnitOfWork, actor: Actor, code: str) -> tuple[str | None, Sample | None]:
    """What stops the actor receiving the sample `code` (None when nothing does), and the sample."""
    found = uow.repo.sample_by_lab_id(code)
    if found is None or found.id is None or not uow.repo.can_see_sample(actor, found):
        # A sample the actor may not see is as unknown as one that does not exist.
        return f"{code}: no sample of your laboratory has this code.", None
    try:
        sample = held_sample(uow, actor, found.id)
    except Conflict:
        return f"{code}: referred to {found.lab_code}, which holds it now.", None
    except NotFound:
        return f"{code}: held by {found.lab_code}, not by your laboratory.", None
    if sample.state is not State.REGISTERED:
        state = sample.state.value.replace("_", " ")
        return f"{code}: already {state}; only a registered sample can be received.", None
    return None, sample
