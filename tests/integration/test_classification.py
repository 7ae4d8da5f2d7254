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
from tests.factories import ETHANOL, Network, assigned_test, make_network, received_sample


@pytest.fixture
def net(uow_factory: Any) -> Network:
    return make_network(uow_factory)


def _sample_with_result(
    uow_factory: Any, net: Network, name: str, value: str, unit: str, u: str, **request: Any
) -> int:
    """A sample of the rum (or of the goods `request` declares instead) with one result and a colour."""
    s = received_sample(uow_factory, net, **request)
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


def test_a_declared_ethyl_alcohol_measured_at_40_percent_is_flagged_as_a_spirit_of_2208(
    uow_factory: Any, net: Network
):
    sid = _sample_with_result(uow_factory, net, "alcohol_strength", "40.0", "%vol", "0.3", **ETHANOL)
    out = classification.evaluate_sample(uow_factory(), net["analyst"], sid)
    assert out.status == "decided"
    assert out.determined == ["220890"]
    assert out.mismatch == "heading"
    assert out.level == "" and out.open_levels == []  # the declaration is not confirmed at any level
    assert "ch22-ethyl-alcohol-80" in [r.id for r in out.rules]
    assert any("22" in r.source for r in out.rules)
    assert [s.name for s in out.skipped_results] == ["colour"]


def test_a_declared_rum_at_85_percent_stays_a_rum_and_only_chapter_22_is_decided(
    uow_factory: Any, net: Network
):
    sid = _sample_with_result(uow_factory, net, "alcohol_strength", "85.0", "%vol", "0.3")
    out = classification.evaluate_sample(uow_factory(), net["analyst"], sid)
    assert "ch22-ethyl-alcohol-80" not in [r.id for r in out.rules]  # it reads ethyl alcohol only
    # The only rule that fires, Chapter 22 Note 3 (> 0.5 % vol: 22.03 to 22.06 or 22.08), names several
    # headings, so it decides only what they share: chapter 22.
    assert [r.id for r in out.rules] == ["ch22-non-alcoholic"]
    assert (out.status, out.determined, out.decided, out.mismatch) == (
        "decided",
        ["220840"],
        ["22"],
        "none",
    )
    assert (out.level, out.open_levels) == ("chapter", ["heading", "subheading"])
    assert out.message == (
        "Declared 2208.40 agrees at chapter 22; heading and subheading not determined by these results."
    )


def test_an_uncertainty_spanning_the_80_percent_limit_is_undecided(uow_factory: Any, net: Network):
    sid = _sample_with_result(uow_factory, net, "alcohol_strength", "80.1", "%vol", "0.4", **ETHANOL)
    guarded = classification.evaluate_sample(uow_factory(), net["analyst"], sid)
    assert (guarded.status, guarded.determined) == ("undecided", ["220710", "220890"])
    assert guarded.level == ""
    simple = classification.evaluate_sample(uow_factory(), net["analyst"], sid, DecisionRule.SIMPLE)
    assert (simple.status, simple.determined, simple.level) == ("decided", ["220710"], "subheading")


def test_an_opinion_is_written_approved_by_another_reviewer_shared_and_found_by_other_labs(
    uow_factory: Any, net: Network
):
    # Ethyl alcohol declared 2208.90 at 85 % vol: the rules leave 2207.10 open, the analyst decides it.
    declared = {**ETHANOL, "declared_hs": "2208.90"}
    sid = _sample_with_result(uow_factory, net, "alcohol_strength", "85.0", "%vol", "0.3", **declared)
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
