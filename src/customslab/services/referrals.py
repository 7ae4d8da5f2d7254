"""Use cases of the network: referring samples between laboratories and sharing them."""

from __future__ import annotations

from typing import Any

from customslab.domain.access import Action, Actor, require
from customslab.domain.enums import CustodyKind, ReferralState, State
from customslab.domain.errors import Conflict, ValidationFailed
from customslab.domain.model import CustodyEvent, Referral, Sample, Share, referral_kind_for
from customslab.services.cases import lab_kind
from customslab.services.common import held_sample, to_decimal, visible_sample
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.views import referral_view


def refer_sample(
    uow: AbstractUnitOfWork, actor: Actor, sample_id: int, data: dict[str, Any]
) -> dict[str, Any]:
    """Send a sample, or a sub-sample of it, to another laboratory; custody records the hand-over."""
    with uow:
        require(actor, Action.REFER)
        reason = str(data.get("reason", "")).strip()
        uow.act_as(actor.username, reason or None)
        sample = held_sample(uow, actor, sample_id)
        to_lab = str(data.get("to_lab", ""))
        if to_lab == actor.org_code:
            raise ValidationFailed("A sample cannot be referred to its own laboratory.", field="to_lab")
        kind = referral_kind_for(lab_kind(uow, actor.org_code), lab_kind(uow, to_lab))
        if not reason:
            raise ValidationFailed("Say why the sample is referred.", field="reason")
        if sample.state not in (State.RECEIVED, State.IN_ANALYSIS):
            raise ValidationFailed(
                f"Only a received sample can be referred; {sample.lab_sample_id} is "
                f"{sample.state.value.replace('_', ' ')}.",
                field="sample",
            )
        now = uow.clock()
        seal = str(data.get("seal_number", sample.seal_number))
        if data.get("sub_sample_quantity") not in (None, ""):
            target = _sub_sample(uow, actor, sample, data, to_lab, seal)
        else:
            if any(t.state is State.IN_ANALYSIS for t in sample.tests):
                raise ValidationFailed(
                    "Finish or cancel the tests in analysis before referring the sample.", "sample"
                )
            target = sample
            target.state = State.REGISTERED  # it waits for receipt at the receiving laboratory
            target.lab_code = to_lab
            target.received_at = None
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
        uow.commit()
        return referral_view(referral) | {"lab_sample_id": target.lab_sample_id}


def _sub_sample(
    uow: AbstractUnitOfWork, actor: Actor, parent: Sample, data: dict[str, Any], to_lab: str, seal: str
) -> Sample:
    quantity = to_decimal(data.get("sub_sample_quantity"), "sub_sample_quantity", positive=True)
    assert quantity is not None
    now = uow.clock()
    seq = uow.repo.next_number(f"sample-{actor.org_code}-{now.year}")
    child = Sample(
        lab_sample_id=f"{actor.org_code}-{now.year}-{seq:05d}",
        lab_code=to_lab,
        description=f"sub-sample of {parent.lab_sample_id}: {parent.description}",
        quantity=quantity,
        unit=str(data.get("unit") or parent.unit),
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


def share_sample(
    uow: AbstractUnitOfWork, actor: Actor, sample_id: int, org_code: str, note: str = ""
) -> dict[str, Any]:
    """Let another organisation of the network read a sample (for a joint opinion, say)."""
    with uow:
        require(actor, Action.SHARE)
        uow.act_as(actor.username)
        sample = visible_sample(uow, actor, sample_id)
        if uow.repo.org(org_code) is None:
            raise ValidationFailed(f"There is no organisation '{org_code}'.", field="org_code")
        if any(s.org_code == org_code for s in uow.repo.shares_for(sample_id)):
            raise Conflict(f"Sample {sample.lab_sample_id} is already shared with {org_code}.")
        uow.repo.add(Share(sample_id, org_code, actor.user_id, uow.clock(), note))
        uow.commit()
        return {"sample_id": sample_id, "org_code": org_code}


def complete_referrals(uow: AbstractUnitOfWork, sample: Sample) -> None:
    """Close the referrals of a sample once its results are approved (called inside a unit of work)."""
    if sample.state is not State.APPROVED or sample.id is None:
        return
    for r in uow.repo.referrals_for(sample.id):
        if r.state in (ReferralState.SENT, ReferralState.ACCEPTED):
            r.state = ReferralState.COMPLETED
            r.completed_at = uow.clock()
