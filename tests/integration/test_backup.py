"""`customslab backup` and `customslab restore` round trips on SQLite and PostgreSQL, through the CLI."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, table
from typer.testing import CliRunner

from customslab.adapters.audit_anchor import AuditSigner, SqlAuditAnchor
from customslab.adapters.backup import libpq_target
from customslab.adapters.db import upgrade
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.entrypoints.cli import app
from customslab.services import analysis, queries
from tests.factories import assigned_test, make_network, received_sample
from tests.integration.conftest import create_pg_database, drop_pg_database

runner = CliRunner()
RAW_FILES = [b"t,rho\n20,0.9479\n", b"##TITLE=fish oil\n##XYDATA=(X++(Y..Y))\n" + bytes(range(256)) * 8]


@dataclass(frozen=True)
class Source:
    url: str
    store: Path
    backup: Path
    counts: dict[str, int]
    hashes: dict[str, str]


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            names = inspect(conn).get_table_names()
            return {n: conn.execute(select(func.count()).select_from(table(n))).scalar_one() for n in names}
    finally:
        engine.dispose()


def _hashes(store: Path) -> dict[str, str]:
    """Relative path → sha256 of the content, for every file under STORE."""
    if not store.exists():
        return {}
    return {
        str(p.relative_to(store)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(store.rglob("*"))
        if p.is_file()
    }


def _env(url: str, store: Path) -> dict[str, str]:
    return {"CUSTOMSLAB_DATABASE_URL": url, "CUSTOMSLAB_FILE_STORE": str(store)}


def _new_url(kind: str, where: Path) -> str:
    return create_pg_database() if kind == "postgresql" else f"sqlite:///{where / 'target.sqlite3'}"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def source(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    """A database with a network, two received samples, a test with two raw files; and its backup."""
    kind = str(request.param)
    where = tmp_path_factory.mktemp(f"source-{kind}")
    url = create_pg_database() if kind == "postgresql" else f"sqlite:///{where / 'source.sqlite3'}"
    upgrade(url)
    # Written with the audit signer, so the backup carries signed checkpoints; the key stays beside it.
    db = Database(url, audit_signer=AuditSigner(_key(where), create_missing=True, checkpoint_seconds=0))
    store = where / "files"
    files = LocalFileStore(store)

    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(db, files)

    net = make_network(uow)
    received_sample(uow, net, lab="local")
    sample = received_sample(uow, net)
    test = assigned_test(uow, net, sample.id, determination="alcoholic strength", method_ref="M-12")
    for n, content in enumerate(RAW_FILES):
        analysis.attach_file(
            uow(),
            net["analyst"],
            test.id,
            filename=f"raw-{n}.csv",
            media_type="text/csv",
            stream=io.BytesIO(content),
            max_bytes=1_000_000,
        )
    db.dispose()
    backup = where / "backup"
    result = runner.invoke(app, ["backup", str(backup)], env=_env(url, store))
    assert result.exit_code == 0, result.output
    assert "audit signing key is not part of a backup" in result.output
    yield Source(url, store, backup, _counts(url), _hashes(store))
    if kind == "postgresql":
        drop_pg_database(url)


@pytest.fixture
def target(source: Source, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A new, empty database of the source's kind and a file store path that does not exist yet."""
    kind = "postgresql" if source.url.startswith("postgresql") else "sqlite"
    url = _new_url(kind, tmp_path)
    yield url, tmp_path / "restored-files"
    if kind == "postgresql":
        drop_pg_database(url)


def _key(where: Path) -> Path:
    """The audit key of the deployment backed up in `where`: kept apart from its backup."""
    return where / "audit-key.pem"


def _restore(backup: Path, target: tuple[str, Path]) -> object:
    # The operator puts the deployment's key back before restoring (the backup does not hold it).
    env = _env(*target) | {"CUSTOMSLAB_AUDIT_KEY_FILE": str(_key(backup.parent))}
    return runner.invoke(app, ["restore", str(backup)], env=env)


def _database_untouched(url: str) -> None:
    if url.startswith("sqlite"):
        assert not Path(url.removeprefix("sqlite:///")).exists()
    else:
        assert _counts(url) == {}


def _nothing_written(target: tuple[str, Path]) -> None:
    _database_untouched(target[0])
    assert not target[1].exists()


