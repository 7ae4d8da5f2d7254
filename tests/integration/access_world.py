"""The world of the access-table test: three administrations, one record per relation, users per role.

Relations are positional: they follow from the user's organisation (and, for "mine", their id), never
from their role. So for each relation there is ONE position, an organisation, where a user of every role
sits, and ONE record that stands to that position in that relation only (plus the same- or
other-administration relation, which every record has to every user):

    administration A (home)   C   central laboratory, parent of L and L2
                              L   local laboratory          L2  local laboratory
                              O   customs office (files every request)
    administration B          BH  central laboratory, parent of R
                              R   Regional Customs Laboratory, parent of RL
                              RL  laboratory under the RCL  BL  laboratory   BO  customs office
    administration M          F   focal point (no laboratory)

    relation              position   case record (request, sample, test, file, report, opinion)
    mine                  L2         one request per role, filed from O by the user who later moved to L2
    own                   L          S_L: filed from O to L, held by L
    child laboratory      C          S_L
    parent                L          S_C: filed from O to C, held by C
    referred              R          S_ref: L referred it to R, R returned it to L
    shared                BL         S_L, shared with BL
    same administration   L2         S_L
    other administration  F          S_L

Laboratory-keyed records (PT rounds, quality records, dashboard figures) belong to L, or to C for the
"parent" relation. So do the training programmes (hosted there, shared with the network), each with a
participant of BL, which takes part in it: "shared". So do the knowledge documents, one at each sharing
level (the level narrows the cell: test_access_table checks every level). A joint analysis is run by an
RCL, so its positions are R's: JA_R, opened by R
between A (recorded by C) and B (recorded by BL), is own to R, child to BH, parent to RL, shared with
BL, same-administration to BO and other-administration to F.

Every record goes through the real use cases; only the users are written directly (the test is about
what a role sees, not about who may create accounts, and a role is tried even where it would not sit in
practice: a requester at a laboratory still sees only what the table gives a requester).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from customslab.domain.access import Actor, Holding, Kind, Relation, SharingLevel, sample_holding
from customslab.domain.enums import OrgKind, Role
from customslab.domain.model import Administration, Organisation, User
from customslab.services import (
    analysis,
    cases,
    classification,
    joint_analysis,
    knowledge,
    proficiency,
    referrals,
    reports,
    training,
)
from customslab.services import quality_equipment as equipment
from customslab.services.analysis import ResultCreate, ReviewDecision, TestCreate
from customslab.services.cases import RequestCreate, SampleCreate, SampleReceipt
from customslab.services.classification import OpinionCreate
from customslab.services.contract import parse
from customslab.services.joint_analysis import JointAnalysisCreate, JointParticipantCreate
from customslab.services.knowledge import DocumentCreate, UploadedFile
from customslab.services.proficiency import PtMeasurandCreate, PtRoundCreate
from customslab.services.referrals import ReferralCreate, ShareCreate
from customslab.services.training_views import ParticipantCreate, ProgrammeCreate
from tests.factories import unique

Rel = Relation
UowFactory = Callable[[], Any]

#: Where the users of every role sit to stand in each relation to the records below.
POSITION: dict[Relation, str] = {
    Rel.MINE: "L2",
    Rel.OWN: "L",
    Rel.CHILD: "C",
    Rel.PARENT: "L",
    Rel.REFERRED: "R",
    Rel.SHARED: "BL",
    Rel.SAME_ADMINISTRATION: "L2",
    Rel.OTHER_ADMINISTRATION: "F",
}

#: A joint analysis belongs to the RCL that runs it (JA_R): its own positions.
JOINT_POSITION: dict[Relation, str] = {
    Rel.OWN: "R",
    Rel.CHILD: "BH",
    Rel.PARENT: "RL",
    Rel.SHARED: "BL",
    Rel.SAME_ADMINISTRATION: "BO",
    Rel.OTHER_ADMINISTRATION: "F",
}


def position(relation: Relation, kind: Kind) -> str:
    """Where the user stands for `relation` to the record of `kind` (the filers of "mine" end at L2)."""
    return (JOINT_POSITION if kind is Kind.JOINT_ANALYSIS else POSITION)[relation]


def administration_relation(relation: Relation, kind: Kind) -> Relation:
    """By the layout alone: whether the record belongs to the user's administration (JA_R is B's; every
    other record is A's)."""
    home = ADMINISTRATION["R" if kind is Kind.JOINT_ANALYSIS else "L"]
    same = ADMINISTRATION[position(relation, kind)] == home
    return Rel.SAME_ADMINISTRATION if same else Rel.OTHER_ADMINISTRATION


