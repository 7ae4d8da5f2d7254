"""The bundle signature: over the canonical JSON only, by the key the signature names."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fhir.resources.R4B.signature import Signature

from customslab.adapters.federation import fhir_codec
from customslab.adapters.federation.keys import DeploymentKey, verify_bytes
from customslab.adapters.federation.signing import (
    canonical_bytes,
    claimed_signer,
    sign_bundle,
    signature_valid,
    with_report_signature,
)
from customslab.domain.federation import FHIR_BASE, ResultsIssued, report_statement
from customslab.services.federation_ports import MalformedMessage
from tests.unit.federation import samples

KEY = DeploymentKey.of(Ed25519PrivateKey.generate())


def signed_referral() -> dict[str, Any]:
    return sign_bundle(fhir_codec.encode(samples.envelope(samples.referral()), ""), "KCS", KEY, samples.SENT)


def test_the_canonical_form_is_sorted_compact_utf8_json_without_the_signature() -> None:
    bundle = {"b": "쌀", "signature": {"data": "x"}, "a": [1, {"d": 2, "c": 3}]}
    assert canonical_bytes(bundle) == '{"a":[1,{"c":3,"d":2}],"b":"쌀"}'.encode()


def test_a_signed_bundle_carries_a_fhir_verification_signature_naming_its_signer_and_key() -> None:
    signed = signed_referral()
    signature = signed["signature"]
    Signature.model_validate(signature)
    assert signature["type"][0]["system"] == "urn:iso-astm:E1762-95:2013"
    assert signature["type"][0]["code"] == "1.2.840.10065.1.12.1.5"
    assert signature["who"]["identifier"] == {"system": FHIR_BASE + "/administration", "value": "KCS"}
    assert signature["extension"] == [
        {"url": FHIR_BASE + "/StructureDefinition/key-id", "valueString": KEY.key_id}
    ]
    assert (signature["sigFormat"], signature["targetFormat"]) == (
        "application/octet-stream",
        "application/fhir+json",
    )
    assert signature["when"] == "2025-05-12T08:30:15.250000Z"
    assert claimed_signer(signed) == ("KCS", KEY.key_id)
    assert verify_bytes(KEY.public_b64, canonical_bytes(signed), signature["data"])


def test_signing_leaves_the_bundle_it_was_given_unchanged() -> None:
    bundle = fhir_codec.encode(samples.envelope(samples.status()), "")
    before = copy.deepcopy(bundle)
    sign_bundle(bundle, "KCS", KEY, samples.SENT)
    assert bundle == before


def test_a_signature_verifies_over_the_json_as_received_however_it_was_formatted() -> None:
    signed = signed_referral()
    received = json.loads(json.dumps(signed, indent=3, ensure_ascii=True))
    assert signature_valid(received, KEY.public_b64)


def test_one_character_changed_anywhere_in_the_signed_content_breaks_the_signature() -> None:
    signed = signed_referral()
    text = canonical_bytes(signed).decode()
    position = text.index("KCS-S-558120")  # the seal number
    tampered = json.loads(text[:position] + "KCS-S-558121" + text[position + 12 :])
    tampered["signature"] = signed["signature"]
    assert signature_valid(signed, KEY.public_b64)
    assert not signature_valid(tampered, KEY.public_b64)


def test_a_signature_checked_with_an_unknown_key_is_invalid() -> None:
    other = DeploymentKey.of(Ed25519PrivateKey.generate())
    assert not signature_valid(signed_referral(), other.public_b64)


def test_signature_data_changed_or_missing_is_invalid_without_raising() -> None:
    signed = signed_referral()
    data = bytearray(base64.b64decode(signed["signature"]["data"]))
    data[0] ^= 1
    flipped = {**signed, "signature": {**signed["signature"], "data": base64.b64encode(bytes(data)).decode()}}
    assert not signature_valid(flipped, KEY.public_b64)
    assert not signature_valid({**signed, "signature": {"data": 5}}, KEY.public_b64)
    assert not signature_valid({**signed, "signature": None}, KEY.public_b64)
    assert not signature_valid({**signed, "x": "\ud800"}, KEY.public_b64)  # a lone surrogate is no UTF-8


def test_the_metadata_beside_the_signature_is_not_signed_so_a_resigning_keeps_the_content() -> None:
    signed = signed_referral()
    later = sign_bundle(signed, "KCS", KEY, samples.SENT.replace(year=2026))
    assert canonical_bytes(later) == canonical_bytes(signed)
    assert signature_valid(later, KEY.public_b64)


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (None, "has no signature"),
        ({"who": {"identifier": {"system": "urn:other", "value": "KCS"}}}, "does not name its signer"),
        (
            {"who": {"identifier": {"system": FHIR_BASE + "/administration", "value": ""}}},
            "no administration code",
        ),
        (
            {"who": {"identifier": {"system": FHIR_BASE + "/administration", "value": "KCS"}}, "data": "x"},
            "does not name its key",
        ),
        (
            {
                "who": {"identifier": {"system": FHIR_BASE + "/administration", "value": "KCS"}},
                "extension": [{"url": FHIR_BASE + "/StructureDefinition/key-id", "valueString": "k"}],
            },
            "has no data",
        ),
    ],
)
def test_a_signature_without_signer_key_or_data_is_malformed(signature: Any, reason: str) -> None:
    with pytest.raises(MalformedMessage, match=reason):
        claimed_signer({"resourceType": "Bundle", "signature": signature})


def test_results_get_the_report_statement_signed_once_and_other_messages_pass_through() -> None:
    envelope = samples.envelope(samples.results())
    signed = with_report_signature(envelope, KEY)
    body = signed.body
    assert isinstance(body, ResultsIssued)
    assert body.report_key_id == KEY.key_id
    statement = report_statement(body.verification_code, body.pdf_sha256, body.report_id, body.version)
    assert verify_bytes(KEY.public_b64, statement, body.report_signature)
    assert with_report_signature(signed, DeploymentKey.of(Ed25519PrivateKey.generate())) == signed
    status = samples.envelope(samples.status())
    assert with_report_signature(status, KEY) is status
