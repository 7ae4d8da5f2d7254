"""Signed checkpoints let the audit trail resist someone with database rights, on both backends.

The attacker is simulated as docs/audit-threat-model.md describes them: full SQL rights (they lift
the append-only triggers), but neither the key file nor the exported witness head.
"""

from __future__ import annotations

import json
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, delete, func, select, text, update
from typer.testing import CliRunner

from customslab.adapters.audit_anchor import (
    AuditKey,
    AuditKeyError,
    AuditSigner,
    SqlAuditAnchor,
    WitnessError,
    new_key_file,
    read_witness,
)
from customslab.adapters.orm import audit_checkpoints, audit_entries
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.config import Settings
from customslab.domain.audit import GENESIS_HASH, AuditCheckpoint, entry_hash
from customslab.entrypoints.cli import app
from customslab.services import cases, queries
from customslab.services.queries import AuditVerdict
from tests.factories import make_network, request_command

# -- the signer, without a database ---------------------------------------------------------------------


def test_a_missing_key_is_created_owner_only_on_first_use_and_then_reused(tmp_path: Path):
    key_file = tmp_path / "keys" / "audit.pem"
    signer = AuditSigner(key_file, create_missing=True)
    assert not key_file.exists(), "nothing is created before the key is first needed"
    assert signer.existing_key() is None and not key_file.exists(), "verifying never creates a key"
    checkpoint = signer.sign(5, "ab" * 32, datetime(2026, 11, 29, 10, 0, tzinfo=UTC))
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(checkpoint.signature) == 128 and len(checkpoint.key_id) == 64
    again = AuditSigner(key_file, create_missing=True)
    assert again.key().key_id == checkpoint.key_id
    assert again.is_authentic(checkpoint)


def test_a_signature_covers_the_sequence_the_hash_the_time_and_the_key(tmp_path: Path):
    signer = AuditSigner(tmp_path / "audit.pem", create_missing=True)
    good = signer.sign(5, "ab" * 32, datetime(2026, 11, 29, 10, 0, tzinfo=UTC))
    assert signer.is_authentic(good)
    for forged in (
        replace(good, seq=6),
        replace(good, head_hash="cd" * 32),
        replace(good, at=datetime(2026, 11, 29, 10, 1, tzinfo=UTC)),
        replace(good, key_id="0" * 64),
        replace(good, signature="00" * 64),
        replace(good, signature="not hex"),
    ):
        assert not signer.is_authentic(forged), forged
    other = AuditKey(Ed25519PrivateKey.generate())
    assert not signer.is_authentic(other.sign(5, "ab" * 32, good.at))


def test_production_never_invents_a_key_and_says_which_setting_to_fix(tmp_path: Path):
    missing = tmp_path / "secret-volume" / "audit.pem"
    with pytest.raises(AuditKeyError) as refused:
        AuditSigner(missing, create_missing=False)
    assert "CUSTOMSLAB_AUDIT_KEY_FILE" in str(refused.value)
    assert str(tmp_path) not in str(refused.value)
    assert not missing.exists()
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    with pytest.raises(AuditKeyError, match="not an unencrypted Ed25519 private key"):
        AuditSigner(garbage, create_missing=False)
    with pytest.raises(ValueError, match="CUSTOMSLAB_AUDIT_KEY_FILE"):
        Settings(mode="production", secret_key="x" * 40)
    assert Settings(mode="production", secret_key="x" * 40, audit_key_file=missing).audit_key_file == missing
    assert Settings(mode="demo", file_store=tmp_path / "files").audit_key_path() == tmp_path / "audit-key.pem"


def test_a_new_key_file_never_replaces_an_existing_one(tmp_path: Path):
    key_file = tmp_path / "audit.pem"
    new_key_file(key_file)
    first = key_file.read_bytes()
    with pytest.raises(FileExistsError):
        new_key_file(key_file)
    assert key_file.read_bytes() == first
    assert list(tmp_path.iterdir()) == [key_file], "no temporary file is left behind"


# -- a deployment on a real database ---------------------------------------------------------------------


