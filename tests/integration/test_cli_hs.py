"""`customslab hs` through Typer's CliRunner: JSON shape, on-the-fly loading, clean errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from customslab.entrypoints.cli_hs import hs_app

runner = CliRunner()


@pytest.fixture
def env(shared_data: Path, tmp_path: Path) -> dict[str, str]:
    return {
        "CUSTOMSLAB_HS_DATA": str(shared_data / "hs"),
        "CUSTOMSLAB_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
    }


def test_evaluate_prints_the_documented_json(env: dict[str, str]) -> None:
    result = runner.invoke(
        hs_app,
        ["evaluate", "--declared", "2207.10", "--result", "alcohol_strength=40%vol", "--json"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {k: data[k] for k in ("declared", "status", "determined", "mismatch")} == {
        "declared": "220710",
        "status": "decided",
        "determined": ["220890"],
        "mismatch": "heading",
    }
    # The declaration is contradicted, so it is confirmed at no level.
    assert (data["level"], data["open_levels"], data["missing_evidence"]) == ("", [], [])
    assert data["message"] == "Declared 2207.10 ≠ determined subheading 2208.90 (differs at heading level)."
    (ethyl,) = [r for r in data["rules"] if r["id"] == "ch22-ethyl-alcohol-80"]
    assert {"id", "source", "outcome", "kind", "missing_evidence"} <= set(ethyl)
    assert (ethyl["kind"], ethyl["missing_evidence"], ethyl["codes"]) == ("threshold", [], ["220890"])


def test_evaluate_keeps_a_strong_rum_in_its_chapter_and_claims_only_the_chapter(
    env: dict[str, str],
) -> None:
    args = ["evaluate", "--declared", "2208.40", "--result", "alcohol_strength=85%vol", "--json"]
    data = json.loads(runner.invoke(hs_app, args, env=env).stdout)
    # Chapter 22 Note 3 names headings 22.03 to 22.06 or 22.08: it decides only what they share, chapter 22.
    assert (data["status"], data["determined"], data["decided"], data["mismatch"]) == (
        "decided",
        ["220840"],
        ["22"],
        "none",
    )
    assert (data["level"], data["open_levels"]) == ("chapter", ["heading", "subheading"])
    assert [r["id"] for r in data["rules"]] == ["ch22-non-alcoholic"]
    text = runner.invoke(hs_app, args[:-1], env=env).stdout
    assert text.splitlines()[0] == (
        "Declared 2208.40 agrees at chapter 22; heading and subheading not determined by these results."
    )
    # A national tariff line declared: its national digits are left open too.
    national = ["evaluate", "--declared", "2208401000", "--result", "alcohol_strength=85%vol"]
    line = runner.invoke(hs_app, national, env=env)
    assert line.exit_code == 0, line.output
    assert line.stdout.splitlines()[0] == (
        "Declared 2208.40.1000 agrees at chapter 22; heading, subheading and national tariff line not "
        "determined by these results."
    )


def test_evaluate_is_undecided_when_the_uncertainty_spans_the_limit(env: dict[str, str]) -> None:
    args = ["evaluate", "--declared", "2207.10", "--result", "alcohol_strength=80.2%vol±0.4", "--json"]
    guarded = json.loads(runner.invoke(hs_app, args, env=env).stdout)
    assert (guarded["status"], guarded["determined"], guarded["level"]) == (
        "undecided",
        ["220710", "220890"],
        "",
    )
    simple = runner.invoke(hs_app, [*args, "--decision-rule", "simple"], env=env)
    assert json.loads(simple.stdout)["determined"] == ["220710"]


def test_evaluate_combines_several_results_with_units(env: dict[str, str]) -> None:
    args = [
        "evaluate",
        "--declared",
        "2701.11",
        "--result",
        "volatile_matter=31%",
        "--result",
        "calorific_value=24.4MJ/kg",
        "--json",
    ]
    data = json.loads(runner.invoke(hs_app, args, env=env).stdout)
    assert (data["determined"], data["mismatch"]) == (["270119"], "subheading")


def test_evaluate_gives_the_duty_difference_from_a_tariff_file(env: dict[str, str], tmp_path: Path) -> None:
    tariff = tmp_path / "tariff.csv"
    tariff.write_text(
        "code,description,ad_valorem,specific,specific_unit,unit\n"
        "2207101000,Undenatured ethyl alcohol,270,,,l\n"
        "2208901000,Undenatured ethyl alcohol under 80 % vol,20,,,l\n"
    )
    # Ethyl alcohol declared at 80 % vol or more, measured at 40 % vol: 2208.90, a lower duty.
    args = ["evaluate", "--declared", "2207101000", "--result", "alcohol_strength=40%vol"]
    args += ["--tariff", str(tariff), "--value", "1000"]
    text = runner.invoke(hs_app, args, env=env)
    assert text.exit_code == 0, text.output
    assert "declared line 2207101000 2,700.00; determined line 2208901000 200.00; difference -2,500.00" in (
        text.output
    )
    duty = json.loads(runner.invoke(hs_app, [*args, "--json"], env=env).stdout)["duty"]
    assert (duty["declared_duty"], duty["determined_duty"], duty["difference"]) == (2700.0, 200.0, -2500.0)
    alone = runner.invoke(hs_app, args[:-2], env=env)
    assert alone.exit_code == 2 and "both --tariff and --value" in alone.output


def test_evaluate_reports_when_no_rule_applies(env: dict[str, str]) -> None:
    args = ["evaluate", "--declared", "0101.21", "--result", "specific_gravity=0.952", "--json"]
    data = json.loads(runner.invoke(hs_app, args, env=env).stdout)
    assert (data["status"], data["determined"], data["rules"]) == ("no_rule", [], [])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--declared", "2208.4x", "--result", "alcohol_strength=85%vol"], "digits only"),
        (["--declared", "7700", "--result", "alcohol_strength=85%vol"], "not a code"),
        (["--declared", "2208.40", "--result", "alcohol_strength=85g/kg"], "not accepted"),
        (["--declared", "2208.40", "--result", "strength=85"], "unknown quantity"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_no_traceback(
    env: dict[str, str], args: list[str], message: str
) -> None:
    result = runner.invoke(hs_app, ["evaluate", *args], env=env)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_search_loads_the_nomenclature_on_first_use_and_says_so(env: dict[str, str]) -> None:
    first = runner.invoke(hs_app, ["search", "rum"], env=env)
    assert first.exit_code == 0, first.output
    assert "Loaded HS2022" in first.output
    assert first.stdout.splitlines()[0].startswith("2208")
    again = runner.invoke(hs_app, ["search", "polyethylene", "--json"], env=env)
    assert "Loaded" not in again.output.split("[", 1)[0]
    assert json.loads(again.stdout)[0]["code"] == "3901"


def test_show_prints_a_code_with_its_ancestors_and_children(env: dict[str, str]) -> None:
    result = runner.invoke(hs_app, ["show", "2208"], env=env)
    assert result.exit_code == 0, result.output
    assert "22 " in result.stdout and "2208.40" in result.stdout


def test_show_refuses_an_unknown_code(env: dict[str, str]) -> None:
    result = runner.invoke(hs_app, ["show", "7700"], env=env)
    assert result.exit_code == 2 and "not a code" in result.output


def test_load_reports_the_counts_per_level(env: dict[str, str]) -> None:
    result = runner.invoke(hs_app, ["load"], env=env)
    assert result.exit_code == 0, result.output
    assert "97 chapters, 1229 headings, 5613 subheadings" in result.stdout


def test_docs_regenerates_the_rules_page(tmp_path: Path) -> None:
    out = tmp_path / "hs-rules.md"
    result = runner.invoke(hs_app, ["docs", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Worked example" in out.read_text(encoding="utf-8")
