"""`customslab hs evaluate --lang ko`: the rules' text in Korean, the codes and the JSON shape unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from customslab.entrypoints.cli_hs import hs_app

runner = CliRunner()
#: Ethyl alcohol declared 2207.10 but measured at 40 % vol: the 80 % vol rule moves it to 2208.90.
ARGS = ["evaluate", "--declared", "2207.10", "--result", "alcohol_strength=40%vol"]
RUM = ["evaluate", "--declared", "2208.40", "--result", "alcohol_strength=85%vol"]
#: Still wine declared 2204.21 at 2 bar: the sparkling-wine rule names 2204.21/.22/.29, all of heading 22.04.
WINE = ["evaluate", "--declared", "2204.21", "--result", "excess_pressure=2bar"]


def _rule(data: dict[str, Any], rule_id: str) -> dict[str, Any]:
    (found,) = [r for r in data["rules"] if r["id"] == rule_id]
    return found


def test_evaluate_gives_the_rules_reasons_in_korean_when_asked(shared_data: Path) -> None:
    env = {"CUSTOMSLAB_HS_DATA": str(shared_data / "hs")}
    korean = runner.invoke(hs_app, [*ARGS, "--lang", "ko"], env=env)
    assert korean.exit_code == 0, korean.output
    assert korean.stdout.splitlines()[0] == "신고 2207.10 ≠ 판정 소호 제2208.90호 (호 단위에서 다름)."
    assert (
        "80 % vol 미만이므로 제2207.10호가 아닌 제2208.90호의 변성하지 않은 에틸알코올이다." in korean.stdout
    )
    assert "보호대역 적용 판정" in korean.stdout
    as_json = json.loads(runner.invoke(hs_app, [*ARGS, "--lang", "ko", "--json"], env=env).stdout)
    english = json.loads(runner.invoke(hs_app, [*ARGS, "--json"], env=env).stdout)
    assert as_json["determined"] == english["determined"] == ["220890"]
    assert (
        (as_json["mismatch"], as_json["level"]) == (english["mismatch"], english["level"]) == ("heading", "")
    )
    assert _rule(english, "ch22-ethyl-alcohol-80")["reasons"] == [
        "Less than 80 % vol, so undenatured ethyl alcohol of 2208.90, not 2207.10."
    ]
    refused = runner.invoke(hs_app, [*ARGS, "--lang", "fr"], env=env)
    assert refused.exit_code != 0 and "fr" in refused.output


def test_evaluate_words_the_level_decided_in_korean(shared_data: Path) -> None:
    env = {"CUSTOMSLAB_HS_DATA": str(shared_data / "hs")}
    korean = runner.invoke(hs_app, [*RUM, "--lang", "ko"], env=env)
    assert korean.exit_code == 0, korean.output
    # The only rule (Chapter 22 Note 3: 22.03 to 22.06 or 22.08) decides what they share: chapter 22.
    verdict = "신고 2208.40은(는) 제22류에서 일치한다. 이 결과로 정해지지 않은 단위: 호, 소호."
    assert korean.stdout.splitlines()[0] == verdict
    as_json = json.loads(runner.invoke(hs_app, [*RUM, "--lang", "ko", "--json"], env=env).stdout)
    english = json.loads(runner.invoke(hs_app, [*RUM, "--json"], env=env).stdout)
    assert as_json["message"] == verdict
    assert english["message"] == (
        "Declared 2208.40 agrees at chapter 22; heading and subheading not determined by these results."
    )
    # The level is data, the same in both languages; only the sentence is translated.
    for data in (as_json, english):
        assert (data["determined"], data["decided"], data["level"], data["open_levels"]) == (
            ["220840"],
            ["22"],
            "chapter",
            ["heading", "subheading"],
        )
    # A heading decided, in Korean: the still wine stays in heading 22.04, its subheading open.
    wine = runner.invoke(hs_app, [*WINE, "--lang", "ko"], env=env)
    assert wine.exit_code == 0, wine.output
    assert (
        wine.stdout.splitlines()[0]
        == "신고 2204.21은(는) 제2204호에서 일치한다. 이 결과로 정해지지 않은 단위: 소호."
    )
    wine_json = json.loads(runner.invoke(hs_app, [*WINE, "--lang", "ko", "--json"], env=env).stdout)
    assert (wine_json["decided"], wine_json["level"], wine_json["open_levels"]) == (
        ["2204"],
        "heading",
        ["subheading"],
    )
