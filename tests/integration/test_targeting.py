"""Targeting feedback over the real databases: the outcomes table, its SQL aggregates, recording on
approval, the rebuild, and the API."""

from __future__ import annotations

import csv
import io
import json
import random
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from customslab.adapters import hs_store
from customslab.adapters.tables_base import metadata
from customslab.adapters.uow import Database
from customslab.services import analysis, cases, classification
from customslab.services.analysis import ResultCreate
from customslab.services.cases import SampleCreate, SampleReceipt
from customslab.services.classification import OpinionCreate
from customslab.services.targeting_outcomes import rebuild_outcomes
from customslab.services.targeting_ports import TargetingScope
from customslab.services.views import SampleSummary
from tests.factories import ETHANOL, Network, assigned_test, make_network, received_sample
from tests.integration.conftest import signed_in
from tests.targeting_support import PERIOD, Labs, seed_outcomes
from tests.unit.targeting.test_targeting_scope import CSV_HEADER, SCHEMA_FILE

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def test_the_outcomes_table_is_the_one_the_migration_creates(database: Database) -> None:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, metadata) if "targeting_outcomes" in str(d)]
    assert diffs == []


def test_the_database_counts_rates_sums_duty_and_finds_the_newest_evidence(uow_factory: Any) -> None:
    net = make_network(uow_factory)
    labs = Labs(net.central, net.local, net.rcl, net.home, net.rcl_administration)
    # Sample ids of their own: the table has no foreign key, and other tests' samples keep theirs.
    first = random.randrange(10**8, 2 * 10**8)
    with uow_factory() as uow:
        seed_outcomes(uow.targeting, labs, first)
        uow.commit()
    kr = TargetingScope(labs=frozenset({net.central, net.local}), administration=net.home)
    with uow_factory() as uow:
        t = uow.targeting
        overall = t.rates(kr, (), *PERIOD)
        by_importer = t.rates(kr, ("importer",), *PERIOD)
        by_both = t.rates(kr, ("heading", "origin"), *PERIOD, min_n=4)
        trend = t.monthly(kr, (), *PERIOD)
        evidence = t.evidence(kr, ("importer",), *PERIOD, [("Hanbit Trading",)], per_key=3)
        everywhere = t.rates(
            TargetingScope(labs=frozenset({net.central, net.local, net.rcl})), ("origin",), *PERIOD
        )
        currencies = t.currencies(kr, *PERIOD)
        selectors = [(), ("heading",), ("origin",), ("importer",), ("heading", "origin"), ("month",)]
        # PostgreSQL: one GROUPING SETS query; the heading, the origin and the total added up from finer sets.
        at_once = t.rates_many(kr, selectors, *PERIOD)
        one_by_one = [t.rates(kr, s, *PERIOD) for s in selectors]
        stored = t.get(first)
    assert [(r.key, r.n, r.k, r.duty_difference_sum, r.duty_known_n) for r in overall] == [
        ((), 19, 10, Decimal("750.00"), 10)
    ]
    assert [(r.key, r.n, r.k) for r in by_importer] == [
        (("Hanbit Trading",), 15, 6),
        (("Seoul Spirits",), 4, 4),
    ]
    assert [(r.key, r.n, r.k) for r in by_both] == [(("0904", "CN"), 12, 5), (("2208", "JM"), 4, 4)]
    assert [r.key[0] for r in trend] == [f"2026-0{m}" for m in range(1, 7)] and sum(r.n for r in trend) == 19
    assert evidence == {("Hanbit Trading",): [f"{net.local}-{first + 200}", f"{net.central}-{first}",
                                              f"{net.central}-{first + 1}"]}  # fmt: skip
    assert {r.key[0]: (r.n, r.k) for r in everywhere} == {
        "CN": (17, 10),
        "JM": (10, 6),
        "TH": (2, 1),
        "VN": (3, 1),
    }
    assert currencies == ["KRW"]
    assert at_once == one_by_one
    assert stored is not None and stored.duty_difference == Decimal("150.00") and stored.differs


def _decided_sample(uow_factory: Any, net: Network) -> SampleSummary:
    """Ethyl alcohol declared 2208.90 (value 12000 USD) and measured at 85 % vol."""
    s = received_sample(
        uow_factory, net, **{**ETHANOL, "declared_hs": "2208.90", "importer": "Hanbit Trading"}
    )
    t = assigned_test(uow_factory, net, s.id, determination="abv", method_ref="M-22")
    result = ResultCreate(
        name="alcohol_strength", value="85.0", unit="%vol", expanded_uncertainty="0.3", coverage_factor="2"
    )
    analysis.enter_result(uow_factory(), net["analyst"], t.id, result)
    return s


