"""`customslab demo` builds a realistic network once and reuses it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from customslab.config import Settings
from customslab.domain.enums import OrgKind, Role
from customslab.entrypoints.demo_setup import load_demo
from customslab.services.demo_data import ADMINISTRATIONS, DEMO_USERS, ORGS


def test_the_demo_network_has_every_kind_of_laboratory_and_every_role():
    kinds = [o.kind for o in ORGS]
    korea = [o for o in ORGS if o.administration_code == "KCS" and o.is_laboratory]
    assert [o.kind for o in korea].count(OrgKind.CENTRAL) == 1
    assert [o.kind for o in korea].count(OrgKind.LOCAL) == 5
    japan = [o for o in ORGS if o.administration_code == "JPC"]
    assert [(o.kind, o.is_rcl) for o in japan] == [(OrgKind.CENTRAL, True)], "Japan's CCL is an RCL"
    assert sum(o.is_rcl for o in ORGS) == 3
    assert kinds.count(OrgKind.MEMBER) == 1
    assert {a.code for a in ADMINISTRATIONS if not a.has_laboratories} == {"BTC"}
    assert kinds.count(OrgKind.CUSTOMS_OFFICE) == 2
    assert {Role(r) for _, _, roles, _ in DEMO_USERS for r in roles} == set(Role)


def test_the_demo_database_spreads_cases_over_states_with_referrals_and_overdue_work(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    settings = Settings(mode="demo", database_url=url, file_store=tmp_path / "files")
    assert load_demo(settings, n_requests=120) is True
    engine = create_engine(url)
    with engine.connect() as conn:
        states = dict(conn.execute(text("SELECT state, count(*) FROM samples GROUP BY state")).all())
        referrals = conn.execute(text("SELECT count(*) FROM referrals")).scalar_one()
        overdue = conn.execute(
            text(
                "SELECT count(*) FROM analysis_requests r JOIN samples s ON s.request_id = r.id "
                "WHERE r.due_date < date('now') "
                "AND s.state IN ('registered','received','in_analysis','retest')"
            )
        ).scalar_one()
        reports = conn.execute(text("SELECT count(*) FROM quality_issued_reports")).scalar_one()
        instruments = conn.execute(text("SELECT count(*) FROM quality_equipment")).scalar_one()
    engine.dispose()
    assert {"received", "in_analysis", "approved", "reported", "archived"} <= set(states)
    assert referrals > 5 and overdue > 0 and reports > 0 and instruments == 3
    assert load_demo(settings, n_requests=120) is False
    # Everything the loader wrote is anchored by a signed checkpoint of the chain's head.
    engine = create_engine(url)
    with engine.connect() as conn:
        head = conn.execute(text("SELECT max(seq) FROM audit_entries")).scalar_one()
        anchored = conn.execute(text("SELECT max(seq) FROM audit_checkpoints")).scalar_one()
    engine.dispose()
    assert anchored == head


def test_the_dashboard_gives_declared_versus_determined_rates_by_chapter_and_origin(tmp_path: Path):
    from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
    from customslab.domain.access import Actor
    from customslab.services.dashboard import network_dashboard

    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    load_demo(Settings(mode="demo", database_url=url, file_store=tmp_path / "files"), n_requests=90)
    db = Database(url)
    coordinator = Actor(0, "coordinator", "RCL-JP", frozenset({Role.NETWORK_COORDINATOR}))
    uow = SqlAlchemyUnitOfWork(db, LocalFileStore(tmp_path / "files"))
    data = network_dashboard(uow, coordinator).declared_vs_determined
    db.dispose()
    chapters = {r.key: r for r in data.per_chapter}
    assert "22" in chapters and chapters["22"].evaluated > 0
    assert sum(r.evaluated for r in data.per_origin) == data.evaluated
    assert all(0 <= r.rate <= 1 for r in data.per_chapter + data.per_origin)


def test_a_reused_demo_database_gets_the_printed_demo_password_back(tmp_path: Path):
    """A demo database made by an earlier version (with another demo password) is reused by
    `customslab demo`: its demo logins must still work with the password it prints."""
    from customslab.services.demo_data import DEMO_PASSWORD
    from customslab.services.passwords import hash_password

    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    settings = Settings(mode="demo", database_url=url, file_store=tmp_path / "files")
    assert load_demo(settings, n_requests=5) is True
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE users SET password_hash = :h"), {"h": hash_password("an-older-demo-password")}
        )
    assert load_demo(settings, n_requests=5) is False
    from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
    from customslab.services.passwords import password_matches

    db = Database(url)
    try:
        with SqlAlchemyUnitOfWork(db, LocalFileStore(tmp_path / "files")) as uow:
            for username, *_ in DEMO_USERS:
                assert password_matches(uow.repo.user_by_name(username), DEMO_PASSWORD), username
    finally:
        db.dispose()
    engine.dispose()
