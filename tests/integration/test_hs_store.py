"""HS storage and full-text search on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, inspect, text

from customslab.adapters import hs_store
from customslab.adapters.db import alembic_config, upgrade
from customslab.hs.nomenclature import HsError

PG_URL = os.environ.get(
    "CUSTOMSLAB_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="module")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('hs') / 'hs.sqlite3'}")
    with engine.begin() as conn:
        hs_store.ensure_schema(conn)
        hs_store.load_nomenclature(conn, shared_data / "hs")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def pg_engine(shared_data: Path) -> Iterator[Engine]:
    """A uniquely named schema; an unreachable server is an error, never a skip."""
    schema = f"hs_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    with engine.begin() as conn:
        hs_store.ensure_schema(conn)
        hs_store.load_nomenclature(conn, shared_data / "hs")
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue("pg_engine" if request.param == "postgresql" else "sqlite_engine")


@pytest.mark.parametrize(
    ("query", "heading"),
    [("polyethylene", "3901"), ("rum", "2208"), ("cane sugar", "1701"), ("beer made from malt", "2203")],
)
def test_full_text_search_puts_the_right_heading_first(engine: Engine, query: str, heading: str) -> None:
    with engine.connect() as conn:
        hits = hs_store.search(conn, query)
    assert hits[0].code == heading


def test_a_heading_found_through_its_subheadings_lists_them(engine: Engine) -> None:
    with engine.connect() as conn:
        first = hs_store.search(conn, "rum")[0]
    assert (
        "220840",
        "Rum and other spirits obtained by distilling fermented sugar-cane products",
    ) in first.matches


@pytest.mark.parametrize("query", ["2208", "22.08"])
def test_digits_search_by_code_prefix(engine: Engine, query: str) -> None:
    with engine.connect() as conn:
        codes = [h.code for h in hs_store.search(conn, query, limit=50)]
    assert codes[0] == "2208" and "220840" in codes and all(c.startswith("2208") for c in codes)


def test_search_text_with_query_syntax_is_treated_as_words(engine: Engine) -> None:
    with engine.connect() as conn:
        hits = hs_store.search(conn, 'rum" OR NEAR(')
    assert isinstance(hits, list)


def test_the_stored_nomenclature_has_every_level_of_the_file(engine: Engine) -> None:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT level, count(*) FROM hs_nodes WHERE edition = 'HS2022' GROUP BY level ORDER BY level"
            )
        ).all()
    assert [tuple(r) for r in rows] == [(2, 97), (4, 1229), (6, 5613)]


def test_nodes_browse_by_section_chapter_and_heading(engine: Engine) -> None:
    with engine.connect() as conn:
        assert hs_store.get_node(conn, "2208.40").description.startswith("Rum")  # type: ignore[union-attr]
        assert "2208" in [n.code for n in hs_store.children(conn, "22")]
        assert [n.code for n in hs_store.chapters_in_section(conn, "IV")][:2] == ["16", "17"]
        assert hs_store.get_node(conn, "7700") is None


def test_reloading_an_edition_replaces_it_without_duplicates(engine: Engine, shared_data: Path) -> None:
    with engine.begin() as conn:
        counts = hs_store.load_nomenclature(conn, shared_data / "hs")
        total = conn.execute(text("SELECT count(*) FROM hs_nodes WHERE edition = 'HS2022'")).scalar_one()
        hits = hs_store.search(conn, "rum")
    assert counts == {"chapters": 97, "headings": 1229, "subheadings": 5613}
    assert total == 6939 and hits[0].code == "2208"


def test_national_tariff_editions_load_side_by_side(engine: Engine, tmp_path: Path) -> None:
    old = tmp_path / "old.csv"
    old.write_text("code,description,ad_valorem,unit\n2208401000,Rum,30,l\n", encoding="utf-8")
    new = tmp_path / "new.csv"
    new.write_text(
        "\ufeffcode,description,ad_valorem,specific,specific_unit\n2208.40.1000,Rum,20,1.5,l\n",
        encoding="utf-8",
    )
    with engine.begin() as conn:
        assert hs_store.load_tariff_csv(conn, old, "kr", "KR-2024") == 1
        assert hs_store.load_tariff_csv(conn, new, "KR", "KR-2025") == 1
        line_2024 = hs_store.tariff_line(conn, "KR", "KR-2024", "2208401000")
        line_2025 = hs_store.tariff_line(conn, "KR", "KR-2025", "2208401000")
        editions = hs_store.tariff_editions(conn, "KR")
    assert line_2024 is not None and line_2024.ad_valorem == 30
    assert line_2025 is not None and (line_2025.ad_valorem, line_2025.specific) == (20, 1.5)
    assert list(editions) == ["KR-2024", "KR-2025"]


def test_a_tariff_line_outside_the_nomenclature_stores_nothing(engine: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("code,description,ad_valorem\n2208401000,Rum,20\n7700001000,None,5\n", encoding="utf-8")
    with pytest.raises(HsError, match="not under"), engine.begin() as conn:
        hs_store.load_tariff_csv(conn, bad, "JP", "JP-2025")
    with engine.connect() as conn:
        assert hs_store.tariff_lines(conn, "JP", "JP-2025") == []


def test_the_migration_creates_and_removes_the_hs_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        assert {"hs_nodes", "hs_nodes_fts", "national_tariff_lines"} <= set(inspect(conn).get_table_names())
    command.downgrade(alembic_config(url), "0001_core")
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
    engine.dispose()
    assert not names & {"hs_nodes", "hs_nodes_fts", "national_tariff_lines", "hs_editions"}
