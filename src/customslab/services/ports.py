"""Abstract boundaries the services depend on: repositories, file storage, the unit of work.

The SQLAlchemy adapter and the in-memory fakes in tests/unit/fakes.py both implement these.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, BinaryIO, Protocol

from customslab.domain.access import Actor, Directory, Kind
from customslab.domain.audit import AuditCheckpoint, AuditRecord
from customslab.domain.enums import Priority, Reason, ReferralState, State
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
from customslab.domain.quality.report import ReportData
from customslab.services.federation_ports import FederationRepository
from customslab.services.knowledge_ports import KnowledgeIndex
from customslab.services.notification_ports import NotificationRepository
from customslab.services.quality_ports import QualityRepository
from customslab.services.targeting_alert_ports import FirstIdentificationRepository
from customslab.services.targeting_ports import TargetingRepository


@dataclass(frozen=True)
class QueueFilter:
    """What a queue page asks for; every field is optional."""

    states: frozenset[State] | None = None
    priority: Priority | None = None
    reason: Reason | None = None
    due_before: date | None = None
    hs_chapter: str | None = None
    analyst_id: int | None = None
    overdue_on: date | None = None
    text: str | None = None
    sort: str = "due"  # due | priority | registered | reference
    limit: int = 50
    offset: int = 0
    #: The sort's order reversed (registered: oldest first).
    descending: bool = False
    #: Keyset paging: the sort key of the last row already shown (`queue_keys`); the page starts after
    #: it and `offset` is not applied.
    after: tuple[Any, ...] | None = None
    #: Count at most this many rows and one more (None: count them all): a repository returns
    #: min(matching rows, count_limit + 1) as the total, so a total over count_limit means "more".
    count_limit: int | None = None


@dataclass(frozen=True)
class RequestFilter:
    """What a request list asks for besides its page; every field is optional. The natural orders are
    ascending (filed: oldest first), `descending` reverses them; the default is newest first."""

    text: str | None = None
    #: Requests with a sample in this state; `waiting`: requests with no sample registered yet.
    state: State | None = None
    waiting: bool = False
    priority: Priority | None = None
    sort: str = "filed"  # filed | due | reference | priority
    descending: bool = True
    #: The reader's administration: the declaration number is searched only where it may read it.
    reader_administration: str | None = None


@dataclass(frozen=True)
class ReferredOutFilter:
    """What the list of samples a laboratory referred out asks for; the default is newest first."""

    text: str | None = None
    referral_state: ReferralState | None = None
    sample_state: State | None = None
    sort: str = "referred"  # referred | due | reference | to_lab | state
    descending: bool = True
    limit: int = 50
    offset: int = 0


@dataclass
class ReferredOutRow:
    referral: Referral
    sample: Sample
    request: AnalysisRequest


@dataclass
class QueueRow:
    sample: Sample
    request: AnalysisRequest


@dataclass(frozen=True)
class DashboardRow:
    """One sample as the network dashboard counts it."""

    sample_id: int
    lab_code: str
    state: State
    registered_at: datetime
    approved_at: datetime | None
    due_date: date
    declared_hs: str
    origin_country: str


@dataclass(frozen=True)
class ReleasedResult:
    """An approved (or reported) result of a sample, as plain values."""

    sample_id: int
    name: str
    value: str | None
    unit: str
    expanded_uncertainty: str | None
    #: A qualitative result (detection, screening, text, identity) has no value: its outcome is text_value.
    kind: str = "quantity"
    text_value: str = ""


@dataclass
class StoredFile:
    sha256: str
    size: int


class UploadTooLarge(Exception):
    pass


class ReportRenderer(abc.ABC):
    """Turns report data into the issued document and reads the verification code back from one."""

    @abc.abstractmethod
    def render(self, data: ReportData) -> bytes: ...

    @abc.abstractmethod
    def read_code(self, document: bytes) -> str | None:
        """The verification code a document carries, or None when it has none or is unreadable."""


class AuditAnchor(Protocol):
    """The audit chain's signed checkpoints, and the key kept outside the database that vouches for them."""

    def checkpoints(self) -> list[AuditCheckpoint]:
        """Every stored checkpoint, in sequence order (as the database has them: possibly forged)."""
        ...

    def can_verify(self) -> bool:
        """Whether the key is at hand to check signatures with."""
        ...

    def is_authentic(self, checkpoint: AuditCheckpoint) -> bool:
        """Whether the checkpoint carries a valid signature of this deployment's audit key."""
        ...


class FileStore(abc.ABC):
    """Content-addressed storage of raw instrument files."""

    @abc.abstractmethod
    def put(self, stream: BinaryIO, max_bytes: int) -> StoredFile: ...

    @abc.abstractmethod
    def open(self, sha256: str) -> BinaryIO: ...

    @abc.abstractmethod
    def exists(self, sha256: str) -> bool: ...


