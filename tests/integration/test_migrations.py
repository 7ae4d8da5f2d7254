"""The migrations run both ways: up, down to nothing, and up again to the same schema.

Each migration's downgrade must undo exactly what its upgrade made (the test that the migrated schema
matches the application's tables is in test_quality_api.py); both run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from customslab.adapters.db import alembic_config
from tests.integration.conftest import create_pg_database, drop_pg_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('migrations') / 'empty.sqlite3'}"
        return
    url = create_pg_database()
    yield url
    drop_pg_database(url)


def _schema(url: str) -> dict[str, Any]:
    """Tables with their columns, keys, foreign keys, unique constraints and indexes, by name."""
    engine = create_engine(url)
    try:
        found = inspect(engine)
        return {
            table: {
                "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(table)],
                "primary_key": found.get_pk_constraint(table),
                "foreign_keys": sorted(
                    (fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"])
                    for fk in found.get_foreign_keys(table)
                ),
                "unique": sorted(
                    (u["name"] or "", tuple(u["column_names"])) for u in found.get_unique_constraints(table)
                ),
                "indexes": sorted(
                    (i["name"] or "", tuple(str(c) for c in i["column_names"]), bool(i["unique"]))
                    for i in found.get_indexes(table)
                ),
            }
            for table in sorted(found.get_table_names())
        }
    finally:
        engine.dispose()


def test_upgrade_downgrade_and_upgrade_again_give_the_same_schema(empty_url: str) -> None:
    config = alembic_config(empty_url)
    command.upgrade(config, "head")
    first = _schema(empty_url)
    assert {"analysis_requests", "samples", "audit_entries", "quality_equipment"} <= set(first)
    command.downgrade(config, "base")
    assert set(_schema(empty_url)) == {"alembic_version"}
    command.upgrade(config, "head")
    assert _schema(empty_url) == first


def test_a_database_with_cases_migrates_to_administrations_with_its_rows_kept(empty_url: str) -> None:
    """0006 rebuilds organisations and requests on SQLite while users, samples and requests point at
    them: the rows stay, each organisation and request gets its country's administration."""
    from sqlalchemy import text

    config = alembic_config(empty_url)
    command.upgrade(config, "0005_hardening")
    engine = create_engine(empty_url)
    org = (
        "INSERT INTO organisations (code, name, kind, country, address, contact_points, row_version) "
        "VALUES (:code, :name, :kind, :country, '', '[]', 1)"
    )
    with engine.begin() as conn:
        conn.execute(text(org), {"code": "KCS-CCL", "name": "CCL", "kind": "central", "country": "KR"})
        conn.execute(text(org), {"code": "OFF", "name": "Office", "kind": "customs_office", "country": "KR"})
        conn.execute(text(org), {"code": "BT-DRC", "name": "Bhutan", "kind": "member", "country": "BT"})
        conn.execute(
            text(
                "INSERT INTO users (username, full_name, email, org_code, roles, password_hash, active, "
                "row_version) VALUES ('kim', 'Kim', '', 'KCS-CCL', 'analyst', '', true, 1)"
            )
        )
        user_id = conn.execute(text("SELECT id FROM users")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO analysis_requests (reference, office_code, requester_id, lab_code, "
                "declaration_number, item_number, declared_hs, goods_description, origin_country, importer, "
                "reason, priority, due_date, requested_determinations, question, created_at, row_version) "
                "VALUES ('R1', 'OFF', :user, 'KCS-CCL', 'D1', 1, '2208', 'rum', 'JM', '', 'classification', "
                "'routine', '2026-12-01', '[]', '', '2026-11-01 00:00:00', 1)"
            ),
            {"user": user_id},
        )
    engine.dispose()
    command.upgrade(config, "head")
    engine = create_engine(empty_url)
    with engine.connect() as conn:
        orgs = dict(conn.execute(text("SELECT code, administration_code FROM organisations")).all())
        admins = {
            code: bool(labs)
            for code, labs in conn.execute(text("SELECT code, has_laboratories FROM administrations"))
        }
        request = conn.execute(text("SELECT administration_code FROM analysis_requests")).scalar_one()
        users = conn.execute(text("SELECT count(*) FROM users")).scalar_one()
    engine.dispose()
    assert orgs == {"KCS-CCL": "KR", "OFF": "KR", "BT-DRC": "BT"}
    assert admins == {"KR": True, "BT": False}
    assert (request, users) == ("KR", 1)
