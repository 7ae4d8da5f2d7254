"""The rules of a joint analysis, without storage: who takes part, when it may be consolidated, what the
consolidated opinion must explain, and that nothing changes after it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from customslab.domain.access import Actor, Directory, Kind, can_see
from customslab.domain.enums import Role
from customslab.domain.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from customslab.domain.joint_analysis import (
    JointAnalysis,
    ParticipantSpec,
    check_rcl,
    codes_differ,
    joint_holding,
    new_joint_analysis,
)

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def korea() -> ParticipantSpec:
    return ParticipantSpec("KCS", "190410", True, "KCS-CCL", "KCS", True, ("KCS-CCL", "KCS-SEL"))


def japan() -> ParticipantSpec:
    return ParticipantSpec("JPC", "180690", True, None, laboratories=("RCL-JP",))


def bhutan() -> ParticipantSpec:
    return ParticipantSpec("BTC", "190190", False, None)


def opened(*specs: ParticipantSpec) -> JointAnalysis:
    return new_joint_analysis(
        "JA-2026-0001", " Puffed cereal ", "RCL-JP", specs or (korea(), japan()), 7, NOW
    )


def linked(analysis: JointAnalysis) -> JointAnalysis:
    for n, p in enumerate(analysis.participants, start=1):
        analysis.link_sample(p.administration_code, 100 + n, 7, NOW)
    return analysis


def test_each_participant_gets_the_laboratory_that_records_for_it() -> None:
    analysis = opened(korea(), japan(), bhutan())
    labs = {p.administration_code: (p.lab_code, p.on_behalf) for p in analysis.participants}
    assert labs == {"KCS": ("KCS-CCL", False), "JPC": ("RCL-JP", False), "BTC": ("RCL-JP", True)}
    assert analysis.product == "Puffed cereal" and analysis.state == "open"
    assert [p.position for p in analysis.participants] == [0, 1, 2]


def test_one_administration_alone_is_not_a_joint_analysis() -> None:
    with pytest.raises(ValidationFailed, match="at least 2") as refused:
        opened(korea())
    assert refused.value.field == "participants"


def test_an_administration_named_twice_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="KCS is named twice"):
        opened(korea(), japan(), korea())


def test_only_a_regional_customs_laboratory_runs_a_joint_analysis() -> None:
    with pytest.raises(PermissionDenied, match="KCS-CCL is not one"):
        check_rcl("KCS-CCL", False)
    check_rcl("RCL-JP", True)


def test_an_administration_with_several_laboratories_must_name_one() -> None:
    several = ParticipantSpec("KCS", "190410", True, None, laboratories=("KCS-CCL", "KCS-SEL"))
    with pytest.raises(ValidationFailed, match="Name the laboratory that records for KCS"):
        opened(several, japan())


def test_a_laboratory_of_another_administration_cannot_record_for_it() -> None:
    foreign = ParticipantSpec("KCS", "190410", True, "RCL-IN", "INC", True)
    with pytest.raises(ValidationFailed, match="RCL-IN is not a laboratory of administration KCS"):
        opened(foreign, japan())


def test_a_member_without_a_laboratory_is_recorded_for_by_the_rcl_and_no_one_else() -> None:
    elsewhere = ParticipantSpec("BTC", "190190", False, "KCS-CCL", "KCS", True)
    with pytest.raises(ValidationFailed, match="the RCL RCL-JP records for it"):
        opened(korea(), elsewhere)


def test_a_sample_is_linked_once_and_only_for_a_participant() -> None:
    analysis = opened()
    analysis.link_sample("KCS", 11, 7, NOW)
    assert analysis.participant("KCS").sample_id == 11
    with pytest.raises(Conflict, match="already linked for KCS"):
        analysis.link_sample("JPC", 11, 7, NOW)
    with pytest.raises(Conflict, match="already linked for KCS"):
        analysis.link_sample("KCS", 11, 7, NOW)
    with pytest.raises(NotFound, match="INC does not take part"):
        analysis.link_sample("INC", 12, 7, NOW)


def test_a_mistaken_link_may_be_replaced_until_the_opinion_on_it_is_approved() -> None:
    analysis = opened()
    analysis.link_sample("KCS", 11, 7, NOW)
    analysis.link_sample("KCS", 12, 7, NOW, linked_opinion_approved=False)
    assert analysis.participant("KCS").sample_id == 12
    with pytest.raises(Conflict, match="opinion on its linked sample is approved"):
        analysis.link_sample("KCS", 13, 7, NOW, linked_opinion_approved=True)
    assert analysis.participant("KCS").sample_id == 12


def test_the_rcl_links_for_a_member_only_a_sample_that_member_sent() -> None:
    member = opened(korea(), bhutan()).participant("BTC")
    with pytest.raises(ValidationFailed, match="did not come from administration BTC") as refused:
        member.check_member_sample("KCS-CCL-2026-00001", "KCS", {"KCS"})
    assert refused.value.field == "sample_id"
    member.check_member_sample("RCL-JP-2026-00001", "BTC", set())
    member.check_member_sample("RCL-JP-2026-00002", "KCS", {"BTC"})


def test_consolidation_waits_for_every_participants_approved_opinion_and_says_what_is_missing() -> None:
    analysis = opened(korea(), japan(), bhutan())
    analysis.link_sample("KCS", 1, 7, NOW)
    analysis.link_sample("JPC", 2, 7, NOW)
    approved = {"KCS": (10, "180690"), "JPC": None, "BTC": None}
    with pytest.raises(InvalidTransition) as refused:
        analysis.consolidate("180690", "Cocoa above 6 %.", {}, approved, 7, NOW)
    message = refused.value.message
    assert "JPC: no approved opinion yet (RCL-JP)" in message and "BTC: no sample linked yet" in message
    assert "KCS" not in message.split("yet:", 1)[1]
    assert analysis.state == "open" and analysis.determined_code == ""


def test_the_consolidated_opinion_explains_each_participant_that_differs() -> None:
    analysis = linked(opened(korea(), japan(), bhutan()))
    approved = {"KCS": (10, "190410"), "JPC": (11, "180690"), "BTC": (12, "190190")}
    with pytest.raises(ValidationFailed, match="differs from the consolidated code: KCS, BTC\\.") as refused:
        analysis.consolidate("180690", "Cocoa above 6 %.", {}, approved, 7, NOW)
    assert refused.value.field == "explanations"
    with pytest.raises(ValidationFailed, match="consolidated code: BTC\\."):
        analysis.consolidate("180690", "Cocoa above 6 %.", {"KCS": "Note 3.", "BTC": "  "}, approved, 7, NOW)
    assert analysis.state == "open"
    explained = {"KCS": "Chapter 19, Note 3: more than 6 % cocoa.", "BTC": " Heading 19.01 excludes it. "}
    analysis.consolidate("180690", "Cocoa above 6 %.", explained, approved, 9, NOW)
    assert analysis.state == "consolidated" and analysis.consolidated_by == 9
    kept = {
        p.administration_code: (p.opinion_id, p.determined_code, p.explanation) for p in analysis.participants
    }
    assert kept == {
        "KCS": (10, "190410", "Chapter 19, Note 3: more than 6 % cocoa."),
        "JPC": (11, "180690", ""),
        "BTC": (12, "190190", "Heading 19.01 excludes it."),
    }
    assert [p.administration_code for p in analysis.differences()] == ["KCS", "BTC"]


def test_an_explanation_for_an_administration_that_does_not_take_part_is_refused() -> None:
    analysis = linked(opened())
    approved = {"KCS": (10, "180690"), "JPC": (11, "180690")}
    with pytest.raises(ValidationFailed, match="INC does not take part"):
        analysis.consolidate("180690", "Cocoa above 6 %.", {"INC": "?"}, approved, 7, NOW)


def test_nothing_changes_after_consolidation() -> None:
    analysis = linked(opened())
    approved = {"KCS": (10, "180690"), "JPC": (11, "180690")}
    analysis.consolidate("180690", "Cocoa above 6 %.", {}, approved, 7, NOW)
    with pytest.raises(InvalidTransition, match="nothing can change after consolidation"):
        analysis.link_sample("KCS", 999, 7, NOW)
    with pytest.raises(InvalidTransition, match="consolidated"):
        analysis.consolidate("190410", "Changed my mind entirely.", {}, approved, 7, NOW)
    assert analysis.determined_code == "180690"


def test_codes_differ_in_the_harmonized_system_not_in_national_digits_or_precision() -> None:
    assert not codes_differ("1806903000", "180690")
    assert not codes_differ("1806", "180690")
    assert codes_differ("190410", "180690")
    assert codes_differ("180631", "180690")


def test_the_rcl_owns_a_joint_analysis_and_shares_it_with_the_participants_and_the_member() -> None:
    analysis = opened(korea(), japan(), bhutan())
    directory = Directory(
        {"RCL-JP": "JPC", "KCS-CCL": "KCS", "KCS-SEL": "KCS", "BT-DRC": "BTC", "RCL-IN": "INC"},
        {"KCS-SEL": "KCS-CCL"},
    )
    holding = joint_holding(analysis, directory)
    assert holding.orgs == {"RCL-JP"} and holding.shared == {"RCL-JP", "KCS-CCL", "BT-DRC"}

    def sees(org: str, role: Role) -> bool:
        return can_see(Actor(1, "u", org, frozenset({role})), Kind.JOINT_ANALYSIS, directory, holding)

    assert sees("RCL-JP", Role.NETWORK_COORDINATOR) and sees("KCS-CCL", Role.ANALYST)
    assert sees("BT-DRC", Role.FOCAL_POINT)
    assert not sees("KCS-SEL", Role.LAB_MANAGER)  # a laboratory under a participant does not take part
    assert not sees("RCL-IN", Role.NETWORK_COORDINATOR)
    assert not sees("KCS-CCL", Role.ADMIN)
