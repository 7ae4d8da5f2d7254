"""Tables of joint analyses, their mapping, and the visibility table applied to them in SQL.

The layout is the one migration 0007_joint_analysis creates. Both tables are audited (`orm.AUDITED`) and
versioned; linking a participant's sample moves the joint analysis's version too
(`concurrency.PARENTS`), so a consolidation and a link made at the same moment cannot both succeed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    exists,
    false,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import Session, registry, relationship

from customslab.adapters.tables_base import keyed_table, row_version
from customslab.adapters.types import UTCDateTime
from customslab.domain.access import Actor, Directory, Kind, Relation, relations_seen
from customslab.domain.joint_analysis import JointAnalysis, JointParticipant

joint_analyses = keyed_table(
    "joint_analyses",
    Column("reference", String(40), nullable=False, unique=True),
    Column("product", Text, nullable=False),
    Column("rcl_code", String(32), ForeignKey("organisations.code"), nullable=False, index=True),
    Column("opened_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("state", String(16), nullable=False),
    Column("determined_code", String(10), nullable=False, default=""),
    Column("reasoning", Text, nullable=False, default=""),
    Column("consolidated_by", Integer, ForeignKey("users.id"), nullable=True),
    Column("consolidated_at", UTCDateTime, nullable=True),
    row_version(),
)

joint_participants = keyed_table(
    "joint_participants",
    Column("joint_analysis_id", Integer, ForeignKey("joint_analyses.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("administration_code", String(32), ForeignKey("administrations.code"), nullable=False),
    Column("declared_code", String(10), nullable=False),
    Column("lab_code", String(32), ForeignKey("organisations.code"), nullable=False, index=True),
    Column("on_behalf", Boolean, nullable=False, default=False),
    Column("sample_id", Integer, ForeignKey("samples.id"), nullable=True, index=True),
    Column("linked_by", Integer, ForeignKey("users.id"), nullable=True),
    Column("linked_at", UTCDateTime, nullable=True),
    Column("opinion_id", Integer, ForeignKey("classification_opinions.id"), nullable=True),
    Column("determined_code", String(10), nullable=False, default=""),
    Column("explanation", Text, nullable=False, default=""),
    row_version(),
    UniqueConstraint("joint_analysis_id", "administration_code", name="uq_joint_participants_administration"),
    UniqueConstraint("joint_analysis_id", "sample_id", name="uq_joint_participants_sample"),
)

#: Added to `orm.AUDITED`.
JOINT_TABLE_NAMES = frozenset({"joint_analyses", "joint_participants"})

J = joint_analyses.c
P = joint_participants.c


def map_joint(reg: registry) -> None:
    """Map the joint-analysis records onto their tables (called once from `orm.start_mappers`)."""
    reg.map_imperatively(
        JointParticipant,
        joint_participants,
        version_id_col=P.row_version,
        version_id_generator=False,
    )
    reg.map_imperatively(
        JointAnalysis,
        joint_analyses,
        version_id_col=J.row_version,
        version_id_generator=False,
        properties={
            "participants": relationship(JointParticipant, order_by=P.position, lazy="selectin"),
        },
    )


def _relation(actor: Actor, relation: Relation, directory: Directory) -> ColumnElement[bool]:
    """SQL for "the joint analysis stands in `relation` to the actor": domain.access.relations over
    domain.joint_analysis.joint_holding (owned by the RCL, shared with the participants)."""
    org = actor.org_code
    administration = directory.administration_of.get(org, "")

    def owned_by(codes: Collection[str]) -> ColumnElement[bool]:
        return J.rcl_code.in_(sorted(codes)) if codes else false()

    same = owned_by(directory.members_of(administration))
    taking_part = exists().where(
        P.joint_analysis_id == J.id,
        or_(P.lab_code == org, and_(P.on_behalf.is_(True), P.administration_code == administration)),
    )
    predicates: dict[Relation, ColumnElement[bool]] = {
        Relation.MINE: false(),  # no requester: a joint analysis is no one's request
        Relation.OWN: owned_by({org}),
        Relation.CHILD: owned_by(directory.descendants(org)),
        Relation.PARENT: owned_by(directory.ancestors(org)),
        Relation.REFERRED: false(),  # a joint analysis is not referred; its samples are
        Relation.SHARED: taking_part,
        Relation.SAME_ADMINISTRATION: same,
        Relation.OTHER_ADMINISTRATION: not_(same),
    }
    return predicates[relation]


def visible_joint_analyses(session: Session, actor: Actor, directory: Directory) -> Sequence[JointAnalysis]:
    """The joint analyses the visibility table lets the actor see, newest first."""
    seen = relations_seen(actor, Kind.JOINT_ANALYSIS)
    if not seen:
        return []
    where = or_(*(_relation(actor, rel, directory) for rel in sorted(seen)))
    q = select(JointAnalysis).where(where).order_by(J.opened_at.desc(), J.id.desc())
    return session.scalars(q).all()
