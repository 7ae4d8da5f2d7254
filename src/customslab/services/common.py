"""Helpers the use cases share: acting in a unit of work, loading the records the actor may see or change."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from customslab.domain.access import Action, Actor, Kind, require
from customslab.domain.errors import Conflict, NotFound
from customslab.domain.model import AnalysisRequest, AnalysisTest, Sample
from customslab.services.ports import AbstractUnitOfWork


@contextmanager
def acting(
    uow: AbstractUnitOfWork, actor: Actor, action: Action, reason: str | None = None
) -> Iterator[None]:
    """A unit of work in which the actor does `action`: refused unless their roles allow it, and what it
    writes is audited under their name, with `reason` when the step must be justified."""
    with uow:
        require(actor, action)
        uow.act_as(actor.username, reason)
        yield


@contextmanager
def acting_on_sample(
    uow: AbstractUnitOfWork, actor: Actor, action: Action, sample_id: int, reason: str | None = None
) -> Iterator[Sample]:
    """`acting` on a sample the actor's laboratory holds, which the block receives."""
    with acting(uow, actor, action, reason):
        yield held_sample(uow, actor, sample_id)


def next_lab_sample_id(uow: AbstractUnitOfWork, lab_code: str, year: int) -> str:
    """The laboratory's next sample id of the year (KCS-ICN-2026-00042), for a sample or a sub-sample."""
    seq = uow.repo.next_number(f"sample-{lab_code}-{year}")
    return f"{lab_code}-{year}-{seq:05d}"


def visible_sample(uow: AbstractUnitOfWork, actor: Actor, sample_id: int, kind: Kind = Kind.SAMPLE) -> Sample:
    """The sample, or NotFound — also when it exists but the visibility table hides it (or the record of
    `kind` hanging from it) from the actor."""
    sample = uow.repo.sample(sample_id)
    if sample is None or not uow.repo.can_see_sample(actor, sample, kind):
        raise NotFound(f"Sample {sample_id} was not found.")
    return sample


def held_sample(uow: AbstractUnitOfWork, actor: Actor, sample_id: int) -> Sample:
    """A sample the actor's laboratory holds now: only the holder may change it."""
    sample = visible_sample(uow, actor, sample_id)
    if sample.lab_code != actor.org_code:
        if any(r.from_lab == actor.org_code for r in uow.repo.referrals_for(sample_id)):
            # The laboratory referred it away (perhaps a moment ago, from another tab): a state clash.
            raise Conflict(
                f"Sample {sample.lab_sample_id} was referred to {sample.lab_code}, which holds it now; "
                "only the laboratory holding a sample can change it."
            )
        raise NotFound(f"Sample {sample_id} is not held by your laboratory.")
    return sample


def visible_request(uow: AbstractUnitOfWork, actor: Actor, request_id: int) -> AnalysisRequest:
    req = uow.repo.request(request_id)
    if req is None:
        raise NotFound(f"Request {request_id} was not found.")
    if uow.repo.can_see_request(actor, req):
        return req
    raise NotFound(f"Request {request_id} was not found.")


def held_test(uow: AbstractUnitOfWork, actor: Actor, test_id: int) -> tuple[AnalysisTest, Sample]:
    test = uow.repo.test(test_id)
    if test is None or test.sample_id is None:
        raise NotFound(f"Test {test_id} was not found.")
    try:
        sample = held_sample(uow, actor, test.sample_id)
    except NotFound:
        raise NotFound(f"Test {test_id} was not found.") from None
    return test, sample
