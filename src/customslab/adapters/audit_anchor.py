"""The key outside the database that signs the audit chain's checkpoints, and where checkpoints are kept.

Someone with SQL rights can rewrite the audit entries and recompute every hash, since the hash is
public. They cannot sign: the Ed25519 private key lives in a file (`audit_key_file`) that the database
never sees. A checkpoint signs (seq, head hash, time, key id); `audit verify` holds the chain to every
checkpoint. In demo, dev and test mode a missing key file is created on first use (owner-only, 0600);
in production the file must already exist (`customslab audit new-key` makes one), because silently
starting a new key would orphan every checkpoint signed before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Connection, Engine, select

from customslab.adapters.orm import audit_checkpoints
from customslab.domain.audit import AuditCheckpoint, checkpoint_payload

HEX64 = r"^[0-9a-f]{64}$"


class AuditKeyError(ValueError):
    """The audit signing key is missing or unusable: a configuration error for the administrator."""


class WitnessError(ValueError):
    """A witness file that is not a well-formed, self-consistent exported head."""


def key_id_of(public: Ed25519PublicKey) -> str:
    """sha256 of the raw 32-byte public key, in hex: names the key without revealing anything."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def signature_is_valid(public: Ed25519PublicKey, checkpoint: AuditCheckpoint) -> bool:
    """Whether `checkpoint.signature` is `public`'s Ed25519 signature of the checkpoint's payload."""
    try:
        signature = bytes.fromhex(checkpoint.signature)
        public.verify(
            signature,
            checkpoint_payload(checkpoint.seq, checkpoint.head_hash, checkpoint.at, checkpoint.key_id),
        )
    except (ValueError, InvalidSignature):
        return False
    return checkpoint.key_id == key_id_of(public)


def new_key_file(path: Path) -> None:
    """Write a new Ed25519 private key (PKCS#8 PEM), readable by its owner only; never overwrite one.

    The key is written to a temporary file (mkstemp makes it 0600) and hard-linked into place, which
    fails if the name exists: two processes starting at once end up sharing the one key that won, and
    no reader ever sees a half-written file.
    """
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".audit-key-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        os.link(tmp, path)
    finally:
        os.unlink(tmp)