#: The case record (key of World.cases) each relation is seen through; "mine" has one per role.
CASE_RECORD: dict[Relation, str] = {
    Rel.OWN: "L",
    Rel.CHILD: "L",
    Rel.PARENT: "C",
    Rel.REFERRED: "ref",
    Rel.SHARED: "L",
    Rel.SAME_ADMINISTRATION: "L",
    Rel.OTHER_ADMINISTRATION: "L",
}

#: The laboratory whose PT round, quality record or dashboard figures each relation is seen through.
LAB_RECORD: dict[Relation, str] = {rel: "C" if rel is Rel.PARENT else "L" for rel in Relation}

#: Combinations of relation and record kind that no record can stand in, with the reason. The test
#: checks that no record of the world stands in them, and that every other combination has a fixture.
STRUCTURALLY_IMPOSSIBLE: dict[tuple[Relation, Kind], str] = {
    **{
        (rel, kind): reason
        for kind in (Kind.PT_ROUND, Kind.QUALITY_RECORD, Kind.DASHBOARD)
        for rel, reason in {
            Rel.MINE: "no user files it: it belongs to a laboratory, not to a request",
            Rel.REFERRED: "it is never referred: only samples travel between laboratories",
        }.items()
    },
    (Rel.MINE, Kind.JOINT_ANALYSIS): "no user files it: an RCL opens it between administrations",
    (Rel.REFERRED, Kind.JOINT_ANALYSIS): "it is never referred: only the samples linked to it travel",
    (Rel.SHARED, Kind.QUALITY_RECORD): "a laboratory's quality records are never shared",
    (Rel.SHARED, Kind.DASHBOARD): "figures are per laboratory, and a laboratory is never shared",
    (Rel.MINE, Kind.TRAINING): "no user files it: a laboratory or an RCL hosts it",
    (Rel.MINE, Kind.TARGETING): "no user files it: the figures are per laboratory, not per request",
    (Rel.REFERRED, Kind.TARGETING): "an outcome counts at the laboratory holding the sample; never referred",
    (Rel.SHARED, Kind.TARGETING): "figures are per laboratory, and a laboratory is never shared",
    (Rel.REFERRED, Kind.TRAINING): "it is never referred: only samples travel between laboratories",
    (Rel.MINE, Kind.DOCUMENT): "no user files it: a knowledge document belongs to its laboratory",
    (Rel.REFERRED, Kind.DOCUMENT): "it is never referred: its sharing level says who reads it",
    (Rel.SHARED, Kind.DOCUMENT): "it is shared by its sharing level, never with one organisation",
}

#: The administration (A, B or M) of each position, as laid out above.
ADMINISTRATION = (
    {"C": "A", "L": "A", "L2": "A", "O": "A"} | dict.fromkeys(("BH", "R", "RL", "BL", "BO"), "B") | {"F": "M"}
)
POSITIONS = tuple(ADMINISTRATION)
CASE_KINDS = (Kind.REQUEST, Kind.SAMPLE, Kind.TEST, Kind.RESULT_FILE, Kind.REPORT, Kind.OPINION)


@dataclass
class Case:
    """A request with one sample taken to an issued report and a written opinion."""

    request_id: int
    sample_id: int
    test_id: int = 0
    file_sha256: str = ""
    report_id: int = 0
    opinion_id: int = 0


