"""Who may refer a sample in which state: a laboratory once received, a member without one once registered."""

from __future__ import annotations

import pytest

from customslab.domain.enums import OrgKind, State
from customslab.domain.errors import ValidationFailed
from customslab.domain.workflow import check_referable, referable_states


@pytest.mark.parametrize("holder", [OrgKind.CENTRAL, OrgKind.LOCAL, OrgKind.RCL])
def test_a_laboratory_refers_a_received_sample_but_not_a_registered_one(holder: OrgKind) -> None:
    check_referable("L-1", State.RECEIVED, holder)
    check_referable("L-1", State.IN_ANALYSIS, holder)
    with pytest.raises(ValidationFailed, match="Only a received sample can be referred; L-1 is registered"):
        check_referable("L-1", State.REGISTERED, holder)


def test_a_member_without_a_laboratory_refers_the_sample_it_registered_and_nothing_later() -> None:
    assert referable_states(OrgKind.MEMBER) == {State.REGISTERED}
    check_referable("M-1", State.REGISTERED, OrgKind.MEMBER)
    with pytest.raises(ValidationFailed, match="member administration refers a sample it has registered"):
        check_referable("M-1", State.CANCELLED, OrgKind.MEMBER)
