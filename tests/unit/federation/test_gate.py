"""The inbox's gate: strict parsing, signature checks, and clear reasons for every malformed message."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from customslab.adapters.federation import fhir_codec
from customslab.adapters.federation.gate import FhirMessageGate
from customslab.adapters.federation.keys import DeploymentKey
from customslab.adapters.federation.signing import bundle_text, sign_bundle
from customslab.domain.federation import FHIR_BASE, report_statement
from customslab.services.federation_ports import MalformedMessage, SignedMessage
from tests.unit.federation import samples

KEY = DeploymentKey.of(Ed25519PrivateKey.generate())
GATE = FhirMessageGate()
Mutation = Callable[[dict[str, Any]], None]


def wire(mutate: Mutation | None = None, body: object = None, sender: str = "KCS") -> bytes:
    """A signed bundle's bytes, after `mutate` changed the unsigned bundle (so only the change is wrong)."""
    bundle = fhir_codec.encode(samples.envelope(body or samples.status()), "https://kcs.example")
    if mutate:
        mutate(bundle)
    return bundle_text(sign_bundle(bundle, sender, KEY, samples.SENT)).encode("utf-8")


def header(bundle: dict[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = bundle["entry"][0]["resource"]
    return resource


def header_extension(bundle: dict[str, Any], name: str) -> dict[str, Any]:
    return next(
        e for e in header(bundle)["extension"] if e["url"] == f"{FHIR_BASE}/StructureDefinition/{name}"
    )


def test_a_signed_bundle_is_parsed_verified_and_decoded() -> None:
    raw = wire(body=samples.results())
    message = GATE.parse(raw)
    assert (message.sender, message.key_id) == ("KCS", KEY.key_id)
    assert message.sha256 == hashlib.sha256(raw).hexdigest()
    assert GATE.signature_valid(message, KEY.public_b64)
    assert GATE.decode(message) == samples.envelope(samples.results())


def test_a_message_whose_content_was_changed_after_signing_fails_its_signature() -> None:
    raw = wire()
    tampered = raw.replace(b"Received at RCL-JP", b"Received at RCL-IN")
    assert tampered != raw
    assert not GATE.signature_valid(GATE.parse(tampered), KEY.public_b64)
    other = DeploymentKey.of(Ed25519PrivateKey.generate())
    assert not GATE.signature_valid(GATE.parse(raw), other.public_b64)


def test_a_report_signature_is_checked_against_the_issuing_deployments_key() -> None:
    statement = report_statement("7KQ2", "ab" * 32, "RCL-JP-25-0099", 1)
    signature = KEY.sign(statement)
    assert GATE.report_signature_valid(statement, signature, KEY.public_b64)
    assert not GATE.report_signature_valid(statement + b"x", signature, KEY.public_b64)
    assert not GATE.report_signature_valid(statement, "garbage", KEY.public_b64)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "not JSON: Expecting property name"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"resourceType": "Patient"}', "'Patient', not a FHIR Bundle"),
        (b'{"resourceType": "Bundle", "resourceType": "Bundle"}', "'resourceType' twice"),
        (b'{"resourceType": "Bundle", "total": NaN}', "NaN, which is not a JSON number"),
        (b'{"resourceType": "Bundle", "type": "message"}', "has no signature"),
        (b'{"resourceType": "Bundle", "x": "\\ud800", "signature": {}}', "does not name its signer"),
    ],
)
def test_bytes_that_are_not_a_signed_bundle_are_refused_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(MalformedMessage, match=reason):
        GATE.parse(raw)


def test_a_nul_character_anywhere_in_the_bundle_is_refused_before_any_signature_check() -> None:
    in_a_value = wire().replace(b'"type":"message"', b'"type":"message","language":"en\\u0000x"')
    in_a_key = wire().replace(b'"type":"message"', b'"type":"message","a\\u0000":1')
    deep = wire().replace(b'"type":"message"', b'"type":"message","x":[[{"y":["\\u0000"]}]]')
    for raw in (in_a_value, in_a_key, deep):
        assert b"\\u0000" in raw
        with pytest.raises(MalformedMessage, match="NUL character"):
            GATE.parse(raw)


