"""Internal quality control: Westgard multirule evaluation of a QC series (ISO/IEC 17025 7.7.1).

Rules after Westgard JO, Barry PL, Hunt MR, Groth T. "A multi-rule Shewhart chart for quality control
in clinical chemistry." Clin Chem 1981;27(3):493-501. Each value is first converted to
z = (x − target mean) / target SD; "exceeds ks" means |z| > k (strictly), as in the paper.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from customslab.domain.quality.errors import BatchOutOfControl, QualityError

WARNING_1_2S = "1-2s"
RULE_1_3S = "1-3s"
RULE_2_2S = "2-2s"
RULE_R_4S = "R-4s"
RULE_4_1S = "4-1s"
RULE_10_X = "10-x"
REJECTION_RULES = (RULE_1_3S, RULE_2_2S, RULE_R_4S, RULE_4_1S, RULE_10_X)


@dataclass(frozen=True)
class QcPoint:
    """One control measurement; `run_id` groups the controls measured in the same analytical run."""

    value: float
    run_id: str | None = None
    measured_at: datetime | None = None


@dataclass(frozen=True)
class Violation:
    rule: str
    indices: tuple[int, ...]
    rejection: bool
    detail: str


class QcStatus(StrEnum):
    IN_CONTROL = "in control"
    OUT_OF_CONTROL = "out of control"


def z_scores(values: Sequence[float], mean: float, sd: float) -> list[float]:
    """z = (x − mean) / sd; the target SD must be positive or no rule can be judged."""
    if not sd > 0:
        raise QualityError(f"The control chart's target SD must be positive (got {sd}).")
    return [(v - mean) / sd for v in values]


def _same_side_run(z: Sequence[float], end: int, length: int, limit: float) -> bool:
    window = z[end - length + 1 : end + 1]
    return all(v > limit for v in window) or all(v < -limit for v in window)


def westgard(points: Sequence[QcPoint], mean: float, sd: float) -> list[Violation]:
    """Apply 1-2s (warning) and 1-3s, 2-2s, R-4s, 4-1s, 10-x (rejection) to the series in order.

    - 1-3s: one value with |z| > 3.
    - 2-2s: two consecutive values with z > 2 (or both < −2); reported "within run" when both share a
      run id and "across runs" otherwise, because Westgard (1981) reads the rule both ways.
    - R-4s: two consecutive values of the same run on opposite sides with |z_i − z_(i−1)| ≥ 4.
      Applied within a run only: across runs a large range reflects systematic, not random, error.
    - 4-1s: four consecutive values with z > 1 (or all < −1).
    - 10-x: ten consecutive values on the same side of the mean.
    - 1-2s: one value with |z| > 2; a warning that triggers inspection, not rejection.
    A rule that keeps holding reports one violation per window, each naming the indices involved.
    """
    z = z_scores([p.value for p in points], mean, sd)
    found: list[Violation] = []
    for i, zi in enumerate(z):
        if abs(zi) > 2:
            found.append(Violation(WARNING_1_2S, (i,), False, f"value {i} at {zi:+.2f} SD"))
        if abs(zi) > 3:
            found.append(Violation(RULE_1_3S, (i,), True, f"value {i} at {zi:+.2f} SD beyond ±3 SD"))
        if i >= 1:
            same_run = points[i].run_id == points[i - 1].run_id
            if _same_side_run(z, i, 2, 2.0):
                scope = "within run" if same_run else "across runs"
                found.append(
                    Violation(RULE_2_2S, (i - 1, i), True, f"values {i - 1} and {i} beyond 2 SD ({scope})")
                )
            if same_run and zi * z[i - 1] < 0 and abs(zi - z[i - 1]) >= 4:
                found.append(
                    Violation(
                        RULE_R_4S, (i - 1, i), True, f"range {abs(zi - z[i - 1]):.2f} SD within one run"
                    )
                )
        if i >= 3 and _same_side_run(z, i, 4, 1.0):
            found.append(Violation(RULE_4_1S, tuple(range(i - 3, i + 1)), True, "4 values beyond 1 SD"))
        if i >= 9 and _same_side_run(z, i, 10, 0.0):
            found.append(
                Violation(RULE_10_X, tuple(range(i - 9, i + 1)), True, "10 values on one side of the mean")
            )
    return found


@dataclass(frozen=True)
class QcBatch:
    batch_id: str
    material: str
    target_mean: float
    target_sd: float
    points: tuple[QcPoint, ...]


@dataclass(frozen=True)
class QcBatchStatus:
    batch_id: str
    status: QcStatus
    violations: tuple[Violation, ...]
    last_rejection_at: datetime | None = None

    @property
    def rejections(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.rejection)

    @property
    def warnings(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if not v.rejection)


@dataclass(frozen=True)
class CorrectiveAction:
    batch_id: str
    recorded_at: datetime
    description: str
    recorded_by: str = ""
    rules: tuple[str, ...] = field(default=())


def evaluate_batch(batch: QcBatch) -> QcBatchStatus:
    """Westgard-evaluate a batch; any rejection rule makes it out of control, warnings alone do not."""
    violations = tuple(westgard(batch.points, batch.target_mean, batch.target_sd))
    rejected = [v for v in violations if v.rejection]
    if not rejected:
        return QcBatchStatus(batch.batch_id, QcStatus.IN_CONTROL, violations)
    times = [batch.points[i].measured_at for v in rejected for i in v.indices]
    known = [t for t in times if t is not None]
    return QcBatchStatus(batch.batch_id, QcStatus.OUT_OF_CONTROL, violations, max(known, default=None))


def assert_batch_releasable(
    batch_status: QcBatchStatus, corrective_actions: Iterable[CorrectiveAction]
) -> None:
    """Refuse release of results from an out-of-control batch with no corrective action after the breach."""
    if batch_status.status is QcStatus.IN_CONTROL:
        return
    since = batch_status.last_rejection_at
    for action in corrective_actions:
        if action.batch_id != batch_status.batch_id or not action.description.strip():
            continue
        if since is None or action.recorded_at > since:
            return
    rules = ", ".join(sorted({v.rule for v in batch_status.rejections}))
    when = f" after {since.isoformat(sep=' ', timespec='minutes')}" if since else ""
    raise BatchOutOfControl(
        f"QC batch {batch_status.batch_id} is out of control (Westgard {rules}); record a corrective "
        f"action{when} before releasing its results."
    )
