"""`customslab demo` builds a realistic network once and reuses it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from customslab.config import Settings
from customslab.domain.enums import OrgKind, Role
from customslab.entrypoints.demo_setup import load_demo, set_up_demo
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


def test_demo_set_up_loads_the_hs_nomenclature_and_builds_the_spectral_library_before_serving(
    tmp_path: Path, shared_data: Path
) -> None:
    """The HS browser has headings and the first identification finds its library ready. A few MassBank
    records stand in for the reference data, so that the build takes a moment, not 20 seconds."""
    from customslab.entrypoints.web.app import create_web_app
    from customslab.services.demo_data import DEMO_PASSWORD

    shared = tmp_path / "shared"
    (shared / "spectra" / "massbank-ei").mkdir(parents=True)
    (shared / "hs").symlink_to(shared_data / "hs")
    for record in sorted((shared_data / "spectra" / "massbank-ei").glob("MSBNK-*.txt"))[:5]:
        shutil.copy(record, shared / "spectra" / "massbank-ei")
    library = tmp_path / "library"
    settings = Settings(
        mode="demo",
        database_url=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        file_store=tmp_path / "files",
        shared_data=shared,
        library_path=library,
    )
    said: list[str] = []
    done = set_up_demo(settings, n_requests=5, say=said.append)
    assert done.created and done.library == library
    assert (library / "manifest.json").is_file() and (library / "ms_rows.npy").is_file()
    assert any(line.startswith("Loaded the HS nomenclature: 97 chapters") for line in said), said
    assert any(line.startswith("Built the default spectral library: 5 EI-MS") for line in said), said

    app = create_web_app(settings)
    try:
        client = TestClient(app)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token is not None
        data = {"username": "analyst", "password": DEMO_PASSWORD, "csrf_token": token.group(1), "next": "/"}
        assert client.post("/login", data=data, follow_redirects=False).status_code == 303
        page = client.get("/hs?code=22").text
        assert "not loaded" not in page and 'href="/hs?code=2208"' in page, "chapter 22 lists its headings"
        assert app.state.libraries.open("default").counts == {"EI-MS": 5}
    finally:
        app.state.db.dispose()

    said.clear()
    assert set_up_demo(settings, n_requests=5, say=said.append).created is False
    assert said == [], "a second set-up reuses the database, the nomenclature and the library"
