"""The library and identify commands, run through Typer on real data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from customslab.entrypoints.cli_spectra import identify_command, library_app

runner = CliRunner()


def make_app() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(library_app, name="library")
    app.command("identify")(identify_command)
    return app


@pytest.fixture(scope="module")
def built(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    files = sorted((shared_data / "spectra" / "massbank-ei").iterdir())[:150]
    out = tmp_path_factory.mktemp("cli") / "lib"
    result = runner.invoke(make_app(), ["library", "build", *map(str, files), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out, files


def test_build_then_info_reports_the_id_and_counts(built: tuple[Path, list[Path]]) -> None:
    out, _ = built
    result = runner.invoke(make_app(), ["library", "info", str(out)])
    assert result.exit_code == 0
    assert "EI-MS: 150" in result.output and "library id:" in result.output


def test_identify_json_prints_one_array_with_ranked_hits_per_query(built: tuple[Path, list[Path]]) -> None:
    out, files = built
    result = runner.invoke(
        make_app(), ["identify", str(files[4]), str(files[9]), "--library", str(out), "--top", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [item["query"] for item in payload] == [str(files[4]), str(files[9])]
    first = payload[0]["hits"][0]
    assert first["rank"] == 1 and first["score"] == pytest.approx(1.0, abs=1e-3)
    assert {"name", "inchikey", "score", "library_id"} <= set(first)
    assert len(payload[1]["hits"]) == 3


def test_a_bad_query_file_gives_a_clear_message_and_exit_code_2(
    built: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    out, _ = built
    bad = tmp_path / "junk.txt"
    bad.write_text("ACCESSION: X\nCH$NAME: y\nPK$NUM_PEAK: 2\nPK$PEAK: m/z int. rel.int.\n  41 10 10\n//\n")
    result = runner.invoke(make_app(), ["identify", str(bad), "--library", str(out)])
    assert result.exit_code == 2 and "PK$NUM_PEAK" in result.output and "Traceback" not in result.output


def test_a_missing_library_folder_is_reported_without_a_traceback(tmp_path: Path) -> None:
    result = runner.invoke(make_app(), ["library", "info", str(tmp_path)])
    assert result.exit_code == 2 and "not a spectral library" in result.output


@pytest.mark.slow
def test_identify_without_a_library_builds_the_default_one_on_first_use(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTOMSLAB_LIBRARY_PATH", str(tmp_path / "default"))
    monkeypatch.setenv("CUSTOMSLAB_SHARED_DATA", str(shared_data))
    query = sorted((shared_data / "spectra" / "massbank-ei").iterdir())[20]
    result = runner.invoke(make_app(), ["identify", str(query), "--json"])
    assert result.exit_code == 0, result.output
    assert "Building the default library" in result.stderr
    hits = json.loads(result.stdout)[0]["hits"]
    assert hits[0]["score"] == pytest.approx(1.0, abs=1e-3)
    info = runner.invoke(make_app(), ["library", "info", str(tmp_path / "default")])
    assert "FTIR" in info.output and "RAMAN" in info.output and "EI-MS: 1612" in info.output
