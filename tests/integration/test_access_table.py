"""The visibility table as a test: every role × relation × record kind, on SQLite and PostgreSQL.

For each cell the test asks three things of one world (tests/integration/access_world.py, built once per
database through the real use cases):
  (a) the table's verdict, `sight(role, kind, relation)`;
  (b) that the record chosen for the cell stands to the user in exactly that relation (plus the same- or
      other-administration one every record has), by the domain's `relations()` on the stored facts, so
      the fixture cannot drift into a second relation that would decide the cell instead;
  (c) what the real use case answers: the record returned is "seen", NotFound or PermissionDenied is not.
and requires (a) == (c). Combinations no record can stand in are listed, with the reason, in
`STRUCTURALLY_IMPOSSIBLE` and checked on their own. A last check runs the repositories' SQL twin of the
table against the domain for every user and every sample of the world.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from customslab.adapters import orm
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.domain.access import (
    SHARING_RELATIONS,
    VISIBILITY,
    Action,
    Actor,
    Holding,
    Kind,
    Relation,
    SharingLevel,
    Sight,
    can_see,
    relations,
    relations_seen,
    require,
    sees,
    sees_document,
    sight,
)
from customslab.domain.enums import Role
from customslab.domain.errors import NotFound, PermissionDenied
from customslab.domain.joint_analysis import joint_holding
from customslab.services import (
    classification,
    dashboard,
    joint_analysis,
    proficiency,
    queries,
    reports,
    targeting,
    training,
)
from customslab.services import quality_equipment as equipment
from customslab.services.knowledge import get_document
from customslab.services.knowledge_ports import KnowledgeDocument, SearchFilters
from customslab.services.knowledge_search import visible_levels
from customslab.services.quality_ports import EquipmentEntry, PtRoundEntry
from customslab.services.training_ports import ParticipationEntry, ProgrammeEntry
from customslab.services.training_views import ProgrammeQuery
from tests.integration.access_world import (
    CASE_KINDS,
    LAB_RECORD,
    STRUCTURALLY_IMPOSSIBLE,
    World,
    administration_relation,
    build_world,
    sample_holding_of,
)

Rel = Relation
UowFactory = Callable[[], Any]

CELLS = [
    (role, rel, kind)
    for role in Role
    for rel in Relation
    for kind in Kind
    if (rel, kind) not in STRUCTURALLY_IMPOSSIBLE
]


def cell_id(cell: tuple[Role, Relation, Kind]) -> str:
    return "-".join(part.value.replace(" ", "_") for part in cell)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[World, UowFactory]]:
    """One world per database: the records of every cell, made by the real use cases."""
    url = request.getfixturevalue("pg_url" if request.param == "postgresql" else "sqlite_url")
    db = Database(url)
    files = LocalFileStore(Path(tmp_path_factory.mktemp("access-files")))

    def factory() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(db, files)

    yield build_world(factory), factory
    db.dispose()


# -- (b): the record's facts, as the domain reads them ---------------------------------------------


def holding(uow: Any, w: World, role: Role, rel: Relation, kind: Kind) -> Holding:
    """The stored facts of the record chosen for the cell (a sample's read once: they do not change)."""
    if kind in CASE_KINDS:
        sample_id = w.case(role, rel).sample_id
        if ("holding", sample_id) not in w.memo:
            w.memo["holding", sample_id] = sample_holding_of(uow, sample_id)
        return w.memo["holding", sample_id]
    lab = LAB_RECORD[rel]
    if kind is Kind.PT_ROUND:
        entry = uow.quality.get(PtRoundEntry, w.rounds[lab])
        return Holding(frozenset({entry.coordinator_lab}), shared=frozenset(entry.participants))
    if kind is Kind.QUALITY_RECORD:
        return Holding(frozenset({uow.quality.get(EquipmentEntry, w.equipment[lab]).lab_code}))
    if kind is Kind.DASHBOARD:
        return Holding(frozenset({w.orgs[lab]}))
    if kind is Kind.JOINT_ANALYSIS:
        return joint_holding(uow.repo.joint_analysis(w.joint_analysis), uow.repo.directory())
    if kind is Kind.TRAINING:
        return programme_holding(uow, w.programmes[lab])
    if kind is Kind.DOCUMENT:
        entry = uow.quality.get(KnowledgeDocument, w.documents[lab, SharingLevel.NETWORK])
        return Holding(frozenset({entry.owner_lab}))
    if kind is Kind.TARGETING:
        # The targeting outcomes of the laboratory's decided samples (their opinions were approved).
        return Holding(frozenset({w.orgs[lab]}))
    raise AssertionError(f"no fixture for {kind}")


def programme_holding(uow: Any, programme_id: int) -> Holding:
    """A training programme's facts: its host, and the organisations with participants (taking part)."""
    entry = uow.quality.get(ProgrammeEntry, programme_id)
    taking_part = uow.quality.find(ParticipationEntry, programme_entry_id=programme_id)
    return Holding(frozenset({entry.host_code}), shared=frozenset(p.org_code for p in taking_part))


# -- (c): what the real use cases answer -------------------------------------------------------------


def _figures_only(
    w: World, uow_factory: UowFactory, shown: dashboard.Dashboard | targeting.TargetingFigures
) -> None:
    """Dashboard figures are counts, rates and turnaround: no identifier or declaration datum of a case."""
    if "secrets" not in w.memo:
        with uow_factory() as uow:
            w.memo["secrets"] = [
                secret
                for case in w.cases.values()
                for req, sample in [(uow.repo.request(case.request_id), uow.repo.sample(case.sample_id))]
                for secret in (req.reference, req.declaration_number, req.importer, sample.lab_sample_id)
            ]
    text = shown.model_dump_json()
    for secret in w.memo["secrets"]:
        assert secret not in text, f"the dashboard shows {secret!r}"


def _targeting_sees(w: World, uow_factory: UowFactory, actor: Actor, lab: str) -> bool:
    """Whether the laboratory's decided samples are in the actor's targeting figures; network figures
    name no importer, declarant, reference or declaration (checked like the dashboard's)."""
    shown = targeting.targeting_figures(uow_factory(), actor, targeting.TargetingQuery())
    if shown.scope == "network":
        assert shown.by_importer is None and shown.by_declarant is None and shown.revenue is None
        _figures_only(w, uow_factory, shown)
    with uow_factory() as uow:
        decided = [o for o in (uow.targeting.get(c.sample_id) for c in w.cases.values()) if o is not None]
    assert any(o.lab_code == lab for o in decided), "the world's approved opinions recorded no outcome"
    # What the figures count, not what the scope names: the outcomes of the laboratories shown, and in an
    # administration's figures only that administration's declarations (R holds one of A's).
    counted = [
        o
        for o in decided
        if o.lab_code in shown.labs
        and (shown.scope == "network" or o.administration_code == shown.administration)
    ]
    n = shown.overall.n if shown.overall else 0
    # The network's figures also count other tests' laboratories (the database is shared): at least these.
    assert n == len(counted) or (shown.scope == "network" and n > len(counted)), f"{actor.username}: {n}"
    return any(o.lab_code == lab for o in counted)


def _test_and_file(tests: list[Any], case: Any) -> tuple[bool, bool]:
    """Whether the case's test, and its instrument file, are among `tests` (TestViews)."""
    mine = [t for t in tests if t.id == case.test_id]
    return bool(mine), any(a.sha256 == case.file_sha256 for t in mine for a in t.attachments)


def _documents_listed(uow: Any, actor: Actor, owner: str) -> set[int]:
    """The guidebooks of `owner` the index's SQL lists for the actor (whatever their permissions)."""
    visible = visible_levels(actor, uow.repo.directory())
    page = uow.knowledge.search({}, visible, SearchFilters(lab=owner, kind="guidebook"), limit=10_000)
    return {d for d, _ in page.hits}


def _document_sees(w: World, uow_factory: UowFactory, actor: Actor, lab: str, rel: Relation) -> bool:
    """Whether the network-level document of the laboratory is shown to the actor; on the way, that the
    document of every other sharing level is shown (by the use case, and listed by the search's SQL)
    exactly when the table's cell and the level's relations (SHARING_RELATIONS) both allow it."""
    shown: dict[SharingLevel, bool] = {}
    with uow_factory() as uow:
        listed = _documents_listed(uow, actor, w.orgs[lab])
    found = {rel, administration_relation(rel, Kind.DOCUMENT)}
    for level in SharingLevel:
        document_id = w.documents[lab, level]
        try:
            shown[level] = get_document(uow_factory(), actor, document_id).id == document_id
        except (NotFound, PermissionDenied):
            shown[level] = False
        opened = bool(found & SHARING_RELATIONS[level] & relations_seen(actor, Kind.DOCUMENT))
        said = "shown" if shown[level] else "hidden"
        assert shown[level] == opened, f"{actor.username}: the {level} document is {said}"
        assert (document_id in listed) == opened, f"{actor.username}: the search's SQL disagrees at {level}"
    return shown[SharingLevel.NETWORK]


def service_sees(
    w: World, uow_factory: UowFactory, actor: Actor, role: Role, rel: Relation, kind: Kind
) -> bool:
    """The real use case's answer: True when it returns the record, False on NotFound/PermissionDenied."""
    lab = LAB_RECORD[rel]
    try:
        if kind in CASE_KINDS:
            case = w.case(role, rel)
            if kind is Kind.REQUEST:
                return queries.request_detail(uow_factory(), actor, case.request_id).id == case.request_id
            if kind is Kind.REPORT:
                # The report record; its PDF also answers to the declaration-data rule (it may print
                # fields the reader's administration was not released), which is not this table's.
                return reports.report_detail(uow_factory(), actor, case.report_id).id == case.report_id
            if kind is Kind.OPINION:
                panel = classification.evaluate_sample(uow_factory(), actor, case.sample_id)
                return case.opinion_id in [o.id for o in panel.opinions]
            detail = queries.sample_detail(uow_factory(), actor, case.sample_id)
            if kind is Kind.SAMPLE:
                return detail.id == case.sample_id
            shown = _test_and_file(detail.tests, case)
            # The request page lists the same tests: it must show no more and no less of them.
            listed = queries.request_detail(uow_factory(), actor, case.request_id).samples
            assert _test_and_file([t for s in listed for t in s.tests], case) == shown
            return shown[0] if kind is Kind.TEST else shown[1]
        if kind is Kind.PT_ROUND:
            return proficiency.round_detail(uow_factory(), actor, w.rounds[lab]).id == w.rounds[lab]
        if kind is Kind.QUALITY_RECORD:
            return equipment.EQUIPMENT.detail(uow_factory(), actor, w.equipment[lab]).id == w.equipment[lab]
        if kind is Kind.DASHBOARD:
            shown = dashboard.network_dashboard(uow_factory(), actor)
            _figures_only(w, uow_factory, shown)
            return w.orgs[lab] in shown.labs
        if kind is Kind.JOINT_ANALYSIS:
            shown_ja = joint_analysis.joint_analysis_detail(uow_factory(), actor, w.joint_analysis)
            return shown_ja.id == w.joint_analysis
        if kind is Kind.TARGETING:
            return _targeting_sees(w, uow_factory, actor, w.orgs[lab])
        if kind is Kind.DOCUMENT:
            return _document_sees(w, uow_factory, actor, lab, rel)
        if kind is Kind.TRAINING:
            # The programme's page, and the list, which must show it exactly when the page does.
            listed = training.list_programmes(uow_factory(), actor, ProgrammeQuery())
            in_list = w.programmes[lab] in [p.id for p in (*listed.upcoming, *listed.past)]
            try:
                shown_p = training.programme_detail(uow_factory(), actor, w.programmes[lab]).programme.id
            except NotFound:
                shown_p = 0
            assert in_list == (shown_p == w.programmes[lab]), "the list and the page disagree"
            return in_list
    except (NotFound, PermissionDenied):
        return False
    raise AssertionError(f"no use case for {kind}")


# -- the table, cell by cell ---------------------------------------------------------------------------


@pytest.mark.parametrize("cell", CELLS, ids=cell_id)
def test_the_use_cases_show_a_record_exactly_when_the_table_says_so(
    world: tuple[World, UowFactory], cell: tuple[Role, Relation, Kind]
) -> None:
    w, uow_factory = world
    role, rel, kind = cell
    actor = w.actor(role, rel, kind)
    assert actor.roles == {role}
    verdict = sight(role, kind, rel)  # (a)
    with uow_factory() as uow:  # (b)
        directory = uow.repo.directory()
        h = holding(uow, w, role, rel, kind)
        found = relations(actor, directory, h)
    expected = {rel, administration_relation(rel, kind)}
    assert found == expected, (
        f"the fixture for {cell_id(cell)} stands in {sorted(found)}, not {sorted(expected)}"
    )
    seen = service_sees(w, uow_factory, actor, role, rel, kind)  # (c)
    assert seen == (verdict is not Sight.NONE), (
        f"{cell_id(cell)}: the table says {verdict.value!r}, the use case {'shows' if seen else 'hides'} it"
    )


def test_every_cell_of_the_table_is_either_checked_or_listed_as_impossible() -> None:
    every = {(role, rel, kind) for role in VISIBILITY for rel in Relation for kind in Kind}
    assert set(Role) == set(VISIBILITY)
    listed = {(role, rel, kind) for role in Role for (rel, kind) in STRUCTURALLY_IMPOSSIBLE}
    assert set(CELLS) | listed == every
    assert not set(CELLS) & listed


def test_no_record_of_the_world_stands_in_a_relation_listed_as_impossible_for_its_kind(
    world: tuple[World, UowFactory],
) -> None:
    w, uow_factory = world
    with uow_factory() as uow:
        directory = uow.repo.directory()
        lab_keyed = {
            Kind.PT_ROUND: [
                Holding(frozenset({e.coordinator_lab}), shared=frozenset(e.participants))
                for e in (uow.quality.get(PtRoundEntry, i) for i in w.rounds.values())
            ],
            Kind.QUALITY_RECORD: [
                Holding(frozenset({uow.quality.get(EquipmentEntry, i).lab_code}))
                for i in w.equipment.values()
            ],
            Kind.DASHBOARD: [Holding(frozenset({code})) for code in w.orgs.values()],
            Kind.JOINT_ANALYSIS: [joint_holding(uow.repo.joint_analysis(w.joint_analysis), directory)],
            Kind.TRAINING: [programme_holding(uow, i) for i in w.programmes.values()],
            Kind.TARGETING: [Holding(frozenset({code})) for code in w.orgs.values()],
            Kind.DOCUMENT: [
                Holding(frozenset({d.owner_lab}))
                for d in (uow.quality.get(KnowledgeDocument, i) for i in w.documents.values())
            ],
        }
    for (rel, kind), reason in STRUCTURALLY_IMPOSSIBLE.items():
        assert reason
        for h in lab_keyed[kind]:
            for actor in w.actors():
                assert rel not in relations(actor, directory, h), (rel, kind, actor.username)


def test_the_figures_only_cells_return_aggregates_that_name_no_case(world: tuple[World, UowFactory]) -> None:
    w, uow_factory = world
    for role in (Role.NETWORK_COORDINATOR, Role.ADMIN):
        for rel in (Rel.CHILD, Rel.PARENT, Rel.SAME_ADMINISTRATION, Rel.OTHER_ADMINISTRATION):
            if sight(role, Kind.DASHBOARD, rel) is not Sight.FIGURES:
                continue
            shown = dashboard.network_dashboard(uow_factory(), w.actor(role, rel, Kind.DASHBOARD))
            _figures_only(w, uow_factory, shown)
            assert shown.labs and len(shown.cases_per_lab) == len(shown.labs)


# -- the SQL twin against the domain, for every user and every sample ----------------------------------


def distinct_askers(actors: list[Actor], requesters: set[int]) -> list[Actor]:
    """One actor per distinct question: the SQL and the domain read an actor only through their
    organisation, their id (for "mine", so only where they filed a request of the world) and the
    relations their roles see each kind in; actors alike in all three get the same answers."""
    kinds = (*CASE_KINDS, Kind.JOINT_ANALYSIS, Kind.DOCUMENT)
    seen: dict[tuple[object, ...], Actor] = {}
    for a in actors:
        key = (
            a.org_code,
            a.user_id if a.user_id in requesters else None,
            *(relations_seen(a, k) for k in kinds),
        )
        seen.setdefault(key, a)
    return list(seen.values())


def sql_against_domain(uow: Any, w: World, actors: list[Actor]) -> list[str]:
    """Where the repositories' SQL (`_visible`, `can_see_request`, `joint_analyses`) and the domain's
    `can_see` disagree, for each actor and each sample, request and joint analysis of the world."""
    S, RQ = orm.samples.c, orm.analysis_requests.c
    sample_ids = sorted(c.sample_id for c in w.cases.values())
    request_ids = sorted({c.request_id for c in w.cases.values()} | {w.bare_request})
    directory = uow.repo.directory()
    holdings = {sid: sample_holding_of(uow, sid) for sid in sample_ids}
    ja = uow.repo.joint_analysis(w.joint_analysis)
    # Held here: the session keeps only weak references, and reloading a request reloads its samples.
    requests = {rid: uow.repo.request(rid) for rid in request_ids}
    documents = {i: uow.quality.get(KnowledgeDocument, i) for i in w.documents.values()}
    disagreements: list[str] = []
    for actor in distinct_askers(actors, {r.requester_id for r in requests.values()}):
        where = f"{actor.username} at {actor.org_code}"
        # Kinds the actor sees in the same relations have the same SQL: ask once for each.
        alike: dict[frozenset[Relation], list[Kind]] = {}
        for k in CASE_KINDS:
            alike.setdefault(relations_seen(actor, k), []).append(k)
        for kinds in alike.values():
            kind = kinds[0]
            q = (
                select(S.id)
                .select_from(orm.samples.join(orm.analysis_requests, RQ.id == S.request_id))
                .where(S.id.in_(sample_ids), uow.repo._visible(actor, kind))
            )
            by_sql = set(uow.session.scalars(q))
            by_domain = {sid for sid in sample_ids if can_see(actor, kind, directory, holdings[sid])}
            if by_sql != by_domain:
                disagreements.append(
                    f"{where}, {'/'.join(k.value for k in kinds)}: SQL alone shows "
                    f"{sorted(by_sql - by_domain)}, the domain alone {sorted(by_domain - by_sql)}"
                )
        for req in requests.values():
            # A request in its own right (before its samples), then through each of its samples.
            alone = Holding(frozenset({req.lab_code, req.office_code}), requester_id=req.requester_id)
            by_domain_req = can_see(actor, Kind.REQUEST, directory, alone) or any(
                can_see(actor, Kind.REQUEST, directory, holdings[s.id]) for s in req.samples
            )
            if uow.repo.can_see_request(actor, req) != by_domain_req:
                disagreements.append(f"{where}, request {req.id}: the domain says {by_domain_req}")
        by_sql_ja = w.joint_analysis in [j.id for j in uow.repo.joint_analyses(actor)]
        by_domain_ja = can_see(actor, Kind.JOINT_ANALYSIS, directory, joint_holding(ja, directory))
        if by_sql_ja != by_domain_ja:
            disagreements.append(f"{where}, joint analysis: the domain says {by_domain_ja}")
        # Knowledge documents: the index's SQL (sharing level × owner) against `sees_document`.
        by_sql_docs = set().union(*(_documents_listed(uow, actor, w.orgs[lab]) for lab in ("L", "C")))
        by_domain_docs = {
            i
            for i, d in documents.items()
            if sees_document(actor, directory, d.owner_lab, SharingLevel(d.sharing))
        }
        if by_sql_docs & set(documents) != by_domain_docs:
            sql, domain = sorted(by_sql_docs & set(documents)), sorted(by_domain_docs)
            disagreements.append(f"{where}, documents: SQL {sql}, domain {domain}")
    return disagreements


def test_the_repositories_sql_agrees_with_the_domain_for_every_user_and_every_sample(
    world: tuple[World, UowFactory],
) -> None:
    w, uow_factory = world
    with uow_factory() as uow:
        disagreements = sql_against_domain(uow, w, w.actors())
    assert not disagreements, "\n".join(disagreements)


def test_the_targeting_outcomes_the_sql_counts_are_those_the_domain_lets_each_user_see(
    world: tuple[World, UowFactory],
) -> None:
    """The outcomes table's SQL scope (laboratories, and the declarations' administration) against the
    domain's verdict on each decided sample's laboratory, for every user of the world."""
    w, uow_factory = world
    disagreements: list[str] = []
    with uow_factory() as uow:
        directory = uow.repo.directory()
        decided = [o for o in (uow.targeting.get(c.sample_id) for c in w.cases.values()) if o is not None]
        assert decided
        start, end = min(o.decided_on for o in decided), max(o.decided_on for o in decided)
        for actor in w.actors():
            try:
                require(actor, Action.VIEW_TARGETING)
                where = targeting.reach(uow, actor)
            except PermissionDenied:
                where = None  # then the table must give the actor none of the outcomes, not even figures
            network = where is None or where.scope == "network"
            mine = directory.administration_of.get(actor.org_code)
            by_domain = Counter(
                o.lab_code
                for o in decided
                if sees(actor, Kind.TARGETING, relations(actor, directory, Holding(frozenset({o.lab_code}))),
                        figures=network)
                and (network or o.administration_code == mine)
            )  # fmt: skip
            rows = [] if where is None else uow.targeting.rates(where.outcomes, ("lab",), start, end)
            by_sql = Counter({r.key[0]: r.n for r in rows if r.key[0] in set(w.orgs.values())})
            if by_sql != by_domain:
                disagreements.append(
                    f"{actor.username} at {actor.org_code}: SQL {by_sql}, domain {by_domain}"
                )
    assert not disagreements, "\n".join(disagreements)


def test_a_declaration_decided_at_another_administrations_rcl_counts_only_in_network_targeting(
    world: tuple[World, UowFactory],
) -> None:
    """R (administration B) decided one of A's declarations: R's manager counts it nowhere (B's figures
    hold B's declarations only, and A's figures cover A's laboratories only); the network counts it."""
    w, uow_factory = world
    with uow_factory() as uow:
        decided = [o for o in (uow.targeting.get(c.sample_id) for c in w.cases.values()) if o is not None]
    at_r = [o for o in decided if o.lab_code == w.orgs["R"]]
    assert [o.administration_code for o in at_r] == [w.admins["A"]]

    def counted(role: Role, position: str) -> int:
        shown = targeting.targeting_figures(uow_factory(), w.at(role, position), targeting.TargetingQuery())
        return shown.overall.n if shown.overall else 0

    assert counted(Role.LAB_MANAGER, "R") == 0
    assert counted(Role.LAB_MANAGER, "C") == sum(o.lab_code != w.orgs["R"] for o in decided)
    assert counted(Role.NETWORK_COORDINATOR, "R") >= len(decided)  # other tests' laboratories count too


@pytest.mark.parametrize("rel", list(Relation), ids=lambda r: r.value.replace(" ", "_"))
def test_each_relation_has_an_sql_predicate_that_matches_the_domain_whatever_the_table_grants(
    world: tuple[World, UowFactory], rel: Relation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SQL twin must follow a change of the table: grant every role this one relation on every kind
    (the repositories read the same VISIBILITY), and compare again, one user of each position."""
    w, uow_factory = world
    for role in Role:
        for kind in Kind:
            monkeypatch.setitem(VISIBILITY[role], kind, frozenset({rel}))
    one_per_position = {a.org_code: a for (role, _), a in w.users.items() if role is Role.ANALYST}
    with uow_factory() as uow:
        disagreements = sql_against_domain(uow, w, [*one_per_position.values(), *w.mine.values()])
    assert not disagreements, "\n".join(disagreements)
