"""A fresh deployment from an empty database, with no demo code involved: `customslab init --directory`,
then `customslab user add`, then one request through the HTTP API of a real server to an approved result."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from customslab.adapters import orm
from customslab.adapters.uow import Database
from customslab.config import Settings
from customslab.entrypoints.api.app import create_app
from customslab.entrypoints.cli import app as cli
from tests.factories import rum_request, rum_result
from tests.integration.conftest import ADMIN_PASSWORD, EXAMPLE, bearer_client, serving

PASSWORDS = {
    "officer.lee": "customs-harbour-ledger-seven",
    "analyst.kim": "beaker-lantern-mosaic-river",
    "reviewer.park": "granite-orchid-violin-summit",
}
#: What would bring the demo network in; importing any of it during the story fails the test.
DEMO_MODULES = (
    "customslab.services.demo",
    "customslab.services.demo_data",
    "customslab.entrypoints.demo_setup",
)


@pytest.fixture
def no_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any import of the demo's modules raises ImportError while the test runs (a None in sys.modules
    stops `import`, and the package attribute is removed so `from customslab.services import demo`
    cannot pick up a copy another test imported)."""
    for name in DEMO_MODULES:
        monkeypatch.setitem(sys.modules, name, None)
        package, _, attribute = name.rpartition(".")
        if package in sys.modules:
            monkeypatch.delattr(sys.modules[package], attribute, raising=False)


def run(args: list[str], env: dict[str, str], given: str | None = None) -> str:
    result = CliRunner().invoke(cli, args, env=env, input=given)
    assert result.exit_code == 0, result.output
    return str(result.output)


def test_a_fresh_deployment_takes_a_request_to_an_approved_result_without_the_demo(
    empty_url: str, tmp_path: Path, no_demo: None
) -> None:
    env = {
        "CUSTOMSLAB_DATABASE_URL": empty_url,
        "CUSTOMSLAB_FILE_STORE": str(tmp_path / "files"),
        "CUSTOMSLAB_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    said = run(["init", "--directory", str(EXAMPLE)], env)
    assert "created home administration KCS" in said
    for username, org, role, name in (
        ("officer.lee", "KCS-ICN-AIR", "requester", "Lee Ji-woo"),
        ("analyst.kim", "KCS-CCL", "analyst", "Kim Da-eun"),
        ("reviewer.park", "KCS-CCL", "reviewer", "Park Seo-yeon"),
    ):
        added = run(
            ["user", "add", username, "--org", org, "--role", role, "--full-name", name, "--password-stdin"],
            env,
            PASSWORDS[username],
        )
        assert f"Added user {username}" in added

    settings = Settings(mode="test", database_url=empty_url, file_store=tmp_path / "files")
    db = Database(empty_url)
    try:
        with serving(create_app(settings, db=db)) as base:
            story(base)
        with db.engine.connect() as conn:
            counts = {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (orm.administrations, orm.organisations, orm.users, orm.analysis_requests)
            }
    finally:
        db.dispose()
    # Only what the directory file, the three users and the story made: none of the demo network.
    assert counts == {"administrations": 2, "organisations": 4, "users": 4, "analysis_requests": 1}
    assert not any(sys.modules.get(name) for name in DEMO_MODULES)


def story(base: str) -> None:
    officer = bearer_client(base, "officer.lee", PASSWORDS["officer.lee"])
    reviewer = bearer_client(base, "reviewer.park", PASSWORDS["reviewer.park"])
    analyst = bearer_client(base, "analyst.kim", PASSWORDS["analyst.kim"])
    admin = bearer_client(base, "admin.kcs", ADMIN_PASSWORD)
    assert [o["code"] for o in admin.get("/api/admin/organisations").json()] == [
        "KCS-CCL",
        "KCS-ICN-AIR",
        "KCS-SEL",
    ]

    filed = officer.post("/api/requests", json=rum_request("KCS-CCL", "40123-26-000042"))
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]
    sample = reviewer.post(
        f"/api/requests/{request_id}/samples", json={"quantity": "700", "unit": "mL", "seal_number": "S-1"}
    )
    assert sample.status_code == 201, sample.text
    sample_id = sample.json()["id"]
    received = reviewer.post(f"/api/samples/{sample_id}/receive", json={"seal_intact": True})
    assert received.status_code == 200, received.text
    analyst_id = analyst.get("/api/auth/me").json()["id"]
    test = reviewer.post(
        f"/api/samples/{sample_id}/tests",
        json={"determination": "alcoholic strength", "method_ref": "KCL-M-022", "analyst_id": analyst_id},
    )
    assert test.status_code == 201, test.text
    test_id = test.json()["id"]
    result: Any = analyst.post(f"/api/tests/{test_id}/results", json=rum_result("40.3"))
    assert result.status_code == 201, result.text
    assert analyst.post(f"/api/tests/{test_id}/submit").status_code == 200
    approved = reviewer.post(f"/api/tests/{test_id}/review", json={"approve": True})
    assert approved.status_code == 200 and approved.json()["sample_state"] == "approved", approved.text

    seen = officer.get(f"/api/requests/{request_id}").json()
    released = seen["samples"][0]["tests"][0]
    assert seen["samples"][0]["state"] == "approved"
    assert released["results"][0]["value"] == "40.3" and released["results"][0]["unit"] == "%vol"


def test_the_demo_block_stops_any_import_of_the_demo(no_demo: None) -> None:
    with pytest.raises(ImportError):
        import customslab.services.demo  # noqa: F401
    with pytest.raises(ImportError):
        from customslab.entrypoints import demo_setup  # noqa: F401
