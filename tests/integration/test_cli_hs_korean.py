"""`customslab hs evaluate --lang ko`: the rules' text in Korean, the codes and the JSON shape unchanged."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from customslab.entrypoints.cli_hs import hs_app

runner = CliRunner()
ARGS = ["evaluate", "--declared", "2208.40", "--result", "alcohol_strength=85%vol"]


def test_evaluate_gives_the_rules_reasons_in_korean_when_asked(shared_data: Path) -> None:
    env = {"CUSTOMSLAB_HS_DATA": str(shared_data / "hs")}
    korean = runner.invoke(hs_app, [*ARGS, "--lang", "ko"], env=env)
    assert korean.exit_code == 0, korean.output
    assert "80 % vol 이상이므로 소호 제2207.10호의 변성하지 않은 에틸알코올이다." in korean.stdout
    assert "보호대역 적용 판정" in korean.stdout
    as_json = json.loads(runner.invoke(hs_app, [*ARGS, "--lang", "ko", "--json"], env=env).stdout)
    english = json.loads(runner.invoke(hs_app, [*ARGS, "--json"], env=env).stdout)
    assert as_json["determined"] == english["determined"] == ["220710"]
    assert "80 % vol or higher, so undenatured ethyl alcohol of 2207.10." in english["rules"][-1]["reasons"]
    refused = runner.invoke(hs_app, [*ARGS, "--lang", "fr"], env=env)
    assert refused.exit_code != 0 and "fr" in refused.output
