"""The library and identify commands, run through Typer on real data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from customslab.entrypoints.cli_spectra import identify_command, library_app
from customslab.spectra.library_store import FORMAT_VERSION

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


IMPOSSIBLE_MZ = "Name: wrapped\nNum Peaks: 2\n41 100\n1e26 50\n"


def test_a_query_peak_at_an_impossible_mz_gives_a_clear_message_and_exit_code_2(
    built: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    out, _ = built
    bad = tmp_path / "wrapped.msp"
    bad.write_text(IMPOSSIBLE_MZ)
    result = runner.invoke(make_app(), ["identify", str(bad), "--library", str(out)])
    assert result.exit_code == 2, result.output
    assert "wrapped.msp, line 4: peak 2 has m/z 1e+26, outside the accepted range" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_library_build_refuses_an_impossible_mz_and_leaves_no_library(
    built: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    _, files = built
    bad = tmp_path / "wrapped.msp"
    bad.write_text(IMPOSSIBLE_MZ)
    out = tmp_path / "lib"
    result = runner.invoke(make_app(), ["library", "build", str(files[0]), str(bad), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "peak 2 has m/z 1e+26" in result.output and "Traceback" not in result.output
    assert not out.exists()


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
    assert "CC BY-SA 4.0" in info.output and "CC BY 4.0" in info.output

    # A weathered LDPE ATR spectrum is answered with its polymer class, licence and description.
    polymer = shared_data / "spectra" / "mpx-polymers" / "spectra" / "LCG_01-LDPE_nobio_ATR_9042888c.csv"
    result = runner.invoke(make_app(), ["identify", str(polymer), "--json", "--top", "3"])
    assert result.exit_code == 0, result.output
    best = json.loads(result.stdout)[0]["hits"][0]
    assert best["label"] == "PE" and best["name"] == "LDPE"
    assert best["license"] == "CC BY-SA 4.0" and "ATR-FTIR" in best["description"]


def test_the_default_library_of_an_older_format_is_rebuilt(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = tmp_path / "default"
    old.mkdir()
    (old / "manifest.json").write_text(json.dumps({"format_version": 2, "arrays": []}))
    monkeypatch.setenv("CUSTOMSLAB_LIBRARY_PATH", str(old))
    monkeypatch.setenv("CUSTOMSLAB_SHARED_DATA", str(shared_data))
    query = shared_data / "spectra" / "rampp-raman" / "data-raw" / "References.CSV"
    result = runner.invoke(make_app(), ["identify", str(query), "--json", "--top", "1"])
    assert result.exit_code == 0, result.output
    hits = [item["hits"][0] for item in json.loads(result.stdout)]
    assert [h["label"] for h in hits] == [
        "PS",
        "PA",
        "PC",
        "PU",
        "PET",
        "PP",
        "SAN",
        "PVC",
        "PE",
        "POM",
        "ABS",
    ]
    assert all(h["license"] == "CC BY 4.0" for h in hits)
    assert json.loads((old / "manifest.json").read_text())["format_version"] == FORMAT_VERSION


def test_build_with_a_metadata_table_labels_entries_and_refuses_unknown_files(
    shared_data: Path, tmp_path: Path
) -> None:
    folder = shared_data / "spectra" / "mpx-polymers" / "spectra"
    files = sorted(folder.glob("*ATR*.csv"))[:3]
    table = tmp_path / "meta.csv"
    table.write_text(
        "file,name,label,licence,operator\n"
        + "".join(f"{f.name},sample {i},PX{i},,analyst {i}\n" for i, f in enumerate(files))
    )
    out = tmp_path / "lib"
    args = ["library", "build", *map(str, files), "--out", str(out), "--metadata", str(table)]
    result = runner.invoke(make_app(), [*args, "--license", "CC0 1.0"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(make_app(), ["identify", str(files[1]), "--library", str(out), "--json"])
    best = json.loads(result.stdout)[0]["hits"][0]
    assert (best["name"], best["label"], best["license"]) == ("sample 1", "PX1", "CC0 1.0")

    table.write_text(table.read_text() + "no-such-file.csv,x,y,,z\n")
    result = runner.invoke(
        make_app(), [*args[:-2], "--out", str(tmp_path / "other"), "--metadata", str(table)]
    )
    assert result.exit_code == 2 and "no-such-file.csv" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "other").exists()
