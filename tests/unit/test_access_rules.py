"""The pure rules behind the visibility table: relations, the parent chain, declaration data, scopes."""

from __future__ import annotations

import itertools

import pytest

from customslab.domain.access import (
    Actor,
    Directory,
    Holding,
    Kind,
    Relation,
    can_see,
    declaration_fields_seen,
    orgs_seen,
    relations,
)
from customslab.domain.enums import Role
from customslab.domain.model import DECLARATION_FIELDS

Rel = Relation

#: Administration A: central C over locals L and L2, L over LL, office O. B: RCL R over RL, lab BL whose
#: parent is A's C (a link across the border, which oversight must not follow). M: focal point F.
DIRECTORY = Directory(
    administration_of={
        "C": "A",
        "L": "A",
        "L2": "A",
        "LL": "A",
        "O": "A",
        "R": "B",
        "RL": "B",
        "BL": "B",
        "F": "M",
    },
    parent_of={
        "C": None,
        "L": "C",
        "L2": "C",
        "LL": "L",
        "O": None,
        "R": None,
        "RL": "R",
        "BL": "C",
        "F": None,
    },
)


def actor(org: str, *roles: Role, user_id: int = 1) -> Actor:
    return Actor(user_id, f"user{user_id}", org, frozenset(roles or {Role.ANALYST}))


def case(
    *orgs: str, requester: int | None = 99, referred: tuple[str, ...] = (), shared: tuple[str, ...] = ()
) -> Holding:
    return Holding(
        frozenset(orgs), requester_id=requester, referred=frozenset(referred), shared=frozenset(shared)
    )


# -- the parent chain -----------------------------------------------------------------------------------


def test_ancestors_follow_the_parent_chain_to_the_top() -> None:
    assert DIRECTORY.ancestors("LL") == {"L", "C"}
    assert DIRECTORY.ancestors("L") == {"C"}
    assert DIRECTORY.ancestors("C") == frozenset()


def test_descendants_are_every_laboratory_below_along_the_chain() -> None:
    assert DIRECTORY.descendants("C") == {"L", "L2", "LL"}
    assert DIRECTORY.descendants("L") == {"LL"}
    assert DIRECTORY.descendants("LL") == frozenset()


def test_the_parent_chain_stops_at_the_administration_border() -> None:
    # BL names A's central laboratory as its parent: that gives C no oversight of B, nor BL a parent.
    assert DIRECTORY.ancestors("BL") == frozenset()
    assert "BL" not in DIRECTORY.descendants("C")
    across = Directory({"X": "B", "Y": "A", "Z": "B"}, {"X": "Y", "Y": "Z", "Z": None})
    assert across.ancestors("X") == frozenset()  # not Z either, though it is of X's administration


def test_a_cycle_of_parents_ends_the_walk_inside_the_cycle() -> None:
    loop = Directory({"X": "A", "Y": "A", "Z": "A"}, {"X": "Y", "Y": "Z", "Z": "X"})
    for code in "XYZ":
        found = loop.ancestors(code)
        assert set("XYZ") - {code} <= found <= set("XYZ")
    assert loop.descendants("X") == {"Y", "Z"}
    self_parent = Directory({"X": "A"}, {"X": "X"})
    assert self_parent.ancestors("X") <= {"X"}
    assert self_parent.descendants("X") == frozenset()


def test_an_organisation_missing_from_the_directory_has_no_chain() -> None:
    assert DIRECTORY.ancestors("NOPE") == frozenset()
    assert DIRECTORY.descendants("NOPE") == frozenset()
    assert DIRECTORY.members_of("A") == {"C", "L", "L2", "LL", "O"}


# -- relations of a record to a user ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "record", "expected"),
    [
        (
            actor("O", Role.REQUESTER, user_id=99),
            case("L", "O"),
            {Rel.MINE, Rel.OWN, Rel.SAME_ADMINISTRATION},
        ),
        (actor("L"), case("L", "O"), {Rel.OWN, Rel.SAME_ADMINISTRATION}),
        (actor("C"), case("LL", "O"), {Rel.CHILD, Rel.SAME_ADMINISTRATION}),
        (actor("LL"), case("C", "O"), {Rel.PARENT, Rel.SAME_ADMINISTRATION}),
        (actor("R"), case("L", "O", referred=("L", "R")), {Rel.REFERRED, Rel.OTHER_ADMINISTRATION}),
        (actor("BL"), case("L", "O", shared=("BL",)), {Rel.SHARED, Rel.OTHER_ADMINISTRATION}),
        (actor("L2"), case("L", "O"), {Rel.SAME_ADMINISTRATION}),
        (actor("F"), case("L", "O"), {Rel.OTHER_ADMINISTRATION}),
        (actor("RL"), case("L", "O"), {Rel.OTHER_ADMINISTRATION}),
        # A sample L referred to R: R holds it now, so it is R's own as well as referred.
        (
            actor("R"),
            case("R", "L", "O", referred=("L", "R")),
            {Rel.OWN, Rel.REFERRED, Rel.SAME_ADMINISTRATION},
        ),
    ],
    ids=["mine", "own", "child", "parent", "referred", "shared", "same", "other", "other-b", "own-referred"],
)
def test_relations_name_every_way_a_record_stands_to_the_user(
    who: Actor, record: Holding, expected: set[Relation]
) -> None:
    assert relations(who, DIRECTORY, record) == expected


