"""The samples a laboratory referred out: where each is now, in what state, since when; a referral to a
partner's server with where it stands there. The referring laboratory keeps sight of them (the sample
stands in the REFERRED relation to it, domain.access), not only on each sample's page."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from customslab.domain.access import SAMPLE_HOLDERS, Actor, Kind, orgs_seen
from customslab.domain.enums import ReferralKind, ReferralState, Role, State
from customslab.domain.errors import NotFound, PermissionDenied
from customslab.domain.federation import TaskStatus
from customslab.domain.model import is_overdue
from customslab.services.contract import View
from customslab.services.ports import AbstractUnitOfWork, ReferredOutFilter, ReferredOutRow
from customslab.services.queries import QueueLab

#: A link's direction for our sample referred to a partner (services.federation_referrals.OUT).
_OUT = "out"


class ReferredOutItem(View):
    """One referral the laboratory sent, with the sample as it stands now."""

    referral_id: int
    sample_id: int
    lab_sample_id: str
    request_id: int
    request_reference: str
    goods_description: str
    declared_hs: str
    to_lab: str = Field(description="The laboratory the sample was referred to.")
    held_by: str = Field(description="Where the sample is now (a later referral may have moved it on).")
    kind: ReferralKind
    referral_state: ReferralState
    sample_state: State
    referred_at: datetime
    completed_at: datetime | None
    due_date: date | None
    overdue: bool
    partner_code: str | None = Field(None, description="For a referral to a partner's server: its code.")
    partner_status: TaskStatus | None = Field(
        None, description="For a referral to a partner's server: where it stands there."
    )


class ReferredOutPage(View):
    lab_code: str
    total: int
    limit: int
    offset: int
    items: list[ReferredOutItem]
    labs: list[QueueLab] = []


def referred_out(
    uow: AbstractUnitOfWork, actor: Actor, flt: ReferredOutFilter, lab_code: str | None = None
) -> ReferredOutPage:
    """The samples the actor's laboratory (or one it oversees) referred to another laboratory, of this
    administration or a partner's, newest referral first unless `flt` sorts otherwise."""
    if not actor.has(*SAMPLE_HOLDERS, Role.NETWORK_COORDINATOR):
        raise PermissionDenied("The samples a laboratory referred out are listed for its staff.")
    with uow:
        lab = lab_code or actor.org_code
        directory = uow.repo.directory()
        scope = orgs_seen(actor, Kind.SAMPLE, directory)
        if lab != actor.org_code and lab not in scope:
            raise NotFound(f"There is no list of referrals of '{lab}' for you.")
        rows, total = uow.repo.referred_out(actor, lab, flt)
        today = uow.clock().date()
        home = directory.administration_of.get(lab)
        names = {o.code: o.name for o in uow.repo.orgs()}
        items = []
        for row in rows:
            # Only a referral across administrations may have gone to a partner's server.
            across = directory.administration_of.get(row.referral.to_lab) != home
            items.append(_item(uow, row, today, across))
        return ReferredOutPage(
            lab_code=lab,
            total=total,
            limit=flt.limit,
            offset=flt.offset,
            items=items,
            labs=[
                QueueLab(code=code, name=names.get(code, code))
                for code in sorted(scope | {actor.org_code}, key=lambda c: (c != actor.org_code, c))
                if code == actor.org_code or code in names
            ],
        )


def _item(uow: AbstractUnitOfWork, row: ReferredOutRow, today: date, across: bool) -> ReferredOutItem:
    r, s, req = row.referral, row.sample, row.request
    link = None
    if across and s.id is not None:
        outgoing = [k for k in uow.federation.links_for_sample(s.id) if k.direction == _OUT]
        link = max(outgoing, key=lambda k: k.updated_at) if outgoing else None
    assert r.id is not None and s.id is not None and req.id is not None
    return ReferredOutItem(
        referral_id=r.id,
        sample_id=s.id,
        lab_sample_id=s.lab_sample_id,
        request_id=req.id,
        request_reference=req.reference,
        goods_description=req.goods_description,
        declared_hs=req.declared_hs,
        to_lab=r.to_lab,
        held_by=s.lab_code,
        kind=r.kind,
        referral_state=r.state,
        sample_state=s.state,
        referred_at=r.created_at,
        completed_at=r.completed_at,
        due_date=req.due_date,
        overdue=is_overdue(s.state, req.due_date, today),
        partner_code=link.partner_code if link else None,
        partner_status=link.status if link else None,
    )