@dataclass
class Deployment:
    url: str
    key_file: Path
    signer: AuditSigner
    db: Database
    uow: Callable[[], SqlAlchemyUnitOfWork]

    def verify(self, witness: AuditCheckpoint | None = None) -> AuditVerdict:
        return queries.verify_audit(self.uow(), SqlAuditAnchor(self.db.engine, self.signer), witness)

    def chain_only(self) -> AuditVerdict:
        """What `audit verify` said before checkpoints: the hash chain alone."""
        return queries.verify_audit(self.uow())

    def head(self) -> int:
        with self.db.engine.connect() as conn:
            return int(conn.execute(select(func.max(audit_entries.c.seq))).scalar_one())

    def checkpoint_seqs(self) -> list[int]:
        with self.db.engine.connect() as conn:
            return list(conn.scalars(select(audit_checkpoints.c.seq).order_by(audit_checkpoints.c.seq)))

    def cli(self, *args: str) -> tuple[int, str]:
        env = {"CUSTOMSLAB_MODE": "test", "CUSTOMSLAB_AUDIT_KEY_FILE": str(self.key_file)}
        result = CliRunner().invoke(app, ["audit", *args, "--database-url", self.url], env=env)
        return result.exit_code, result.output


def _deployment(url: str, tmp_path: Path, every_seconds: int = 0) -> Deployment:
    key_file = tmp_path / "keys" / "audit.pem"
    signer = AuditSigner(key_file, create_missing=True, checkpoint_seconds=every_seconds)
    db = Database(url, audit_signer=signer)
    files = LocalFileStore(tmp_path / "files")
    return Deployment(url, key_file, signer, db, lambda: SqlAlchemyUnitOfWork(db, files))


@pytest.fixture
def deployment(fresh_url: str, tmp_path: Path) -> Iterator[Deployment]:
    """A trail checkpointed at every commit, with a network and two requests filed."""
    dep = _deployment(fresh_url, tmp_path)
    net = make_network(dep.uow)
    for _ in range(2):
        cases.file_request(dep.uow(), net["officer"], request_command(net))
    yield dep
    dep.db.dispose()


def _lift_guards(conn: Connection) -> None:
    """What a database administrator can do: switch off the append-only triggers."""
    if conn.dialect.name == "postgresql":
        for table in ("audit_entries", "audit_checkpoints"):
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        return
    for table in ("audit_entries", "audit_checkpoints"):
        for verb in ("update", "delete"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{verb}"))


def _truncate(dep: Deployment, keep: int, *, with_checkpoints: bool = False) -> None:
    with dep.db.engine.begin() as conn:
        _lift_guards(conn)
        conn.execute(delete(audit_entries).where(audit_entries.c.seq > keep))
        if with_checkpoints:
            conn.execute(delete(audit_checkpoints).where(audit_checkpoints.c.seq > keep))


def _rewrite(dep: Deployment, seq: int) -> None:
    """Change entry `seq`'s actor and recompute every later hash, as the public hash function allows."""
    with dep.db.engine.begin() as conn:
        _lift_guards(conn)
        e = audit_entries.c
        prev = conn.execute(select(e.hash).where(e.seq == seq - 1)).scalar() or GENESIS_HASH
        rows = conn.execute(select(audit_entries).where(e.seq >= seq).order_by(e.seq)).mappings().all()
        for row in rows:
            actor = "mallory" if row["seq"] == seq else row["actor"]
            digest = entry_hash(
                row["seq"],
                row["at"],
                actor,
                row["entity"],
                row["entity_id"],
                row["action"],
                row["changes"],
                row["reason"],
                prev,
            )
            conn.execute(
                update(audit_entries)
                .where(e.seq == row["seq"])
                .values(actor=actor, prev_hash=prev, hash=digest)
            )
            prev = digest


def test_an_intact_trail_verifies_against_checkpoints_written_by_the_commits_themselves(
    deployment: Deployment,
):
    head = deployment.head()
    seqs = deployment.checkpoint_seqs()
    assert len(seqs) >= 14 and seqs[-1] == head, "every commit checkpointed its head (interval 0)"
    verdict = deployment.verify()
    assert verdict.ok, verdict.problems
    assert (verdict.checked, verdict.anchored, verdict.checkpoints) == (head, True, len(seqs))
    assert (verdict.last_checkpoint_seq, verdict.unanchored) == (head, 0)
    assert verdict.last_checkpoint_at is not None


def test_checkpoints_come_once_per_interval_and_the_newer_entries_are_counted_as_unanchored(
    fresh_url: str, tmp_path: Path
):
    dep = _deployment(fresh_url, tmp_path, every_seconds=3600)
    net = make_network(dep.uow)
    cases.file_request(dep.uow(), net["officer"], request_command(net))
    first_commit_head = 9  # make_network's first commit adds three administrations, six organisations
    assert dep.checkpoint_seqs() == [first_commit_head]
    verdict = dep.verify()
    assert verdict.ok and verdict.last_checkpoint_seq == first_commit_head
    assert verdict.unanchored == dep.head() - first_commit_head > 0
    dep.db.dispose()


def test_concurrent_writers_keep_one_chain_and_every_checkpoint_on_it(deployment: Deployment):
    net = make_network(deployment.uow)
    errors: list[BaseException] = []

    def register() -> None:
        try:
            for _ in range(4):
                cases.file_request(deployment.uow(), net["officer"], request_command(net))
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=register) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    verdict = deployment.verify()
    assert verdict.ok, verdict.problems
    assert verdict.checkpoints == len(deployment.checkpoint_seqs()) and verdict.unanchored == 0


