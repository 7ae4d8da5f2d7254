"""Backup and restore of one deployment: the database, the content-addressed file store and a manifest.

A backup is a folder::

    manifest.json        what was written, with the sha256 of every file, and what the database held
    database.sqlite3     SQLite: a copy made with the online backup API
    database.pgdump      PostgreSQL: `pg_dump --format=custom`
    files/ab/<sha256>    the file store, as it is laid out

Why the copy is consistent while the server keeps running: the database is copied first, from one
consistent state (SQLite's backup API copies a committed state; pg_dump reads one repeatable-read
snapshot, exported by the transaction that also counts the rows and reads the audit head for the
manifest, so the figures and the dump describe the same instant). The file store is copied after.
Files are content-addressed, written once and never changed, and the file store writes a file before
the transaction whose rows reference it commits; so every file the database snapshot references
already existed when the copy of the store began. Files added later are copied too, unreferenced and
harmless.

The audit signing key (the `audit_key_file` setting) is deliberately not in a backup: it lives outside
the database so that someone holding the data cannot rewrite the audit chain and re-sign it, and a
backup is data. Keep a copy of the key apart from the backups.

Restore writes only into an empty target and only after the whole backup has been checked against
its manifest, so a refused restore leaves nothing half-written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from alembic.runtime.migration import MigrationContext
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import Connection, create_engine, func, inspect, select, table, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

MANIFEST = "manifest.json"
FORMAT: Literal["customslab-backup"] = "customslab-backup"
FORMAT_VERSION: Literal[1] = 1
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
FILES = "files"
CHUNK = 1024 * 1024
#: The columns that name a file of the file store by its sha256, checked after a restore.
FILE_REFERENCES = {
    "attachments": "sha256",
    "quality_issued_reports": "pdf_sha256",
    "knowledge_versions": "sha256",
}

_SHARD = re.compile(r"[0-9a-f]{2}")
_SHA = re.compile(r"[0-9a-f]{64}")

DatabaseKind = Literal["sqlite", "postgresql"]


class BackupRefused(Exception):
    """The backup or restore cannot start (or was stopped) for a reason the person can fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AuditHead(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    seq: int
    hash: str


class ManifestFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    path: str
    sha256: str
    size: int


class RecordedState(BaseModel):
    """What a database holds that the manifest records and a restore compares."""

    model_config = ConfigDict(frozen=True)
    alembic_revision: str | None
    row_counts: dict[str, int]
    audit_head: AuditHead | None


class Manifest(RecordedState):
    """manifest.json: written last, so a folder without one is an unfinished backup."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    format: Literal["customslab-backup"] = FORMAT
    version: Literal[1] = FORMAT_VERSION
    created_at: datetime
    database_kind: DatabaseKind
    files: list[ManifestFile]


class DatabaseState(RecordedState):
    """What a database holds: the recorded state, and the files its rows reference."""

    referenced_files: frozenset[str]


class BackupResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    manifest: Manifest
    #: Files the database references that the file store lacks or holds damaged (the backup is incomplete).
    problems: list[str]


class RestoreResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    manifest: Manifest
    state: DatabaseState
    #: Each way the restored copy differs from the manifest; empty when it matches.
    differences: list[str]


# --- helpers ---------------------------------------------------------------------------------------


def database_kind(database_url: str) -> DatabaseKind:
    backend = make_url(database_url).get_backend_name()
    if backend == "sqlite":
        return "sqlite"
    if backend == "postgresql":
        return "postgresql"
    raise BackupRefused(f"Backups cover SQLite and PostgreSQL databases, not {backend}.")


def libpq_target(database_url: str) -> tuple[str, dict[str, str]]:
    """The libpq URI for pg_dump/pg_restore (no password in it) and the environment carrying the password.

    A password on a command line is visible to every user of the machine (ps), so it travels in
    PGPASSWORD instead.
    """
    url: URL = make_url(database_url)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    bare = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    uri = bare.render_as_string(hide_password=False)
    return uri, env


def _sqlite_path(database_url: str) -> Path:
    name = make_url(database_url).database
    if not name or name == ":memory:":
        raise BackupRefused("An in-memory SQLite database has nothing to back up or restore into.")
    return Path(name)


def _client(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupRefused(
            f"{name} is not installed: install the PostgreSQL client tools of the server's version."
        )
    return found


def _run_client(args: list[str], env: dict[str, str], what: str, hide: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        for secret, shown in hide.items():
            detail = detail.replace(secret, shown)
        raise BackupRefused(f"{what} failed: {detail}")


def _sha256_of(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _copy_hashed(src: Path, dest: Path) -> tuple[str, int]:
    """Copy SRC to DEST through a temporary file renamed into place, hashing what was copied."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".restore-")
    try:
        with os.fdopen(fd, "wb") as out, src.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return digest.hexdigest(), size


def _store_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(sha256, path) of every file in a store laid out ROOT/ab/<sha256>; temporary uploads are skipped."""
    if not root.is_dir():
        return
    for shard in sorted(root.iterdir()):
        if not (shard.is_dir() and _SHARD.fullmatch(shard.name)):
            continue
        for path in sorted(shard.iterdir()):
            if path.is_file() and _SHA.fullmatch(path.name) and path.name.startswith(shard.name):
                yield path.name, path


def read_state(conn: Connection) -> DatabaseState:
    """Row count of every table, Alembic revision, audit chain head and the files referenced."""
    names = sorted(inspect(conn).get_table_names())
    counts = {n: int(conn.execute(select(func.count()).select_from(table(n))).scalar_one()) for n in names}
    head = None
    if "audit_entries" in names:
        row = conn.execute(text("SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1")).first()
        if row is not None:
            head = AuditHead(seq=int(row[0]), hash=str(row[1]))
    referenced: set[str] = set()
    for name, column in FILE_REFERENCES.items():
        if name in names:
            referenced.update(
                str(v) for v in conn.execute(text(f"SELECT DISTINCT {column} FROM {name}")).scalars()
            )
    return DatabaseState(
        alembic_revision=MigrationContext.configure(conn).get_current_revision(),
        row_counts=counts,
        audit_head=head,
        referenced_files=frozenset(referenced),
    )


def _state_of(database_url: str) -> DatabaseState:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return read_state(conn)
    finally:
        engine.dispose()


# --- backup ----------------------------------------------------------------------------------------


def _prepare_out(out: Path) -> bool:
    """Check OUT is new or an empty folder; create it. True when this call created it."""
    if out.exists():
        if not out.is_dir() or any(out.iterdir()):
            raise BackupRefused("The backup folder must be new or empty; this one already holds files.")
        return False
    out.mkdir(parents=True)
    return True


def _empty(out: Path, created: bool) -> None:
    if created:
        shutil.rmtree(out, ignore_errors=True)
        return
    for child in out.iterdir():
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _backup_sqlite(database_url: str, dest: Path) -> DatabaseState:
    source = _sqlite_path(database_url)
    if not source.is_file() or source.stat().st_size == 0:
        raise BackupRefused("There is no database to back up: the SQLite database does not exist yet.")
    src = sqlite3.connect(source, timeout=30)
    try:
        copy = sqlite3.connect(dest)
        try:
            src.backup(copy)
            # One self-contained file: the copy must not depend on a -wal file beside it.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
    finally:
        src.close()
    return _state_of(f"sqlite:///{dest}")


def _backup_postgresql(database_url: str, dest: Path) -> DatabaseState:
    pg_dump = _client("pg_dump")
    uri, env = libpq_target(database_url)
    engine = create_engine(database_url, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as conn, conn.begin():
            # pg_dump joins this transaction's snapshot, so the manifest's figures and the dump agree.
            conn.execute(text("SET TRANSACTION READ ONLY"))
            snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
            state = read_state(conn)
            args = [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={dest}", f"--dbname={uri}"]
            _run_client(args, env, "pg_dump", {str(dest): dest.name})
    except SQLAlchemyError as exc:
        raise BackupRefused(
            f"The database could not be read; check CUSTOMSLAB_DATABASE_URL ({exc.__class__.__name__})."
        ) from None
    finally:
        engine.dispose()
    return state


def create_backup(database_url: str, file_store: Path, out: Path) -> BackupResult:
    """Write the database, then the file store, then manifest.json into OUT (new or empty).

    Everything is created readable by its owner only: a backup holds every record and the password
    hashes (the command-line process sets its umask for the duration; the server never calls this)."""
    kind = database_kind(database_url)
    previous_umask = os.umask(0o077)
    try:
        return _create_backup(database_url, file_store, out, kind)
    finally:
        os.umask(previous_umask)


def _create_backup(database_url: str, file_store: Path, out: Path, kind: DatabaseKind) -> BackupResult:
    created = _prepare_out(out)
    out.chmod(0o700)
    try:
        db_name = DATABASE_FILES[kind]
        db_file = out / db_name
        if kind == "sqlite":
            state = _backup_sqlite(database_url, db_file)
        else:
            state = _backup_postgresql(database_url, db_file)
        sha, size = _sha256_of(db_file)
        written = [ManifestFile(path=db_name, sha256=sha, size=size)]
        damaged: list[str] = []
        copied: set[str] = set()
        for name, path in _store_files(file_store):
            got, size = _copy_hashed(path, out / FILES / name[:2] / name)
            if got != name:
                (out / FILES / name[:2] / name).unlink()
                damaged.append(name)
                continue
            copied.add(name)
            written.append(ManifestFile(path=f"{FILES}/{name[:2]}/{name}", sha256=got, size=size))
        problems = [f"the file store holds a damaged copy of file {n}" for n in sorted(damaged)]
        problems += [
            f"the file store lacks file {n}, which the database references"
            for n in sorted(state.referenced_files - copied - set(damaged))
        ]
        manifest = Manifest(
            created_at=datetime.now(UTC),
            database_kind=kind,
            alembic_revision=state.alembic_revision,
            row_counts=state.row_counts,
            audit_head=state.audit_head,
            files=written,
        )
        _write_manifest(out, manifest)
    except BaseException:
        _empty(out, created)
        raise
    return BackupResult(manifest=manifest, problems=problems)


def _write_manifest(out: Path, manifest: Manifest) -> None:
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".manifest-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(manifest.model_dump(mode="json"), indent=2) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out / MANIFEST)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# --- restore ---------------------------------------------------------------------------------------


def read_manifest(backup: Path) -> Manifest:
    path = backup / MANIFEST
    if not path.is_file():
        raise BackupRefused(
            "This folder holds no complete customslab backup: manifest.json is missing "
            "(a backup that was interrupted has none)."
        )
    try:
        return Manifest.model_validate_json(path.read_bytes())
    except ValidationError:
        raise BackupRefused("The backup's manifest.json is damaged or from another program.") from None


def verify_backup(backup: Path, manifest: Manifest) -> None:
    """Check every file the manifest lists, its name and its sha256, before anything is written."""
    db_name = DATABASE_FILES[manifest.database_kind]
    listed = [f.path for f in manifest.files]
    if listed.count(db_name) != 1:
        raise BackupRefused("The backup's manifest does not list exactly one database file.")
    if len(set(listed)) != len(listed):
        raise BackupRefused("The backup's manifest lists a file twice.")
    bad: list[str] = []
    for entry in manifest.files:
        if entry.path != db_name:
            parts = entry.path.split("/")
            # Only files/ab/<sha256> named by their own hash: a manifest cannot direct a write elsewhere.
            if not (
                len(parts) == 3
                and parts[0] == FILES
                and _SHA.fullmatch(parts[2])
                and parts[1] == parts[2][:2]
                and entry.sha256 == parts[2]
            ):
                raise BackupRefused(f"The backup's manifest lists an unexpected file: {entry.path}.")
        path = backup / entry.path
        if not path.is_file():
            bad.append(f"{entry.path} is missing")
            continue
        sha, size = _sha256_of(path)
        if sha != entry.sha256 or size != entry.size:
            bad.append(f"{entry.path} does not match its checksum")
    if bad:
        shown = "; ".join(bad[:5]) + (f"; and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise BackupRefused(f"The backup is damaged, nothing was restored: {shown}.")


def _check_target_database(database_url: str, kind: DatabaseKind) -> None:
    if kind == "sqlite":
        path = _sqlite_path(database_url)
        for existing in (path, path.with_name(path.name + "-wal")):
            if existing.exists() and (not existing.is_file() or existing.stat().st_size > 0):
                raise BackupRefused(
                    "The target database already exists and is not empty: restore only into a new database."
                )
        return
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
                    "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                    "AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'"
                )
            ).scalar_one()
    except SQLAlchemyError as exc:
        raise BackupRefused(
            "The target database could not be reached; create it (empty) and check "
            f"CUSTOMSLAB_DATABASE_URL ({exc.__class__.__name__})."
        ) from None
    finally:
        engine.dispose()
    if int(found) > 0:
        raise BackupRefused(
            "The target database already has tables: restore only into a new, empty database."
        )


def _check_target_store(file_store: Path) -> None:
    if file_store.exists() and (not file_store.is_dir() or any(file_store.iterdir())):
        raise BackupRefused("The target file store is not empty: restore only into a new, empty folder.")


def _restore_database(backup: Path, manifest: Manifest, database_url: str) -> None:
    src = backup / DATABASE_FILES[manifest.database_kind]
    expected = next(f.sha256 for f in manifest.files if f.path == src.name)
    if manifest.database_kind == "sqlite":
        dest = _sqlite_path(database_url)
        got, _ = _copy_hashed(src, dest)
        if got != expected:  # the backup changed after it was verified
            dest.unlink()
            raise BackupRefused(
                "The backup's database changed while it was being restored; nothing was kept."
            )
        return
    pg_restore = _client("pg_restore")
    uri, env = libpq_target(database_url)
    args = [pg_restore, "--no-owner", "--exit-on-error", "--single-transaction", f"--dbname={uri}", str(src)]
    _run_client(args, env, "pg_restore (nothing was restored)", {str(src): src.name})


def _restore_files(backup: Path, manifest: Manifest, file_store: Path) -> None:
    db_name = DATABASE_FILES[manifest.database_kind]
    for entry in manifest.files:
        if entry.path == db_name:
            continue
        dest = file_store / entry.sha256[:2] / entry.sha256
        got, _ = _copy_hashed(backup / entry.path, dest)
        if got != entry.sha256:
            dest.unlink()
            raise BackupRefused(f"The backup's file {entry.path} changed while it was being restored.")


def compare(manifest: Manifest, state: DatabaseState, file_store: Path) -> list[str]:
    """Every way the restored database and file store differ from what the manifest recorded."""
    differences: list[str] = []
    if state.alembic_revision != manifest.alembic_revision:
        differences.append(
            f"schema revision is {state.alembic_revision}, the backup recorded {manifest.alembic_revision}"
        )
    for name in sorted(set(manifest.row_counts) | set(state.row_counts)):
        want, got = manifest.row_counts.get(name), state.row_counts.get(name)
        if want != got:
            differences.append(f"table {name}: {got} rows, the backup recorded {want}")
    if state.audit_head != manifest.audit_head:
        differences.append("the audit chain's last entry differs from the one the backup recorded")
    missing = sorted(n for n in state.referenced_files if not (file_store / n[:2] / n).is_file())
    if missing:
        differences.append(f"{len(missing)} referenced files are missing from the file store")
    return differences


def restore_backup(backup: Path, database_url: str, file_store: Path) -> RestoreResult:
    """Verify the whole backup and the emptiness of the target, then restore the database and files."""
    if not backup.is_dir():
        raise BackupRefused("There is no backup folder at the path given.")
    manifest = read_manifest(backup)
    kind = database_kind(database_url)
    if kind != manifest.database_kind:
        raise BackupRefused(
            f"This is a backup of a {manifest.database_kind} database; the target is {kind}. "
            "Restore into the same kind of database."
        )
    _check_target_database(database_url, kind)
    _check_target_store(file_store)
    verify_backup(backup, manifest)
    # The database first: pg_restore runs in one transaction and the SQLite file is renamed into
    # place, so a failure here leaves the target as empty as it was.
    _restore_database(backup, manifest, database_url)
    _restore_files(backup, manifest, file_store)
    state = _state_of(database_url)
    return RestoreResult(manifest=manifest, state=state, differences=compare(manifest, state, file_store))
