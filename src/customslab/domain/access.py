"""Who may do what, and who may see which record: the one visibility table of the system.

Pure rules. A record stands in one or more *relations* to the signed-in user's organisation (its own,
a laboratory under it, referred to it...). `VISIBILITY` says, per role and record kind, which relations
let the user see it. The repositories apply the same table in SQL (one predicate per relation), and the
table-driven test checks both agree, cell by cell. Declaration data follows a second rule: it stays
inside its administration unless the sender releases it, field by field (`declaration_fields_seen`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from customslab.domain.enums import Role
from customslab.domain.errors import PermissionDenied

R = Role


@dataclass(frozen=True)
class Actor:
    """The signed-in user as the services see them."""

    user_id: int
    username: str
    org_code: str
    roles: frozenset[Role]

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def sees_work_in_progress(self) -> bool:
        """Laboratory staff and coordinators read results before approval, drafts and the audit history of
        what they may see; customers of a laboratory (officers, supervisors, member focal points) do not."""
        return self.has(*LAB_STAFF, R.NETWORK_COORDINATOR)

    @property
    def is_requester_only(self) -> bool:
        """An officer (or an officer who supervises an office), who follows requests, not queues."""
        return bool(self.roles) and self.roles <= OFFICERS


class Action(StrEnum):
    FILE_REQUEST = "file a request"
    REGISTER_SAMPLE = "register a sample"
    RECEIVE_SAMPLE = "receive a sample"
    RECORD_CUSTODY = "record a custody event"
    REJECT_SAMPLE = "reject a sample"
    ADD_TEST = "add a test"
    ASSIGN_TEST = "assign a test"
    ENTER_RESULT = "enter a result"
    SUBMIT_TEST = "submit a test for review"
    REVIEW = "approve or return a test"
    REFER = "refer a sample"
    SHARE = "share a sample"
    RELEASE_DECLARATION = "release declaration data to another administration"
    ISSUE_REPORT = "issue a report"
    MANAGE_USERS = "manage users"
    MANAGE_DIRECTORY = "manage organisations and contact points"
    VIEW_DASHBOARD = "view the network dashboard"
    OPEN_JOINT_ANALYSIS = "open a joint analysis"
    CONSOLIDATE_JOINT_ANALYSIS = "write a joint analysis's consolidated opinion"
    READ_SHARED_KNOWLEDGE = "read the knowledge partner deployments shared"
    MANAGE_INSTRUMENT_MAPPINGS = "manage the column mappings of instrument result exports"
    MANAGE_SUBSTANCE_LISTS = "load the national controlled substance lists"
    READ_KNOWLEDGE = "read the knowledge base"
    MANAGE_KNOWLEDGE = "add or edit knowledge documents"
    MANAGE_TRAINING = "run training programmes and workshops"
    VIEW_TARGETING = "view the targeting feedback"
    EXPORT_RISK_INDICATORS = "export risk indicators"


OFFICERS = frozenset({R.REQUESTER, R.SUPERVISOR})
LAB_STAFF = frozenset({R.ANALYST, R.REVIEWER, R.LAB_MANAGER})
#: Who may hold and send a sample: laboratory staff, and the focal point of a member without a laboratory.
SAMPLE_HOLDERS = LAB_STAFF | {R.FOCAL_POINT}

PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.FILE_REQUEST: frozenset({R.REQUESTER, R.SUPERVISOR, R.FOCAL_POINT}),
    Action.REGISTER_SAMPLE: SAMPLE_HOLDERS,
    Action.RECEIVE_SAMPLE: LAB_STAFF,
    Action.RECORD_CUSTODY: SAMPLE_HOLDERS,
    Action.REJECT_SAMPLE: frozenset({R.REVIEWER, R.LAB_MANAGER}),
    Action.ADD_TEST: frozenset({R.ANALYST, R.REVIEWER, R.LAB_MANAGER}),
    Action.ASSIGN_TEST: frozenset({R.REVIEWER, R.LAB_MANAGER}),
    Action.ENTER_RESULT: frozenset({R.ANALYST}),
    Action.SUBMIT_TEST: frozenset({R.ANALYST}),
    Action.REVIEW: frozenset({R.REVIEWER}),
    Action.REFER: frozenset({R.LAB_MANAGER, R.REVIEWER, R.NETWORK_COORDINATOR, R.FOCAL_POINT}),
    Action.SHARE: frozenset({R.LAB_MANAGER, R.REVIEWER, R.NETWORK_COORDINATOR}),
    Action.RELEASE_DECLARATION: frozenset({R.LAB_MANAGER, R.REVIEWER, R.SUPERVISOR, R.FOCAL_POINT}),
    Action.ISSUE_REPORT: frozenset({R.REVIEWER, R.LAB_MANAGER}),
    Action.MANAGE_USERS: frozenset({R.ADMIN}),
    Action.MANAGE_DIRECTORY: frozenset({R.ADMIN}),
    Action.VIEW_DASHBOARD: frozenset({R.LAB_MANAGER, R.NETWORK_COORDINATOR, R.ADMIN, R.REVIEWER}),
    Action.OPEN_JOINT_ANALYSIS: frozenset({R.NETWORK_COORDINATOR}),
    Action.CONSOLIDATE_JOINT_ANALYSIS: frozenset({R.NETWORK_COORDINATOR}),
    # Methods, spectra and precedents partners published under a licence: network knowledge, like the
    # versions published on this server, for the laboratories and the administrators who run partners.
    Action.READ_SHARED_KNOWLEDGE: LAB_STAFF | {R.NETWORK_COORDINATOR, R.ADMIN},
    # How an instrument's exports are read is a validated data interface of the laboratory (17025 7.11.2).
    Action.MANAGE_INSTRUMENT_MAPPINGS: frozenset({R.LAB_MANAGER}),
    Action.MANAGE_SUBSTANCE_LISTS: frozenset({R.ADMIN}),
    # Guidebooks, methods, seminar papers, committee decisions and training material: the laboratories',
    # the coordinators' and the member focal points' reading; who sees which document is the table's.
    Action.READ_KNOWLEDGE: LAB_STAFF | {R.NETWORK_COORDINATOR, R.ADMIN, R.FOCAL_POINT},
    Action.MANAGE_KNOWLEDGE: LAB_STAFF | {R.NETWORK_COORDINATOR},
    Action.MANAGE_TRAINING: frozenset({R.LAB_MANAGER, R.NETWORK_COORDINATOR}),
    Action.VIEW_TARGETING: frozenset({R.LAB_MANAGER, R.REVIEWER, R.NETWORK_COORDINATOR, R.ADMIN}),
    # The export names importers and cases: it goes to the administration's own risk engine.
    Action.EXPORT_RISK_INDICATORS: frozenset({R.LAB_MANAGER, R.ADMIN}),
}


def require(actor: Actor, action: Action) -> None:
    """Raise PermissionDenied when none of the actor's roles may take the action."""
    allowed = PERMISSIONS[action]
    if not actor.roles & allowed:
        names = ", ".join(sorted(r.value.replace("_", " ") for r in allowed))
        raise PermissionDenied(f"Only a {names} may {action.value}.")