def test_the_manifest_records_the_database_and_every_file_with_its_checksum(source: Source) -> None:
    manifest = json.loads((source.backup / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["row_counts"] == source.counts
    assert manifest["alembic_revision"]
    assert manifest["audit_head"]["seq"] == source.counts["audit_entries"]
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    stored = {f"files/{path}": sha for path, sha in source.hashes.items()}
    assert {p: s for p, s in listed.items() if p.startswith("files/")} == stored
    assert len(stored) == len(RAW_FILES)
    for path, sha in listed.items():
        assert hashlib.sha256((source.backup / path).read_bytes()).hexdigest() == sha


def test_a_backup_restored_into_an_empty_target_has_the_same_rows_files_and_audit_chain(
    source: Source, target: tuple[str, Path]
) -> None:
    result = _restore(source.backup, target)
    assert result.exit_code == 0, result.output
    assert "Audit chain intact" in result.output and "matches the backup" in result.output
    url, store = target
    restored = _counts(url)
    assert restored == source.counts
    assert restored["attachments"] == len(RAW_FILES) and restored["audit_entries"] > 10
    assert _hashes(store) == source.hashes
    db = Database(url)
    try:
        anchor = SqlAuditAnchor(db.engine, AuditSigner(_key(source.backup.parent), create_missing=False))
        verdict = queries.verify_audit(SqlAlchemyUnitOfWork(db, LocalFileStore(store)), anchor)
    finally:
        db.dispose()
    assert verdict.ok, verdict.problem
    assert verdict.checked == source.counts["audit_entries"]
    # The restored chain is held to the signed checkpoints it was backed up with.
    assert restored["audit_checkpoints"] > 0 and verdict.last_checkpoint_seq == source.counts["audit_entries"]


def test_restore_refuses_a_database_that_is_not_empty(source: Source, tmp_path: Path) -> None:
    result = _restore(source.backup, (source.url, tmp_path / "store"))
    assert result.exit_code == 2
    assert "not empty" in result.output or "already has tables" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "store").exists()
    assert _counts(source.url) == source.counts


def test_restore_refuses_a_file_store_that_is_not_empty(source: Source, target: tuple[str, Path]) -> None:
    url, store = target
    store.mkdir()
    (store / "notes.txt").write_text("someone's file")
    result = _restore(source.backup, target)
    assert result.exit_code == 2
    assert "file store is not empty" in result.output
    assert [p.name for p in store.iterdir()] == ["notes.txt"]
    _database_untouched(url)


@pytest.mark.parametrize("damaged", ["database", "file"])
def test_a_backup_with_one_byte_changed_is_refused_and_nothing_is_written(
    source: Source, target: tuple[str, Path], tmp_path: Path, damaged: str
) -> None:
    copy = tmp_path / "backup"
    shutil.copytree(source.backup, copy)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    paths = [f["path"] for f in manifest["files"]]
    victim = next(p for p in paths if p.startswith("files/") == (damaged == "file"))
    data = bytearray((copy / victim).read_bytes())
    data[len(data) // 2] ^= 0x01
    (copy / victim).write_bytes(bytes(data))
    result = _restore(copy, target)
    assert result.exit_code == 2, result.output
    assert "damaged" in result.output and victim in result.output
    _nothing_written(target)


def test_backup_refuses_a_folder_that_already_holds_files(source: Source, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("keep me")
    result = runner.invoke(app, ["backup", str(out)], env=_env(source.url, source.store))
    assert result.exit_code == 2
    assert "new or empty" in result.output
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_restore_refuses_a_folder_without_a_manifest(source: Source, target: tuple[str, Path]) -> None:
    result = _restore(source.store, target)
    assert result.exit_code == 2 and "manifest.json is missing" in result.output
    _nothing_written(target)


def test_the_postgresql_password_travels_in_the_environment_not_on_the_command_line() -> None:
    uri, env = libpq_target("postgresql+psycopg://lab:s3cret@db.example:5433/customslab?sslmode=require")
    assert uri == "postgresql://lab@db.example:5433/customslab?sslmode=require"
    assert env["PGPASSWORD"] == "s3cret"


def test_backup_names_referenced_files_that_the_store_lacks_or_holds_damaged(
    source: Source, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    shutil.copytree(source.store, store)
    damaged, removed = sorted(source.hashes)
    (store / damaged).write_bytes(b"not what was uploaded")
    (store / removed).unlink()
    out = tmp_path / "out"
    result = runner.invoke(app, ["backup", str(out)], env=_env(source.url, store))
    assert result.exit_code == 1
    assert f"damaged copy of file {Path(damaged).name}" in result.output
    assert f"lacks file {Path(removed).name}" in result.output
    listed = [f["path"] for f in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]]
    assert not [p for p in listed if p.startswith("files/")]


def test_a_backup_is_readable_by_its_owner_only(source: Source) -> None:
    assert source.backup.stat().st_mode & 0o777 == 0o700
    for path in source.backup.rglob("*"):
        assert path.stat().st_mode & 0o077 == 0, path
