"""Domain errors of the quality core; each message says what is wrong in words a user can act on."""

from __future__ import annotations


class QualityError(Exception):
    """Base of every refusal raised by the ISO/IEC 17025 quality rules."""


class MethodNotValidated(QualityError):
    """A test may not run on a method version that is draft, withdrawn or superseded (17025 7.2.2)."""


class MethodTransitionError(QualityError):
    """An impossible change of a method version's status, e.g. withdrawing a draft."""


class AnalystNotAuthorised(QualityError):
    """The user holds no valid analyst authorisation for the method (17025 6.2.5 f, 6.2.6)."""


class ReviewerNotAuthorised(QualityError):
    """The user holds no valid reviewer authorisation for the method (17025 6.2.6 b, c)."""


class EquipmentNotUsable(QualityError):
    """The instrument is out of service, never calibrated, overdue or failed its last check (17025 6.4)."""


class BatchOutOfControl(QualityError):
    """A QC batch broke a Westgard rule and no corrective action was recorded after it (17025 7.7.1)."""


class ProficiencyDataError(QualityError):
    """Proficiency-test input that cannot be evaluated (no results, non-finite values, σ_pt ≤ 0)."""
