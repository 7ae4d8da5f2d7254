"""The public-key rules partners' keys are registered by: the shape, and an id that agrees with the
deployment's own key files."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from customslab.adapters.federation.keys import KeyFolder
from customslab.domain.errors import ValidationFailed
from customslab.domain.federation import PUBLIC_KEY_PATTERN, check_public_key, public_key_id
from customslab.services.federation_partners import KeyCreate


def test_the_id_of_a_registered_key_is_the_id_its_owner_names_its_key_file_by(tmp_path: Path) -> None:
    key = KeyFolder(tmp_path).generate()
    assert public_key_id(key.public_b64) == key.key_id
    assert re.fullmatch(PUBLIC_KEY_PATTERN, key.public_b64)


@pytest.mark.parametrize(
    "given",
    [
        base64.b64encode(bytes(31)).decode(),  # too short
        base64.b64encode(bytes(33)).decode(),  # too long
        base64.b64encode(bytes(32)).decode().rstrip("="),  # unpadded
        base64.urlsafe_b64encode(b"\xff" * 32).decode(),  # the URL-safe alphabet
        base64.b64encode(bytes(32)).decode()[:-2] + "B=",  # stray bits after the 32 bytes
        "",
    ],
)
def test_anything_but_the_padded_base64_of_32_bytes_is_not_a_public_key(given: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_public_key(given)
    assert refused.value.field == "public_key"
    assert not re.fullmatch(PUBLIC_KEY_PATTERN, given)


def test_a_pasted_key_with_surrounding_space_is_read_and_its_schema_matches_the_rule() -> None:
    key = base64.b64encode(bytes(range(32))).decode()
    assert KeyCreate(public_key=f"  {key}\n").public_key == key
    schema = KeyCreate.model_json_schema()["properties"]["public_key"]
    assert schema["pattern"] == PUBLIC_KEY_PATTERN and schema["maxLength"] == 44