@dataclass
class World:
    admins: dict[str, str]  # A, B, M -> administration code
    orgs: dict[str, str]  # position name -> organisation code
    users: dict[tuple[Role, str], Actor] = field(default_factory=dict)  # (role, position) -> user
    mine: dict[Role, Actor] = field(default_factory=dict)  # the users who filed a request of their own
    cases: dict[str, Case] = field(default_factory=dict)  # "L", "C", "ref", "rcl", "mine:<role>"
    rounds: dict[str, int] = field(default_factory=dict)  # lab position -> PT round id
    equipment: dict[str, int] = field(default_factory=dict)  # lab position -> equipment entry id
    programmes: dict[str, int] = field(default_factory=dict)  # host position -> training programme id
    #: (lab position, sharing level) -> a knowledge document the laboratory owns, shared at that level
    documents: dict[tuple[str, SharingLevel], int] = field(default_factory=dict)
    joint_analysis: int = 0  # JA_R's id
    bare_request: int = 0  # a request from O to L with no sample yet: seen in its own right
    memo: dict[Any, Any] = field(default_factory=dict)  # facts read once from the database by the test

    def at(self, role: Role, position: str) -> Actor:
        return self.users[(role, position)]

    def actor(self, role: Role, relation: Relation, kind: Kind) -> Actor:
        """The user of `role` standing in `relation` to the record of `kind` chosen for it."""
        if relation is Rel.MINE:
            return self.mine[role]
        return self.at(role, position(relation, kind))

    def case(self, role: Role, relation: Relation) -> Case:
        return self.cases[f"mine:{role.value}" if relation is Rel.MINE else CASE_RECORD[relation]]

    def actors(self) -> list[Actor]:
        return [*self.users.values(), *self.mine.values()]


def sample_holding_of(uow: Any, sample_id: int) -> Holding:
    """The facts of a stored sample, as domain.access reads them (read inside a unit of work)."""
    sample = uow.repo.sample(sample_id)
    req = uow.repo.request(sample.request_id)
    refs = uow.repo.referrals_for(sample_id)
    return sample_holding(
        sample.lab_code,
        req.lab_code,
        req.office_code,
        req.requester_id,
        [x for r in refs for x in (r.from_lab, r.to_lab)],
        [s.org_code for s in uow.repo.shares_for(sample_id)],
    )


def _directory(uow_factory: UowFactory) -> tuple[dict[str, str], dict[str, str]]:
    admins = {"A": unique("ADA"), "B": unique("ADB"), "M": unique("ADM")}
    orgs = {p: unique(p) for p in POSITIONS}
    a, b, m = admins["A"], admins["B"], admins["M"]
    assert set(orgs) == set(POSITIONS)
    with uow_factory() as uow:
        uow.act_as("test-setup")
        uow.repo.add(Administration(a, "Home customs", "KR", home=True))
        uow.repo.add(Administration(b, "Customs with an RCL", "JP"))
        uow.repo.add(Administration(m, "Member without a laboratory", "BT", has_laboratories=False))
        uow.repo.flush()
        rows = [
            ("C", OrgKind.CENTRAL, "KR", None, ""),
            ("L", OrgKind.LOCAL, "KR", "C", ""),
            ("L2", OrgKind.LOCAL, "KR", "C", ""),
            ("O", OrgKind.CUSTOMS_OFFICE, "KR", None, ""),
            ("BH", OrgKind.CENTRAL, "JP", None, ""),
            ("R", OrgKind.RCL, "JP", "BH", "Asia/Pacific"),
            ("RL", OrgKind.LOCAL, "JP", "R", ""),
            ("BL", OrgKind.CENTRAL, "JP", None, ""),
            ("BO", OrgKind.CUSTOMS_OFFICE, "JP", None, ""),
            ("F", OrgKind.MEMBER, "BT", None, ""),
        ]
        for pos, kind, country, parent, region in rows:
            uow.repo.add(
                Organisation(
                    orgs[pos],
                    f"{pos} of the access world",
                    kind,
                    country,
                    parent_code=orgs[parent] if parent else None,
                    administration_code=admins[ADMINISTRATION[pos]],
                    rcl_region=region,
                )
            )
            uow.repo.flush()
        uow.commit()
    return admins, orgs


def _add_users(uow_factory: UowFactory, wanted: list[tuple[str, str, frozenset[Role]]]) -> list[Actor]:
    """Users written directly: (name, organisation code, roles) -> actors, in order."""
    with uow_factory() as uow:
        uow.act_as("test-setup")
        users = [User(unique(name), name, org, roles, password_hash="!") for name, org, roles in wanted]
        for user in users:
            uow.repo.add(user)
        uow.repo.flush()
        uow.commit()
        return [Actor(u.id, u.username, u.org_code, u.roles) for u in users]


def _move_user(uow_factory: UowFactory, actor: Actor, org: str, roles: frozenset[Role]) -> Actor:
    """The user changes post and role, as an administrator would record it."""
    with uow_factory() as uow:
        uow.act_as("test-setup")
        user = uow.repo.user(actor.user_id)
        user.org_code, user.roles = org, roles
        uow.commit()
    return Actor(actor.user_id, actor.username, org, roles)