def _approve(uow_factory: Any, net: Network, sample_id: int, code: str) -> None:
    reasoning = "Undenatured ethyl alcohol of 85 %vol, above the 80 %vol limit of heading 22.07."
    op = classification.write_opinion(
        uow_factory(), net["analyst"], sample_id, OpinionCreate(determined_code=code, reasoning=reasoning)
    )
    assert op.id is not None
    classification.approve_opinion(uow_factory(), net["reviewer"], op.id)


@SQLITE_ONLY
def test_one_importer_spelt_in_capitals_and_double_spaces_is_one_group_under_its_first_spelling(
    uow_factory: Any,
) -> None:
    net = make_network(uow_factory)
    name = f"Hanbit Trading {uuid.uuid4().hex[:6]}"
    shouted = "  ".join(name.upper().split()) + " "
    for importer in (name, shouted):
        s = received_sample(uow_factory, net, **{**ETHANOL, "declared_hs": "2208.90", "importer": importer})
        _approve(uow_factory, net, s.id, "2207.10")
    with uow_factory() as uow:
        groups = uow.targeting.rates(TargetingScope(None, net.home), ("importer",), date.min, date.max)
    assert [(r.key, r.n, r.k) for r in groups if r.key[0].casefold() == name.casefold()] == [((name,), 2, 2)]


@SQLITE_ONLY
def test_two_samples_of_one_declaration_count_once_as_decided_by_the_later_approval(uow_factory: Any) -> None:
    net = make_network(uow_factory)
    importer = f"Two Samples {uuid.uuid4().hex[:6]}"
    first = received_sample(uow_factory, net, **{**ETHANOL, "declared_hs": "2208.90", "importer": importer})
    manager = net["central_manager"]
    second = cases.register_sample(
        uow_factory(), manager, first.request_id, SampleCreate(quantity="1", unit="L")
    )
    cases.receive_sample(uow_factory(), manager, second.id, SampleReceipt())
    _approve(uow_factory, net, first.id, "2207.10")
    _approve(uow_factory, net, second.id, "2208.90")  # the later approval decides the declaration

    def counted() -> list[tuple[int, int]]:
        with uow_factory() as uow:
            rows = uow.targeting.rates(TargetingScope(None, net.home), ("importer",), date.min, date.max)
            assert uow.targeting.get(first.id) is None
        return [(r.n, r.k) for r in rows if r.key == (importer,)]

    assert counted() == [(1, 0)]
    rebuild_outcomes(uow_factory())
    assert counted() == [(1, 0)]


@SQLITE_ONLY
def test_an_approved_opinion_records_the_outcome_and_a_later_one_replaces_it(
    uow_factory: Any, database: Database, tmp_path: Path
) -> None:
    tariff = tmp_path / "tariff.csv"
    tariff.write_text(
        "code,description,ad_valorem\n2207101000,Undenatured ethyl alcohol,5\n2208901000,Other spirits,20\n",
        encoding="utf-8",
    )
    with database.engine.begin() as conn:
        hs_store.load_tariff_csv(conn, tariff, "KR", f"KR-TARGETING-{random.randrange(10**9)}")
    net = make_network(uow_factory)
    sid = _decided_sample(uow_factory, net).id
    with uow_factory() as uow:
        assert uow.targeting.get(sid) is None  # nothing before an approved opinion
    _approve(uow_factory, net, sid, "2207.10")
    with uow_factory() as uow:
        first = uow.targeting.get(sid)
    assert first is not None
    assert (first.declared_hs, first.determined_hs, first.heading, first.differs) == (
        "220890",
        "220710",
        "2208",
        True,
    )
    assert (first.importer, first.origin, first.administration_code) == ("Hanbit Trading", "JM", net.home)
    # 12000 × (5 % − 20 %): the determined line's duty is lower.
    assert (first.duty_difference, first.currency) == (Decimal("-1800.00"), "USD")
    _approve(uow_factory, net, sid, "2208.90")
    with uow_factory() as uow:
        second = uow.targeting.get(sid)
    assert second is not None and (second.determined_hs, second.differs) == ("220890", False)
    assert second.duty_difference == Decimal("0.00")


