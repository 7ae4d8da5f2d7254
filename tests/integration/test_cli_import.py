"""`customslab results import FILE --mapping NAME [--commit]` as an analyst signed in on the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from customslab.adapters.uow import Database
from customslab.entrypoints.cli import app
from customslab.services import instrument_mappings as mappings
from tests.factories import PASSWORD, Network, assigned_test, make_network, received_sample
from tests.result_import_support import ICPMS, mapping_command, renamed

ICPMS_MODEL = "Agilent 7900 ICP-MS MassHunter"


def _run(database: Database, tmp_path: Path, *args: str, password: str = PASSWORD) -> Result:
    env = {
        "CUSTOMSLAB_MODE": "test",
        "CUSTOMSLAB_DATABASE_URL": database.url,
        "CUSTOMSLAB_FILE_STORE": str(tmp_path / "files"),
    }
    return CliRunner().invoke(app, ["results", *args, "--password-stdin"], input=password + "\n", env=env)


def _case(uow_factory: Any, tmp_path: Path) -> tuple[Network, Path, list[int]]:
    net = make_network(uow_factory)
    mappings.create_mapping(uow_factory(), net["central_manager"], mapping_command(ICPMS))
    ids, tests = {}, []
    for name in ("KCS-CCL-2026-00117", "KCS-CCL-2026-00118"):
        sample = received_sample(uow_factory, net)
        ids[name] = sample.lab_sample_id
        tests.append(
            assigned_test(uow_factory, net, sample.id, determination="Metals", method_ref="ICP-MS").id
        )
    path = tmp_path / ICPMS
    path.write_bytes(renamed(ICPMS, ids))
    return net, path, tests


def _count(uow_factory: Any, tests: list[int]) -> int:
    uow = uow_factory()
    with uow:
        return sum(len(uow.repo.test(t).results) for t in tests)


def test_the_command_previews_then_commits_what_it_previewed(
    uow_factory: Any, database: Database, tmp_path: Path
) -> None:
    net, path, tests = _case(uow_factory, tmp_path)
    user = net["analyst"].username
    shown = _run(database, tmp_path, "import", str(path), "--mapping", ICPMS_MODEL.lower(), "--user", user)
    assert shown.exit_code == 0, shown.output
    assert "8 results to write, 16 rows not." in shown.output and "SKIP  line   32" in shown.output
    fingerprint = shown.output.rsplit("Fingerprint: ", 1)[1].strip()
    assert _count(uow_factory, tests) == 0

    stale = _run(
        database, tmp_path, "import", str(path), "--mapping", ICPMS_MODEL, "--user", user,
        "--commit", "--fingerprint", "f" * 64,
    )  # fmt: skip
    assert stale.exit_code == 2 and "nothing was written" in stale.output
    done = _run(
        database, tmp_path, "import", str(path), "--mapping", ICPMS_MODEL, "--user", user,
        "--commit", "--fingerprint", fingerprint, "--json",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["committed"]["written"] == 8
    assert _count(uow_factory, tests) == 8


def test_the_command_refuses_a_wrong_password_an_unknown_mapping_and_a_bad_unit(
    uow_factory: Any, database: Database, tmp_path: Path
) -> None:
    net, path, tests = _case(uow_factory, tmp_path)
    user = net["analyst"].username
    wrong = _run(
        database, tmp_path, "import", str(path), "--mapping", ICPMS_MODEL, "--user", user, password="nope"
    )
    assert wrong.exit_code == 2 and "wrong password" in wrong.output
    unknown = _run(database, tmp_path, "import", str(path), "--mapping", "Bruker", "--user", user)
    assert unknown.exit_code == 2 and f"it has: {ICPMS_MODEL}" in unknown.output
    path.write_bytes(path.read_bytes().replace(b"He,8.31,mg/kg", b"He,8.31,mg/kgx"))
    bad = _run(database, tmp_path, "import", str(path), "--mapping", ICPMS_MODEL, "--user", user, "--commit")
    assert bad.exit_code == 2 and "Line 21: the unit 'mg/kgx' is not a unit" in bad.output
    assert _count(uow_factory, tests) == 0
    listed = _run(database, tmp_path, "mappings", "--user", user)
    assert listed.exit_code == 0 and ICPMS_MODEL in listed.output
