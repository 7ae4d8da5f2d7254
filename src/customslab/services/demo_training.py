"""The demo's training across the network: a past RCL workshop whose completions went to the
participants' laboratories (one accepted into the central laboratory's competence records, one awaiting
the RCL-JP manager), and an upcoming course hosted by the Korean central laboratory. Each user taking
part is registered by the manager (or host coordinator) of their own organisation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from customslab.domain.access import Actor
from customslab.services import training
from customslab.services.contract import parse
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.training_views import (
    CompletionDecision,
    ParticipantCreate,
    ParticipationStep,
    ProgrammeCreate,
    Step,
)

FOOD_WORKSHOP = "Asia/Pacific RCL workshop on the analysis of food preparations"


def training_programmes(uow: Callable[[], AbstractUnitOfWork], today: date, actors: dict[str, Actor]) -> None:
    """Two programmes, through the use cases (so the audit trail and the notifications are real)."""
    host = actors["coordinator"]
    start = today - timedelta(days=40)
    workshop = training.create_programme(
        uow(),
        host,
        parse(
            ProgrammeCreate,
            {
                "title": FOOD_WORKSHOP,
                "kind": "workshop",
                "starts_on": start.isoformat(),
                "ends_on": (start + timedelta(days=4)).isoformat(),
                "description": (
                    "Dried red pepper or a preparation of it, cooked or raw rice (degree of gelatinisation), "
                    "natural or re-esterified fish oil: methods, worked cases and a practical session."
                ),
                "sharing": "network",
            },
        ),
    )
    done = ParticipationStep(
        step=Step.COMPLETED, completed_on=start + timedelta(days=4), hours=Decimal(30), outcome="passed"
    )
    for who, registrar in (("analyst", "manager.ccl"), ("analyst.jp", "coordinator")):
        p = training.register_participant(
            uow(), actors[registrar], workshop.id, ParticipantCreate(user_id=actors[who].user_id)
        )
        training.record_step(uow(), host, p.id, done)
        if who == "analyst":
            training.decide_completion(uow(), actors["manager.ccl"], p.id, CompletionDecision(accept=True))
    guest = ParticipantCreate(name="Karma Dorji", org_code="BT-DRC")
    p = training.register_participant(uow(), host, workshop.id, guest)
    training.record_step(uow(), host, p.id, ParticipationStep(step=Step.ATTENDED))

    course_start = today + timedelta(days=30)
    course = training.create_programme(
        uow(),
        actors["manager.ccl"],
        parse(
            ProgrammeCreate,
            {
                "title": "GC-MS identification of new psychoactive substances",
                "kind": "training_course",
                "starts_on": course_start.isoformat(),
                "ends_on": (course_start + timedelta(days=2)).isoformat(),
                "description": "For the analysts of the local customs laboratories.",
                "sharing": "administration",
            },
        ),
    )
    training.register_participant(
        uow(), actors["manager.icn"], course.id, ParticipantCreate(user_id=actors["analyst.icn"].user_id)
    )
