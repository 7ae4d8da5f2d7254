"""The inbox's gate: received bytes → a parsed, signature-checked, decoded FHIR message.

The route checks the size before anything is read; the inbox use case calls these steps in order and
decides, with its own records, whom to trust.
"""

from __future__ import annotations

import hashlib

from customslab.adapters.federation import fhir_codec
from customslab.adapters.federation.keys import verify_bytes
from customslab.adapters.federation.signing import canonical_bytes, claimed_signer, signature_valid
from customslab.adapters.federation.strict_json import parse_json
from customslab.domain.federation import Envelope
from customslab.services.federation_ports import MalformedMessage, MessageGate, SignedMessage, shown


class FhirMessageGate(MessageGate):
    """`MessageGate` for customslab's signed FHIR R4B message bundles."""

    def parse(self, raw: bytes) -> SignedMessage:
        bundle = parse_json(raw)
        if not isinstance(bundle, dict):
            raise MalformedMessage("The message is not a JSON object.")
        if bundle.get("resourceType") != "Bundle":
            claimed = shown(bundle.get("resourceType"))
            raise MalformedMessage(f"The message is a {claimed}, not a FHIR Bundle.")
        sender, key_id = claimed_signer(bundle)
        try:
            canonical_bytes(bundle)
        except RecursionError:
            raise MalformedMessage("The message's JSON is nested too deeply.") from None
        except UnicodeEncodeError:
            raise MalformedMessage("The message holds text that is not valid Unicode.") from None
        return SignedMessage(sender, key_id, hashlib.sha256(raw).hexdigest(), bundle)

    def signature_valid(self, message: SignedMessage, public_key: str) -> bool:
        return signature_valid(message.bundle, public_key)

    def decode(self, message: SignedMessage) -> Envelope:
        envelope = fhir_codec.decode(message.bundle)
        # Otherwise a partner could sign, with its own key, a message that claims another's name.
        if envelope.sender != message.sender:
            raise MalformedMessage(
                f"The message says it is from {shown(envelope.sender)} "
                f"but is signed for {shown(message.sender)}."
            )
        return envelope

    def report_signature_valid(self, statement: bytes, signature: str, public_key: str) -> bool:
        return verify_bytes(public_key, statement, signature)