def test_a_user_who_filed_a_request_and_moved_on_still_finds_it_theirs() -> None:
    moved = actor("L2", Role.REQUESTER, user_id=99)
    assert relations(moved, DIRECTORY, case("L", "O")) == {Rel.MINE, Rel.SAME_ADMINISTRATION}
    assert can_see(moved, Kind.REQUEST, DIRECTORY, case("L", "O"))
    assert not can_see(actor("L2", Role.REQUESTER, user_id=98), Kind.REQUEST, DIRECTORY, case("L", "O"))


def test_every_record_is_either_of_the_users_administration_or_of_another_never_both() -> None:
    codes = sorted(DIRECTORY.administration_of)
    for org, held in itertools.product(codes, itertools.combinations(codes, 2)):
        found = relations(actor(org), DIRECTORY, case(*held))
        assert len(found & {Rel.SAME_ADMINISTRATION, Rel.OTHER_ADMINISTRATION}) == 1, (org, held)


def test_oversight_does_not_cross_the_administration_border() -> None:
    assert Rel.CHILD not in relations(actor("C", Role.LAB_MANAGER), DIRECTORY, case("BL"))
    assert not can_see(actor("C", Role.LAB_MANAGER), Kind.SAMPLE, DIRECTORY, case("BL"))
    assert can_see(actor("C", Role.LAB_MANAGER), Kind.SAMPLE, DIRECTORY, case("LL"))


def test_a_user_with_several_roles_sees_what_any_of_them_sees() -> None:
    record = case("LL", "O")
    assert not can_see(actor("C", Role.ANALYST), Kind.SAMPLE, DIRECTORY, record)
    assert can_see(actor("C", Role.ANALYST, Role.REVIEWER), Kind.SAMPLE, DIRECTORY, record)
    assert not can_see(actor("C", Role.ADMIN), Kind.SAMPLE, DIRECTORY, record)


# -- declaration data -------------------------------------------------------------------------------


def test_declaration_data_is_whole_inside_its_administration() -> None:
    assert declaration_fields_seen("A", "A", {}, DECLARATION_FIELDS) == set(DECLARATION_FIELDS)


def test_declaration_data_crosses_the_border_only_field_by_field_as_released() -> None:
    released = {"importer": ["B"], "declared_value": ["B", "M"], "question": ["M"]}
    assert declaration_fields_seen("B", "A", released, DECLARATION_FIELDS) == {"importer", "declared_value"}
    assert declaration_fields_seen("M", "A", released, DECLARATION_FIELDS) == {"declared_value", "question"}
    assert declaration_fields_seen("B", "A", {}, DECLARATION_FIELDS) == frozenset()


def test_a_viewer_of_no_known_administration_sees_no_declaration_data() -> None:
    everything = {f: ["A", "B"] for f in DECLARATION_FIELDS}
    assert declaration_fields_seen(None, "A", everything, DECLARATION_FIELDS) == frozenset()


def test_only_the_fields_asked_about_are_answered() -> None:
    assert declaration_fields_seen("A", "A", {}, ["importer"]) == {"importer"}
    assert declaration_fields_seen("B", "A", {"importer": ["B"]}, ["question"]) == frozenset()


# -- the scope of laboratory records and figures ----------------------------------------------------


def test_a_central_laboratory_manager_reads_the_quality_records_of_the_laboratories_below() -> None:
    assert orgs_seen(actor("C", Role.LAB_MANAGER), Kind.QUALITY_RECORD, DIRECTORY) == {"C", "L", "L2", "LL"}
    assert orgs_seen(actor("L", Role.LAB_MANAGER), Kind.QUALITY_RECORD, DIRECTORY) == {"L", "LL"}
    assert orgs_seen(actor("C", Role.ANALYST), Kind.QUALITY_RECORD, DIRECTORY) == {"C"}


def test_the_network_coordinator_has_every_laboratory_as_figures_and_only_the_own_as_records() -> None:
    coordinator = actor("R", Role.NETWORK_COORDINATOR)
    assert orgs_seen(coordinator, Kind.DASHBOARD, DIRECTORY, figures=True) == set(DIRECTORY.administration_of)
    assert orgs_seen(coordinator, Kind.DASHBOARD, DIRECTORY) == {"R"}


def test_an_administrator_has_the_figures_of_their_own_administration_only() -> None:
    admin = actor("C", Role.ADMIN)
    assert orgs_seen(admin, Kind.DASHBOARD, DIRECTORY, figures=True) == DIRECTORY.members_of("A")
    assert orgs_seen(admin, Kind.QUALITY_RECORD, DIRECTORY, figures=True) == frozenset()


def test_officers_supervisors_and_analysts_have_no_dashboard_figures() -> None:
    assert orgs_seen(actor("O", Role.REQUESTER), Kind.DASHBOARD, DIRECTORY, figures=True) == frozenset()
    assert orgs_seen(actor("L", Role.ANALYST), Kind.DASHBOARD, DIRECTORY, figures=True) == frozenset()
    # Figures are per laboratory: an office's supervisor has none of its own.
    assert orgs_seen(actor("O", Role.SUPERVISOR), Kind.DASHBOARD, DIRECTORY, figures=True) == frozenset()
