"""HS evaluation of a sample's results and the classification opinions, on both backends."""

from __future__ import annotations

from typing import Any

import pytest

from customslab.domain.errors import InvalidTransition, NotFound, ValidationFailed
from customslab.hs.decision import DecisionRule
from customslab.services import analysis, classification
from customslab.services.analysis import ResultCreate
from customslab.services.classification import OpinionCreate, OpinionSearch
from customslab.services.contract import parse
from tests.factories import Network, assigned_test, make_network, received_sample


@pytest.fixture
def net(uow_factory: Any) -> Network:
    return make_network(uow_factory)


def _sample_with_result(uow_factory: Any, net: Network, name: str, value: str, unit: str, u: str) -> int:
    s = received_sample(uow_factory, net)
    t = assigned_test(uow_factory, net, s.id, determination="abv", method_ref="M-22")
    analysis.enter_result(
        uow_factory(),
        net["analyst"],
        t.id,
        ResultCreate(name=name, value=value, unit=unit, expanded_uncertainty=u, coverage_factor="2"),
    )
    analysis.enter_result(
        uow_factory(), net["analyst"], t.id, ResultCreate(name="colour", value="3", unit="EBC")
    )
    return s.id


def test_a_declared_rum_measured_at_85_percent_is_flagged_as_ethyl_alcohol_of_2207(
    uow_factory: Any, net: Network
):
    sid = _sample_with_result(uow_factory, net, "alcohol_strength", "85.0", "%vol", "0.3")
    out = classification.evaluate_sample(uow_factory(), net["analyst"], sid)
    assert out.status == "decided"
    assert out.determined == ["220710"]
    assert out.mismatch == "heading"
    assert any("22" in r.source for r in out.rules)
    assert [s.name for s in out.skipped_results] == ["colour"]


def test_an_uncertainty_spanning_the_80_percent_limit_is_undecided(uow_factory: Any, net: Network):
    sid = _sample_with_result(uow_factory, net, "alcohol_strength", "80.1", "%vol", "0.4")
    assert classification.evaluate_sample(uow_factory(), net["analyst"], sid).status == "undecided"
    simple = classification.evaluate_sample(uow_factory(), net["analyst"], sid, DecisionRule.SIMPLE)
    assert simple.status == "decided"


def test_an_opinion_is_written_approved_by_another_reviewer_shared_and_found_by_other_labs(
    uow_factory: Any, net: Network
):
    sid = _sample_with_result(uow_factory, net, "alcohol_strength", "85.0", "%vol", "0.3")
    with pytest.raises(ValidationFailed, match="reasoning"):
        parse(OpinionCreate, {"determined_code": "2207.10", "reasoning": "x"})
    op = classification.write_opinion(
        uow_factory(),
        net["analyst"],
        sid,
        OpinionCreate(
            determined_code="2207.10",
            reasoning="Undenatured ethyl alcohol of 85 %vol, above the 80 %vol limit of heading 22.07.",
        ),
    )
    assert (op.determined_code, op.mismatch, op.state) == ("220710", "heading", "draft")
    assert op.references
    assert op.id is not None
    with pytest.raises(InvalidTransition, match="approved opinion"):
        classification.share_opinion(uow_factory(), net["reviewer"], op.id)
    assert classification.approve_opinion(uow_factory(), net["reviewer"], op.id).state == "approved"
    # Not shared yet: another laboratory does not find it.
    words = OpinionSearch(text="ethyl alcohol")
    assert classification.search_opinions(uow_factory(), net["outsider"], words) == []
    classification.share_opinion(uow_factory(), net["reviewer"], op.id)
    query = OpinionSearch(text="ethyl alcohol", code_prefix="2207")
    found = classification.search_opinions(uow_factory(), net["outsider"], query)
    assert [o.id for o in found] == [op.id]
    with pytest.raises(NotFound):
        classification.approve_opinion(uow_factory(), net["outsider"], op.id)


def test_an_invalid_determined_code_is_refused(uow_factory: Any, net: Network):
    sid = _sample_with_result(uow_factory, net, "alcohol_strength", "40.0", "%vol", "0.2")
    with pytest.raises(ValidationFailed, match="Determined code"):
        cmd = parse(OpinionCreate, {"determined_code": "22-O8", "reasoning": "a long enough reasoning text"})
        classification.write_opinion(uow_factory(), net["analyst"], sid, cmd)