@SQLITE_ONLY
def test_a_rebuild_gives_the_same_table_twice(uow_factory: Any) -> None:
    net = make_network(uow_factory)
    sid = _decided_sample(uow_factory, net).id
    _approve(uow_factory, net, sid, "2207.10")
    with uow_factory() as uow:
        recorded = uow.targeting.get(sid)
    first = rebuild_outcomes(uow_factory())
    second = rebuild_outcomes(uow_factory())
    assert first.recorded == second.recorded == second.before >= 1
    with uow_factory() as uow:
        assert uow.targeting.get(sid) == recorded
        assert uow.targeting.count() == first.recorded


@SQLITE_ONLY
def test_a_manager_reads_the_figures_and_downloads_the_export_through_the_api(
    api: tuple[TestClient, Network],
) -> None:
    client, net = api
    factory = client.app.state.uow_factory  # type: ignore[attr-defined]
    sample = _decided_sample(factory, net)
    _approve(factory, net, sample.id, "2207.10")
    headers = signed_in(client, net, "central_manager")
    figures = client.get("/api/targeting", headers=headers)
    assert figures.status_code == 200, figures.text
    body = figures.json()
    assert body["scope"] == "administration" and body["overall"]["n"] >= 1
    assert any(r["key"] == {"importer": "Hanbit Trading"} for r in body["by_importer"]["rows"])
    exported = client.get("/api/targeting/risk-indicators.csv?min_n=1", headers=headers)
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == CSV_HEADER
    hanbit = next(dict(zip(CSV_HEADER, r, strict=True)) for r in rows[1:] if r[4] == "Hanbit Trading")
    assert sample.lab_sample_id in hanbit["evidence"].split(";")
    as_json = client.get("/api/targeting/risk-indicators.json?min_n=1&selector=importer", headers=headers)
    assert as_json.status_code == 200
    assert {i["selector_type"] for i in as_json.json()["indicators"]} == {"importer"}
    coordinator = signed_in(client, net, "coordinator")
    assert client.get("/api/targeting/risk-indicators.json", headers=coordinator).status_code == 403
    network = client.get("/api/targeting", headers=coordinator).json()
    assert network["scope"] == "network" and network["by_importer"] is None
    assert client.get("/api/targeting?from=2026-05-01&to=2026-01-01", headers=headers).status_code == 422
    # A day is YYYY-MM-DD: a bare number is refused, never read as a Unix time.
    for path in ("", "/risk-indicators.csv", "/risk-indicators.json"):
        assert client.get(f"/api/targeting{path}?to=0", headers=headers).status_code == 422, path
    assert client.get("/api/targeting").status_code == 401


@SQLITE_ONLY
def test_the_cli_exports_the_indicators_as_json_and_csv_and_rebuilds(
    uow_factory: Any, database: Database, tmp_path: Path
) -> None:
    from customslab.entrypoints.cli import app as cli

    net = make_network(uow_factory)
    with uow_factory() as uow:
        seed_outcomes(uow.targeting, Labs(net.central, net.local, net.rcl, net.home, net.rcl_administration),
                      random.randrange(2 * 10**8, 3 * 10**8))  # fmt: skip
        uow.commit()
    runner = CliRunner()
    common = ["--as", net["central_manager"].username, "--from", "2026-01-01", "--to", "2026-06-30"]
    common += ["--database-url", database.url]
    out = tmp_path / "indicators.json"
    done = runner.invoke(
        cli, ["targeting", "export", "--format", "json", "--min-n", "1", "-o", str(out), *common]
    )
    assert done.exit_code == 0, done.output
    document = json.loads(out.read_text(encoding="utf-8"))
    jsonschema.validate(document, json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    assert {i["selector"].get("importer") for i in document["indicators"]} >= {
        "Hanbit Trading",
        "Seoul Spirits",
    }
    assert "Tokyo Foods" not in out.read_text(encoding="utf-8")
    as_csv = runner.invoke(cli, ["targeting", "export", *common])  # min n 10 by default
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.reader(io.StringIO(as_csv.output)))
    assert rows[0] == CSV_HEADER and rows[1:] and all(int(r[6]) >= 10 for r in rows[1:])
    nobody = runner.invoke(
        cli, ["targeting", "export", "--as", "nobody-at-all", "--database-url", database.url]
    )
    assert nobody.exit_code != 0 and "no active user" in nobody.output
    analyst = runner.invoke(
        cli, ["targeting", "export", "--as", net["analyst"].username, "--database-url", database.url]
    )
    assert analyst.exit_code != 0
    rebuilt = runner.invoke(cli, ["targeting", "rebuild", "--database-url", database.url])
    assert rebuilt.exit_code == 0 and rebuilt.output.startswith("recorded ")
