"""docs/access.md carries the visibility table exactly as domain.access renders it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from customslab.domain.access import visibility_table_markdown
from customslab.entrypoints.cli import ACCESS_TABLE_END, ACCESS_TABLE_START, app

DOCS = Path(__file__).resolve().parents[2] / "docs" / "access.md"


def _table_in(page: str) -> str:
    _, start, rest = page.partition(ACCESS_TABLE_START)
    table, end, _ = rest.partition(ACCESS_TABLE_END)
    assert start and end, "the page lost its access-table markers"
    return table.removeprefix("\n")


def test_the_docs_carry_the_visibility_table_the_code_applies() -> None:
    assert _table_in(DOCS.read_text(encoding="utf-8")) == visibility_table_markdown(), (
        "docs/access.md differs from domain.access: run `customslab access-table --docs docs/access.md`"
    )


def test_the_command_prints_the_table_as_the_domain_renders_it() -> None:
    run = CliRunner().invoke(app, ["access-table"])
    assert run.exit_code == 0, run.output
    assert run.output == visibility_table_markdown()
    assert "| network_coordinator | figures | record |" in run.output


def test_the_command_refreshes_a_stale_table_and_keeps_the_rest_of_the_page(tmp_path: Path) -> None:
    page = tmp_path / "access.md"
    page.write_text(
        f"# Intro\n\n{ACCESS_TABLE_START}\n| stale |\n{ACCESS_TABLE_END}\n\nAfter.\n", encoding="utf-8"
    )
    run = CliRunner().invoke(app, ["access-table", "--docs", str(page)])
    assert run.exit_code == 0, run.output
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# Intro\n\n") and text.endswith(f"{ACCESS_TABLE_END}\n\nAfter.\n")
    assert "| stale |" not in text
    assert _table_in(text) == visibility_table_markdown()


def test_the_command_refuses_a_page_without_the_markers_and_leaves_it_alone(tmp_path: Path) -> None:
    page = tmp_path / "other.md"
    page.write_text("# No table here\n", encoding="utf-8")
    run = CliRunner().invoke(app, ["access-table", "--docs", str(page)])
    assert run.exit_code == 2
    assert "access-table:start" in run.output
    assert page.read_text(encoding="utf-8") == "# No table here\n"