def test_a_database_without_a_signer_writes_no_checkpoint_and_still_verifies(fresh_url: str, tmp_path: Path):
    dep = _deployment(fresh_url, tmp_path)
    plain = Database(fresh_url)
    make_network(lambda: SqlAlchemyUnitOfWork(plain, LocalFileStore(tmp_path / "files")))
    plain.dispose()
    assert dep.checkpoint_seqs() == []
    verdict = dep.verify()
    assert verdict.ok and verdict.checkpoints == 0 and verdict.unanchored == dep.head()
    assert not dep.key_file.exists(), "verifying a trail without checkpoints needs no key"
    dep.db.dispose()


def test_deleting_the_last_entries_is_detected_where_the_hash_chain_alone_saw_nothing(
    deployment: Deployment,
):
    head = deployment.head()
    _truncate(deployment, keep=head - 3)
    assert deployment.chain_only().ok, "the blind spot this feature closes"
    verdict = deployment.verify()
    assert not verdict.ok
    assert verdict.first_broken_seq == head - 2
    assert verdict.problem is not None
    assert verdict.problem.startswith(f"entries {head - 2} to {head} were deleted: the checkpoint of ")
    assert verdict.problem.endswith(f"vouches for entry {head}, but the trail ends at entry {head - 3}")
    code, output = deployment.cli("verify")
    assert code == 3 and f"BROKEN at entry {head - 2}" in output
    # The application keeps working over a truncated trail; the next commit cannot hide the gap.
    make_network(deployment.uow)
    assert not deployment.verify().ok


def test_an_edited_entry_with_every_later_hash_recomputed_is_detected(deployment: Deployment):
    seqs = deployment.checkpoint_seqs()
    before, target = seqs[2], seqs[2] + 1
    after = next(s for s in seqs if s >= target)
    _rewrite(deployment, target)
    assert deployment.chain_only().ok, "a recomputed chain is internally consistent"
    verdict = deployment.verify()
    assert not verdict.ok
    assert verdict.first_broken_seq == after
    assert verdict.checked == before, "only the entries up to the last matching checkpoint are vouched for"
    assert verdict.problem is not None and (
        f"{after} no longer has the hash signed in the checkpoint of " in verdict.problem
    )
    code, output = deployment.cli("verify", "--json")
    assert code == 3 and json.loads(output)["first_broken_seq"] == after


def test_a_forged_checkpoint_row_is_reported(deployment: Deployment, tmp_path: Path):
    # The attacker rewrites the trail and re-signs its head with a key of their own.
    _rewrite(deployment, 3)
    head = deployment.head()
    mallory = AuditKey(Ed25519PrivateKey.generate())
    with deployment.db.engine.connect() as conn:
        new_head = conn.execute(select(audit_entries.c.hash).where(audit_entries.c.seq == head)).scalar_one()
    forged = mallory.sign(head, new_head, datetime.now(UTC))
    with deployment.db.engine.begin() as conn:
        _lift_guards(conn)
        conn.execute(delete(audit_checkpoints))
        conn.execute(audit_checkpoints.insert(), [asdict(forged)])
    verdict = deployment.verify()
    assert not verdict.ok and verdict.first_broken_seq == head
    assert verdict.problem == (
        f"the checkpoint at entry {head} ({forged.at:%Y-%m-%d %H:%M:%S} UTC) does not carry a valid "
        "signature of this deployment's audit key: it was forged or altered"
    )
    assert verdict.checkpoints == 0


