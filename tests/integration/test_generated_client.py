"""A client generated from /openapi.json by openapi-python-client works the whole case through HTTP.

The client is generated into a temporary folder on every run, so the test checks the document as it is
now, and talks to a real uvicorn server: sign in, file a request, register and receive a sample, plan a
test, enter, submit and approve a result, then read it back as the officer, all through typed models.
"""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from customslab.adapters.db import upgrade
from customslab.config import Settings
from customslab.entrypoints.api.app import create_app
from customslab.entrypoints.web.screenshots import live_server
from tests.factories import PASSWORD, Network, make_network, unique

PACKAGE = "customslab_client"
#: The generator maps what it cannot type natively (PDF, SVG) to bytes; everything else is a model.
GENERATOR_CONFIG = {
    "package_name_override": PACKAGE,
    "post_hooks": [],
    "content_type_overrides": {
        "application/pdf": "application/octet-stream",
        "image/svg+xml": "application/octet-stream",
    },
}


@pytest.fixture(scope="module")
def app_and_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Network]]:
    tmp = tmp_path_factory.mktemp("client")
    settings = Settings(
        mode="test", database_url=f"sqlite:///{tmp / 'api.sqlite3'}", file_store=tmp / "files"
    )
    upgrade(settings.database_url)
    app = create_app(settings)
    yield app, make_network(app.state.uow_factory)
    app.state.db.dispose()


@pytest.fixture(scope="module")
def client_package(
    app_and_network: tuple[Any, Network], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ModuleType]:
    """Generate the client from the live document and import it from the temporary folder."""
    app, _ = app_and_network
    tmp = tmp_path_factory.mktemp("generated")
    (tmp / "openapi.json").write_text(json.dumps(app.openapi()))
    (tmp / "config.json").write_text(json.dumps(GENERATOR_CONFIG))
    generator = Path(sys.executable).with_name("openapi-python-client")
    done = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(tmp / "openapi.json"),
            "--config",
            str(tmp / "config.json"),
            "--meta",
            "none",
            "--output-path",
            str(tmp / PACKAGE),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(tmp))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _api(package: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.api.{name}")


def _models(package: ModuleType) -> Any:
    return importlib.import_module(f"{package.__name__}.models")


def _call(
    package: ModuleType, operation: str, client: Any, body: dict[str, Any] | None = None, **path: Any
) -> Any:
    """Call the generated `sync` of OPERATION (its operationId) with BODY parsed by the generated model
    its signature names, so the test does not depend on what the server calls its commands or enums."""
    sync = _api(package, operation).sync
    if body is not None:
        body_model = inspect.signature(sync).parameters["body"].annotation
        assert isinstance(body_model, type), body_model
        path["body"] = body_model.from_dict(body)
    answer = sync(client=client, **path)
    assert not isinstance(answer, _models(package).ErrorBody), f"{operation}: {answer}"
    return answer


def test_a_generated_client_signs_in_files_a_request_and_reads_the_approved_result(
    client_package: ModuleType, app_and_network: tuple[Any, Network]
) -> None:
    app, net = app_and_network
    m, pkg = _models(client_package), client_package
    client_module = importlib.import_module(f"{PACKAGE}.client")

    with live_server(app) as base:

        def signed_in(who: str) -> Any:
            anonymous = client_module.Client(base_url=base, raise_on_unexpected_status=True)
            token = _call(
                pkg, "auth.auth_sign_in", anonymous, {"username": net[who].username, "password": PASSWORD}
            )
            assert isinstance(token.access_token, str) and token.access_token
            return client_module.AuthenticatedClient(
                base_url=base, token=token.access_token, raise_on_unexpected_status=True
            )

        officer, manager = signed_in("officer"), signed_in("central_manager")
        analyst, reviewer = signed_in("analyst"), signed_in("reviewer")

        filed = _call(
            pkg,
            "cases.cases_file_request",
            officer,
            {
                "lab_code": net.central,
                "declaration_number": unique("DCL"),
                "declared_hs": "2208.40",
                "goods_description": "Rum in 700 mL bottles",
                "origin_country": "JM",
                "reason": "classification",
                "priority": "urgent",
                "requested_determinations": ["alcoholic strength"],
                "question": "Is this rum of heading 2208?",
            },
        )
        assert isinstance(filed.id, int) and filed.lab_code == net.central
        assert filed.priority == m.Priority.URGENT and isinstance(filed.created_at, datetime)

        sample = _call(
            pkg,
            "cases.cases_register_sample",
            manager,
            {"quantity": "700", "unit": "mL", "seal_number": "S-1"},
            request_id=filed.id,
        )
        assert sample.state == m.State.REGISTERED and sample.request_id == filed.id
        received = _call(
            pkg,
            "cases.cases_receive_sample",
            manager,
            {"seal_intact": True, "storage_location": "F2"},
            sample_id=sample.id,
        )
        assert received.state == m.State.RECEIVED

        test = _call(
            pkg,
            "tests.tests_add_test",
            manager,
            {
                "determination": "alcoholic strength",
                "method_ref": "KCL-M-022",
                "analyst_id": net["analyst"].user_id,
            },
            sample_id=sample.id,
        )
        assert test.analyst_id == net["analyst"].user_id
        result = _call(
            pkg,
            "tests.tests_enter_result",
            analyst,
            {
                "name": "alcohol_strength",
                "value": "40.3",
                "unit": "%vol",
                "expanded_uncertainty": "0.2",
                "coverage_factor": "2",
            },
            test_id=test.id,
        )
        assert (result.value, result.unit) == ("40.3", "%vol")
        _call(pkg, "tests.tests_submit_test", analyst, test_id=test.id)
        approved = _call(pkg, "tests.tests_review_test", reviewer, {"approve": True}, test_id=test.id)
        assert approved.sample_state == m.State.APPROVED

        seen = _call(pkg, "cases.cases_get_request", officer, request_id=filed.id)
        released = seen.samples[0].tests[0]
        assert released.results_released is True
        assert (released.results[0].value, released.results[0].unit) == ("40.3", "%vol")
        detail = _call(pkg, "cases.cases_get_sample", manager, sample_id=sample.id)
        assert detail.state == m.State.APPROVED and detail.lab_sample_id


def test_a_generated_client_gets_a_typed_error_when_the_token_is_wrong(
    client_package: ModuleType, app_and_network: tuple[Any, Network]
) -> None:
    app, _ = app_and_network
    m = _models(client_package)
    client_module = importlib.import_module(f"{PACKAGE}.client")
    with live_server(app) as base:
        stranger = client_module.AuthenticatedClient(base_url=base, token="not-a-token")
        answer = _api(client_package, "cases.cases_get_request").sync_detailed(client=stranger, request_id=1)
    assert answer.status_code == 401
    assert isinstance(answer.parsed, m.ErrorBody) and answer.parsed.error
