"""Entities of the case-management core: organisations, users, requests, samples, tests, results.

These are plain dataclasses; the storage adapter maps them imperatively, so nothing here knows
about SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from customslab.domain.enums import (
    OPEN_STATES,
    CustodyKind,
    NotificationKind,
    OrgKind,
    Priority,
    Reason,
    ReferralKind,
    ReferralState,
    ResultKind,
    Role,
    State,
)
from customslab.domain.errors import InvalidTransition, ValidationFailed
from customslab.domain.workflow import SAMPLE_TRANSITIONS, TEST_TRANSITIONS, check_transition


@dataclass(eq=False)
class ContactPoint:
    """A person to contact at an organisation; deactivated, never deleted, so its position is its key."""

    name: str
    role: str
    email: str = ""
    phone: str = ""
    active: bool = True


#: The declaration data of a request: what stays inside its administration unless released, field by field.
DECLARATION_FIELDS = (
    "declaration_number",
    "item_number",
    "importer",
    "declarant",
    "declared_value",
    "currency",
    "question",
)


@dataclass(eq=False)
class Administration:
    """A customs administration (a country or customs territory) of the network.

    Every organisation belongs to exactly one; declaration data stays inside it unless released. `home`
    marks the administration this server belongs to."""

    code: str
    name: str
    country: str  # ISO 3166-1 alpha-2
    has_laboratories: bool = True
    home: bool = False
    active: bool = True


@dataclass(eq=False)
class Organisation:
    """A laboratory, a member administration's focal point or a customs office of the network."""

    code: str
    name: str
    kind: OrgKind
    country: str
    address: str = ""
    parent_code: str | None = None
    contact_points: list[ContactPoint] = field(default_factory=list)
    administration_code: str = ""
    #: The WCO region of a laboratory designated Regional Customs Laboratory ("" when it is not one).
    rcl_region: str = ""
    active: bool = True

    @property
    def is_laboratory(self) -> bool:
        return self.kind.is_laboratory

    @property
    def is_rcl(self) -> bool:
        return self.kind is OrgKind.RCL or bool(self.rcl_region)

    def check_roles(self, roles: frozenset[Role]) -> None:
        """Refuse roles the organisation cannot hold: the visibility table gives a network coordinator the
        network's figures and an RCL's referrals, so only an RCL has one; a focal point speaks for a
        member administration without a laboratory; analysts, reviewers and managers work in one."""
        misfits = []
        if Role.NETWORK_COORDINATOR in roles and not self.is_rcl:
            misfits.append("a network coordinator works at a Regional Customs Laboratory")
        if Role.FOCAL_POINT in roles and self.kind is not OrgKind.MEMBER:
            misfits.append("a focal point belongs to a member administration without a laboratory")
        if roles & {Role.ANALYST, Role.REVIEWER, Role.LAB_MANAGER} and not self.is_laboratory:
            misfits.append("analysts, reviewers and laboratory managers work in a laboratory")
        if misfits:
            raise ValidationFailed(
                f"{self.code} cannot hold these roles: " + "; ".join(misfits) + ".", "roles"
            )


@dataclass(eq=False)
class User:
    username: str
    full_name: str
    org_code: str
    roles: frozenset[Role]
    email: str = ""
    password_hash: str = ""
    active: bool = True
    id: int | None = None


@dataclass(eq=False)
class UserSession:
    """A signed-in session of the API (bearer token) or the pages (cookie); only the token's hash is kept.

    It ends at `expires_at` (absolute lifetime), after an idle period since `last_seen_at`, or when
    revoked (sign-out, password change, an administrator)."""

    token_hash: str
    user_id: int
    kind: str  # "api" | "web"
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    ended_reason: str = ""
    address: str = ""
    user_agent: str = ""
    id: int | None = None


@dataclass(eq=False)
class SignInEvent:
    """One sign-in attempt's outcome ("failed", "succeeded", "locked"...), counted by the throttle."""

    at: datetime
    username: str
    address: str
    outcome: str
    id: int | None = None


@dataclass(eq=False)
class CustodyEvent:
    """One link of the chain of custody; appended, never edited."""

    kind: CustodyKind
    at: datetime
    by_user_id: int
    from_party: str = ""
    to_party: str = ""
    location: str = ""
    seal_number: str = ""
    seal_intact: bool | None = None
    note: str = ""
    id: int | None = None
    sample_id: int | None = None


@dataclass(eq=False)
class Attachment:
    """A raw instrument file, stored content-addressed by its sha256."""

    sha256: str
    filename: str
    media_type: str
    size: int
    uploaded_by: int
    uploaded_at: datetime
    id: int | None = None
    test_id: int | None = None


