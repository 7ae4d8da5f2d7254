"""The coverage list (rules/coverage.yaml): the loader refuses bad files, each entry's status is computed
from the catalogue's `notes`, every key a rule cites is listed, and the CLI and the generated page agree."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from customslab.entrypoints import cli_hs
from customslab.entrypoints.cli_hs import hs_app
from customslab.hs.coverage import (
    Coverage,
    CoverageError,
    coverage_report,
    default_coverage,
    load_coverage,
    parse_coverage,
    parse_key,
    render_markdown,
    render_text,
    write_coverage_docs,
)
from customslab.hs.rules import Catalogue, Rule, default_catalogue

REPO = Path(__file__).resolve().parents[3]
runner = CliRunner()


def entry(key: str, **extra: str) -> dict[str, str]:
    return {"key": key, "note": f"note {key}", "criterion": "a number", "checked": "recall", **extra}


def coverage(*keys: str) -> Coverage:
    return parse_coverage({"edition": "HS2022", "notes": [entry(k) for k in keys]})


def rule(rule_id: str, kind: str, notes: tuple[str, ...]) -> Rule:
    """A rule of the shipped catalogue renamed, of another kind and citing other notes: status depends on
    nothing else."""
    return replace(default_catalogue().rules[0], id=rule_id, kind=kind, notes=notes)


def catalogue(*rules: Rule, edition: str = "HS2022") -> Catalogue:
    return Catalogue(edition=edition, version=1, rules=tuple(rules), derived=())


# The loader.


@pytest.mark.parametrize(
    "key",
    [
        "ch11-n2",
        "ch11-n2a",
        "ch72-n1d",
        "ch17-sn1",
        "sec11-n2",
        "sec11-n2ba",
        "sec11-sn1",
        "h2710",
        "h390110",
    ],
)
def test_keys_of_the_convention_are_accepted(key: str) -> None:
    assert coverage(key).entries[0].key == key


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("ch04-n3a", "did you mean ch4-n3a"),
        ("sec01-n1", "did you mean sec1-n1"),
        ("CH11-N2", "not a coverage key"),
        ("ch11-2", "not a coverage key"),
        ("ch11-n", "not a coverage key"),
        ("ch11-n2A", "not a coverage key"),
        ("h27101", "not a coverage key"),
        ("h22", "not a coverage key"),
        ("2710", "not a coverage key"),
        ("ch98-n1", "no Chapter 98"),
        ("ch77-n1", "no Chapter 77"),
        ("h7701", "no Chapter 77"),
        ("h9801", "no Chapter 98"),
        ("sec22-n1", "no Section 22"),
    ],
)
def test_the_loader_refuses_a_key_outside_the_convention(key: str, reason: str) -> None:
    with pytest.raises(CoverageError, match=reason):
        coverage(key)


def test_the_loader_refuses_a_duplicate_key() -> None:
    with pytest.raises(CoverageError, match="duplicate keys: ch22-n3"):
        coverage("ch22-n3", "h2207", "ch22-n3")


@pytest.mark.parametrize("field", ["key", "note", "criterion", "checked"])
def test_the_loader_refuses_an_entry_without_a_required_field(field: str) -> None:
    raw = entry("ch22-n3")
    raw[field] = "  "
    with pytest.raises(CoverageError, match=f"'{field}' is required"):
        parse_coverage({"edition": "HS2022", "notes": [raw]})


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"notes": [entry("ch22-n3")]}, "expected a mapping with 'edition'"),
        (["ch22-n3"], "expected a mapping with 'edition'"),
        ({"edition": "HS2022", "notes": []}, "non-empty list"),
        ({"edition": "HS2022", "notes": ["ch22-n3"]}, "expected a mapping with key"),
        (
            {"edition": "HS2022", "notes": [entry("ch22-n3", status="encoded")]},
            r"unknown fields \['status'\]",
        ),
        ({"edition": "HS2022", "rules": [], "notes": [entry("ch22-n3")]}, "unknown top-level keys"),
    ],
)
def test_the_loader_refuses_a_malformed_file(data: Any, reason: str) -> None:
    with pytest.raises(CoverageError, match=reason):
        parse_coverage(data)


def test_a_file_is_read_and_its_text_is_folded(tmp_path: Path) -> None:
    path = tmp_path / "coverage.yaml"
    path.write_text(
        "edition: HS2022\nnotes:\n  - key: ch22-n3\n    note: Chapter 22, Note 3\n"
        "    criterion: >-\n      not exceeding\n      0.5 % vol\n    checked: recall\n    pending: a rule\n",
        encoding="utf-8",
    )
    loaded = load_coverage(path)
    assert loaded.entries[0].criterion == "not exceeding 0.5 % vol"
    assert loaded.entries[0].pending == "a rule"
    path.write_text("edition: [HS2022\n", encoding="utf-8")
    with pytest.raises(CoverageError, match="not valid YAML"):
        load_coverage(path)


def test_keys_sort_by_section_then_chapter_then_kind() -> None:
    assert parse_key("sec11-n2a").section == 11 and parse_key("sec11-n2a").chapter == 0
    assert (parse_key("ch72-n1d").section, parse_key("ch72-n1d").chapter) == (15, 72)
    assert (parse_key("h390110").section, parse_key("h390110").chapter) == (7, 39)
    report = coverage_report(coverage("h2208", "ch22-sn1", "ch22-n3", "sec4-n1", "ch16-n2"), catalogue())
    assert [r.entry.key for r in report.rows] == ["sec4-n1", "ch16-n2", "ch22-n3", "ch22-sn1", "h2208"]


# Status, computed from the catalogue.


def test_status_is_computed_from_the_rules_notes() -> None:
    report = coverage_report(
        coverage("ch22-n3", "ch22-sn1", "h1504", "h2207", "ch72-n1d"),
        catalogue(
            rule("threshold-rule", "threshold", ("ch22-n3",)),
            rule("evidence-rule", "evidence", ("h1504", "ch22-n3")),
            rule("computed-rule", "ferrous", ("ch72-n1d",)),
            rule("plain-rule", "threshold", ()),
        ),
    )
    rows = {r.entry.key: r for r in report.rows}
    assert (rows["ch22-n3"].status, rows["ch22-n3"].rules) == ("encoded", ("threshold-rule",))
    assert rows["ch22-n3"].evidence_rules == ("evidence-rule",)
    assert (rows["h1504"].status, rows["h1504"].rules, rows["h1504"].evidence_rules) == (
        "evidence",
        (),
        ("evidence-rule",),
    )
    assert (rows["ch72-n1d"].status, rows["ch72-n1d"].rules) == ("encoded", ("computed-rule",))
    assert (rows["ch22-sn1"].status, rows["ch22-sn1"].rules) == ("not-yet", ())
    assert report.totals() == {"encoded": 2, "evidence": 1, "not-yet": 2}
    assert report.unlisted == {}


def test_a_rule_citing_an_unlisted_key_is_reported() -> None:
    report = coverage_report(
        coverage("ch22-n3"),
        catalogue(rule("a", "threshold", ("ch22-n3", "ch04-n3a")), rule("b", "evidence", ("ch04-n3a",))),
    )
    assert report.unlisted == {"ch04-n3a": ("a", "b")}
    assert "ch04-n3a (cited by a, b; did you mean ch4-n3a?)" in report.unlisted_message()
    with pytest.raises(CoverageError, match="does not list: ch04-n3a"):
        render_markdown(report)


def test_the_list_and_the_catalogue_must_be_of_one_edition() -> None:
    with pytest.raises(CoverageError, match="HS2022 notes but the catalogue is HS2017"):
        coverage_report(coverage("ch22-n3"), catalogue(edition="HS2017"))


def test_rows_are_selected_by_status_and_chapter_with_their_section_notes() -> None:
    report = coverage_report(
        coverage("sec11-n2a", "h5208", "ch52-sn1", "h5512", "ch22-n3"),
        catalogue(rule("cotton", "threshold", ("h5208",))),
    )
    assert [r.entry.key for r in report.select(chapter=52)] == ["sec11-n2a", "ch52-sn1", "h5208"]
    assert [r.entry.key for r in report.select("encoded")] == ["h5208"]
    assert [r.entry.key for r in report.select("not-yet", 55)] == ["sec11-n2a", "h5512"]
    with pytest.raises(CoverageError, match="not one of encoded, evidence, not-yet"):
        report.select("done")
    with pytest.raises(CoverageError, match="no Chapter 77"):
        report.select(chapter=77)


def test_the_text_listing_ends_with_the_totals() -> None:
    report = coverage_report(coverage("ch22-n3", "h2207"), catalogue(rule("r", "threshold", ("h2207",))))
    lines = render_text(report).splitlines()
    assert lines[0].startswith("ch22-n3     not yet       note ch22-n3: a number")
    assert lines[1].endswith("[r]")
    assert lines[-1] == "HS2022: 2 notes with a measurable criterion — 1 encoded, 0 evidence rule, 1 not yet."
    assert render_text(report, report.select("encoded")).endswith("1 not yet. 1 shown.")


def test_the_page_has_a_summary_and_one_table_per_section() -> None:
    report = coverage_report(
        parse_coverage(
            {
                "edition": "HS2022",
                "notes": [
                    entry("ch22-n3"),
                    entry("h2207"),
                    entry("ch72-n1d", pending="carbon | chromium"),
                    entry("h1504"),
                ],
            }
        ),
        catalogue(rule("alcohol", "threshold", ("h2207",)), rule("oil", "evidence", ("h1504",))),
    )
    page = render_markdown(report)
    assert "by `customslab hs docs`" in page
    assert "**4 notes: 1 encoded, 1 evidence rule, 2 not yet.**" in page
    assert (
        "| [IV](#section-iv) Prepared foodstuffs; beverages, spirits and vinegar; tobacco | 2 | 1 | 0 | 1 |"
        in page
    )
    assert "## Section III: Animal, vegetable or microbial fats and oils (Chapter 15)" in page
    assert "## Section XV: Base metals and articles of base metal (Chapters 72–83)" in page
    assert "| `h2207` | note h2207 | a number | **encoded** | `alcohol` | recall |" in page
    assert "| evidence rule | `oil` (evidence) |" in page
    assert "not yet: carbon \\| chromium" in page
    assert "Section II:" not in page


# The shipped list against the shipped catalogue.


def test_the_shipped_list_loads_and_names_the_catalogue_edition() -> None:
    shipped = default_coverage()
    assert shipped.edition == default_catalogue().edition
    assert len(shipped.entries) >= 120
    assert all(e.checked for e in shipped.entries)


def test_every_note_key_a_rule_cites_is_in_the_list() -> None:
    report = coverage_report()
    assert report.unlisted == {}, report.unlisted_message()


def test_the_notes_the_catalogue_encodes_are_encoded() -> None:
    rows = {r.entry.key: r for r in coverage_report().rows}
    assert rows["h2207"].status == "encoded"
    assert "ch22-ethyl-alcohol-80" in rows["h2207"].rules
    assert rows["ch16-n2"].status == "encoded"


def test_the_committed_page_is_the_generated_one() -> None:
    assert (REPO / "docs" / "hs-coverage.md").read_text(encoding="utf-8") == render_markdown()


# The CLI.


@pytest.fixture
def small_report(monkeypatch: pytest.MonkeyPatch) -> None:
    report = coverage_report(
        coverage("ch22-n3", "h2207", "h1504", "ch72-n1d"),
        catalogue(rule("alcohol", "threshold", ("h2207",)), rule("oil", "evidence", ("h1504",))),
    )
    monkeypatch.setattr(cli_hs, "coverage_report", lambda: report)


def test_coverage_prints_the_list_and_the_totals(small_report: None) -> None:
    result = runner.invoke(hs_app, ["coverage"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["h1504", "ch22-n3", "h2207", "ch72-n1d"]
    assert lines[0].startswith("h1504       evidence rule note h1504: a number [oil]")
    assert lines[-1] == "HS2022: 4 notes with a measurable criterion — 1 encoded, 1 evidence rule, 2 not yet."


def test_coverage_filters_and_prints_a_stable_json_shape(small_report: None) -> None:
    result = runner.invoke(hs_app, ["coverage", "--status", "not-yet", "--chapter", "22", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"edition", "totals", "shown", "entries", "unlisted"}
    assert data["totals"] == {"encoded": 1, "evidence": 1, "not_yet": 2, "total": 4}
    assert data["shown"] == 1
    assert data["entries"] == [
        {
            "key": "ch22-n3",
            "note": "note ch22-n3",
            "criterion": "a number",
            "status": "not-yet",
            "rules": [],
            "evidence_rules": [],
            "checked": "recall",
            "pending": None,
        }
    ]
    assert data["unlisted"] == []


def test_coverage_refuses_a_bad_status_or_chapter(small_report: None) -> None:
    assert runner.invoke(hs_app, ["coverage", "--status", "done"]).exit_code == 2
    assert runner.invoke(hs_app, ["coverage", "--chapter", "98"]).exit_code == 2
    result = runner.invoke(hs_app, ["coverage", "--chapter", "77"])
    assert result.exit_code == 2
    assert "no Chapter 77" in result.output


def test_coverage_exits_1_when_a_rule_cites_an_unlisted_note(monkeypatch: pytest.MonkeyPatch) -> None:
    report = coverage_report(coverage("ch22-n3"), catalogue(rule("butter", "threshold", ("ch04-n3a",))))
    monkeypatch.setattr(cli_hs, "coverage_report", lambda: report)
    result = runner.invoke(hs_app, ["coverage", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["unlisted"] == [{"key": "ch04-n3a", "rules": ["butter"]}]
    assert "did you mean ch4-n3a?" in result.output


def test_coverage_of_the_shipped_catalogue_exits_0() -> None:
    result = runner.invoke(hs_app, ["coverage", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["totals"]["total"] == len(default_coverage().entries) == data["shown"]


def test_docs_writes_the_rules_page_and_the_coverage_page(tmp_path: Path) -> None:
    rules_page, coverage_page = tmp_path / "rules.md", tmp_path / "coverage.md"
    result = runner.invoke(hs_app, ["docs", "--out", str(rules_page), "--coverage-out", str(coverage_page)])
    assert result.exit_code == 0, result.output
    assert rules_page.read_text(encoding="utf-8").startswith("# HS measurement rules catalogue")
    assert coverage_page.read_text(encoding="utf-8") == render_markdown()
    assert write_coverage_docs(tmp_path / "again.md").read_text(encoding="utf-8") == render_markdown()
    elsewhere = tmp_path / "site" / "rules.md"
    assert runner.invoke(hs_app, ["docs", "--out", str(elsewhere)]).exit_code == 0
    assert (tmp_path / "site" / "hs-coverage.md").read_text(encoding="utf-8") == render_markdown()
