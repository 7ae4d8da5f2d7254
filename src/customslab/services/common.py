"""Helpers the use cases share: loading the records the actor may see or change."""

from __future__ import annotations

from customslab.domain.access import Actor
from customslab.domain.errors import NotFound
from customslab.domain.model import AnalysisRequest, AnalysisTest, Sample
from customslab.services.ports import AbstractUnitOfWork


def visible_sample(uow: AbstractUnitOfWork, actor: Actor, sample_id: int) -> Sample:
    """The sample, or NotFound — also when it exists but belongs to another laboratory."""
    sample = uow.repo.sample(sample_id)
    if sample is None or not uow.repo.can_see_sample(actor, sample):
        raise NotFound(f"Sample {sample_id} was not found.")
    return sample


def held_sample(uow: AbstractUnitOfWork, actor: Actor, sample_id: int) -> Sample:
    """A sample the actor's laboratory holds now: only the holder may change it."""
    sample = visible_sample(uow, actor, sample_id)
    if sample.lab_code != actor.org_code:
        raise NotFound(f"Sample {sample_id} is not held by your laboratory.")
    return sample


def visible_request(uow: AbstractUnitOfWork, actor: Actor, request_id: int) -> AnalysisRequest:
    req = uow.repo.request(request_id)
    if req is None:
        raise NotFound(f"Request {request_id} was not found.")
    if actor.sees_network or req.requester_id == actor.user_id or req.lab_code == actor.org_code:
        return req
    if any(uow.repo.can_see_sample(actor, s) for s in req.samples):
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
