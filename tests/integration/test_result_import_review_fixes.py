"""Result import after its review: a changed LOD is a new result, not one already recorded; the pages keep
a previewed file only to confirm it and attach it to nothing before; the command line checks a file's size
before reading it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from customslab.adapters.uow import Database
from customslab.services import instrument_mappings as mappings
from customslab.services.instrument_mappings import MappingSave
from customslab.services.result_import import (
    ImportConfirm,
    ImportFile,
    ImportOptions,
    commit_import,
    preview_import,
)
from customslab.services.result_import_files import MAX_FILE_BYTES
from customslab.services.result_import_rows import SkipReason
from tests.factories import Network, assigned_test, make_network, received_sample, unique
from tests.integration.test_cli_import import _run
from tests.integration.test_pages import post, sign_in
from tests.integration.test_result_import_pages import _case, _hidden, _mapping_by_page
from tests.result_import_support import ICPMS, export

UowFactory = Any


def _simple_mapping(uow_factory: UowFactory, net: Network) -> int:
    body = {
        "instrument_model": unique("Simple ICP"),
        "layout": "long",
        "sample_column": "Sample",
        "analyte_column": "Analyte",
        "value_column": "Value",
        "unit_column": "Unit",
    }
    return mappings.create_mapping(uow_factory(), net["central_manager"], MappingSave.model_validate(body)).id


def _import(uow_factory: UowFactory, net: Network, mapping_id: int, content: bytes, commit: bool) -> Any:
    file = ImportFile("lead.csv", content)
    shown = preview_import(uow_factory(), net["analyst"], ImportOptions(mapping_id=mapping_id), file)
    if commit:
        confirm = ImportConfirm(mapping_id=mapping_id, fingerprint=shown.fingerprint)
        commit_import(uow_factory(), net["analyst"], confirm, file)
    return shown


def test_a_non_detect_with_a_changed_lod_is_a_new_result_not_one_already_recorded(
    uow_factory: UowFactory,
) -> None:
    net = make_network(uow_factory)
    sample = received_sample(uow_factory, net)
    test = assigned_test(uow_factory, net, sample.id, determination="Heavy metals", method_ref="ICP-MS")
    mapping_id = _simple_mapping(uow_factory, net)

    def csv(value: str) -> bytes:
        return f"Sample,Analyte,Value,Unit\n{sample.lab_sample_id},Pb,{value},mg/kg\n".encode()

    _import(uow_factory, net, mapping_id, csv("< 0.05"), commit=True)
    same = _import(uow_factory, net, mapping_id, csv("< 0.05"), commit=False)
    assert [s.reason for s in same.skipped] == [SkipReason.ALREADY_RECORDED] and same.rows == []

    changed = _import(uow_factory, net, mapping_id, csv("< 0.01"), commit=True)
    assert changed.skipped == []
    assert [(r.text_value, str(r.lod)) for r in changed.rows] == [("not_detected", "0.01")]
    uow = uow_factory()
    with uow:
        held = uow.repo.test(test.id).results
        assert sorted(str(r.lod) for r in held) == ["0.01", "0.05"]


def test_a_preview_with_nothing_to_write_keeps_no_file_and_one_with_results_attaches_it_to_nothing(
    client: TestClient, app: Any, net: Network
) -> None:
    content, tests = _case(app, net)
    mapping_id = _mapping_by_page(client, net)
    sign_in(client, net, "analyst")
    unknown = export(ICPMS)  # its sample ids are not the laboratory's: nothing to write
    nothing = post(
        client, "/results/import/preview", {"mapping_id": str(mapping_id)}, files={"file": (ICPMS, unknown)}
    )
    assert nothing.status_code == 200 and 'id="confirm-import"' not in nothing.text
    assert not app.state.uow_factory().files.exists(hashlib.sha256(unknown).hexdigest())

    shown = post(
        client, "/results/import/preview", {"mapping_id": str(mapping_id)}, files={"file": (ICPMS, content)}
    )
    assert 'id="confirm-import"' in shown.text
    sha = hashlib.sha256(content).hexdigest()
    uow = app.state.uow_factory()
    assert uow.files.exists(sha)
    with uow:
        assert all(a.sha256 != sha for t in tests for a in uow.repo.test(t).attachments)

    hidden = {k: v for k, v in _hidden(shown.text).items() if k != "csrf_token"}
    done = post(client, "/results/import/commit", hidden)
    assert done.status_code in (200, 303), done.text
    with uow:
        assert all(any(a.sha256 == sha for a in uow.repo.test(t).attachments) for t in tests)


def test_the_command_refuses_a_file_too_large_before_reading_it_or_signing_in(
    database: Database, tmp_path: Path
) -> None:
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as out:
        out.truncate(20 * MAX_FILE_BYTES)  # sparse: costs no disk
    try:
        refused = _run(
            database, tmp_path, "import", str(huge), "--mapping", "x", "--user", "nobody", password="wrong"
        )
    finally:
        os.unlink(huge)
    assert refused.exit_code == 2
    assert "larger than 5 MB" in refused.output