# -- the visibility table --------------------------------------------------------------------------


class Relation(StrEnum):
    """How a record stands to the user (and their organisation); a record may stand in several."""

    MINE = "mine"  # the user filed the request it belongs to
    OWN = "own"  # held, addressed to or filed by the user's own organisation
    CHILD = "child laboratory"  # held by a laboratory under the user's, along the parent chain
    PARENT = "parent"  # held by a laboratory above the user's
    REFERRED = "referred"  # referred to or from the user's organisation
    SHARED = "shared"  # shared with the user's organisation (a joint analysis: taking part in it)
    SAME_ADMINISTRATION = "same administration"  # any other organisation of the user's administration
    OTHER_ADMINISTRATION = "other administration"  # none of the above, in another administration


class Kind(StrEnum):
    """The kinds of record the table covers."""

    REQUEST = "request"
    SAMPLE = "sample"
    TEST = "test"
    RESULT_FILE = "result file"
    REPORT = "report"
    OPINION = "opinion"
    JOINT_ANALYSIS = "joint analysis"
    PT_ROUND = "PT round"
    QUALITY_RECORD = "quality record"
    DASHBOARD = "dashboard figures"
    DOCUMENT = "knowledge document"
    TRAINING = "training programme"
    TARGETING = "targeting figures"


