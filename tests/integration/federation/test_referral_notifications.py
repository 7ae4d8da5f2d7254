"""A referral that arrives from a partner's server notifies the receiving laboratory's staff, as a local one
does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from customslab.domain.enums import NotificationKind
from customslab.services import cases, notifications, referrals
from customslab.services.cases import RequestCreate, SampleCreate
from customslab.services.contract import parse
from customslab.services.notifications import NotificationQuery
from customslab.services.referrals import ReferralCreate
from tests.factories import rum_request, unique
from tests.integration.federation.two_sides import RCL_LAB, TwoSides, two_sides


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoSides]:
    with two_sides(tmp_path_factory.mktemp("two-sides-notifications")) as p:
        yield p


def test_a_referral_received_from_a_partner_notifies_the_receiving_laboratorys_staff(pair: TwoSides) -> None:
    member, rcl = pair.member, pair.rcl
    fp = member["focal_point"]
    req = cases.file_request(member.uow(), fp, parse(RequestCreate, rum_request(fp.org_code, unique("DCL"))))
    sample = cases.register_sample(member.uow(), fp, req.id, SampleCreate(quantity="500", unit="mL"))
    cmd = ReferralCreate(to_lab=RCL_LAB, reason="no laboratory in the administration", seal_number="BT-9")
    referrals.refer_sample(member.uow(), fp, sample.id, cmd)
    # The RCL's staff live on the other server: nobody on the member's is told.
    assert notifications.list_notifications(member.uow(), fp, NotificationQuery()).total == 0

    assert pair.carry(member).delivered == 1
    for who in ("rcl_manager", "rcl_analyst"):
        page = notifications.list_notifications(rcl.uow(), rcl[who], NotificationQuery())
        (notice,) = [n for n in page.items if n.reference == sample.lab_sample_id]
        assert notice.kind is NotificationKind.NEW_REFERRAL and notice.link.startswith("/samples/")
        assert "Druk" not in notice.subject and "DCL" not in notice.subject
