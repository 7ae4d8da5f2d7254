"""The SQLAlchemy repository: the aggregates of the case core and the queue queries."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    exists,
    false,
    func,
    inspect,
    not_,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from customslab.adapters import hs_store, joint_tables, list_queries, number_sequences, orm
from customslab.adapters.audit_log import read_chain
from customslab.domain.access import LAB_STAFF, Actor, Directory, Kind, Relation, relations_seen
from customslab.domain.audit import AuditRecord
from customslab.domain.enums import State
from customslab.domain.joint_analysis import JointAnalysis
from customslab.domain.model import (
    Administration,
    AnalysisRequest,
    AnalysisTest,
    Attachment,
    ClassificationOpinion,
    DeclarationRelease,
    Identification,
    Organisation,
    Referral,
    Sample,
    Share,
    SignInEvent,
    User,
    UserSession,
)
from customslab.services.ports import (
    DashboardRow,
    QueueFilter,
    QueueRow,
    ReferredOutFilter,
    ReferredOutRow,
    ReleasedResult,
    Repository,
    RequestFilter,
)

#: First key of the two-key PostgreSQL advisory locks that serialise sign-in attempts per username.
SIGN_IN_LOCK_SPACE = 7_402_118

S = orm.samples.c
RQ = orm.analysis_requests.c


class SqlRepository(Repository):
    def __init__(self, session: Session) -> None:
        self.session = session
        self._directory: Directory | None = None

    def add(self, obj: Any) -> None:
        if isinstance(obj, Organisation):
            self._directory = None
        self.session.add(obj)

    def flush(self) -> None:
        self._directory = None  # an organisation's parent may have changed
        self.session.flush()

    def org(self, code: str) -> Organisation | None:
        return self.session.get(Organisation, code)

    def orgs(self) -> Sequence[Organisation]:
        return self.session.scalars(select(Organisation).order_by(orm.organisations.c.code)).all()

    def user(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def user_by_name(self, username: str) -> User | None:
        return self.session.scalars(select(User).where(orm.users.c.username == username)).first()

    def users(self, org_code: str | None = None) -> Sequence[User]:
        q = select(User).order_by(orm.users.c.username)
        if org_code:
            q = q.where(orm.users.c.org_code == org_code)
        return self.session.scalars(q).all()

    def request(self, request_id: int) -> AnalysisRequest | None:
        return self.session.get(AnalysisRequest, request_id)

    def add_sample(self, request: AnalysisRequest, sample: Sample) -> None:
        sample.request_id = request.id
        self.session.add(sample)
        if "samples" in inspect(request).dict:
            # Read earlier in this unit of work: read again when next asked, the new sample with them.
            self.session.expire(request, ["samples"])

    def load_samples(self, requests: Sequence[AnalysisRequest]) -> None:
        todo = {r.id: r for r in requests if r.id is not None and "samples" not in inspect(r).dict}
        if not todo:
            return
        held: dict[int, list[Sample]] = {rid: [] for rid in todo}
        q = select(Sample).where(S.request_id.in_(sorted(todo))).order_by(S.id)
        for s in self.session.scalars(q):
            held[s.request_id or 0].append(s)
        for rid, req in todo.items():
            set_committed_value(req, "samples", held[rid])

    def sample_states(self, requests: Sequence[AnalysisRequest]) -> dict[int, list[State]]:
        ids = [r.id for r in requests if r.id is not None]
        states: dict[int, list[State]] = {rid: [] for rid in ids}
        if ids:
            q = select(S.request_id, S.state).where(S.request_id.in_(sorted(set(ids)))).order_by(S.id)
            for rid, state in self.session.execute(q):
                states[rid].append(State(state))
        return states

    def sample_ids(self, request_id: int) -> list[int]:
        q = select(S.id).where(S.request_id == request_id).order_by(S.id)
        return [int(i) for i in self.session.execute(q).scalars()]

    def sample(self, sample_id: int) -> Sample | None:
        return self.session.get(Sample, sample_id)

    def sample_by_lab_id(self, lab_sample_id: str) -> Sample | None:
        return self.session.scalars(select(Sample).where(S.lab_sample_id == lab_sample_id)).first()

    def test(self, test_id: int) -> AnalysisTest | None:
        return self.session.get(AnalysisTest, test_id)

    def attachment(self, attachment_id: int) -> Attachment | None:
        return self.session.get(Attachment, attachment_id)

    def referrals_for(self, sample_id: int) -> Sequence[Referral]:
        q = select(Referral).where(orm.referrals.c.sample_id == sample_id).order_by(orm.referrals.c.id)
        return self.session.scalars(q).all()

    def referral(self, referral_id: int) -> Referral | None:
        return self.session.get(Referral, referral_id)

    def shares_for(self, sample_id: int) -> Sequence[Share]:
        return self.session.scalars(select(Share).where(orm.shares.c.sample_id == sample_id)).all()

    def identifications_for(self, test_id: int) -> Sequence[Identification]:
        q = select(Identification).where(orm.identifications.c.test_id == test_id)
        return self.session.scalars(q.order_by(orm.identifications.c.id)).all()

    def opinion(self, opinion_id: int) -> ClassificationOpinion | None:
        return self.session.get(ClassificationOpinion, opinion_id)

    def opinions_for(self, sample_id: int) -> Sequence[ClassificationOpinion]:
        o = orm.classification_opinions.c
        return self.session.scalars(
            select(ClassificationOpinion).where(o.sample_id == sample_id).order_by(o.id)
        ).all()

    def approved_opinions_for(self, sample_ids: Collection[int]) -> list[ClassificationOpinion]:
        ids = sorted(set(sample_ids))
        if not ids:
            return []
        o = orm.classification_opinions.c
        # The session flushes first (autoflush): an opinion approved in this unit of work is among them.
        q = select(ClassificationOpinion).where(o.sample_id.in_(ids), o.state == "approved").order_by(o.id)
        return list(self.session.scalars(q).all())

    def search_opinions(
        self, org_code: str | None, text: str, code_prefix: str, limit: int
    ) -> Sequence[ClassificationOpinion]:
        o = orm.classification_opinions.c
        q = select(ClassificationOpinion)
        if org_code is not None:
            q = q.where(or_(o.lab_code == org_code, o.shared.is_(True)))
        if code_prefix:
            q = q.where(
                or_(o.determined_code.startswith(code_prefix), o.declared_code.startswith(code_prefix))
            )
        for word in text.lower().split():
            like = f"%{word}%"
            q = q.where(or_(func.lower(o.reasoning).like(like), func.lower(o.goods_description).like(like)))
        return self.session.scalars(q.order_by(o.id.desc()).limit(limit)).all()

    # -- visibility: domain.access's table, one SQL predicate per relation -----------------------
    def administration(self, code: str) -> Administration | None:
        return self.session.get(Administration, code)

    def administrations(self) -> Sequence[Administration]:
        return self.session.scalars(select(Administration).order_by(orm.administrations.c.code)).all()

    def directory(self) -> Directory:
        # Read once per unit of work (a page asks several times); a new or flushed organisation drops it.
        if self._directory is None or any(isinstance(o, Organisation) for o in self.session.dirty):
            o = orm.organisations.c
            rows = self.session.execute(select(o.code, o.administration_code, o.parent_code)).all()
            self._directory = Directory({c: a for c, a, _ in rows}, {c: p for c, _, p in rows})
        return self._directory

    def _relation(
        self, actor: Actor, relation: Relation, directory: Directory, *, of_sample: bool = True
    ) -> ColumnElement[bool]:
        """SQL for "the sample row (or, without `of_sample`, the request row in its own right) stands in
        `relation` to the actor": domain.access.relations, with Holding.orgs the owners below."""
        org = actor.org_code
        owners = (S.lab_code, RQ.lab_code, RQ.office_code) if of_sample else (RQ.lab_code, RQ.office_code)

        def owned_by(codes: Collection[str]) -> ColumnElement[bool]:
            return or_(*(c.in_(sorted(codes)) for c in owners)) if codes else false()

        referrals, shares = orm.referrals.c, orm.shares.c
        # Only the predicate asked for is built: building SQL expressions costs more than running them.
        match relation:
            case Relation.MINE:
                return RQ.requester_id == actor.user_id
            case Relation.OWN:
                return owned_by({org})
            case Relation.CHILD:
                return owned_by(directory.descendants(org))
            case Relation.PARENT:
                return owned_by(directory.ancestors(org))
            case Relation.REFERRED:
                return exists().where(
                    referrals.sample_id == S.id, or_(referrals.from_lab == org, referrals.to_lab == org)
                )
            case Relation.SHARED:
                return exists().where(shares.sample_id == S.id, shares.org_code == org)
        same = owned_by(directory.members_of(directory.administration_of.get(org, "")))
        return same if relation is Relation.SAME_ADMINISTRATION else not_(same)

    def _visible(self, actor: Actor, kind: Kind = Kind.SAMPLE) -> ColumnElement[bool]:
        """SQL twin of domain.access.can_see for a sample, or a record of `kind` hanging from one."""
        seen = relations_seen(actor, kind)
        if not seen:
            return false()
        directory = self.directory()
        return or_(*(self._relation(actor, rel, directory) for rel in sorted(seen)))

    def can_see_sample(self, actor: Actor, sample: Sample, kind: Kind = Kind.SAMPLE) -> bool:
        q = (
            select(S.id)
            .select_from(orm.samples.join(orm.analysis_requests, RQ.id == S.request_id))
            .where(S.id == sample.id, self._visible(actor, kind))
        )
        return self.session.execute(q).first() is not None

    def seen_samples(self, actor: Actor, samples: Sequence[Sample], kind: Kind = Kind.SAMPLE) -> set[int]:
        ids = sorted({s.id for s in samples if s.id is not None})
        if not ids:
            return set()
        q = (
            select(S.id)
            .select_from(orm.samples.join(orm.analysis_requests, RQ.id == S.request_id))
            .where(S.id.in_(ids), self._visible(actor, kind))
        )
        return set(self.session.scalars(q))

    def can_see_request(self, actor: Actor, request: AnalysisRequest) -> bool:
        seen = relations_seen(actor, Kind.REQUEST)
        if not seen:
            return False
        directory = self.directory()
        # The request in its own right (before any sample is registered): the relations of its own row,
        # every one but those that only a sample's referral or share can give.
        own_right = [r for r in Relation if r not in (Relation.REFERRED, Relation.SHARED)]
        clauses = [self._relation(actor, r, directory, of_sample=False) for r in own_right if r in seen]
        if clauses:
            alone = select(RQ.id).where(RQ.id == request.id, or_(*clauses))
            if self.session.execute(alone).first() is not None:
                return True
        through_sample = (
            select(S.id)
            .select_from(orm.samples.join(orm.analysis_requests, RQ.id == S.request_id))
            .where(RQ.id == request.id, self._visible(actor, Kind.REQUEST))
        )
        return self.session.execute(through_sample.limit(1)).first() is not None

    def releases_for(self, request_id: int) -> Sequence[DeclarationRelease]:
        r = orm.declaration_releases.c
        return self.session.scalars(
            select(DeclarationRelease).where(r.request_id == request_id).order_by(r.id)
        ).all()

    def _declaration_number_seen(self, actor: Actor) -> ColumnElement[bool]:
        """SQL twin of domain.access.declaration_fields_seen for the declaration number: the request is of
        the actor's administration, or its sender released the number to it. A search on the number must
        not let another administration's laboratory probe for declarations it cannot read."""
        viewer = self.directory().administration_of.get(actor.org_code)
        if viewer is None:
            return false()
        rel = orm.declaration_releases.c
        released = exists().where(
            rel.request_id == RQ.id,
            rel.field_name == "declaration_number",
            rel.administration_code == viewer,
        )
        return or_(RQ.administration_code == viewer, released)

    def joint_analysis(self, joint_analysis_id: int) -> JointAnalysis | None:
        return self.session.get(JointAnalysis, joint_analysis_id)

    def joint_analyses(self, actor: Actor) -> Sequence[JointAnalysis]:
        return joint_tables.visible_joint_analyses(self.session, actor, self.directory())

    def queue(self, actor: Actor, lab_code: str, flt: QueueFilter) -> tuple[list[QueueRow], int]:
        # Staff looking at their own laboratory's queue see it all by definition.
        own = lab_code == actor.org_code and actor.roles & LAB_STAFF
        visible = None if own else self._visible(actor)
        return list_queries.queue_page(
            self.session, lab_code, visible, lambda: self._declaration_number_seen(actor), flt
        )

    def requests_of(
        self,
        requester_id: int,
        limit: int,
        offset: int,
        org_code: str | None = None,
        flt: RequestFilter | None = None,
    ) -> tuple[list[AnalysisRequest], int]:
        flt = flt or RequestFilter()
        return list_queries.requests_page(self.session, requester_id, limit, offset, org_code, flt)

    def referred_out(
        self, actor: Actor, lab_code: str, flt: ReferredOutFilter
    ) -> tuple[list[ReferredOutRow], int]:
        seen = self._declaration_number_seen(actor)
        return list_queries.referred_out_page(self.session, self._visible(actor), seen, lab_code, flt)

    def referrals_between(self, lab_code: str, outgoing: bool) -> Sequence[Referral]:
        col = orm.referrals.c.from_lab if outgoing else orm.referrals.c.to_lab
        q = select(Referral).where(col == lab_code).order_by(orm.referrals.c.id.desc()).limit(200)
        return self.session.scalars(q).all()

    # -- read side of the dashboard --------------------------------------------------------
    def requests_without_samples(self, lab_code: str, limit: int) -> list[AnalysisRequest]:
        q = (
            select(AnalysisRequest)
            .where(RQ.lab_code == lab_code, ~exists().where(S.request_id == RQ.id))
            .order_by(RQ.due_date, RQ.id)
            .limit(limit)
        )
        return list(self.session.scalars(q).all())

    def dashboard_rows(self, lab_codes: Collection[str] | None) -> list[DashboardRow]:
        q = select(
            S.id,
            S.lab_code,
            S.state,
            S.registered_at,
            S.approved_at,
            RQ.due_date,
            RQ.declared_hs,
            RQ.origin_country,
        ).select_from(orm.samples.join(orm.analysis_requests, RQ.id == S.request_id))
        if lab_codes is not None:
            q = q.where(S.lab_code.in_(sorted(lab_codes)))
        return [DashboardRow(*row) for row in self.session.execute(q)]

    def referral_pairs(self) -> list[tuple[str, str]]:
        r = orm.referrals.c
        return [(a, b) for a, b in self.session.execute(select(r.from_lab, r.to_lab))]

    def released_results(self, sample_ids: Sequence[int]) -> list[ReleasedResult]:
        if not sample_ids:
            return []
        t, r = orm.tests.c, orm.results.c
        released = [State.APPROVED.value, State.REPORTED.value, State.ARCHIVED.value]
        q = (
            select(t.sample_id, r.name, r.value, r.unit, r.expanded_uncertainty, r.kind, r.text_value)
            .select_from(orm.results.join(orm.tests, t.id == r.test_id))
            .where(t.sample_id.in_(list(sample_ids)), t.state.in_(released))
        )
        return [
            ReleasedResult(
                sid,
                name,
                None if v is None else str(v),
                unit,
                None if u is None else str(u),
                getattr(kind, "value", kind) or "quantity",
                text or "",
            )
            for sid, name, v, unit, u, kind, text in self.session.execute(q)
        ]

    # -- numbering, nomenclature, audit, sessions ---------------------------------------------
    def next_number(self, name: str) -> int:
        if self.session.get_bind().dialect.name == "postgresql":
            return number_sequences.next_value(self.session.connection(), name)
        # SQLite has one writer at a time anyway: the counter's row in `sequences`, gap-free.
        stmt = (
            sqlite.insert(orm.sequences)
            .values(name=name, value=1)
            .on_conflict_do_update(index_elements=["name"], set_={"value": orm.sequences.c.value + 1})
        )
        return int(self.session.execute(stmt.returning(orm.sequences.c.value)).scalar_one())

    def heading_exists(self, code: str) -> bool | None:
        conn = self.session.connection()
        if not hs_store.is_loaded(conn):
            return None
        return hs_store.get_node(conn, code) is not None

    def audit_chain(self) -> Iterator[AuditRecord]:
        return read_chain(self.session)

    def audit_for(self, entity: str, entity_id: str) -> list[AuditRecord]:
        a = orm.audit_entries.c
        q = select(orm.audit_entries).where(a.entity == entity, a.entity_id == entity_id).order_by(a.seq)
        return [AuditRecord(**dict(r)) for r in self.session.execute(q).mappings()]

    def session_by_token(self, token_hash: str) -> UserSession | None:
        q = select(UserSession).where(orm.sessions.c.token_hash == token_hash)
        return self.session.scalars(q).first()

    def user_session(self, session_id: int) -> UserSession | None:
        return self.session.get(UserSession, session_id)

    def sessions_of(
        self, user_id: int, *, open_only: bool = False, limit: int | None = 100
    ) -> Sequence[UserSession]:
        t = orm.sessions.c
        q = select(UserSession).where(t.user_id == user_id)
        if open_only:
            q = q.where(t.revoked_at.is_(None))
        return self.session.scalars(q.order_by(t.created_at.desc(), t.id.desc()).limit(limit)).all()

    def lock_sign_in(self, username: str) -> None:
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(
                text("SELECT pg_advisory_xact_lock(:space, hashtext(:name))"),
                {"space": SIGN_IN_LOCK_SPACE, "name": username},
            )
        else:
            # SQLite has one writer at a time: a write that changes nothing takes its lock for this
            # transaction (every sign-in waits its turn, which an embedded deployment can afford).
            self.session.execute(
                update(orm.sequences)
                .where(orm.sequences.c.name == "sign-in")
                .values(value=orm.sequences.c.value)
            )

    def sign_in_events(
        self,
        since: datetime,
        until: datetime,
        outcomes: Sequence[str],
        *,
        username: str | None = None,
        address: str | None = None,
    ) -> Sequence[SignInEvent]:
        e = orm.sign_in_events.c
        q = select(SignInEvent).where(e.at >= since, e.at <= until, e.outcome.in_(list(outcomes)))
        if username is not None:
            q = q.where(e.username == username)
        if address is not None:
            q = q.where(e.address == address)
        return self.session.scalars(q.order_by(e.at, e.id)).all()