def test_another_deployments_key_vouches_for_nothing_here(deployment: Deployment, tmp_path: Path):
    stranger = AuditSigner(tmp_path / "elsewhere" / "audit.pem", create_missing=True)
    assert stranger.key().key_id != deployment.signer.key().key_id
    verdict = queries.verify_audit(deployment.uow(), SqlAuditAnchor(deployment.db.engine, stranger))
    assert not verdict.ok and len(verdict.problems) == len(deployment.checkpoint_seqs())
    assert all("forged or altered" in p for p in verdict.problems)


def test_an_authentic_checkpoint_edited_in_place_is_reported(deployment: Deployment):
    seq = deployment.checkpoint_seqs()[-1]
    with deployment.db.engine.begin() as conn:
        _lift_guards(conn)
        conn.execute(
            update(audit_checkpoints).where(audit_checkpoints.c.seq == seq).values(head_hash="f" * 64)
        )
    verdict = deployment.verify()
    assert not verdict.ok and verdict.first_broken_seq == seq
    assert "forged or altered" in (verdict.problem or "")


def test_checkpoints_cannot_be_vouched_for_once_the_key_is_gone(deployment: Deployment):
    deployment.key_file.rename(deployment.key_file.with_suffix(".moved"))
    blind = AuditSigner(deployment.key_file, create_missing=True)
    verdict = queries.verify_audit(deployment.uow(), SqlAuditAnchor(deployment.db.engine, blind))
    assert not verdict.ok
    assert "signed checkpoints cannot be checked: the audit signing key is not available" in (
        verdict.problem or ""
    )
    assert not deployment.key_file.exists(), "verifying never invents a new key"


# -- the commands ----------------------------------------------------------------------------------------


def test_audit_verify_exits_0_on_an_intact_trail_and_tells_how_far_it_is_anchored(deployment: Deployment):
    head = deployment.head()
    code, output = deployment.cli("verify")
    assert code == 0, output
    assert f"Audit chain intact: {head} entries verified." in output
    assert f"the last one covers entry {head}" in output
    code, output = deployment.cli("verify", "--json")
    assert code == 0
    body = json.loads(output)
    assert body["ok"] and body["anchored"] and body["last_checkpoint_seq"] == head
    assert body["unanchored"] == 0 and body["problems"] == []


def test_audit_checkpoint_anchors_the_head_now_and_only_once(fresh_url: str, tmp_path: Path):
    dep = _deployment(fresh_url, tmp_path)
    code, output = dep.cli("checkpoint")
    assert code == 0 and "no entries yet" in output
    plain = Database(fresh_url)
    make_network(lambda: SqlAlchemyUnitOfWork(plain, LocalFileStore(tmp_path / "files")))
    plain.dispose()
    head = dep.head()
    code, output = dep.cli("checkpoint")
    assert code == 0 and f"Signed a checkpoint of entry {head}" in output, output
    code, output = dep.cli("checkpoint")
    assert code == 0 and f"Entry {head}, the head of the audit trail, was already checkpointed" in output
    assert dep.checkpoint_seqs() == [head]
    assert dep.verify().unanchored == 0
    dep.db.dispose()


