"""The bundle signature: Ed25519 over the bundle's canonical JSON, carried as a FHIR `Bundle.signature`.

The canonical bytes are the bundle without its `signature`, dumped with sorted keys, no spaces and
UTF-8 (not ASCII escapes). The receiver verifies over the JSON it received, parsed, and never over a
re-serialised FHIR model, so that a library's formatting choices cannot break a signature.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from fhir.resources.R4B.signature import Signature

from customslab.adapters.federation.keys import DeploymentKey, verify_bytes
from customslab.domain.federation import FHIR_BASE, Envelope, ResultsIssued, report_statement
from customslab.services.federation_ports import MalformedMessage

SIGNATURE_TYPE_SYSTEM = "urn:iso-astm:E1762-95:2013"
VERIFICATION_SIGNATURE = "1.2.840.10065.1.12.1.5"
ADMINISTRATION_SYSTEM = FHIR_BASE + "/administration"
KEY_ID_URL = FHIR_BASE + "/StructureDefinition/key-id"


def canonical_bytes(bundle: dict[str, Any]) -> bytes:
    """What the signature covers: the bundle without `signature`, as sorted, compact UTF-8 JSON."""
    unsigned = {k: v for k, v in bundle.items() if k != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def bundle_text(bundle: dict[str, Any]) -> str:
    """The signed bundle as the JSON text that is sent (any JSON form verifies; this one is compact)."""
    return json.dumps(bundle, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sign_bundle(bundle: dict[str, Any], sender: str, key: DeploymentKey, when: datetime) -> dict[str, Any]:
    """A copy of `bundle` with a FHIR verification signature by `sender`'s deployment key."""
    signature = Signature.model_validate(
        {
            "type": [
                {
                    "system": SIGNATURE_TYPE_SYSTEM,
                    "code": VERIFICATION_SIGNATURE,
                    "display": "Verification Signature",
                }
            ],
            "when": when,
            "who": {"identifier": {"system": ADMINISTRATION_SYSTEM, "value": sender}},
            "extension": [{"url": KEY_ID_URL, "valueString": key.key_id}],
            "sigFormat": "application/octet-stream",
            "targetFormat": "application/fhir+json",
            "data": key.sign(canonical_bytes(bundle)),
        }
    )
    signed = {k: v for k, v in bundle.items() if k != "signature"}
    signed["signature"] = signature.model_dump(mode="json", exclude_none=True)
    return signed


def claimed_signer(bundle: dict[str, Any]) -> tuple[str, str]:
    """(sender administration, key id) as the bundle's signature claims them; not yet verified."""
    signature = bundle.get("signature")
    if not isinstance(signature, dict):
        raise MalformedMessage("The bundle has no signature.")
    who = signature.get("who")
    identifier = who.get("identifier") if isinstance(who, dict) else None
    if not isinstance(identifier, dict) or identifier.get("system") != ADMINISTRATION_SYSTEM:
        raise MalformedMessage(
            "The signature does not name its signer "
            f"(signature.who.identifier, system {ADMINISTRATION_SYSTEM})."
        )
    sender = identifier.get("value")
    if not isinstance(sender, str) or not sender:
        raise MalformedMessage("The signature's signer has no administration code.")
    key_ids = [
        e.get("valueString")
        for e in signature.get("extension") or []
        if isinstance(e, dict) and e.get("url") == KEY_ID_URL
    ]
    if len(key_ids) != 1 or not isinstance(key_ids[0], str) or not key_ids[0]:
        raise MalformedMessage(f"The signature does not name its key (one extension {KEY_ID_URL}).")
    if not isinstance(signature.get("data"), str) or not signature["data"]:
        raise MalformedMessage("The signature has no data.")
    return sender, key_ids[0]


def signature_valid(bundle: dict[str, Any], public_b64: str) -> bool:
    """Whether the bundle's signature data is `public_b64`'s signature of its canonical bytes."""
    signature = bundle.get("signature")
    data = signature.get("data") if isinstance(signature, dict) else None
    if not isinstance(data, str):
        return False
    try:
        content = canonical_bytes(bundle)
    except (ValueError, TypeError):  # a lone surrogate cannot be UTF-8, a non-JSON value cannot be dumped
        return False
    return verify_bytes(public_b64, content, data)


def with_report_signature(envelope: Envelope, key: DeploymentKey) -> Envelope:
    """Results signed by this deployment at encoding time: the outbox keeps them with an empty signature.

    The statement (`report_statement`) ties the PDF's hash to its report id, version and verification
    code; the receiver keeps the signature so that anyone can later check the PDF it shows."""
    body = envelope.body
    if not isinstance(body, ResultsIssued) or body.report_signature:
        return envelope
    statement = report_statement(body.verification_code, body.pdf_sha256, body.report_id, body.version)
    signed = dataclasses.replace(body, report_signature=key.sign(statement), report_key_id=key.key_id)
    return dataclasses.replace(envelope, body=signed)
