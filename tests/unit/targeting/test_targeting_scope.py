"""Who sees which targeting figures, and what the risk-indicator export holds (in-memory fakes)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import jsonschema
import pydantic
import pytest

from customslab.adapters.tabular_export import to_csv
from customslab.domain.access import Actor
from customslab.domain.enums import OrgKind, Role
from customslab.domain.errors import PermissionDenied, ValidationFailed
from customslab.domain.model import Administration, Organisation
from customslab.services.contract import parse
from customslab.services.risk_export import (
    CSV_COLUMNS,
    RiskExportQuery,
    csv_rows,
    risk_indicator_schema,
    risk_indicators,
)
from customslab.services.targeting import TargetingFigures, TargetingQuery, targeting_figures
from tests.targeting_support import PERIOD, Labs, seed_outcomes
from tests.unit.fakes import FakeUnitOfWork

SCHEMA_FILE = Path(__file__).resolve().parents[3] / "docs" / "risk-indicators.schema.json"
LABS = Labs(kr_central="KCL", kr_local="KLL", jp_lab="JCL", kr="KR", jp="JP")
QUERY = TargetingQuery(start=PERIOD[0], end=PERIOD[1])
#: The CSV's header as loaders rely on it: a change here is a change of the export's contract.
CSV_HEADER = [
    "administration", "selector_type", "heading", "origin", "importer", "declarant", "n", "k",
    "observed_rate", "wilson_low", "wilson_high", "small_count", "period_start", "period_end",
    "duty_difference_sum", "duty_known_n", "currency", "evidence", "generated_at",
]  # fmt: skip


def _actor(org: str, *roles: Role) -> Actor:
    return Actor(1, f"{org.lower()}-user", org, frozenset(roles))


@pytest.fixture
def uow() -> FakeUnitOfWork:
    u = FakeUnitOfWork(now=datetime(2026, 7, 1, 9, 0, tzinfo=UTC))
    add = u.repo.add
    add(Administration("KR", "Korea Customs Service", "KR"))
    add(Administration("JP", "Japan Customs", "JP"))
    add(Organisation("KCL", "Central lab", OrgKind.CENTRAL, "KR", administration_code="KR"))
    add(Organisation("KLL", "Local lab", OrgKind.LOCAL, "KR", parent_code="KCL", administration_code="KR"))
    add(Organisation("KHQ", "Korea Customs HQ", OrgKind.CUSTOMS_OFFICE, "KR", administration_code="KR"))
    add(Organisation("JCL", "Japan lab", OrgKind.CENTRAL, "JP", administration_code="JP"))
    add(Organisation("RCL", "Regional lab", OrgKind.RCL, "JP", administration_code="JP", rcl_region="Asia"))
    seed_outcomes(u.targeting, LABS, 1)
    return u


def _importers(figures: TargetingFigures) -> set[str]:
    assert figures.by_importer is not None
    return {r.key["importer"] for r in figures.by_importer.rows}


def test_a_central_manager_sees_its_administrations_declarations_with_counts_and_intervals(uow):
    figures = targeting_figures(uow, _actor("KCL", Role.LAB_MANAGER), QUERY)
    assert figures.scope == "administration" and figures.administration == "KR"
    assert figures.overall is not None
    assert (figures.overall.n, figures.overall.k) == (19, 10)  # the 2025 outcome is outside the period
    by_heading = {r.key["heading"]: r for r in figures.by_heading.rows}
    assert (by_heading["0904"].n, by_heading["0904"].k) == (15, 6)
    spirits = by_heading["2208"]
    assert (spirits.n, spirits.k, spirits.small, spirits.text) == (4, 4, True, "4 of 4")
    assert (spirits.wilson_low, spirits.wilson_high) == (pytest.approx(0.5101, abs=1e-4), 1.0)
    assert figures.revenue is not None
    assert (figures.revenue.total, figures.revenue.currency) == (Decimal("750.00"), "KRW")
    assert (figures.revenue.known, figures.revenue.cases) == (10, 19)
    assert [p.key["month"] for p in figures.trend] == [f"2026-0{m}" for m in range(1, 7)]
    assert sum(p.n for p in figures.trend) == 19


def test_a_manager_never_sees_another_administrations_importers_even_analysed_in_his_laboratory(uow):
    kr = targeting_figures(uow, _actor("KCL", Role.LAB_MANAGER), QUERY)
    assert _importers(kr) == {"Hanbit Trading", "Seoul Spirits"}  # not JP's Tokyo Foods, analysed at KCL
    jp = targeting_figures(uow, _actor("JCL", Role.LAB_MANAGER), QUERY)
    assert _importers(jp) == {"Osaka Imports"}
    local = targeting_figures(uow, _actor("KLL", Role.LAB_MANAGER), QUERY)
    assert local.overall is not None and (local.overall.n, local.overall.k) == (3, 1)


def test_a_coordinator_sees_network_rates_by_heading_and_origin_with_small_cells_left_out(uow):
    figures = targeting_figures(uow, _actor("RCL", Role.NETWORK_COORDINATOR), QUERY)
    assert figures.scope == "network" and figures.suppressed_below == 3
    assert figures.by_importer is None and figures.by_declarant is None and figures.revenue is None
    assert figures.overall is not None and (figures.overall.n, figures.overall.k) == (32, 18)
    origins = {r.key["origin"]: (r.n, r.k) for r in figures.by_origin.rows}
    # TH has 2 cases: hidden, and VN (3, the smallest shown) with it, so that 32 − CN − JM gives a sum only.
    assert origins == {"CN": (17, 10), "JM": (10, 6)}
    assert figures.by_origin.suppressed == 2
    assert all(r.duty_difference_sum is None for r in figures.by_heading.rows)
    dumped = figures.model_dump_json()
    for declaration_data in ("Hanbit", "Tokyo Foods", "Osaka", "Brokers", "KCL-"):
        assert declaration_data not in dumped


def test_a_coordinator_asking_for_a_single_day_gets_the_whole_calendar_quarter(uow):
    coordinator = _actor("RCL", Role.NETWORK_COORDINATOR)
    day = targeting_figures(uow, coordinator, TargetingQuery(start=date(2026, 6, 28), end=date(2026, 6, 28)))
    quarter = targeting_figures(
        uow, coordinator, TargetingQuery(start=date(2026, 4, 1), end=date(2026, 6, 30))
    )
    assert (day.period_start, day.period_end) == (date(2026, 4, 1), date(2026, 6, 30))
    assert day.overall == quarter.overall and day.by_origin == quarter.by_origin


def test_a_network_quarter_with_fewer_than_three_cases_shows_no_overall_rate_and_no_trend(uow):
    # The one 2025 outcome (1 June) is the only case of its quarter.
    figures = targeting_figures(
        uow,
        _actor("RCL", Role.NETWORK_COORDINATOR),
        TargetingQuery(start=date(2025, 6, 1), end=date(2025, 6, 1)),
    )
    assert figures.overall is None and figures.trend == []
    manager = targeting_figures(
        uow, _actor("KCL", Role.LAB_MANAGER), TargetingQuery(start=date(2025, 6, 1), end=date(2025, 6, 1))
    )
    assert manager.overall is not None and manager.overall.n == 1  # records inside the administration


def test_a_coordinator_asking_for_an_administration_gets_only_the_own_laboratorys_declarations(uow):
    figures = targeting_figures(
        uow, _actor("RCL", Role.NETWORK_COORDINATOR), QUERY.model_copy(update={"scope": "administration"})
    )
    assert figures.scope == "administration" and figures.overall is None


def test_the_network_figures_are_refused_to_a_laboratory_manager_and_all_figures_to_an_analyst(uow):
    with pytest.raises(PermissionDenied, match="network coordinators"):
        targeting_figures(uow, _actor("KCL", Role.LAB_MANAGER), QUERY.model_copy(update={"scope": "network"}))
    with pytest.raises(PermissionDenied):
        targeting_figures(uow, _actor("KCL", Role.ANALYST), QUERY)


def test_a_period_that_ends_before_it_starts_or_spans_over_ten_years_is_refused():
    with pytest.raises(ValidationFailed, match="start must not be after its end"):
        parse(TargetingQuery, {"start": "2026-06-01", "end": "2026-01-01"})
    with pytest.raises(ValidationFailed, match="at most 3660 days"):
        parse(RiskExportQuery, {"start": "2000-01-01", "end": "2026-01-01"})


def _export(uow: FakeUnitOfWork, org: str = "KCL", min_n: int = 1):
    query = RiskExportQuery(start=PERIOD[0], end=PERIOD[1], min_n=min_n)
    return risk_indicators(uow, _actor(org, Role.LAB_MANAGER), query)


def test_the_export_validates_against_the_committed_schema_and_holds_the_evidence(uow):
    export = _export(uow)
    document = json.loads(export.model_dump_json())
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(document)
    hanbit = next(i for i in document["indicators"] if i["selector"] == {"importer": "Hanbit Trading"})
    assert (hanbit["n"], hanbit["k"], hanbit["duty_difference_sum"], hanbit["currency"]) == (
        15,
        6,
        "750.00",
        "KRW",
    )
    assert hanbit["evidence"] == ["KLL-201", "KCL-1", "KCL-2", "KCL-3", "KCL-4"]  # newest first
    assert {i["administration"] for i in document["indicators"]} == {"KR"}
    assert "Tokyo Foods" not in export.model_dump_json()
    both = next(i for i in document["indicators"] if i["selector_type"] == "heading_origin")
    assert set(both["selector"]) == {"heading", "origin"}


def test_a_broken_indicator_fails_the_schema(uow):
    document = json.loads(_export(uow).model_dump_json())
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    document["indicators"][0]["selector"] = {"heading": "09"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)


def test_an_indicator_whose_stored_heading_does_not_fit_the_schema_is_refused_rather_than_exported(uow):
    # Indicators that fit are built without validation (for speed); one that does not must still fail.
    first = uow.targeting.get(1)
    assert first is not None
    uow.targeting.record(dataclasses.replace(first, sample_id=9001, reference="KCL-9001", heading="09"))
    with pytest.raises(pydantic.ValidationError, match="heading"):
        _export(uow)


def test_the_committed_schema_is_the_one_the_model_generates():
    generated = json.dumps(risk_indicator_schema(), indent=2, ensure_ascii=False) + "\n"
    assert SCHEMA_FILE.read_text(encoding="utf-8") == generated, (
        "regenerate it: customslab targeting schema -o docs/risk-indicators.schema.json"
    )


def test_the_csv_has_its_fixed_columns_and_one_row_per_indicator_with_evidence_joined(uow):
    export = _export(uow, min_n=10)
    assert [i.n >= 10 for i in export.indicators] == [True] * len(export.indicators)
    text = to_csv(CSV_COLUMNS, csv_rows(export)).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == CSV_HEADER
    assert len(rows) == 1 + len(export.indicators)
    hanbit = next(dict(zip(rows[0], r, strict=True)) for r in rows[1:] if r[4] == "Hanbit Trading")
    assert hanbit["evidence"] == "KLL-201;KCL-1;KCL-2;KCL-3;KCL-4"
    assert (hanbit["selector_type"], hanbit["n"], hanbit["k"]) == ("importer", "15", "6")


def test_the_export_is_refused_to_a_reviewer_and_to_a_coordinator(uow):
    with pytest.raises(PermissionDenied):
        risk_indicators(uow, _actor("KCL", Role.REVIEWER), RiskExportQuery())
    with pytest.raises(PermissionDenied):
        risk_indicators(uow, _actor("RCL", Role.NETWORK_COORDINATOR), RiskExportQuery())