class Sight(StrEnum):
    NONE = "—"
    RECORD = "record"  # the record itself (its declaration data by the second rule)
    FIGURES = "figures"  # only aggregated, de-identified figures: counts, rates, turnaround


Rel = Relation
CASE = (Kind.REQUEST, Kind.SAMPLE, Kind.TEST, Kind.RESULT_FILE, Kind.REPORT, Kind.OPINION)
_LAB_CASE = frozenset({Rel.OWN, Rel.REFERRED, Rel.SHARED})
_OVERSIGHT = _LAB_CASE | {Rel.CHILD}
_ADMINISTRATION = frozenset({Rel.MINE, Rel.OWN, Rel.CHILD, Rel.PARENT, Rel.SAME_ADMINISTRATION})
_EVERYWHERE = frozenset(Relation)


def _row(case: Iterable[Relation], **others: Iterable[Relation]) -> dict[Kind, frozenset[Relation]]:
    row = {k: frozenset(case) if k in CASE else frozenset() for k in Kind}
    row.update({Kind[name.upper()]: frozenset(rels) for name, rels in others.items()})
    return row


#: role → record kind → the relations in which the role sees the record.
VISIBILITY: dict[Role, dict[Kind, frozenset[Relation]]] = {
    # An officer follows the requests they filed: results once approved, never raw instrument files.
    R.REQUESTER: _row({Rel.MINE}, result_file=()),
    # A supervising officer also sees what the customs office filed.
    R.SUPERVISOR: _row({Rel.MINE, Rel.OWN}, result_file=()),
    # A member administration's focal point: its own requests and what it referred, followed at the RCL;
    # the network's documents and training its staff may take part in.
    R.FOCAL_POINT: _row(
        {Rel.MINE, Rel.OWN, Rel.REFERRED},
        result_file=(),
        joint_analysis={Rel.SHARED},
        document=_EVERYWHERE,
        training=_EVERYWHERE,
    ),
    R.ANALYST: _row(
        _LAB_CASE,
        joint_analysis={Rel.OWN, Rel.SHARED},
        pt_round={Rel.OWN, Rel.SHARED},
        quality_record={Rel.OWN},
        document=_EVERYWHERE,
        training=_EVERYWHERE,
    ),
    # Reviewers and managers of a central laboratory oversee the laboratories under it.
    R.REVIEWER: _row(
        _OVERSIGHT,
        joint_analysis={Rel.OWN, Rel.SHARED},
        pt_round={Rel.OWN, Rel.CHILD, Rel.SHARED},
        quality_record={Rel.OWN, Rel.CHILD},
        dashboard={Rel.OWN, Rel.CHILD},
        document=_EVERYWHERE,
        training=_EVERYWHERE,
        targeting={Rel.OWN, Rel.CHILD},
    ),
    R.LAB_MANAGER: _row(
        _OVERSIGHT,
        joint_analysis={Rel.OWN, Rel.SHARED},
        pt_round={Rel.OWN, Rel.CHILD, Rel.SHARED},
        quality_record={Rel.OWN, Rel.CHILD},
        dashboard={Rel.OWN, Rel.CHILD},
        document=_EVERYWHERE,
        training=_EVERYWHERE,
        targeting={Rel.OWN, Rel.CHILD},
    ),
    # An RCL's coordinator: what was referred or shared to the RCL; the network only as figures.
    R.NETWORK_COORDINATOR: _row(
        _LAB_CASE,
        joint_analysis={Rel.OWN, Rel.SHARED},
        pt_round={Rel.OWN, Rel.SHARED},
        quality_record=(),
        dashboard=_EVERYWHERE,
        document=_EVERYWHERE,
        training=_EVERYWHERE,
        targeting=_EVERYWHERE,
    ),
    # An administrator runs their administration's directory and sees its figures, not case files
    # (ISO/IEC 17025 4.2: confidential information only to those whose work needs it); the targeting
    # figures of its own administration, importers included, feed its customs risk engine.
    R.ADMIN: _row(
        (), dashboard=_ADMINISTRATION, document=_EVERYWHERE, training=_EVERYWHERE, targeting=_ADMINISTRATION
    ),
}

