"""Who hears of a targeting alert (`services.targeting_alerts`): a first identification, the managers
and reviewers of its administration's laboratories (and the network coordinators for a network first);
a rate or importer alert, the administration's administrators and the managers and reviewers of its
evidence labs and of their parents in the administration: who sees those laboratories' targeting
records by the visibility table (Kind.TARGETING: OWN and CHILD for managers and reviewers).
"""

from __future__ import annotations

from collections.abc import Iterable

from customslab.domain.enums import Role
from customslab.services.ports import AbstractUnitOfWork

#: Who hears of a laboratory's alerts: its managers and reviewers.
ALERTED_ROLES = frozenset({Role.LAB_MANAGER, Role.REVIEWER})


def staff_of(uow: AbstractUnitOfWork, administration: str) -> set[int]:
    """Active managers and reviewers of the administration's laboratories."""
    out: set[int] = set()
    for org in uow.repo.orgs():
        if org.is_laboratory and org.administration_code == administration:
            out |= {u.id for u in uow.repo.users(org.code) if u.active and u.roles & ALERTED_ROLES and u.id}
    return out


def overseers(uow: AbstractUnitOfWork, administration: str, labs: Iterable[str]) -> set[int]:
    """Who hears of a rate or importer alert: the administration's active administrators, and the
    active managers and reviewers of the evidence labs and of their parents, those in the administration
    (the OWN and CHILD cells of Kind.TARGETING for managers and reviewers)."""
    orgs = {o.code: o for o in uow.repo.orgs()}
    watched: set[str] = set()
    for code in labs:
        org = orgs.get(code)
        if org is None or org.administration_code != administration:
            continue
        watched.add(code)
        parent = orgs.get(org.parent_code or "")
        if parent is not None and parent.administration_code == administration:
            watched.add(parent.code)
    out: set[int] = set()
    for user in uow.repo.users():
        org = orgs.get(user.org_code)
        if not user.active or not user.id or org is None:
            continue
        staff = user.org_code in watched and bool(user.roles & ALERTED_ROLES)
        if staff or (Role.ADMIN in user.roles and org.administration_code == administration):
            out.add(user.id)
    return out


def coordinators(uow: AbstractUnitOfWork) -> set[int]:
    return {u.id for u in uow.repo.users() if u.active and Role.NETWORK_COORDINATOR in u.roles and u.id}