def test_export_head_writes_a_self_checking_head_for_a_witness(deployment: Deployment, tmp_path: Path):
    out = tmp_path / "witness" / "head.json"
    out.parent.mkdir()
    code, output = deployment.cli("export-head", str(out))
    assert code == 0, output
    assert "head.json" in output and str(tmp_path) not in output
    document = json.loads(out.read_text())
    head = deployment.head()
    with deployment.db.engine.connect() as conn:
        head_hash = conn.execute(select(audit_entries.c.hash).where(audit_entries.c.seq == head)).scalar_one()
    key = deployment.signer.key()
    assert set(document) == {"format", "seq", "head_hash", "at", "key_id", "signature", "public_key"}
    assert document["format"] == "customslab-audit-head/1"
    assert (document["seq"], document["head_hash"], document["key_id"]) == (head, head_hash, key.key_id)
    assert document["public_key"] == key.public_pem and "PRIVATE" not in out.read_text()
    witness = read_witness(out)
    assert deployment.signer.is_authentic(witness)
    verdict = deployment.verify(witness)
    assert verdict.ok and verdict.witness_seq == head


def test_a_witness_detects_truncation_even_when_the_checkpoints_were_deleted_too(
    deployment: Deployment, tmp_path: Path
):
    out = tmp_path / "head.json"
    assert deployment.cli("export-head", str(out))[0] == 0
    head = deployment.head()
    _truncate(deployment, keep=head - 4, with_checkpoints=True)
    code, output = deployment.cli("verify")
    assert code == 0, "without the witness this attack is the documented blind spot"
    code, output = deployment.cli("verify", "--witness", str(out))
    assert code == 3
    assert f"entries {head - 3} to {head} were deleted: the witness head signed at" in output


def test_a_witness_file_that_was_altered_is_refused(deployment: Deployment, tmp_path: Path):
    out = tmp_path / "head.json"
    assert deployment.cli("export-head", str(out))[0] == 0
    document = json.loads(out.read_text())
    out.write_text(json.dumps(document | {"seq": document["seq"] - 1}))
    code, output = deployment.cli("verify", "--witness", str(out))
    assert code == 4 and "The witness file was altered" in output
    out.write_text("{}")
    with pytest.raises(WitnessError, match="not an exported audit head"):
        read_witness(out)
    code, output = deployment.cli("verify", "--witness", str(out))
    assert code == 4 and "not an exported audit head" in output and str(tmp_path) not in output


def test_export_head_refuses_a_broken_trail(deployment: Deployment, tmp_path: Path):
    _truncate(deployment, keep=deployment.head() - 1)
    out = tmp_path / "head.json"
    code, output = deployment.cli("export-head", str(out))
    assert code == 1 and "No head was exported" in output
    assert not out.exists()


def test_the_commands_refuse_a_production_setup_without_its_key(tmp_path: Path):
    env = {"CUSTOMSLAB_MODE": "production", "CUSTOMSLAB_SECRET_KEY": "s" * 40}
    result = CliRunner().invoke(app, ["audit", "verify"], env=env)
    assert result.exit_code == 4 and "CUSTOMSLAB_AUDIT_KEY_FILE must name" in result.output
    missing = tmp_path / "audit.pem"
    result = CliRunner().invoke(
        app, ["audit", "checkpoint"], env=env | {"CUSTOMSLAB_AUDIT_KEY_FILE": str(missing)}
    )
    assert result.exit_code == 2 and "does not exist" in result.output
    assert str(tmp_path) not in result.output and not missing.exists()
    result = CliRunner().invoke(app, ["audit", "new-key", str(missing)])
    assert result.exit_code == 0 and "key id" in result.output
    assert stat.S_IMODE(missing.stat().st_mode) == 0o600
    result = CliRunner().invoke(app, ["audit", "new-key", str(missing)])
    assert result.exit_code == 2 and "already exists" in result.output


def test_the_api_verdict_reports_the_checkpoints(deployment: Deployment, tmp_path: Path):
    from fastapi.testclient import TestClient

    from customslab.entrypoints.api.app import create_app
    from tests.factories import PASSWORD

    settings = Settings(
        mode="test",
        database_url=deployment.url,
        file_store=tmp_path / "files",
        audit_key_file=deployment.key_file,
        audit_checkpoint_seconds=0,
    )
    api = create_app(settings)
    net = make_network(api.state.uow_factory)
    with TestClient(api) as client:
        token = client.post("/api/auth/token", json={"username": net["admin"].username, "password": PASSWORD})
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        body = client.get("/api/admin/audit/verify", headers=headers).json()
    assert body["ok"] and body["anchored"], body
    assert body["last_checkpoint_seq"] == deployment.head() and body["unanchored"] == 0
    api.state.db.dispose()
