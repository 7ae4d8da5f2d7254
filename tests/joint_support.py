"""What the joint-analysis tests (integration and browser) share: Japan's sub-sample of Korea's sample,
the participants' reasoning on the cocoa content of the puffed cereal, and an opinion written and approved,
all through the ordinary use cases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from customslab.domain.access import Actor
from customslab.services import cases, classification, referrals
from customslab.services.cases import SampleReceipt
from customslab.services.classification import OpinionCreate
from customslab.services.referrals import ReferralCreate
from customslab.services.views import ReferralView
from tests.factories import Network

UowFactory = Callable[[], Any]

KR_REASONING = (
    "GIR 1 and Note 3 to Chapter 19: 5.9 % cocoa on a totally defatted basis, not more than 6 %, so the "
    "puffed cereal stays in heading 19.04."
)
JP_REASONING = (
    "GIR 1 and Note 3 to Chapter 19: 6.4 % cocoa on a totally defatted basis exceeds 6 %, so heading 19.04 "
    "is excluded and the goods fall in heading 18.06 (GIR 6 for subheading 1806.90)."
)


def japans_sub_sample(uow_factory: UowFactory, net: Network, korean_sample: int) -> ReferralView:
    """The central laboratory refers a sub-sample of Korea's sample to the RCL, for Japan, and the RCL
    receives it: the referral (its `sample_id` is the sub-sample's)."""
    sub = referrals.refer_sample(
        uow_factory(),
        net["central_manager"],
        korean_sample,
        ReferralCreate(
            to_lab=net.rcl, reason="joint analysis: sub-sample for Japan", sub_sample_quantity="100"
        ),
    )
    cases.receive_sample(uow_factory(), net["rcl_manager"], sub.sample_id, SampleReceipt())
    return sub


def approved_opinion(
    uow_factory: UowFactory, author: Actor, reviewer: Actor, sample: int, code: str, why: str
) -> int:
    """`author`'s opinion that the sample falls in `code` because `why`, approved by `reviewer`: its id."""
    written = classification.write_opinion(
        uow_factory(), author, sample, OpinionCreate(determined_code=code, reasoning=why)
    )
    assert written.id is not None
    classification.approve_opinion(uow_factory(), reviewer, written.id)
    return written.id
