"""`customslab targeting alerts` runs the periodic rules once, as the worker does on its schedule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from customslab.adapters.uow import Database
from customslab.domain.targeting_alerts import AlertKind
from customslab.entrypoints.cli import app as cli_app
from tests.factories import make_network, unique
from tests.integration.alert_support import alerts, outcomes, told


def test_the_alerts_command_raises_a_repeated_importer_once_with_the_configured_threshold(
    uow_factory: Callable[[], Any], database: Database, tmp_path: Path
) -> None:
    net = make_network(uow_factory)
    importer = f"KoreaChem {unique('K')}"
    outcomes(uow_factory, net, [(20 * i, True, "2933", "CN", importer) for i in range(2)])
    env = {
        "CUSTOMSLAB_MODE": "test",
        "CUSTOMSLAB_DATABASE_URL": database.url,
        "CUSTOMSLAB_FILE_STORE": str(tmp_path / "f"),
    }
    quiet = CliRunner().invoke(cli_app, ["targeting", "alerts"], env=env)
    assert quiet.exit_code == 0, quiet.output
    assert not alerts(uow_factory, administration_code=net.home, rule=AlertKind.REPEATED_IMPORTER)

    # Two differing cases reach a threshold of two (CUSTOMSLAB_ALERT_IMPORTER_MISMATCHES).
    strict = env | {"CUSTOMSLAB_ALERT_IMPORTER_MISMATCHES": "2"}
    for _ in range(2):
        ran = CliRunner().invoke(cli_app, ["targeting", "alerts"], env=strict)
        assert ran.exit_code == 0, ran.output
        assert "repeated importer(s)" in ran.output
    (alert,) = alerts(uow_factory, administration_code=net.home, rule=AlertKind.REPEATED_IMPORTER)
    assert alert.recent_k == 2 and alert.importer == importer
    assert [n.subject for n in told(uow_factory, net["reviewer"])] == [f"Targeting alert: {alert.summary}"]