class AuditKey:
    """The deployment's Ed25519 key pair, as loaded from its PEM file."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = private.public_key()
        self.key_id = key_id_of(self.public)
        self.public_pem = public_pem(self.public)

    @classmethod
    def load(cls, path: Path) -> AuditKey:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise AuditKeyError(
                "The audit signing key file named by CUSTOMSLAB_AUDIT_KEY_FILE does not exist; "
                "create it once with `customslab audit new-key`."
            ) from None
        except OSError:
            raise AuditKeyError(
                "The audit signing key file named by CUSTOMSLAB_AUDIT_KEY_FILE cannot be read."
            ) from None
        try:
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            private = None
        if not isinstance(private, Ed25519PrivateKey):
            raise AuditKeyError(
                "The audit signing key file is not an unencrypted Ed25519 private key in PEM form."
            )
        return cls(private)

    def sign(self, seq: int, head_hash: str, at: datetime) -> AuditCheckpoint:
        payload = checkpoint_payload(seq, head_hash, at, self.key_id)
        return AuditCheckpoint(seq, head_hash, at, self.key_id, self._private.sign(payload).hex())


class AuditSigner:
    """Signs and checks checkpoints with the key in `key_file`, and says when the next one is due.

    The key is read once and kept (configuration, not state). With `create_missing` (demo, dev and test
    mode) a missing file is created on first use; without it (production) the key is loaded at once, so
    a missing or unusable key stops the server at start-up rather than failing every commit later.
    """

    def __init__(self, key_file: Path, *, create_missing: bool, checkpoint_seconds: float = 60) -> None:
        self.key_file = key_file
        self.create_missing = create_missing
        self.interval = timedelta(seconds=checkpoint_seconds)
        self._key: AuditKey | None = None
        self._lock = threading.Lock()
        if not create_missing:
            self._key = AuditKey.load(key_file)

    def key(self) -> AuditKey:
        """The key, created first when it is missing and creating is allowed."""
        with self._lock:
            if self._key is None:
                if self.create_missing and not self.key_file.exists():
                    # FileExistsError: another process created it a moment ago; use theirs.
                    with contextlib.suppress(FileExistsError):
                        new_key_file(self.key_file)
                self._key = AuditKey.load(self.key_file)
            return self._key

    def existing_key(self) -> AuditKey | None:
        """The key if its file exists; verifying never creates one (a new key would vouch for nothing)."""
        if self._key is None and not self.key_file.exists():
            return None
        return self.key()

    def is_due(self, last_at: datetime | None, now: datetime) -> bool:
        return last_at is None or now - last_at >= self.interval

    def sign(self, seq: int, head_hash: str, at: datetime) -> AuditCheckpoint:
        return self.key().sign(seq, head_hash, at)

    def is_authentic(self, checkpoint: AuditCheckpoint) -> bool:
        key = self.existing_key()
        return key is not None and signature_is_valid(key.public, checkpoint)


def latest_checkpoint(conn: Connection) -> AuditCheckpoint | None:
    row = conn.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.seq.desc()).limit(1)).first()
    return AuditCheckpoint(**row._asdict()) if row else None


def insert_checkpoint(conn: Connection, checkpoint: AuditCheckpoint) -> None:
    conn.execute(audit_checkpoints.insert(), [asdict(checkpoint)])


class SqlAuditAnchor:
    """The services' `AuditAnchor`: checkpoints read from the database, checked with the key outside it."""

    def __init__(self, engine: Engine, signer: AuditSigner) -> None:
        self.engine = engine
        self.signer = signer

    def checkpoints(self) -> list[AuditCheckpoint]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.seq))
            return [AuditCheckpoint(**row._asdict()) for row in rows]

    def can_verify(self) -> bool:
        return self.signer.existing_key() is not None

    def is_authentic(self, checkpoint: AuditCheckpoint) -> bool:
        return self.signer.is_authentic(checkpoint)


class ExportedHead(BaseModel):
    """The document `customslab audit export-head` writes for a witness outside the deployment."""

    format: Literal["customslab-audit-head/1"] = "customslab-audit-head/1"
    seq: int = Field(ge=1)
    head_hash: str = Field(pattern=HEX64)
    at: datetime
    key_id: str = Field(pattern=HEX64)
    signature: str = Field(pattern=r"^[0-9a-f]{128}$")
    public_key: str


def head_document(checkpoint: AuditCheckpoint, key: AuditKey) -> dict[str, Any]:
    """The exported head as JSON-ready data: the checkpoint with the public key that checks it."""
    head = ExportedHead(**asdict(checkpoint), public_key=key.public_pem)
    return head.model_dump(mode="json")


def write_head(path: Path, checkpoint: AuditCheckpoint, key: AuditKey) -> None:
    path.write_text(json.dumps(head_document(checkpoint, key), indent=2) + "\n", encoding="utf-8")


def read_witness(path: Path) -> AuditCheckpoint:
    """An exported head read back, refused unless its own public key vouches for its content."""
    try:
        head = ExportedHead.model_validate_json(path.read_bytes())
    except OSError:
        raise WitnessError("The witness file cannot be read.") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the document"
        raise WitnessError(
            f"The witness file is not an exported audit head ({where}: {first['msg']})."
        ) from None
    try:
        public = serialization.load_pem_public_key(head.public_key.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        public = None
    if not isinstance(public, Ed25519PublicKey):
        raise WitnessError("The witness file's public key is not an Ed25519 public key in PEM form.")
    checkpoint = AuditCheckpoint(head.seq, head.head_hash, head.at, head.key_id, head.signature)
    if not signature_is_valid(public, checkpoint):
        raise WitnessError("The witness file was altered: its signature does not match its content.")
    return checkpoint
