"""Deployment keys: ids, owner-only PEM files that are never overwritten, and signature checks."""

from __future__ import annotations

import base64
import hashlib
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from customslab.adapters.federation import keys
from customslab.adapters.federation.keys import DeploymentKey, KeyFolder, KeyMissing, verify_bytes
from customslab.domain.errors import ValidationFailed
from customslab.domain.federation import public_key_id


def test_a_key_id_is_the_first_32_hex_digits_of_the_sha256_of_the_raw_public_key() -> None:
    raw = bytes(range(32))
    assert public_key_id(base64.b64encode(raw).decode()) == hashlib.sha256(raw).hexdigest()[:32]


def test_a_public_key_that_is_not_32_bytes_has_no_key_id() -> None:
    with pytest.raises(ValidationFailed):
        public_key_id(base64.b64encode(b"short").decode())


def test_a_generated_key_is_written_owner_only_in_an_owner_only_directory(tmp_path: Path) -> None:
    folder = KeyFolder(tmp_path / "deep" / "federation-keys")
    key = folder.generate()
    path = folder.directory / f"{key.key_id}.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.directory.stat().st_mode) == 0o700
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert [p.name for p in folder.directory.iterdir()] == [path.name]  # no temporary file left


def test_a_loaded_key_signs_what_its_public_key_verifies(tmp_path: Path) -> None:
    folder = KeyFolder(tmp_path)
    key = folder.generate()
    loaded = folder.load(key.key_id)
    assert (loaded.key_id, loaded.public_b64) == (key.key_id, key.public_b64)
    assert folder.has(key.key_id)
    assert verify_bytes(key.public_b64, b"statement", loaded.sign(b"statement"))
    assert not verify_bytes(key.public_b64, b"statement!", loaded.sign(b"statement"))


def test_generating_never_overwrites_an_existing_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = KeyFolder(tmp_path)
    private = Ed25519PrivateKey.generate()
    monkeypatch.setattr(keys.Ed25519PrivateKey, "generate", staticmethod(lambda: private))
    first = folder.generate()
    path = tmp_path / f"{first.key_id}.pem"
    path.write_bytes(b"the file an operator put there")
    with pytest.raises(FileExistsError):
        folder.generate()
    assert path.read_bytes() == b"the file an operator put there"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_loading_a_key_that_is_not_there_says_which_and_where(tmp_path: Path) -> None:
    folder = KeyFolder(tmp_path)
    with pytest.raises(KeyMissing, match=f"{'a' * 32} is not in {tmp_path}"):
        folder.load("a" * 32)
    assert not folder.has("a" * 32)


@pytest.mark.parametrize("key_id", ["../../etc/passwd", "A" * 32, "a" * 31, ""])
def test_a_key_id_that_is_not_32_lowercase_hex_digits_never_names_a_file(tmp_path: Path, key_id: str) -> None:
    folder = KeyFolder(tmp_path)
    with pytest.raises(KeyMissing, match="is not a key id"):
        folder.load(key_id)
    assert not folder.has(key_id)


def test_a_key_file_that_is_not_an_ed25519_key_or_holds_another_key_is_refused(tmp_path: Path) -> None:
    folder = KeyFolder(tmp_path)
    (tmp_path / f"{'b' * 32}.pem").write_text("not a key")
    with pytest.raises(KeyMissing, match="not an unencrypted Ed25519 private key"):
        folder.load("b" * 32)
    other = folder.generate()
    (tmp_path / f"{'c' * 32}.pem").write_bytes((tmp_path / f"{other.key_id}.pem").read_bytes())
    with pytest.raises(KeyMissing, match=f"holds key {other.key_id}"):
        folder.load("c" * 32)


@pytest.mark.parametrize(
    ("public", "signature"),
    [
        ("not base64!", "AAAA"),
        (base64.b64encode(b"x" * 31).decode(), base64.b64encode(b"s" * 64).decode()),
        (None, None),
        ("", ""),
    ],
)
def test_verifying_malformed_keys_or_signatures_answers_false_and_never_raises(
    public: str, signature: str
) -> None:
    assert verify_bytes(public, b"data", signature) is False


def test_a_signature_by_another_key_does_not_verify() -> None:
    key = DeploymentKey.of(Ed25519PrivateKey.generate())
    other = DeploymentKey.of(Ed25519PrivateKey.generate())
    assert not verify_bytes(other.public_b64, b"data", key.sign(b"data"))
