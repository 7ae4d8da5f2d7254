"""One read of a laboratory's ISO/IEC 17025 registers, for the quality page."""

from __future__ import annotations

from customslab.domain.access import LAB_STAFF, Actor
from customslab.domain.errors import PermissionDenied
from customslab.services import proficiency
from customslab.services.contract import View
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.proficiency import PtRoundSummary
from customslab.services.quality_control import (
    AUTHORISATIONS,
    QC_BATCHES,
    AuthorisationView,
    QcBatchView,
    qc_chart,
)
from customslab.services.quality_equipment import EQUIPMENT, DueView, EquipmentView, due_of
from customslab.services.quality_methods import METHODS, MethodView
from customslab.services.quality_register import key, lab_in_sight, labs_in_sight

#: The most recent QC batches drawn as Levey–Jennings charts.
CHARTED_BATCHES = 6


class RegistersOverview(View):
    """What the quality page shows: each register as its API lists it, plus names and charts."""

    lab_code: str = ""  # the laboratory whose registers these are
    labs: list[str] = []  # the laboratories whose registers the reader may open, their own first
    due: list[DueView]
    equipment: list[EquipmentView]
    methods: list[MethodView]
    authorisations: list[AuthorisationView]
    users: dict[str, str]  # username → full name: authorisations name users by username
    batches: list[QcBatchView]
    charts: dict[int, str]  # QC batch id → Levey–Jennings chart (SVG, every text escaped)
    rounds: list[PtRoundSummary]


def registers_overview(uow: AbstractUnitOfWork, actor: Actor, lab: str | None = None) -> RegistersOverview:
    """Due list, equipment, methods, authorisations (with names), QC batches and charts, PT rounds.

    Laboratory staff only; every list is the actor's own laboratory's, or, read-only, that of `lab`, a
    laboratory whose quality records the visibility table lets them read; read in one unit of work.
    """
    if not actor.has(*LAB_STAFF):
        raise PermissionDenied("The quality registers are for laboratory staff.")
    with uow:
        code = lab_in_sight(uow, actor, lab) or actor.org_code
        batches = QC_BATCHES.entries(uow, actor, code)
        return RegistersOverview(
            lab_code=code,
            labs=sorted(labs_in_sight(uow, actor), key=lambda c: (c != actor.org_code, c)),
            due=due_of(uow, actor, lab=code),
            equipment=EQUIPMENT.views(uow, actor, code),
            methods=METHODS.views(uow, actor, code),
            authorisations=AUTHORISATIONS.views(uow, actor, code),
            users={u.username: u.full_name or u.username for u in uow.repo.users(code)},
            batches=[QC_BATCHES.show(uow, e) for e in batches],
            charts={key(e): qc_chart(e) for e in batches[-CHARTED_BATCHES:]},
            rounds=proficiency.rounds_of(uow, actor, code),
        )