class Repository(abc.ABC):
    """Every aggregate the case core persists, behind one narrow interface."""

    @abc.abstractmethod
    def add(self, obj: Any) -> None: ...

    @abc.abstractmethod
    def flush(self) -> None: ...

    @abc.abstractmethod
    def org(self, code: str) -> Organisation | None: ...

    @abc.abstractmethod
    def orgs(self) -> Sequence[Organisation]: ...

    @abc.abstractmethod
    def user(self, user_id: int) -> User | None: ...

    @abc.abstractmethod
    def user_by_name(self, username: str) -> User | None: ...

    @abc.abstractmethod
    def users(self, org_code: str | None = None) -> Sequence[User]: ...

    @abc.abstractmethod
    def request(self, request_id: int) -> AnalysisRequest | None: ...

    def add_sample(self, request: AnalysisRequest, sample: Sample) -> None:
        """Put a new sample on the request without reading the samples it holds already (a seizure's
        request holds hundreds): a write costs the same on any request. In memory: its list."""
        request.samples.append(sample)

    def load_samples(self, requests: Sequence[AnalysisRequest]) -> None:
        """Read the samples of all these requests (with their custody and tests) at once, for a page that
        shows them; the mapping leaves them unread. In memory they are there already."""
        return None

    def sample_states(self, requests: Sequence[AnalysisRequest]) -> dict[int, list[State]]:
        """The states of each request's samples, by request id, without loading the samples."""
        return {r.id: [s.state for s in r.samples] for r in requests if r.id is not None}

    def sample_ids(self, request_id: int) -> list[int]:
        """The ids of the request's samples, ascending, without loading the samples."""
        req = self.request(request_id)
        return sorted(s.id for s in (req.samples if req else []) if s.id is not None)

    @abc.abstractmethod
    def sample(self, sample_id: int) -> Sample | None: ...

    @abc.abstractmethod
    def sample_by_lab_id(self, lab_sample_id: str) -> Sample | None: ...

    @abc.abstractmethod
    def test(self, test_id: int) -> AnalysisTest | None: ...

    @abc.abstractmethod
    def attachment(self, attachment_id: int) -> Attachment | None: ...

    @abc.abstractmethod
    def referrals_for(self, sample_id: int) -> Sequence[Referral]: ...

    @abc.abstractmethod
    def referral(self, referral_id: int) -> Referral | None: ...

    @abc.abstractmethod
    def shares_for(self, sample_id: int) -> Sequence[Share]: ...

    @abc.abstractmethod
    def identifications_for(self, test_id: int) -> Sequence[Identification]: ...

    @abc.abstractmethod
    def opinion(self, opinion_id: int) -> ClassificationOpinion | None: ...

    @abc.abstractmethod
    def opinions_for(self, sample_id: int) -> Sequence[ClassificationOpinion]: ...

    def approved_opinions_for(self, sample_ids: Collection[int]) -> list[ClassificationOpinion]:
        """The approved opinions on any of these samples, in one read (a seizure's request holds hundreds
        of samples, most with no approved opinion)."""
        return [o for i in sorted(set(sample_ids)) for o in self.opinions_for(i) if o.state == "approved"]

    @abc.abstractmethod
    def search_opinions(
        self, org_code: str | None, text: str, code_prefix: str, limit: int
    ) -> Sequence[ClassificationOpinion]:
        """Opinions of `org_code` plus every shared precedent (all of them when org_code is None)."""

    @abc.abstractmethod
    def administration(self, code: str) -> Administration | None: ...

    @abc.abstractmethod
    def administrations(self) -> Sequence[Administration]: ...

    @abc.abstractmethod
    def directory(self) -> Directory:
        """Each organisation's administration and parent, as the visibility rules need them."""

    @abc.abstractmethod
    def can_see_sample(self, actor: Actor, sample: Sample, kind: Kind = Kind.SAMPLE) -> bool:
        """The visibility table applied in SQL to one sample (or a record of `kind` hanging from it)."""

    def seen_samples(self, actor: Actor, samples: Sequence[Sample], kind: Kind = Kind.SAMPLE) -> set[int]:
        """The ids of those of `samples` the actor may see (`can_see_sample` for a page of them)."""
        return {s.id for s in samples if s.id is not None and self.can_see_sample(actor, s, kind)}

    @abc.abstractmethod
    def can_see_request(self, actor: Actor, request: AnalysisRequest) -> bool:
        """A request is seen in its own right (mine, own office or laboratory...) or through a seen sample."""

    @abc.abstractmethod
    def releases_for(self, request_id: int) -> Sequence[DeclarationRelease]: ...

    @abc.abstractmethod
    def joint_analysis(self, joint_analysis_id: int) -> JointAnalysis | None: ...

    @abc.abstractmethod
    def joint_analyses(self, actor: Actor) -> Sequence[JointAnalysis]:
        """The joint analyses the visibility table lets the actor see (domain.joint_analysis.joint_holding
        under Kind.JOINT_ANALYSIS), newest first."""

    @abc.abstractmethod
    def queue(self, actor: Actor, lab_code: str, flt: QueueFilter) -> tuple[list[QueueRow], int]: ...

    @abc.abstractmethod
    def requests_of(
        self,
        requester_id: int,
        limit: int,
        offset: int,
        org_code: str | None = None,
        flt: RequestFilter | None = None,
    ) -> tuple[list[AnalysisRequest], int]:
        """Requests the user filed, or, with `org_code`, also those the organisation filed or was sent;
        searched, filtered and sorted by `flt` (newest first without one)."""

    @abc.abstractmethod
    def referred_out(
        self, actor: Actor, lab_code: str, flt: ReferredOutFilter
    ) -> tuple[list[ReferredOutRow], int]:
        """The referrals the laboratory sent, of samples the actor may see, with each sample and its
        request, filtered, sorted and paged by `flt`; and how many match in all."""

    @abc.abstractmethod
    def referrals_between(self, lab_code: str, outgoing: bool) -> Sequence[Referral]: ...

    @abc.abstractmethod
    def requests_without_samples(self, lab_code: str, limit: int) -> list[AnalysisRequest]: ...

    @abc.abstractmethod
    def dashboard_rows(self, lab_codes: Collection[str] | None) -> list[DashboardRow]:
        """Every sample of the given laboratories (of the network when lab_codes is None)."""

    @abc.abstractmethod
    def referral_pairs(self) -> list[tuple[str, str]]: ...

    @abc.abstractmethod
    def released_results(self, sample_ids: Sequence[int]) -> list[ReleasedResult]: ...

    @abc.abstractmethod
    def next_number(self, name: str) -> int: ...

    @abc.abstractmethod
    def heading_exists(self, code: str) -> bool | None:
        """Whether an HS chapter/heading exists; None while no nomenclature is loaded."""

    @abc.abstractmethod
    def audit_chain(self) -> Iterator[AuditRecord]: ...

    @abc.abstractmethod
    def audit_for(self, entity: str, entity_id: str) -> list[AuditRecord]: ...

    # -- sessions and sign-in events (new ones are stored with `add`) ---------------------------
    # Not abstract, so that the in-memory fakes, which do not sign anyone in, need not implement them.
    def session_by_token(self, token_hash: str) -> UserSession | None:
        """The session whose token has this sha256, ended or not."""
        raise NotImplementedError

    def user_session(self, session_id: int) -> UserSession | None:
        raise NotImplementedError

    def sessions_of(
        self, user_id: int, *, open_only: bool = False, limit: int | None = 100
    ) -> Sequence[UserSession]:
        """A user's sessions, newest first (`limit` of them, or all); `open_only`: those not marked ended
        (some may have lapsed since)."""
        raise NotImplementedError

    def lock_sign_in(self, username: str) -> None:
        """Hold back other sign-in attempts on `username` until this transaction ends (where the
        database can; SQLite serialises writers anyway)."""
        raise NotImplementedError

    def sign_in_events(
        self,
        since: datetime,
        until: datetime,
        outcomes: Sequence[str],
        *,
        username: str | None = None,
        address: str | None = None,
    ) -> Sequence[SignInEvent]:
        """Events with one of `outcomes` in [since, until], of a username or an address, oldest first."""
        raise NotImplementedError


@dataclass
class AbstractUnitOfWork(abc.ABC):
    """Context manager; rolls back unless commit() is called."""

    repo: Repository = field(init=False)
    quality: QualityRepository = field(init=False)
    federation: FederationRepository = field(init=False)
    notifications: NotificationRepository = field(init=False)
    knowledge: KnowledgeIndex = field(init=False)
    targeting: TargetingRepository = field(init=False)
    first_identifications: FirstIdentificationRepository = field(init=False)
    files: FileStore = field(init=False)
    reports: ReportRenderer = field(init=False)
    clock: Callable[[], datetime] = field(init=False)

    def __enter__(self) -> AbstractUnitOfWork:
        return self

    def __exit__(self, *args: object) -> None:
        self.rollback()

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...

    @abc.abstractmethod
    def act_as(self, actor: str, reason: str | None = None) -> None:
        """Name who is acting (and why) for the audit trail of what this unit of work writes."""