def _request_to(world: World, lab: str) -> RequestCreate:
    return parse(
        RequestCreate,
        {
            "lab_code": world.orgs[lab],
            "declaration_number": unique("DCL"),
            "item_number": 1,
            "declared_hs": "2208.40",
            "goods_description": "Rum in 700 mL bottles",
            "origin_country": "JM",
            "importer": unique("Importer "),
            "declared_value": "12000",
            "currency": "USD",
            "reason": "classification",
            "priority": "routine",
            "requested_determinations": ["alcoholic strength"],
            "question": "Is this rum of heading 2208?",
        },
    )


def _filed(uow_factory: UowFactory, world: World, officer: Actor, lab: str) -> Case:
    """A request from O to the laboratory at `lab`, its sample registered and received there."""
    manager = world.at(Role.LAB_MANAGER, lab)
    cmd = _request_to(world, lab)
    req = cases.file_request(uow_factory(), officer, cmd)
    sample = cases.register_sample(uow_factory(), manager, req.id, SampleCreate(quantity="1", unit="L"))
    cases.receive_sample(uow_factory(), manager, sample.id, SampleReceipt(seal_intact=True))
    return Case(req.id, sample.id)


def _analysed(uow_factory: UowFactory, world: World, case: Case, lab: str) -> Case:
    """The laboratory at `lab` tests the sample, attaches the instrument file, approves the test,
    issues the report and writes its classification opinion."""
    manager, analyst = world.at(Role.LAB_MANAGER, lab), world.at(Role.ANALYST, lab)
    test = analysis.add_test(
        uow_factory(),
        manager,
        case.sample_id,
        TestCreate(determination="alcoholic strength", method_ref="M-22", analyst_id=analyst.user_id),
    )
    analysis.enter_result(
        uow_factory(),
        analyst,
        test.id,
        ResultCreate(
            name="alcohol_strength",
            value="40.2",
            unit="%vol",
            expanded_uncertainty="0.2",
            coverage_factor="2",
        ),
    )
    stored = analysis.attach_file(
        uow_factory(),
        analyst,
        test.id,
        filename="density.csv",
        media_type="text/csv",
        stream=io.BytesIO(f"t,rho\n20,0.9479\n# {case.sample_id}\n".encode()),
        max_bytes=10_000,
    )
    analysis.submit_test(uow_factory(), analyst, test.id)
    analysis.review_test(uow_factory(), world.at(Role.REVIEWER, lab), test.id, ReviewDecision(approve=True))
    report = reports.issue_report(uow_factory(), manager, case.sample_id)
    opinion = classification.write_opinion(
        uow_factory(),
        analyst,
        case.sample_id,
        OpinionCreate(determined_code="2208.40", reasoning="Rum of 40 %vol, a spirit of heading 22.08."),
    )
    # Approved, so that the laboratory's customers (officers, focal points) see it too.
    classification.approve_opinion(uow_factory(), world.at(Role.REVIEWER, lab), opinion.id)
    case.test_id, case.file_sha256, case.report_id, case.opinion_id = (
        test.id,
        stored.sha256,
        report.id,
        opinion.id,
    )
    return case


