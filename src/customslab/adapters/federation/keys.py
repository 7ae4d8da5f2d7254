"""This deployment's Ed25519 federation keys: PEM files named by key id, and signature checks.

A public key travels as base64 of its 32 raw bytes; its id is the domain's `public_key_id` (the first 32
hex digits of the sha256 of those bytes). Private keys stay in one directory
(`settings.federation_key_path()`), one PKCS#8 PEM file per key, readable by the owner only, and a file
is never overwritten: a rotation adds a new one.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from customslab.domain.federation import public_key_id

_KEY_ID = re.compile(r"^[0-9a-f]{32}$")


class KeyMissing(LookupError):
    """The private key a key id names is not in the key directory (or is not a usable Ed25519 key)."""


def _public_b64(private: Ed25519PrivateKey) -> str:
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class DeploymentKey:
    """One of this deployment's key pairs: signs messages and report statements."""

    key_id: str
    private: Ed25519PrivateKey
    public_b64: str

    @classmethod
    def of(cls, private: Ed25519PrivateKey) -> DeploymentKey:
        public_b64 = _public_b64(private)
        return cls(public_key_id(public_b64), private, public_b64)

    def sign(self, data: bytes) -> str:
        """The Ed25519 signature of `data`, base64."""
        return base64.b64encode(self.private.sign(data)).decode("ascii")


class KeyFolder:
    """The directory of this deployment's private keys, `<key_id>.pem` each."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_of(self, key_id: str) -> Path:
        # The id becomes a file name: anything but 32 hex digits could walk out of the directory.
        if not _KEY_ID.match(key_id):
            raise KeyMissing(f"{key_id!r} is not a key id (32 hexadecimal digits).")
        return self.directory / f"{key_id}.pem"

    def has(self, key_id: str) -> bool:
        try:
            return self.path_of(key_id).is_file()
        except KeyMissing:
            return False

    def generate(self) -> DeploymentKey:
        """Create a new key pair and write its private key, owner-only (0600), never overwriting a file.

        The PEM is written to a temporary file (mkstemp makes it 0600) and hard-linked into place, which
        fails if the name exists, so no reader ever sees a half-written key."""
        private = Ed25519PrivateKey.generate()
        key = DeploymentKey.of(private)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        if not self.directory.exists():
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.directory, 0o700)  # mkdir's mode is filtered by the umask
        path = self.path_of(key.key_id)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".federation-key-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
                out.flush()
                os.fsync(out.fileno())
            os.link(tmp, path)
        finally:
            os.unlink(tmp)
        return key

    def load(self, key_id: str) -> DeploymentKey:
        """The key pair whose private key is `<key_id>.pem`; `KeyMissing` if there is none."""
        path = self.path_of(key_id)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise KeyMissing(
                f"The private federation key {key_id} is not in {self.directory}; "
                "restore its file or rotate to a new key."
            ) from None
        except OSError as exc:
            raise KeyMissing(f"The private federation key file {path} cannot be read: {exc}.") from None
        try:
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            private = None
        if not isinstance(private, Ed25519PrivateKey):
            raise KeyMissing(f"{path} is not an unencrypted Ed25519 private key in PEM form.")
        key = DeploymentKey.of(private)
        if key.key_id != key_id:
            raise KeyMissing(f"{path} holds key {key.key_id}, not {key_id}.")
        return key


def verify_bytes(public_b64: str, data: bytes, signature_b64: str) -> bool:
    """Whether `signature_b64` is `public_b64`'s Ed25519 signature of `data`; False for any bad input."""
    try:
        raw = base64.b64decode(public_b64, validate=True)
        signature = base64.b64decode(signature_b64, validate=True)
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, data)
    except (InvalidSignature, ValueError, TypeError, binascii.Error):
        return False
    return True