#: Where a cell's relations give only aggregated figures rather than the record itself.
FIGURES_ONLY: dict[tuple[Role, Kind], frozenset[Relation]] = {
    (R.NETWORK_COORDINATOR, Kind.DASHBOARD): frozenset(_EVERYWHERE - {Rel.OWN}),
    (R.ADMIN, Kind.DASHBOARD): frozenset(_ADMINISTRATION - {Rel.OWN}),
    # Targeting figures as a record carry the selectors that are declaration data (importer, declarant)
    # and the evidence cases; as figures, only rates by HS heading and origin, small cells suppressed.
    (R.NETWORK_COORDINATOR, Kind.TARGETING): frozenset(_EVERYWHERE - {Rel.OWN}),
}


class SharingLevel(StrEnum):
    """How far a knowledge document (or a training programme's material) is shared by its owner."""

    LABORATORY = "laboratory"  # private to the owning laboratory
    ADMINISTRATION = "administration"  # every organisation of the owner's administration
    NETWORK = "network"  # every organisation on this server's network directory
    PARTNERS = "partners"  # the network, and partner deployments through federation


#: Which relations a sharing level opens; a document is seen when a relation is both here and in the
#: role's VISIBILITY cell for Kind.DOCUMENT.
SHARING_RELATIONS: dict[SharingLevel, frozenset[Relation]] = {
    SharingLevel.LABORATORY: frozenset({Rel.OWN}),
    SharingLevel.ADMINISTRATION: frozenset({Rel.OWN, Rel.CHILD, Rel.PARENT, Rel.SAME_ADMINISTRATION}),
    SharingLevel.NETWORK: _EVERYWHERE,
    SharingLevel.PARTNERS: _EVERYWHERE,
}


def sees_document(actor: Actor, directory: Directory, owner_lab: str, level: SharingLevel) -> bool:
    """Whether the actor sees a knowledge document of `owner_lab` shared at `level`: the role's cell of
    the table, narrowed by the sharing level."""
    found = relations(actor, directory, Holding(frozenset({owner_lab})))
    return bool(relations_seen(actor, Kind.DOCUMENT) & SHARING_RELATIONS[level] & found)


def sight(role: Role, kind: Kind, relation: Relation) -> Sight:
    """What one role sees of a record of `kind` standing in `relation` to the user: the table's cell."""
    if relation not in VISIBILITY[role][kind]:
        return Sight.NONE
    if relation in FIGURES_ONLY.get((role, kind), ()):
        return Sight.FIGURES
    return Sight.RECORD


def relations_seen(actor: Actor, kind: Kind, *, figures: bool = False) -> frozenset[Relation]:
    """The relations in which any of the actor's roles sees a `kind` record (or, with `figures`, at least
    its aggregated figures)."""
    wanted = (Sight.RECORD, Sight.FIGURES) if figures else (Sight.RECORD,)
    return frozenset(rel for role in actor.roles for rel in Relation if sight(role, kind, rel) in wanted)


def sees(actor: Actor, kind: Kind, relations: Iterable[Relation], *, figures: bool = False) -> bool:
    """Whether the actor sees a record of `kind` that stands in `relations` to them."""
    return bool(relations_seen(actor, kind, figures=figures).intersection(relations))


# -- relations of a record to a user ----------------------------------------------------------------


@dataclass(frozen=True)
class Directory:
    """The organisations of the network as the rules need them: administration and parent of each."""

    administration_of: Mapping[str, str]
    parent_of: Mapping[str, str | None]

    def ancestors(self, code: str) -> frozenset[str]:
        seen: set[str] = set()
        parent = self.parent_of.get(code)
        while parent and parent not in seen and self._same_admin(code, parent):
            seen.add(parent)
            parent = self.parent_of.get(parent)
        return frozenset(seen)

    def descendants(self, code: str) -> frozenset[str]:
        return frozenset(c for c in self.parent_of if c != code and code in self.ancestors(c))

    def members_of(self, administration: str) -> frozenset[str]:
        return frozenset(c for c, a in self.administration_of.items() if a == administration)

    def _same_admin(self, a: str, b: str) -> bool:
        return self.administration_of.get(a) == self.administration_of.get(b)