def build_world(uow_factory: UowFactory) -> World:
    """The network, its users and every record of the table, through the real use cases."""
    admins, orgs = _directory(uow_factory)
    world = World(admins, orgs)
    wanted = [(f"{r.value}-{p}", orgs[p], frozenset({r})) for p in POSITIONS for r in Role]
    for (name, _, roles), actor in zip(wanted, _add_users(uow_factory, wanted), strict=True):
        world.users[(next(iter(roles)), name.rsplit("-", 1)[1])] = actor
    officer = world.at(Role.REQUESTER, "O")

    world.bare_request = cases.file_request(uow_factory(), officer, _request_to(world, "L")).id
    world.cases["L"] = _filed(uow_factory, world, officer, "L")
    referrals.share_sample(
        uow_factory(),
        world.at(Role.LAB_MANAGER, "L"),
        world.cases["L"].sample_id,
        ShareCreate(org_code=orgs["BL"], note="a second opinion"),
    )
    _analysed(uow_factory, world, world.cases["L"], "L")
    world.cases["C"] = _analysed(uow_factory, world, _filed(uow_factory, world, officer, "C"), "C")

    ref = world.cases["ref"] = _filed(uow_factory, world, officer, "L")
    there, back = (
        ReferralCreate(to_lab=orgs["R"], reason="needs the RCL's GC-MS"),
        ReferralCreate(to_lab=orgs["L"], reason="measured; returned for the report"),
    )
    referrals.refer_sample(uow_factory(), world.at(Role.LAB_MANAGER, "L"), ref.sample_id, there)
    rcl = world.at(Role.LAB_MANAGER, "R")
    cases.receive_sample(uow_factory(), rcl, ref.sample_id, SampleReceipt(seal_intact=True))
    referrals.refer_sample(uow_factory(), rcl, ref.sample_id, back)
    cases.receive_sample(
        uow_factory(), world.at(Role.LAB_MANAGER, "L"), ref.sample_id, SampleReceipt(seal_intact=True)
    )
    _analysed(uow_factory, world, ref, "L")
    # A's declaration decided at B's RCL: its outcome is held by R but its declaration data is A's, so
    # R's own administration (B) must not count it (the targeting figures' administration condition).
    world.cases["rcl"] = _analysed(uow_factory, world, _filed(uow_factory, world, officer, "R"), "R")

    # "Mine": each user files a request as an officer of O, then moves to L2 with the role under test.
    filers = _add_users(
        uow_factory, [(f"filer-{r.value}", orgs["O"], frozenset({Role.REQUESTER})) for r in Role]
    )
    for role, filer in zip(Role, filers, strict=True):
        case = _analysed(uow_factory, world, _filed(uow_factory, world, filer, "L"), "L")
        world.cases[f"mine:{role.value}"] = case
        world.mine[role] = _move_user(uow_factory, filer, orgs["L2"], frozenset({role}))

    for lab in ("L", "C"):
        created = proficiency.create_round(
            uow_factory(),
            world.at(Role.NETWORK_COORDINATOR, lab),
            PtRoundCreate(
                title=f"Alcoholic strength ({lab})",
                participants=[orgs["BL"]],
                measurands=[PtMeasurandCreate(measurand="alcohol_strength", unit="%vol")],
            ),
        )
        assert created.id is not None
        world.rounds[lab] = created.id
        eq = equipment.EQUIPMENT.record(
            uow_factory(),
            world.at(Role.LAB_MANAGER, lab),
            equipment.EquipmentCreate(equipment_id=f"DMA-{lab}", name="Density meter"),
        )
        world.equipment[lab] = eq.id
        # A network programme hosted by the laboratory, with a participant of BL (who takes part: SHARED).
        host = world.at(Role.LAB_MANAGER, lab)
        programme = training.create_programme(
            uow_factory(),
            host,
            ProgrammeCreate(
                title=f"Density of spirits ({lab})",
                kind="workshop",
                starts_on=date(2026, 5, 4),
                ends_on=date(2026, 5, 5),
                sharing="network",
            ),
        )
        training.register_participant(
            uow_factory(), host, programme.id, ParticipantCreate(name="A participant", org_code=orgs["BL"])
        )
        world.programmes[lab] = programme.id

    # A knowledge document at each sharing level, owned by each laboratory (its manager uploads it).
    for lab in ("L", "C"):
        for level in SharingLevel:
            fields = {"title": f"Guide ({lab}, {level})", "kind": "guidebook", "language": "en", "year": 2026}
            fields["licence"] = "CC-BY-4.0"  # a partners' document must name its licence
            data = f"Guide of {lab} shared at {level}".encode()
            text = UploadedFile("guide.txt", "text/plain", data, 10_000)
            world.documents[lab, level] = knowledge.add_document(
                uow_factory(),
                world.at(Role.LAB_MANAGER, lab),
                parse(DocumentCreate, fields | {"sharing": level}),
                text,
            ).id

    opened = joint_analysis.open_joint_analysis(
        uow_factory(),
        world.at(Role.NETWORK_COORDINATOR, "R"),
        JointAnalysisCreate(
            product="Rum or a spirit of heading 22.08, 700 mL bottles",
            participants=[
                JointParticipantCreate(
                    administration_code=admins["A"], declared_code="2208.40", lab_code=orgs["C"]
                ),
                JointParticipantCreate(
                    administration_code=admins["B"], declared_code="2208.90", lab_code=orgs["BL"]
                ),
            ],
        ),
    )
    world.joint_analysis = opened.id
    return world
