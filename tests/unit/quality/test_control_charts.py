"""Westgard multirule QC (Westgard et al., Clin Chem 1981;27:493): one hit and one miss per rule."""

from __future__ import annotations

from datetime import datetime

import pytest

from customslab.domain.quality.charts import levey_jennings_svg
from customslab.domain.quality.control_charts import (
    CorrectiveAction,
    QcBatch,
    QcPoint,
    QcStatus,
    assert_batch_releasable,
    evaluate_batch,
    westgard,
)
from customslab.domain.quality.errors import BatchOutOfControl, QualityError

MEAN, SD = 100.0, 2.0


def series(zs: list[float], runs: list[str] | None = None) -> list[QcPoint]:
    return [QcPoint(MEAN + z * SD, runs[i] if runs else None) for i, z in enumerate(zs)]


CASES = [
    # rule, z-values, run ids, expected indices of the first violation of that rule (None: must not fire)
    ("1-2s", [0.5, 2.4, 0.1], None, (1,)),
    ("1-2s", [0.5, 1.9, -1.9], None, None),
    ("1-3s", [0.2, -3.2, 0.1], None, (1,)),
    ("1-3s", [0.2, -2.9, 2.9], ["a", "b", "c"], None),
    ("2-2s", [0.1, 2.2, 2.5], None, (1, 2)),
    ("2-2s", [0.1, 2.2, -2.5, 2.1], ["a", "b", "c", "d"], None),
    ("R-4s", [0.0, 2.1, -2.1], ["r1", "r1", "r1"], (1, 2)),
    ("R-4s", [0.0, 2.1, -2.1], ["r1", "r1", "r2"], None),
    ("4-1s", [-1.2, -1.5, -1.1, -1.8], None, (0, 1, 2, 3)),
    ("4-1s", [-1.2, -1.5, -0.9, -1.8], None, None),
    ("10-x", [0.3, 0.5, 0.2, 0.8, 0.1, 0.4, 0.6, 0.2, 0.9, 0.3], None, tuple(range(10))),
    ("10-x", [0.3, 0.5, 0.2, 0.8, 0.1, -0.4, 0.6, 0.2, 0.9, 0.3], None, None),
]


@pytest.mark.parametrize(("rule", "zs", "runs", "expected"), CASES)
def test_each_westgard_rule_fires_on_its_pattern_and_only_then(
    rule: str, zs: list[float], runs: list[str] | None, expected: tuple[int, ...] | None
) -> None:
    hits = [v.indices for v in westgard(series(zs, runs), MEAN, SD) if v.rule == rule]
    assert (hits[0] if hits else None) == expected


def test_two_two_s_says_whether_it_was_seen_within_a_run_or_across_runs() -> None:
    within = westgard(series([2.2, 2.5], ["r1", "r1"]), MEAN, SD)
    across = westgard(series([2.2, 2.5], ["r1", "r2"]), MEAN, SD)
    assert [v.detail for v in within if v.rule == "2-2s"] == ["values 0 and 1 beyond 2 SD (within run)"]
    assert [v.detail for v in across if v.rule == "2-2s"] == ["values 0 and 1 beyond 2 SD (across runs)"]


def test_a_one_two_s_warning_alone_leaves_the_batch_in_control() -> None:
    status = evaluate_batch(QcBatch("B1", "QC oil", MEAN, SD, tuple(series([0.1, 2.3, -0.4]))))
    assert status.status is QcStatus.IN_CONTROL
    assert [v.rule for v in status.warnings] == ["1-2s"]


def test_a_target_sd_of_zero_is_refused() -> None:
    with pytest.raises(QualityError, match="target SD must be positive"):
        westgard(series([0.0]), MEAN, 0.0)


def out_of_control_batch() -> QcBatch:
    points = (
        QcPoint(100.4, "r1", datetime(2025, 3, 4, 9, 0)),
        QcPoint(107.0, "r1", datetime(2025, 3, 4, 9, 30)),
    )
    return QcBatch("QC-2025-0311", "ethanol 40 % v/v", MEAN, SD, points)


def test_an_out_of_control_batch_cannot_be_released_without_corrective_action() -> None:
    status = evaluate_batch(out_of_control_batch())
    assert status.status is QcStatus.OUT_OF_CONTROL
    with pytest.raises(BatchOutOfControl) as refused:
        assert_batch_releasable(status, [])
    assert str(refused.value) == (
        "QC batch QC-2025-0311 is out of control (Westgard 1-3s); record a corrective action after "
        "2025-03-04 09:30 before releasing its results."
    )


def test_a_corrective_action_recorded_before_the_violation_does_not_release_the_batch() -> None:
    status = evaluate_batch(out_of_control_batch())
    early = CorrectiveAction("QC-2025-0311", datetime(2025, 3, 4, 9, 15), "replaced septum")
    with pytest.raises(BatchOutOfControl):
        assert_batch_releasable(status, [early])


def test_a_corrective_action_recorded_after_the_violation_releases_the_batch() -> None:
    status = evaluate_batch(out_of_control_batch())
    action = CorrectiveAction("QC-2025-0311", datetime(2025, 3, 4, 11, 0), "recalibrated, reran controls")
    assert_batch_releasable(status, [action])


def test_the_levey_jennings_chart_marks_the_rejected_point_in_red() -> None:
    batch = out_of_control_batch()
    svg = levey_jennings_svg(batch.points, MEAN, SD, evaluate_batch(batch).violations, title="Ethanol QC")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert '<circle cx="' in svg and 'fill="#C0392B" data-index="1"' in svg
    assert 'fill="#1F3A5F" data-index="0"' in svg
