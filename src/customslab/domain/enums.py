"""Vocabularies of the domain, as string enums so they serialise as their values."""

from __future__ import annotations

from enum import StrEnum


class OrgKind(StrEnum):
    CENTRAL = "central"
    LOCAL = "local"
    RCL = "rcl"
    MEMBER = "member"  # a member administration without a laboratory
    EXTERNAL = "external"
    CUSTOMS_OFFICE = "customs_office"

    @property
    def is_laboratory(self) -> bool:
        return self in (OrgKind.CENTRAL, OrgKind.LOCAL, OrgKind.RCL, OrgKind.EXTERNAL)


class Role(StrEnum):
    REQUESTER = "requester"
    #: An officer who also oversees their customs office: sees every request the office filed.
    SUPERVISOR = "supervisor"
    #: The focal point of a member administration without a laboratory: registers, seals, dispatches
    #: and refers its samples to a Regional Customs Laboratory, and follows them there.
    FOCAL_POINT = "focal_point"
    ANALYST = "analyst"
    REVIEWER = "reviewer"
    LAB_MANAGER = "lab_manager"
    NETWORK_COORDINATOR = "network_coordinator"
    ADMIN = "admin"


class Reason(StrEnum):
    CLASSIFICATION = "classification"
    ORIGIN = "origin"
    NARCOTICS = "narcotics_precursors"
    SAFETY = "safety_hazardous"
    IPR = "ipr"
    OTHER = "other"


class Priority(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"


class State(StrEnum):
    """States shared by samples and tests (the issue's workflow)."""

    REGISTERED = "registered"
    RECEIVED = "received"
    IN_ANALYSIS = "in_analysis"
    TO_BE_REVIEWED = "to_be_reviewed"
    APPROVED = "approved"
    REPORTED = "reported"
    ARCHIVED = "archived"
    REJECTED = "rejected"
    RETEST = "retest"
    CANCELLED = "cancelled"


OPEN_STATES = frozenset(
    {State.REGISTERED, State.RECEIVED, State.IN_ANALYSIS, State.TO_BE_REVIEWED, State.RETEST}
)


class ResultKind(StrEnum):
    """What a result states: a measured quantity, or one of the qualitative outcomes."""

    QUANTITY = "quantity"  # a value with its unit (and U, k, LOD, LOQ)
    DETECTION = "detection"  # detected / not detected
    SCREENING = "screening"  # positive / negative
    TEXT = "text"  # a free-text finding ("caffeine", "woven fabric of cotton")
    IDENTITY = "identity"  # the substance identified, with a stored spectral identification as evidence


#: The outcomes a qualitative result of each closed kind may take.
QUALITATIVE_OUTCOMES: dict[ResultKind, tuple[str, ...]] = {
    ResultKind.DETECTION: ("detected", "not_detected"),
    ResultKind.SCREENING: ("positive", "negative"),
}


class NotificationKind(StrEnum):
    NEW_REFERRAL = "new_referral"  # a sample referred to my laboratory
    TEST_ASSIGNED = "test_assigned"  # a test given to me
    RESULT_APPROVED = "result_approved"  # a sample of my request approved
    WORK_DUE = "work_due"  # open work of mine due within a day
    CONTROLLED_SUBSTANCE = "controlled_substance"  # a sample of my request identified as controlled
    TARGETING_ALERT = "targeting_alert"  # a first identification, a rising rate, a repeated importer
    TRAINING_COMPLETION = "training_completion"  # a completion of my staff awaits my acceptance


class CustodyKind(StrEnum):
    REGISTERED = "registered"
    RECEIPT = "receipt"
    HAND_OVER = "hand_over"
    TRANSPORT = "transport"
    STORAGE_MOVE = "storage_move"
    SUB_SAMPLING = "sub_sampling"
    REFERRAL_DISPATCH = "referral_dispatch"
    DISPOSAL = "disposal"


class ReferralKind(StrEnum):
    LOCAL_TO_CENTRAL = "local_to_central"
    MEMBER_TO_RCL = "member_to_rcl"
    JOINT_ANALYSIS = "joint_analysis"
    OTHER = "other"


class ReferralState(StrEnum):
    SENT = "sent"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    DECLINED = "declined"