@dataclass(eq=False)
class Result:
    name: str
    value: Decimal | None
    unit: str
    entered_by: int
    entered_at: datetime
    expanded_uncertainty: Decimal | None = None
    coverage_factor: Decimal | None = None
    lod: Decimal | None = None
    loq: Decimal | None = None
    observation: str = ""
    id: int | None = None
    test_id: int | None = None
    equipment_id: int | None = None  # the instrument used (quality records)
    qc_batch_id: int | None = None  # the QC batch the result was measured with
    kind: ResultKind = ResultKind.QUANTITY
    #: A qualitative result's outcome: detected / not_detected, positive / negative, a text, an identity.
    text_value: str = ""
    #: An identity result's evidence: the stored identification (hit list, library version).
    identification_id: int | None = None


@dataclass(eq=False)
class AnalysisTest:
    """A determination on a sample ("test" in ISO/IEC 17025 language)."""

    determination: str
    method_ref: str
    state: State
    created_at: datetime
    analyst_id: int | None = None
    return_reason: str = ""
    approved_by: int | None = None
    approved_at: datetime | None = None
    submitted_at: datetime | None = None
    results: list[Result] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    id: int | None = None
    sample_id: int | None = None
    method_version_id: int | None = None  # a catalogued method version (quality records)

    def move(self, target: State, reason: str | None = None) -> None:
        check_transition("test", TEST_TRANSITIONS, self.state, target, reason)
        self.state = target
        if target is State.RETEST:
            self.return_reason = reason or ""

    @property
    def active(self) -> bool:
        return self.state not in (State.CANCELLED, State.REJECTED)


@dataclass(eq=False)
class Sample:
    lab_sample_id: str
    lab_code: str
    description: str
    quantity: Decimal
    unit: str
    state: State
    registered_at: datetime
    seal_number: str = ""
    condition_on_receipt: str = ""
    storage_location: str = ""
    retention_until: date | None = None
    disposed_at: datetime | None = None
    disposal_record: str = ""
    rejection_reason: str = ""
    received_at: datetime | None = None
    analysis_started_at: datetime | None = None
    submitted_at: datetime | None = None
    approved_at: datetime | None = None
    reported_at: datetime | None = None
    parent_id: int | None = None
    custody: list[CustodyEvent] = field(default_factory=list)
    tests: list[AnalysisTest] = field(default_factory=list)
    id: int | None = None
    request_id: int | None = None
    #: Set when an identity result names a controlled substance: its control entries ("UN 1961 Schedule
    #: I; UN 1988 Table I"), when and by whom; shown to the officer before approval (goods may be held).
    control_mark: str = ""
    control_marked_at: datetime | None = None
    control_marked_by: str = ""

    def move(self, target: State, at: datetime, reason: str | None = None) -> None:
        check_transition("sample", SAMPLE_TRANSITIONS, self.state, target, reason)
        self.state = target
        stamp = {
            State.RECEIVED: "received_at",
            State.IN_ANALYSIS: "analysis_started_at",
            State.TO_BE_REVIEWED: "submitted_at",
            State.APPROVED: "approved_at",
            State.REPORTED: "reported_at",
        }.get(target)
        if stamp and getattr(self, stamp) is None:
            setattr(self, stamp, at)
        if target is State.REJECTED:
            self.rejection_reason = reason or ""

    def record(self, event: CustodyEvent) -> None:
        if self.disposed_at is not None:
            raise InvalidTransition(
                f"Sample {self.lab_sample_id} was disposed of; its custody chain is closed."
            )
        self.custody.append(event)

    def sync_with_tests(self, at: datetime) -> None:
        """Derive the sample's state from its tests: all submitted → review; all approved → approved."""
        active = [t for t in self.tests if t.active]
        if not active:
            return
        states = {t.state for t in active}
        if self.state in (State.IN_ANALYSIS, State.RETEST) and states <= {
            State.TO_BE_REVIEWED,
            State.APPROVED,
        }:
            self.move(State.TO_BE_REVIEWED, at)
        if self.state is State.TO_BE_REVIEWED:
            if states == {State.APPROVED}:
                self.move(State.APPROVED, at)
            elif State.RETEST in states:
                self.move(State.RETEST, at, reason="a test was returned for retest")

    def turnaround(self, now: datetime) -> timedelta | None:
        """Receipt to approval; for open work, receipt to now."""
        if self.received_at is None:
            return None
        end = self.approved_at or (None if self.state in OPEN_STATES else self.reported_at) or now
        return end - self.received_at


