"""The JSON codec that stores frozen quality values gives back exactly what was stored."""

from __future__ import annotations

from datetime import UTC, date, datetime

from customslab.adapters.quality_tables import from_plain, to_plain
from customslab.domain.quality.control_charts import QcBatch, QcPoint, evaluate_batch
from customslab.domain.quality.methods import MethodOrigin, MethodVersion, Technique, ValidationData
from customslab.domain.quality.proficiency import ParticipantResult, PtRound, evaluate_round
from customslab.domain.quality.report import ReportData
from customslab.domain.quality.report_example import example_report


def test_a_report_round_trips_with_the_same_verification_code() -> None:
    report = example_report(version=2)
    back = from_plain(ReportData, to_plain(report))
    assert back == report
    assert back.verification_code() == report.verification_code()


def test_a_method_version_with_nested_validation_and_origin_round_trips() -> None:
    method = MethodVersion(
        "M-1",
        "Sugar by polarimetry",
        "2",
        Technique.POLARIMETRY,
        analytes=("sucrose",),
        validation=ValidationData(
            repeatability_sr=0.1, uncertainty_model="GUM", expanded_uncertainty_relative=0.02
        ),
        approved_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        origin=MethodOrigin("CCL", adopted_from_version="1"),
    )
    assert from_plain(MethodVersion, to_plain(method)) == method


def test_a_westgard_evaluation_and_a_pt_round_report_round_trip() -> None:
    batch = QcBatch(
        "B1", "CRM", 10.0, 0.1, (QcPoint(10.0, "r1"), QcPoint(10.5, "r1", datetime(2026, 1, 1, tzinfo=UTC)))
    )
    status = evaluate_batch(batch)
    assert from_plain(type(status), to_plain(status)) == status
    pt = PtRound("R1/ABV", "scheme", "ABV", "%vol", sigma_pt=0.2)
    report = evaluate_round(pt, [ParticipantResult(f"L{i}", 40 + i / 10) for i in range(5)])
    assert from_plain(type(report), to_plain(report)) == report
    assert from_plain(tuple[PtRound, ...], to_plain((pt,))) == (pt,)
    assert from_plain(date, "2026-02-03") == date(2026, 2, 3)
