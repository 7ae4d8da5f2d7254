"""`customslab report verify` and `audit verify` as the README runs them: no secret key, one meaning
per exit code (0 issued/intact, 1 superseded, 2 unknown, 3 altered/broken, 4 unusable, 5 internal)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import text
from typer.testing import CliRunner, Result

from customslab.adapters.audit_anchor import AuditSigner
from customslab.adapters.report_pdf import read_verification_code
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.entrypoints.cli import app
from customslab.services import analysis, cases, reports
from customslab.services.analysis import ResultCreate, ReviewDecision
from customslab.services.reports import ReportAmend
from tests.factories import Network, assigned_test, make_network, received_sample, request_command

#: What the README's shell has: no CUSTOMSLAB_* at all, so production mode and no secret key.
NO_SECRETS: dict[str, str | None] = {"CUSTOMSLAB_MODE": None, "CUSTOMSLAB_SECRET_KEY": None}


def run(*args: str, env: Mapping[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env={**NO_SECRETS, **(env or {})})


def _issued_pdf(uow_factory: Callable[[], Any], net: Network) -> tuple[int, bytes]:
    """A report issued on an approved alcoholic-strength test: its id and its PDF."""
    sample = received_sample(uow_factory, net)
    test = assigned_test(uow_factory, net, sample.id, determination="alcoholic strength", method_ref="M-22")
    result = ResultCreate(
        name="alcohol_strength", value="40.2", unit="%vol", expanded_uncertainty="0.2", coverage_factor="2"
    )
    analysis.enter_result(uow_factory(), net["analyst"], test.id, result)
    analysis.submit_test(uow_factory(), net["analyst"], test.id)
    analysis.review_test(uow_factory(), net["reviewer"], test.id, ReviewDecision(approve=True))
    issued = reports.issue_report(uow_factory(), net["reviewer"], sample.id)
    assert issued.id is not None
    return issued.id, reports.report_pdf(uow_factory(), net["reviewer"], issued.id)[1]


def _one_byte_changed(pdf: bytes) -> bytes:
    """The PDF with one byte of its last content stream changed: still a PDF whose code reads."""
    at = pdf.rindex(b"stream", 0, pdf.rindex(b"endstream")) + 40
    altered = pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]
    assert read_verification_code(altered) == read_verification_code(pdf) is not None
    return altered


def test_report_verify_needs_no_secret_key_and_gives_each_verdict_its_own_exit_code(
    uow_factory: Callable[[], Any], database: Database, tmp_path: Path
) -> None:
    net = make_network(uow_factory)
    report_id, old_pdf = _issued_pdf(uow_factory, net)
    amended = reports.amend_report(
        uow_factory(), net["reviewer"], report_id, ReportAmend(reason="HS corrected.")
    )
    assert amended.id is not None
    new_pdf = reports.report_pdf(uow_factory(), net["reviewer"], amended.id)[1]
    files = {
        "issued": new_pdf,
        "superseded": old_pdf,
        "unknown": b"%PDF-1.4 not a report",
        "altered": _one_byte_changed(new_pdf),
    }
    said: dict[str, tuple[int, str]] = {}
    for name, content in files.items():
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(content)
        result = run("report", "verify", str(path), "--database-url", database.url)
        said[name] = (result.exit_code, result.output.split(":")[0])
    assert said == {
        "issued": (0, "ISSUED"),
        "superseded": (1, "SUPERSEDED"),
        "unknown": (2, "UNKNOWN"),
        "altered": (3, "ALTERED"),
    }


def test_report_verify_answers_a_missing_file_a_bad_option_or_a_missing_database_with_4(
    sqlite_url: str, tmp_path: Path
) -> None:
    missing = run("report", "verify", str(tmp_path / "nowhere.pdf"), "--database-url", sqlite_url)
    assert missing.exit_code == 4 and "does not exist" in missing.output
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(b"%PDF-1.4 not a report")
    assert run("report", "verify", str(pdf), "--no-such-option").exit_code == 4
    assert run("report", "verify").exit_code == 4, "a missing argument is a usage error too"
    nowhere = tmp_path / "absent.sqlite3"
    no_db = run("report", "verify", str(pdf), "--database-url", f"sqlite:///{nowhere}")
    assert no_db.exit_code == 4 and "There is no database" in no_db.output
    assert not nowhere.exists(), "a read-only check creates no empty database"
    # The secret key is waived for the checks only: the server still refuses to start without one.
    serve = run("serve")
    assert serve.exit_code != 0 and "CUSTOMSLAB_SECRET_KEY" in serve.output


def test_an_unexpected_error_exits_with_5_not_with_a_verdict(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(reports, "verify_report", broken)
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    result = run("report", "verify", str(pdf), "--database-url", sqlite_url)
    assert result.exit_code == 5 and "Internal error" in result.output


def test_audit_verify_needs_no_secret_key_exits_0_when_intact_and_3_when_tampered(
    fresh_url: str, tmp_path: Path
) -> None:
    key_file = tmp_path / "keys" / "audit.pem"
    db = Database(fresh_url, audit_signer=AuditSigner(key_file, create_missing=True, checkpoint_seconds=0))
    files = LocalFileStore(tmp_path / "files")

    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(db, files)

    net = make_network(uow)
    cases.file_request(uow(), net["officer"], request_command(net))
    key = {"CUSTOMSLAB_AUDIT_KEY_FILE": str(key_file)}
    intact = run("audit", "verify", "--database-url", fresh_url, env=key)
    assert intact.exit_code == 0 and "Audit chain intact" in intact.output, intact.output
    without_key = run("audit", "verify", "--database-url", fresh_url)
    assert without_key.exit_code == 4 and "CUSTOMSLAB_AUDIT_KEY_FILE" in without_key.output
    with db.engine.begin() as conn:  # what a database administrator could do behind the application
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
        else:
            conn.execute(text("DROP TRIGGER audit_entries_no_update"))
        conn.execute(text("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 3"))
    db.dispose()
    broken = run("audit", "verify", "--database-url", fresh_url, env=key)
    assert broken.exit_code == 3 and "BROKEN at entry 3" in broken.output
    assert run("audit", "verify", "--bad-option", env=key).exit_code == 4


def test_audit_verify_answers_an_unusable_key_file_outside_production_with_4(
    sqlite_url: str, tmp_path: Path
) -> None:
    # Outside production the key is read lazily: it must still be read before the verification starts.
    garbage = tmp_path / "audit.pem"
    garbage.write_bytes(b"not a key")
    env = {"CUSTOMSLAB_MODE": "dev", "CUSTOMSLAB_AUDIT_KEY_FILE": str(garbage)}
    result = run("audit", "verify", "--database-url", sqlite_url, env=env)
    assert result.exit_code == 4 and "not an unencrypted Ed25519 private key" in result.output, result.output


def test_a_file_that_is_not_a_database_is_a_configuration_error_exiting_with_4(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not an SQLite database, only some text that is long enough " * 20)
    url = f"sqlite:///{junk}"
    key = tmp_path / "keys" / "audit.pem"
    AuditSigner(key, create_missing=True).key()
    audit = run("audit", "verify", "--database-url", url, env={"CUSTOMSLAB_AUDIT_KEY_FILE": str(key)})
    assert audit.exit_code == 4 and "The database cannot be read" in audit.output, audit.output


def test_an_interrupted_check_exits_with_4_never_with_a_verdict(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_: object, **__: object) -> None:
        raise typer.Abort()  # what click makes of Ctrl-C

    monkeypatch.setattr(reports, "verify_report", interrupted)
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    result = run("report", "verify", str(pdf), "--database-url", sqlite_url)
    assert result.exit_code == 4 and "Interrupted" in result.output, result.output