def test_json_nested_past_the_parsers_depth_is_malformed_not_an_error() -> None:
    with pytest.raises(MalformedMessage, match="nested too deeply"):
        GATE.parse(b'{"resourceType": "Bundle", "x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}")


def test_a_refusal_shows_a_claimed_value_quoted_and_shortened() -> None:
    claimed = "Patient\nWARNING forged log line" + "x" * 10_000
    with pytest.raises(MalformedMessage) as refused:
        GATE.parse(json.dumps({"resourceType": claimed}).encode())
    reason = str(refused.value)
    assert "\n" not in reason and len(reason) < 100
    assert repr(claimed[:40] + "…") in reason


def test_text_that_is_not_valid_unicode_is_refused_before_any_signature_check() -> None:
    raw = wire().replace(b'"type":"message"', b'"type":"message","language":"\\ud800"')
    assert b"ud800" in raw
    with pytest.raises(MalformedMessage, match="not valid Unicode"):
        GATE.parse(raw)


def _drop_header(b: dict[str, Any]) -> None:
    b["entry"] = b["entry"][1:]


def _seq(value: Any) -> Mutation:
    def mutate(b: dict[str, Any]) -> None:
        header_extension(b, "seq")["valueInteger"] = value

    return mutate


def _seq_as_string(b: dict[str, Any]) -> None:
    ext = header_extension(b, "seq")
    del ext["valueInteger"]
    ext["valueString"] = "1"


MALFORMED: list[tuple[str, Mutation, str]] = [
    (
        "not valid FHIR",
        lambda b: b.update({"colour": "red"}),
        "Not a valid FHIR R4B Bundle: colour: Extra inputs",
    ),
    (
        "an unknown resource type",
        lambda b: b["entry"][1].update({"resource": {"resourceType": "Nope"}}),
        r"Bundle.entry\[1\] is not a FHIR resource \(resourceType 'Nope'\)",
    ),
    ("a missing required element", lambda b: header(b).pop("source"), "Not a valid FHIR R4B Bundle: entry.0"),
    ("not a message bundle", lambda b: b.update({"type": "collection"}), "'collection', not 'message'"),
    ("no message id", lambda b: b.pop("identifier"), "no message id"),
    ("no timestamp", lambda b: b.pop("timestamp"), "Bundle.timestamp is missing"),
    ("no MessageHeader first", _drop_header, "first entry is not a MessageHeader"),
    ("no entries at all", lambda b: b.pop("entry"), "first entry is not a MessageHeader"),
    (
        "a wrong event code",
        lambda b: header(b)["eventCoding"].update({"code": "pizza"}),
        "Unknown message kind 'pizza'",
    ),
    (
        "a foreign event system",
        lambda b: header(b)["eventCoding"].update({"system": "urn:x"}),
        "no eventCoding in",
    ),
    ("a seq that is text", _seq_as_string, "lacks an integer extension .*/seq"),
    ("a seq that is a boolean", _seq(True), "lacks an integer extension .*/seq"),
    ("a seq given as a string", _seq("1"), "lacks an integer extension .*/seq"),
    ("no sender", lambda b: header(b)["extension"].pop(0), "lacks extension .*/sender"),
    (
        "a sender given twice",
        lambda b: header(b)["extension"].append(header_extension(b, "sender")),
        "extension .*/sender twice",
    ),
    (
        "a focus pointing nowhere",
        lambda b: header(b)["focus"][0].update({"reference": "urn:uuid:0"}),
        "focus",
    ),
    (
        "an unknown task status",
        lambda b: b["entry"][1]["resource"].update({"status": "lost"}),
        "status 'lost'",
    ),
]


@pytest.mark.parametrize(("mutate", "reason"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_a_signed_bundle_that_is_not_a_customslab_message_is_malformed_with_a_clear_reason(
    mutate: Mutation, reason: str
) -> None:
    message = GATE.parse(wire(mutate))
    with pytest.raises(MalformedMessage, match=reason):
        GATE.decode(message)


def test_a_message_signed_by_one_administration_in_the_name_of_another_is_malformed() -> None:
    message = GATE.parse(wire(sender="JPC"))
    with pytest.raises(MalformedMessage, match="from 'KCS' but is signed for 'JPC'"):
        GATE.decode(message)


def test_a_referral_whose_quantity_or_due_date_is_not_what_it_says_is_malformed() -> None:
    def bad_quantity(b: dict[str, Any]) -> None:
        specimen = b["entry"][2]["resource"]
        specimen["extension"][0]["valueString"] = "half a kilo"

    def due_time(b: dict[str, Any]) -> None:
        b["entry"][1]["resource"]["occurrenceDateTime"] = "2025-06-02T10:00:00Z"

    with pytest.raises(MalformedMessage, match="'half a kilo' is not a number"):
        GATE.decode(GATE.parse(wire(bad_quantity, body=samples.referral())))
    with pytest.raises(MalformedMessage, match="must be a full date"):
        GATE.decode(GATE.parse(wire(due_time, body=samples.referral())))


def test_shared_knowledge_whose_content_is_not_base64_json_is_malformed() -> None:
    def garbled(b: dict[str, Any]) -> None:
        b["entry"][1]["resource"]["content"][0]["attachment"]["data"] = "bm90IGpzb24="  # "not json"

    with pytest.raises(MalformedMessage, match="not base64 JSON"):
        GATE.decode(GATE.parse(wire(garbled, body=samples.knowledge())))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"a": 1, "a": 2}', "'a' twice"),
        (b'{"limit": NaN}', "NaN, which is not a JSON number"),
        (b'{"limit": Infinity}', "Infinity, which is not a JSON number"),
        (b'{"name": "x\\u0000"}', "NUL character"),
        (b'{"x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", "nested too deeply"),
    ],
    ids=["a repeated key", "NaN", "Infinity", "a NUL character", "deep nesting"],
)
def test_shared_knowledge_content_is_read_as_strictly_as_the_bundle(content: bytes, reason: str) -> None:
    def carrying(b: dict[str, Any]) -> None:
        attachment = b["entry"][1]["resource"]["content"][0]["attachment"]
        attachment["data"] = base64.b64encode(content).decode()

    with pytest.raises(MalformedMessage, match=reason):
        GATE.decode(GATE.parse(wire(carrying, body=samples.knowledge())))


def _signed(**change: Any) -> SignedMessage:
    """A correctly signed message whose envelope has `change` (which the sender's codec lets through)."""
    envelope = dataclasses.replace(samples.envelope(samples.status()), **change)
    bundle = fhir_codec.encode(envelope, "https://kcs.example")
    return GATE.parse(bundle_text(sign_bundle(bundle, "KCS", KEY, samples.SENT)).encode("utf-8"))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"message_id": "m" * 65}, "message id is longer than 64 characters"),
        ({"stream": "s" * 201}, "stream must have 1 to 200 characters"),
        ({"stream": ""}, "stream must have 1 to 200 characters"),
        ({"seq": 0}, "seq is 0; a stream's messages are numbered from 1"),
        ({"seq": -3}, "seq is -3; a stream's messages are numbered from 1"),
    ],
    ids=["a 65-character message id", "a 201-character stream", "an empty stream", "seq 0", "seq -3"],
)
def test_a_message_id_stream_or_seq_the_inbox_cannot_store_is_malformed(
    change: dict[str, Any], reason: str
) -> None:
    with pytest.raises(MalformedMessage, match=reason):
        GATE.decode(_signed(**change))


def test_a_message_id_stream_and_seq_at_their_limits_are_decoded() -> None:
    at_limits = {"message_id": "m" * 64, "stream": "s" * 200, "seq": 2**31 - 1}
    decoded = GATE.decode(_signed(**at_limits))
    assert (decoded.message_id, decoded.stream, decoded.seq) == tuple(at_limits.values())


def test_a_decoded_message_is_the_envelope_whatever_the_json_formatting() -> None:
    raw = json.dumps(json.loads(wire(body=samples.referral())), indent=2, ensure_ascii=True).encode()
    message = GATE.parse(raw)
    assert GATE.signature_valid(message, KEY.public_b64)
    assert GATE.decode(message) == samples.envelope(samples.referral())


def test_the_gate_is_the_message_gate_port() -> None:
    from customslab.services.federation_ports import MessageGate

    assert isinstance(GATE, MessageGate)
    assert isinstance(GATE.parse(wire()), SignedMessage)