@dataclass(frozen=True)
class Holding:
    """The facts of a record that decide its relations: who holds it, who filed it, who it travelled to.

    `orgs` are the organisations the record belongs to (a sample's laboratory and its request's
    laboratory and office; a PT round's coordinator; a quality record's laboratory). `referred` and
    `shared` are the organisations it was referred to or from, shared with, or that take part in it."""

    orgs: frozenset[str]
    requester_id: int | None = None
    referred: frozenset[str] = field(default_factory=frozenset)
    shared: frozenset[str] = field(default_factory=frozenset)


def relations(actor: Actor, directory: Directory, holding: Holding) -> frozenset[Relation]:
    """Every relation in which the record stands to the actor."""
    org = actor.org_code
    found: set[Relation] = set()
    if holding.requester_id is not None and holding.requester_id == actor.user_id:
        found.add(Rel.MINE)
    if org in holding.orgs:
        found.add(Rel.OWN)
    if holding.orgs & directory.descendants(org):
        found.add(Rel.CHILD)
    if holding.orgs & directory.ancestors(org):
        found.add(Rel.PARENT)
    if org in holding.referred:
        found.add(Rel.REFERRED)
    if org in holding.shared:
        found.add(Rel.SHARED)
    # Exactly one of the two: whether the record belongs to an organisation of the user's administration.
    home = directory.administration_of.get(org)
    if any(directory.administration_of.get(o) == home for o in holding.orgs):
        found.add(Rel.SAME_ADMINISTRATION)
    else:
        found.add(Rel.OTHER_ADMINISTRATION)
    return frozenset(found)


def can_see(actor: Actor, kind: Kind, directory: Directory, holding: Holding) -> bool:
    """The domain's verdict on one record, which the repositories' SQL must reproduce."""
    return sees(actor, kind, relations(actor, directory, holding))


# -- declaration data -------------------------------------------------------------------------------


def declaration_fields_seen(
    viewer_administration: str | None,
    request_administration: str,
    released: Mapping[str, Iterable[str]],
    fields: Iterable[str],
) -> frozenset[str]:
    """The declaration fields a viewer of another administration may read: all inside the request's own
    administration, elsewhere only those the sender released to the viewer's administration."""
    fields = frozenset(fields)
    if viewer_administration is not None and viewer_administration == request_administration:
        return fields
    return frozenset(f for f in fields if viewer_administration in set(released.get(f, ())))


def visibility_table_markdown() -> str:
    """The visibility table as Markdown, one table per record kind (the docs carry it verbatim)."""
    lines: list[str] = []
    roles = list(VISIBILITY)
    for kind in Kind:
        lines += [f"### {kind.value}", ""]
        lines.append("| role | " + " | ".join(r.value for r in Relation) + " |")
        lines.append("|---" * (len(Relation) + 1) + "|")
        for role in roles:
            cells = [sight(role, kind, rel).value for rel in Relation]
            lines.append(f"| {role.value} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def orgs_seen(actor: Actor, kind: Kind, directory: Directory, *, figures: bool = False) -> frozenset[str]:
    """The organisations whose `kind` records the actor sees by where the records belong alone (own,
    child, parent, same or other administration): the scope of lab-keyed records and figures."""
    seen = relations_seen(actor, kind, figures=figures)
    return frozenset(
        code
        for code in directory.administration_of
        if seen & relations(actor, directory, Holding(frozenset({code})))
    )


def sample_holding(
    sample_lab: str,
    request_lab: str,
    office: str,
    requester_id: int,
    referral_labs: Iterable[str] = (),
    shared_with: Iterable[str] = (),
) -> Holding:
    """The facts of a sample (and of the tests, files, reports and opinions hanging from it)."""
    return Holding(
        frozenset({sample_lab, request_lab, office}),
        requester_id=requester_id,
        referred=frozenset(referral_labs),
        shared=frozenset(shared_with),
    )
