"""In-memory fakes of the repository, file store and unit of work, for fast service tests."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any, BinaryIO, TypeVar

from customslab.domain.access import Actor, Directory, Kind, can_see, sample_holding
from customslab.domain.audit import AuditRecord
from customslab.domain.enums import OPEN_STATES, State
from customslab.domain.federation import (
    FederatedLink,
    FederationKey,
    InboxMessage,
    OutboxMessage,
    OutboxState,
    Partner,
    ReceivedReport,
    Refusal,
    SharedCopy,
    SharedKind,
)
from customslab.domain.joint_analysis import JointAnalysis, joint_holding
from customslab.domain.model import (
    Administration,
    AnalysisRequest,
    AnalysisTest,
    Attachment,
    ClassificationOpinion,
    DeclarationRelease,
    Identification,
    Notification,
    Organisation,
    Referral,
    Sample,
    Share,
    User,
)
from customslab.services.federation_ports import FederationRepository
from customslab.services.notification_ports import DueWork, MailDue, NotificationRepository, due_work_key
from customslab.services.ports import (
    AbstractUnitOfWork,
    DashboardRow,
    FileStore,
    QueueFilter,
    QueueRow,
    ReferredOutFilter,
    ReferredOutRow,
    ReleasedResult,
    ReportRenderer,
    Repository,
    RequestFilter,
    StoredFile,
    UploadTooLarge,
)
from customslab.services.quality_ports import E, QualityRepository
from tests.unit.fake_knowledge import FakeKnowledgeIndex
from tests.unit.fake_targeting import FakeTargetingRepository
from tests.unit.fake_targeting_alerts import FakeFirstIdentificationRepository

F = TypeVar("F")


class FakeReportRenderer(ReportRenderer):
    """A plain-text 'document' that carries the verification code, for service tests without PDFs."""

    def render(self, data: Any) -> bytes:
        return f"report {data.report_id} v{data.version} sha256:{data.verification_code()}".encode()

    def read_code(self, document: bytes) -> str | None:
        text = document.decode("utf-8", "replace")
        return text.rsplit("sha256:", 1)[1] if "sha256:" in text else None


class FakeFileStore(FileStore):
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, stream: BinaryIO, max_bytes: int) -> StoredFile:
        data = stream.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise UploadTooLarge(f"the file is larger than the limit of {max_bytes} bytes")
        sha = hashlib.sha256(data).hexdigest()
        self.blobs[sha] = data
        return StoredFile(sha, len(data))

    def open(self, sha256: str) -> BinaryIO:
        import io

        return io.BytesIO(self.blobs[sha256])

    def exists(self, sha256: str) -> bool:
        return sha256 in self.blobs


class FakeRepository(Repository):
    def __init__(self) -> None:
        self.objects: list[Any] = []
        self.ids = itertools.count(1)
        self.numbers: dict[str, int] = {}
        self.tokens: dict[str, tuple[int, datetime]] = {}
        self.headings: set[str] | None = None

    def _all(self, cls: type[Any]) -> list[Any]:
        return [o for o in self.objects if isinstance(o, cls)]

    def add(self, obj: Any) -> None:
        self.objects.append(obj)
        self.flush()

    def flush(self) -> None:
        # Children reached through collections get ids and foreign keys, as the ORM would.
        for req in self._all(AnalysisRequest):
            for s in req.samples:
                if s not in self.objects:
                    self.objects.append(s)
                s.request_id = req.id if req.id is not None else s.request_id
        for obj in list(self.objects):
            if getattr(obj, "id", 0) is None:
                obj.id = next(self.ids)
        for req in self._all(AnalysisRequest):
            for s in req.samples:
                s.request_id = req.id
        for s in self._all(Sample):
            for child in [*s.tests, *s.custody]:
                if child not in self.objects:
                    child.id = next(self.ids)
                    self.objects.append(child)
                child.sample_id = s.id
        for t in self._all(AnalysisTest):
            for child in [*t.results, *t.attachments]:
                if child not in self.objects:
                    child.id = next(self.ids)
                    self.objects.append(child)
                child.test_id = t.id
        for ja in self._all(JointAnalysis):
            for participant in ja.participants:
                if participant not in self.objects:
                    participant.id = next(self.ids)
                    self.objects.append(participant)
                participant.joint_analysis_id = ja.id

    def _by_id(self, cls: type[Any], ident: int) -> Any:
        return next((o for o in self._all(cls) if o.id == ident), None)

    def org(self, code: str) -> Organisation | None:
        return next((o for o in self._all(Organisation) if o.code == code), None)

    def orgs(self) -> Sequence[Organisation]:
        return self._all(Organisation)

    def user(self, user_id: int) -> User | None:
        return self._by_id(User, user_id)  # type: ignore[no-any-return]

    def user_by_name(self, username: str) -> User | None:
        return next((u for u in self._all(User) if u.username == username), None)

    def users(self, org_code: str | None = None) -> Sequence[User]:
        return [u for u in self._all(User) if org_code in (None, u.org_code)]

    def request(self, request_id: int) -> AnalysisRequest | None:
        return self._by_id(AnalysisRequest, request_id)  # type: ignore[no-any-return]

    def sample(self, sample_id: int) -> Sample | None:
        return self._by_id(Sample, sample_id)  # type: ignore[no-any-return]

    def sample_by_lab_id(self, lab_sample_id: str) -> Sample | None:
        return next((s for s in self._all(Sample) if s.lab_sample_id == lab_sample_id), None)

    def test(self, test_id: int) -> AnalysisTest | None:
        return self._by_id(AnalysisTest, test_id)  # type: ignore[no-any-return]

    def attachment(self, attachment_id: int) -> Attachment | None:
        return self._by_id(Attachment, attachment_id)  # type: ignore[no-any-return]

    def referrals_for(self, sample_id: int) -> Sequence[Referral]:
        return [r for r in self._all(Referral) if r.sample_id == sample_id]

    def referral(self, referral_id: int) -> Referral | None:
        return self._by_id(Referral, referral_id)  # type: ignore[no-any-return]

    def shares_for(self, sample_id: int) -> Sequence[Share]:
        return [s for s in self._all(Share) if s.sample_id == sample_id]

    def identifications_for(self, test_id: int) -> Sequence[Identification]:
        return [i for i in self._all(Identification) if i.test_id == test_id]

    def opinion(self, opinion_id: int) -> ClassificationOpinion | None:
        return self._by_id(ClassificationOpinion, opinion_id)  # type: ignore[no-any-return]

    def opinions_for(self, sample_id: int) -> Sequence[ClassificationOpinion]:
        return [o for o in self._all(ClassificationOpinion) if o.sample_id == sample_id]

    def search_opinions(
        self, org_code: str | None, text: str, code_prefix: str, limit: int
    ) -> Sequence[ClassificationOpinion]:
        found = [
            o
            for o in self._all(ClassificationOpinion)
            if (org_code is None or o.lab_code == org_code or o.shared)
            and (o.determined_code.startswith(code_prefix) or o.declared_code.startswith(code_prefix))
            and all(w in (o.reasoning + " " + o.goods_description).lower() for w in text.lower().split())
        ]
        return list(reversed(found))[:limit]

    def administration(self, code: str) -> Administration | None:
        return next((a for a in self._all(Administration) if a.code == code), None)

    def administrations(self) -> Sequence[Administration]:
        return self._all(Administration)

    def directory(self) -> Directory:
        orgs = self._all(Organisation)
        return Directory(
            {o.code: o.administration_code or o.country for o in orgs}, {o.code: o.parent_code for o in orgs}
        )

    def can_see_sample(self, actor: Actor, sample: Sample, kind: Kind = Kind.SAMPLE) -> bool:
        req = self.request(sample.request_id or 0)
        assert req is not None
        refs = self.referrals_for(sample.id or 0)
        holding = sample_holding(
            sample.lab_code,
            req.lab_code,
            req.office_code,
            req.requester_id,
            [x for r in refs for x in (r.from_lab, r.to_lab)],
            [s.org_code for s in self.shares_for(sample.id or 0)],
        )
        return can_see(actor, kind, self.directory(), holding)

    def can_see_request(self, actor: Actor, request: AnalysisRequest) -> bool:
        alone = sample_holding(request.lab_code, request.lab_code, request.office_code, request.requester_id)
        if can_see(actor, Kind.REQUEST, self.directory(), alone):
            return True
        return any(self.can_see_sample(actor, s, Kind.REQUEST) for s in request.samples)

    def releases_for(self, request_id: int) -> Sequence[DeclarationRelease]:
        return [r for r in self._all(DeclarationRelease) if r.request_id == request_id]

    def joint_analysis(self, joint_analysis_id: int) -> JointAnalysis | None:
        return self._by_id(JointAnalysis, joint_analysis_id)  # type: ignore[no-any-return]

    def joint_analyses(self, actor: Actor) -> Sequence[JointAnalysis]:
        directory = self.directory()
        seen = [
            ja
            for ja in self._all(JointAnalysis)
            if can_see(actor, Kind.JOINT_ANALYSIS, directory, joint_holding(ja, directory))
        ]
        return sorted(seen, key=lambda ja: (ja.opened_at, ja.id), reverse=True)

    def queue(self, actor: Actor, lab_code: str, flt: QueueFilter) -> tuple[list[QueueRow], int]:
        states = flt.states if flt.states is not None else OPEN_STATES
        rows = []
        for s in self._all(Sample):
            req = self.request(s.request_id or 0)
            assert req is not None
            if s.lab_code == lab_code and s.state in states and self.can_see_sample(actor, s):
                if flt.priority and req.priority is not flt.priority:
                    continue
                rows.append(QueueRow(s, req))
        rows.sort(key=lambda r: (r.request.due_date, r.sample.id))
        assert flt.after is None, "the fake pages by offset only; keyset pages are tested on the databases"
        total = len(rows) if flt.count_limit is None else min(len(rows), flt.count_limit + 1)
        return rows[flt.offset : flt.offset + flt.limit], total

    def requests_of(
        self,
        requester_id: int,
        limit: int,
        offset: int,
        org_code: str | None = None,
        flt: RequestFilter | None = None,
    ) -> tuple[list[AnalysisRequest], int]:
        # The priority filter only: the SQL adapter's searches and orders are tested against the database.
        mine = [
            r
            for r in self._all(AnalysisRequest)
            if (r.requester_id == requester_id or org_code in (r.office_code, r.lab_code))
            and (flt is None or flt.priority in (None, r.priority))
        ]
        return mine[offset : offset + limit], len(mine)

    def referred_out(
        self, actor: Actor, lab_code: str, flt: ReferredOutFilter
    ) -> tuple[list[ReferredOutRow], int]:
        rows = []
        for r in reversed(self._all(Referral)):
            sample = self.sample(r.sample_id)
            req = self.request(sample.request_id or 0) if sample else None
            if r.from_lab == lab_code and sample and req and self.can_see_sample(actor, sample):
                rows.append(ReferredOutRow(r, sample, req))
        return rows[flt.offset : flt.offset + flt.limit], len(rows)

    def referrals_between(self, lab_code: str, outgoing: bool) -> Sequence[Referral]:
        return [r for r in self._all(Referral) if (r.from_lab if outgoing else r.to_lab) == lab_code]

    def requests_without_samples(self, lab_code: str, limit: int) -> list[AnalysisRequest]:
        return [r for r in self._all(AnalysisRequest) if r.lab_code == lab_code and not r.samples][:limit]

    def dashboard_rows(self, lab_codes: Collection[str] | None) -> list[DashboardRow]:
        rows = []
        for s in self._all(Sample):
            req = self.request(s.request_id or 0)
            assert req is not None and s.id is not None
            if lab_codes is None or s.lab_code in lab_codes:
                rows.append(
                    DashboardRow(
                        s.id,
                        s.lab_code,
                        s.state,
                        s.registered_at,
                        s.approved_at,
                        req.due_date,
                        req.declared_hs,
                        req.origin_country,
                    )
                )
        return rows

    def referral_pairs(self) -> list[tuple[str, str]]:
        return [(r.from_lab, r.to_lab) for r in self._all(Referral)]

    def released_results(self, sample_ids: Sequence[int]) -> list[ReleasedResult]:
        released = {State.APPROVED, State.REPORTED, State.ARCHIVED}
        return [
            ReleasedResult(
                t.sample_id or 0,
                r.name,
                None if r.value is None else str(r.value),
                r.unit,
                None if r.expanded_uncertainty is None else str(r.expanded_uncertainty),
            )
            for t in self._all(AnalysisTest)
            if t.sample_id in set(sample_ids) and t.state in released
            for r in t.results
        ]

    def next_number(self, name: str) -> int:
        self.numbers[name] = self.numbers.get(name, 0) + 1
        return self.numbers[name]

    def heading_exists(self, code: str) -> bool | None:
        return None if self.headings is None else code in self.headings

    def audit_chain(self) -> Iterator[AuditRecord]:
        return iter(())

    def audit_for(self, entity: str, entity_id: str) -> list[AuditRecord]:
        return []

    def token_user(self, token_hash: str, now: datetime) -> User | None:
        found = self.tokens.get(token_hash)
        return self.user(found[0]) if found and found[1] > now else None

    def add_token(self, token_hash: str, user_id: int, now: datetime, expires_at: datetime) -> None:
        self.tokens[token_hash] = (user_id, expires_at)

    def revoke_token(self, token_hash: str, now: datetime) -> None:
        self.tokens.pop(token_hash, None)


class FakeQualityRepository(QualityRepository):
    """Quality entries in lists, ids from one counter, as the SQL adapter would give them."""

    def __init__(self) -> None:
        self.entries: list[Any] = []
        self.ids = itertools.count(1)

    def add(self, entry: object) -> None:
        entry.id = next(self.ids)  # type: ignore[attr-defined]
        self.entries.append(entry)

    def get(self, kind: type[E], entry_id: int) -> E | None:
        return next((e for e in self.entries if isinstance(e, kind) and e.id == entry_id), None)

    def find(self, kind: type[E], **equal: object) -> list[E]:
        return [
            e
            for e in self.entries
            if isinstance(e, kind) and all(getattr(e, k) == v for k, v in equal.items())
        ]


class FakeFederationRepository(FederationRepository):
    """Federation records in lists, as the SQL repository keeps them in tables (no row locks)."""

    def __init__(self) -> None:
        self.objects: list[Any] = []
        self.ids = itertools.count(1)

    def _all(self, cls: type[F]) -> list[F]:
        return [o for o in self.objects if isinstance(o, cls)]

    def add(self, obj: object) -> None:
        if getattr(obj, "id", 0) is None:
            obj.id = next(self.ids)  # type: ignore[attr-defined]
        self.objects.append(obj)

    def partner(self, administration_code: str) -> Partner | None:
        return next((p for p in self._all(Partner) if p.administration_code == administration_code), None)

    def partners(self) -> Sequence[Partner]:
        return sorted(self._all(Partner), key=lambda p: p.administration_code)

    def keys_of(self, administration_code: str) -> Sequence[FederationKey]:
        keys = [k for k in self._all(FederationKey) if k.administration_code == administration_code]
        return sorted(keys, key=lambda k: (k.valid_from, k.id or 0))

    def next_seq(self, partner_code: str, stream: str) -> int:
        seqs = [
            m.seq for m in self._all(OutboxMessage) if (m.partner_code, m.stream) == (partner_code, stream)
        ]
        return max(seqs, default=0) + 1

    def outbox_message(self, message_pk: int) -> OutboxMessage | None:
        return next((m for m in self._all(OutboxMessage) if m.id == message_pk), None)

    def outbox(
        self,
        state: OutboxState | None,
        partner_code: str | None,
        limit: int,
        offset: int,
        *,
        text: str | None = None,
        oldest_first: bool = False,
    ) -> tuple[list[OutboxMessage], int]:
        found = [
            m
            for m in reversed(self._all(OutboxMessage))
            if state in (None, m.state) and partner_code in (None, m.partner_code)
        ]
        return found[offset : offset + limit], len(found)

    def claim_due(self, now: datetime, limit: int, exclude: Collection[str] = ()) -> list[OutboxMessage]:
        waiting = [m for m in self._all(OutboxMessage) if m.state is not OutboxState.DELIVERED]
        active = {p.administration_code for p in self._all(Partner) if p.active}
        heads = [
            m
            for m in waiting
            if m.state is OutboxState.PENDING
            and m.next_attempt_at <= now
            and m.partner_code in active
            and m.partner_code not in exclude
            and not any(
                o.partner_code == m.partner_code and o.stream == m.stream and o.seq < m.seq for o in waiting
            )
        ]
        return sorted(heads, key=lambda m: (m.next_attempt_at, m.id or 0))[:limit]

    def wake(self, partner_code: str, now: datetime) -> int:
        woken = [
            m
            for m in self._all(OutboxMessage)
            if m.partner_code == partner_code
            and m.state is OutboxState.PENDING
            and m.next_attempt_at > now
            and (m.attempts == 0 or m.last_error.startswith("no answer"))
        ]
        for m in woken:
            m.next_attempt_at = now
        return len(woken)

    def outbox_counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in OutboxState}
        for m in self._all(OutboxMessage):
            counts[m.state.value] += 1
        return counts

    def inbox_message(self, message_id: str) -> InboxMessage | None:
        return next((m for m in self._all(InboxMessage) if m.message_id == message_id), None)

    def last_seq(self, partner_code: str, stream: str) -> int:
        seqs = [
            m.seq for m in self._all(InboxMessage) if (m.partner_code, m.stream) == (partner_code, stream)
        ]
        return max(seqs, default=0)

    def inbox(self, limit: int, offset: int) -> tuple[list[InboxMessage], int]:
        found = list(reversed(self._all(InboxMessage)))
        return found[offset : offset + limit], len(found)

    def refusals(self, limit: int) -> list[Refusal]:
        return list(reversed(self._all(Refusal)))[:limit]

    def link(self, partner_code: str, direction: str, remote_ref: str) -> FederatedLink | None:
        wanted = (partner_code, direction, remote_ref)
        return next(
            (
                lk
                for lk in self._all(FederatedLink)
                if (lk.partner_code, lk.direction, lk.remote_ref) == wanted
            ),
            None,
        )

    def links_for_sample(self, sample_id: int) -> Sequence[FederatedLink]:
        return [lk for lk in self._all(FederatedLink) if lk.sample_id == sample_id]

    def links_for_request(self, request_id: int) -> Sequence[FederatedLink]:
        return [lk for lk in self._all(FederatedLink) if lk.request_id == request_id]

    def received_reports(self, sample_ids: Sequence[int]) -> list[ReceivedReport]:
        return [r for r in self._all(ReceivedReport) if r.sample_id in sample_ids]

    def received_report_by_code(
        self, verification_code: str, pdf_sha256: str | None = None
    ) -> ReceivedReport | None:
        found = [r for r in self._all(ReceivedReport) if r.verification_code == verification_code]
        exact = [r for r in found if r.pdf_sha256 == pdf_sha256]
        return (exact or found)[-1] if found else None

    def shared_copies(
        self,
        kind: SharedKind | None,
        limit: int,
        offset: int,
        *,
        text: str | None = None,
        order: str = "received",
        descending: bool = True,
    ) -> tuple[list[SharedCopy], int]:
        found = [c for c in reversed(self._all(SharedCopy)) if kind in (None, c.kind)]
        return found[offset : offset + limit], len(found)

    def shared_copy(self, copy_id: int) -> SharedCopy | None:
        return next((c for c in self._all(SharedCopy) if c.id == copy_id), None)

    def shared_copy_of(
        self, partner_code: str, kind: SharedKind, origin_ref: str, version: str
    ) -> SharedCopy | None:
        wanted = (partner_code, kind, origin_ref, version)
        return next(
            (c for c in self._all(SharedCopy) if (c.partner_code, c.kind, c.origin_ref, c.version) == wanted),
            None,
        )


class FakeNotificationRepository(NotificationRepository):
    """Notifications in a list; the tests, samples, requests and users come from the case repository."""

    def __init__(self, repo: FakeRepository) -> None:
        self.repo = repo
        self.items: list[Notification] = []
        self.ids = itertools.count(1)

    def add(self, notification: Notification) -> bool:
        if self.of_key(notification.user_id, notification.key) is not None:
            return False
        notification.id = next(self.ids)
        self.items.append(notification)
        return True

    def of_user(self, user_id: int, notification_id: int) -> Notification | None:
        return next((n for n in self.items if (n.id, n.user_id) == (notification_id, user_id)), None)

    def of_key(self, user_id: int, key: str) -> Notification | None:
        return next((n for n in self.items if (n.user_id, n.key) == (user_id, key)), None)

    def page(
        self, user_id: int, unread_only: bool, limit: int, offset: int
    ) -> tuple[list[Notification], int]:
        mine = [n for n in self.items if n.user_id == user_id and not (unread_only and n.read_at)]
        mine.sort(key=lambda n: (n.read_at is not None, -n.created_at.timestamp(), -(n.id or 0)))
        return mine[offset : offset + limit], len(mine)

    def unread_count(self, user_id: int) -> int:
        return sum(1 for n in self.items if n.user_id == user_id and n.read_at is None)

    def mark_all_read(self, user_id: int, at: datetime) -> int:
        unread = [n for n in self.items if n.user_id == user_id and n.read_at is None]
        for n in unread:
            n.read_at = at
        return len(unread)

    def due_work(self, first_day: date, last_day: date) -> list[DueWork]:
        waiting = (State.REGISTERED, State.RECEIVED, State.IN_ANALYSIS, State.RETEST)
        found = []
        for t in self.repo._all(AnalysisTest):
            sample = self.repo.sample(t.sample_id or 0)
            req = self.repo.request(sample.request_id or 0) if sample else None
            if t.analyst_id is None or t.state not in waiting or sample is None or req is None:
                continue
            notified = self.of_key(t.analyst_id, due_work_key(t.id or 0, req.due_date))
            if sample.state in OPEN_STATES and first_day <= req.due_date <= last_day and not notified:
                assert t.id is not None and sample.id is not None
                found.append(DueWork(t.id, t.analyst_id, sample.id, sample.lab_sample_id, req.due_date))
        return sorted(found, key=lambda w: (w.due_date, w.test_id))

    def due_for_email(self, since: datetime, limit: int) -> list[MailDue]:
        due = []
        for n in self.items:
            user = self.repo.user(n.user_id)
            if n.emailed_at or n.read_at or n.created_at < since or user is None:
                continue
            if user.email and user.active:
                due.append(MailDue(n, user.email, user.full_name))
        return due[:limit]

    def stamp_emailed(self, notification_ids: Sequence[int], at: datetime) -> None:
        for n in self.items:
            if n.id in notification_ids:
                n.emailed_at = at


class FakeUnitOfWork(AbstractUnitOfWork):
    """Shares one repository across uses, like a database would; records commits."""

    def __init__(
        self,
        repo: FakeRepository | None = None,
        now: datetime | None = None,
        quality: FakeQualityRepository | None = None,
    ) -> None:
        self.repo = repo or FakeRepository()
        self.quality = quality or FakeQualityRepository()
        self.federation = FakeFederationRepository()
        self.notifications = FakeNotificationRepository(self.repo)
        self.knowledge = FakeKnowledgeIndex()
        self.targeting = FakeTargetingRepository(
            lambda: [o.sample_id for o in self.repo._all(ClassificationOpinion) if o.state == "approved"]
        )
        self.first_identifications = FakeFirstIdentificationRepository()
        self.files = FakeFileStore()
        self.reports = FakeReportRenderer()
        self.now = now or datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
        self.clock = lambda: self.now
        self.committed = 0
        self.actor = "system"

    def commit(self) -> None:
        self.committed += 1

    def rollback(self) -> None:
        pass

    def act_as(self, actor: str, reason: str | None = None) -> None:
        self.actor = actor