@dataclass(eq=False)
class AnalysisRequest:
    """A customs office's request for analysis, with the declaration data."""

    reference: str
    office_code: str
    requester_id: int
    lab_code: str
    declaration_number: str
    item_number: int
    declared_hs: str
    goods_description: str
    origin_country: str
    reason: Reason
    priority: Priority
    due_date: date
    created_at: datetime
    importer: str = ""
    #: The customs broker or agent who lodged the declaration (declaration data, like the importer).
    declarant: str = ""
    declared_value: Decimal | None = None
    currency: str | None = None
    requested_determinations: list[str] = field(default_factory=list)
    question: str = ""
    samples: list[Sample] = field(default_factory=list)
    id: int | None = None
    #: The administration of the filing office: its declaration data stays inside it unless released.
    administration_code: str = ""

    def is_overdue(self, today: date) -> bool:
        return request_overdue(self.due_date, (s.state for s in self.samples), today)


def request_overdue(due_date: date, sample_states: Iterable[State], today: date) -> bool:
    """A request is overdue past its due date while any of its samples is open."""
    return today > due_date and any(state in OPEN_STATES for state in sample_states)


def is_overdue(state: State, due_date: date, today: date) -> bool:
    return state in OPEN_STATES and today > due_date


@dataclass(eq=False)
class Notification:
    """Something that needs a user: shown in their list until read, and e-mailed when SMTP is set up.

    `key` names the event (`test:12:assigned`), so the same event never notifies a user twice."""

    user_id: int
    kind: NotificationKind
    key: str
    subject: str
    link: str
    created_at: datetime
    read_at: datetime | None = None
    emailed_at: datetime | None = None
    id: int | None = None


@dataclass(eq=False)
class Referral:
    """A sample (or sub-sample) sent from one laboratory of the network to another."""

    sample_id: int
    from_lab: str
    to_lab: str
    kind: ReferralKind
    state: ReferralState
    reason: str
    created_by: int
    created_at: datetime
    accepted_at: datetime | None = None
    completed_at: datetime | None = None
    id: int | None = None


def referral_kind_for(source: Organisation, target: Organisation) -> ReferralKind:
    """The network's referral routes; anything else between laboratories is 'other'.

    A central laboratory that is also designated RCL (Japan's, Korea's) receives its own local
    laboratories' samples as their central laboratory and other administrations' as an RCL."""
    if not target.is_laboratory:
        raise ValidationFailed("Samples can only be referred to a laboratory.", field="to_lab")
    same_administration = source.administration_code == target.administration_code
    if source.kind is OrgKind.LOCAL and target.kind is OrgKind.CENTRAL and same_administration:
        return ReferralKind.LOCAL_TO_CENTRAL
    if source.kind is OrgKind.MEMBER and target.is_rcl:
        return ReferralKind.MEMBER_TO_RCL
    if source.kind in (OrgKind.CENTRAL, OrgKind.RCL) and target.is_rcl and not same_administration:
        return ReferralKind.JOINT_ANALYSIS
    if source.kind in (OrgKind.CENTRAL, OrgKind.RCL) and target.kind is OrgKind.RCL:
        return ReferralKind.JOINT_ANALYSIS
    return ReferralKind.OTHER


@dataclass(eq=False)
class DeclarationRelease:
    """One field of a request's declaration data released to another administration (append-only)."""

    request_id: int
    administration_code: str
    field_name: str
    released_by: int
    released_at: datetime
    reason: str = ""
    id: int | None = None


@dataclass(eq=False)
class Share:
    """A sample made visible to another organisation of the network (read only)."""

    sample_id: int
    org_code: str
    shared_by: int
    shared_at: datetime
    note: str = ""
    id: int | None = None


@dataclass(eq=False)
class Identification:
    """A spectral library search stored with a test: the hit list and the library version used."""

    test_id: int
    attachment_sha256: str
    technique: str
    library_id: str
    library_version: str
    hits: list[dict[str, object]]
    created_by: int
    created_at: datetime
    id: int | None = None


@dataclass(eq=False)
class ClassificationOpinion:
    """The laboratory's written HS classification opinion on a sample; a precedent once shared."""

    sample_id: int
    lab_code: str
    declared_code: str
    determined_code: str
    reasoning: str
    references: list[str]
    evaluation: dict[str, object]
    author_id: int
    created_at: datetime
    goods_description: str = ""
    state: str = "draft"  # draft | approved
    reviewer_id: int | None = None
    reviewed_at: datetime | None = None
    shared: bool = False
    id: int | None = None

    def approve(self, reviewer_id: int, at: datetime) -> None:
        if self.state == "approved":
            raise InvalidTransition("This opinion is already approved.")
        if reviewer_id == self.author_id:
            raise InvalidTransition("The author of an opinion cannot approve it; another reviewer must.")
        self.state = "approved"
        self.reviewer_id = reviewer_id
        self.reviewed_at = at

    def share(self) -> None:
        if self.state != "approved":
            raise InvalidTransition("Only an approved opinion can be shared with the network as a precedent.")
        self.shared = True
