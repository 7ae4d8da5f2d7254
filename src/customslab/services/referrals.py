"""Use cases of the network: referring samples between laboratories and sharing them."""

from __future__ import annotations

from typing import Annotated

from customslab.domain.access import Action, Actor
from customslab.domain.enums import CustodyKind, ReferralState, State
from customslab.domain.errors import Conflict, NotFound, ValidationFailed
from customslab.domain.model import CustodyEvent, Referral, Sample, Share, referral_kind_for
from customslab.domain.workflow import check_referable
from customslab.services import federation_referrals
from customslab.services.cases import active_org
from customslab.services.common import acting, acting_on_sample, held_sample, next_lab_sample_id
from customslab.services.contract import Command, Positive, SampleUnit, Text, View
from customslab.services.notifications import notify_referral
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.views import ReferralView


class ReferralCreate(Command):
    """Refer the whole sample, or a sub-sample of the given quantity, to another laboratory."""

    to_lab: Annotated[str, Text(40, 1)]
    reason: Annotated[str, Text(2000, 1)]
    sub_sample_quantity: Positive | None = None
    unit: SampleUnit | None = None
    seal_number: Annotated[str, Text(60)] | None = None


class ShareCreate(Command):
    org_code: Annotated[str, Text(40, 1)]
    note: Annotated[str, Text(2000)] = ""


class ShareView(View):
    sample_id: int
    org_code: str


def refer_sample(uow: AbstractUnitOfWork, actor: Actor, sample_id: int, cmd: ReferralCreate) -> ReferralView:
    """Send a sample, or a sub-sample of it, to another laboratory; custody records the hand-over."""
    with acting_on_sample(uow, actor, Action.REFER, sample_id, cmd.reason) as sample:
        reason, to_lab = cmd.reason, cmd.to_lab
        if to_lab == actor.org_code:
            raise ValidationFailed("A sample cannot be referred to its own laboratory.", field="to_lab")
        holder = active_org(uow, actor.org_code)
        kind = referral_kind_for(holder, active_org(uow, to_lab))
        check_referable(sample.lab_sample_id, sample.state, holder.kind)
        now = uow.clock()
        seal = sample.seal_number if cmd.seal_number is None else cmd.seal_number
        if cmd.sub_sample_quantity is not None:
            target = _sub_sample(uow, actor, sample, cmd, seal)
        else:
            if any(t.state is State.IN_ANALYSIS for t in sample.tests):
                raise ValidationFailed(
                    "Finish or cancel the tests in analysis before referring the sample.", "sample"
                )
            target = sample
            target.state = State.REGISTERED  # it waits for receipt at the receiving laboratory
            target.lab_code = to_lab
            target.received_at = None
            target.seal_number = seal  # sealed anew for the journey, the receiving laboratory checks this one
        target.record(
            CustodyEvent(
                CustodyKind.REFERRAL_DISPATCH,
                now,
                actor.user_id,
                from_party=actor.org_code,
                to_party=to_lab,
                seal_number=seal,
                seal_intact=True,
                note=f"referred ({kind.value}): {reason}",
            )
        )
        uow.repo.flush()
        assert target.id is not None
        referral = Referral(
            target.id, actor.org_code, to_lab, kind, ReferralState.SENT, reason, actor.user_id, now
        )
        uow.repo.add(referral)
        uow.repo.flush()
        federation_referrals.referral_sent(uow, target, referral)
        notify_referral(uow, referral, target)
        uow.commit()
        return ReferralView.of_record(referral, lab_sample_id=target.lab_sample_id)


def _sub_sample(
    uow: AbstractUnitOfWork, actor: Actor, parent: Sample, cmd: ReferralCreate, seal: str
) -> Sample:
    quantity = cmd.sub_sample_quantity
    assert quantity is not None  # the caller takes this path only when a quantity is given
    now = uow.clock()
    child = Sample(
        lab_sample_id=next_lab_sample_id(uow, actor.org_code, now.year),
        lab_code=cmd.to_lab,
        description=f"sub-sample of {parent.lab_sample_id}: {parent.description}",
        quantity=quantity,
        unit=cmd.unit or parent.unit,
        state=State.REGISTERED,
        registered_at=now,
        seal_number=seal,
        retention_until=parent.retention_until,
        parent_id=parent.id,
        request_id=parent.request_id,
    )
    parent.record(
        CustodyEvent(
            CustodyKind.SUB_SAMPLING,
            now,
            actor.user_id,
            from_party=actor.org_code,
            note=f"{quantity} {child.unit} taken as {child.lab_sample_id}",
        )
    )
    uow.repo.add(child)
    uow.repo.flush()
    return child


def share_sample(uow: AbstractUnitOfWork, actor: Actor, sample_id: int, cmd: ShareCreate) -> ShareView:
    """Let another organisation of the network read a sample (for a joint opinion, say)."""
    with acting(uow, actor, Action.SHARE):
        org_code = cmd.org_code
        # Only the holding laboratory decides who else reads its sample (a central laboratory that
        # oversees it does not share it on its behalf).
        sample = held_sample(uow, actor, sample_id)
        if uow.repo.org(org_code) is None:
            raise NotFound(f"There is no organisation '{org_code}'.", field="org_code")
        if any(s.org_code == org_code for s in uow.repo.shares_for(sample_id)):
            raise Conflict(f"Sample {sample.lab_sample_id} is already shared with {org_code}.")
        uow.repo.add(Share(sample_id, org_code, actor.user_id, uow.clock(), cmd.note))
        uow.commit()
        return ShareView(sample_id=sample_id, org_code=org_code)


def complete_referrals(uow: AbstractUnitOfWork, sample: Sample) -> None:
    """Close the referrals of a sample once its results are approved (called inside a unit of work)."""
    if sample.state is not State.APPROVED or sample.id is None:
        return
    for r in uow.repo.referrals_for(sample.id):
        if r.state in (ReferralState.SENT, ReferralState.ACCEPTED):
            r.state = ReferralState.COMPLETED
            r.completed_at = uow.clock()
