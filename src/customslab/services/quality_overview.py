"""One read of a laboratory's ISO/IEC 17025 registers, for the quality page."""

from __future__ import annotations

from typing import Any

from customslab.domain.access import LAB_STAFF, Actor
from customslab.domain.errors import PermissionDenied
from customslab.services import proficiency, quality
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.quality_ports import QcBatchEntry

#: The most recent QC batches drawn as Levey–Jennings charts.
CHARTED_BATCHES = 6


def registers_overview(uow: AbstractUnitOfWork, actor: Actor) -> dict[str, Any]:
    """Due list, equipment, methods, authorisations (with names), QC batches and charts, PT rounds.

    Laboratory staff only; every list is the actor's own laboratory's, read in one unit of work.
    """
    if not actor.has(*LAB_STAFF):
        raise PermissionDenied("The quality registers are for laboratory staff.")
    with uow:
        batches = uow.quality.find(QcBatchEntry, lab_code=actor.org_code)
        return {
            "due": quality.due_of(uow, actor),
            "equipment": quality.equipment_of(uow, actor),
            "methods": quality.methods_of(uow, actor),
            "authorisations": quality.authorisations_of(uow, actor),
            # Authorisations name users by username; the page shows their names.
            "users": {u.username: u.full_name or u.username for u in uow.repo.users(actor.org_code)},
            "batches": [quality.qc_view(uow, e) for e in batches],
            "charts": {e.id: quality.qc_chart(e) for e in batches[-CHARTED_BATCHES:]},
            "rounds": proficiency.rounds_of(uow, actor),
        }
