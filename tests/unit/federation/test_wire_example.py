"""The committed example in docs/federation/ is still a valid, signed, decodable referral message."""

from __future__ import annotations

import json

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from customslab.adapters.federation import fhir_codec
from customslab.adapters.federation.gate import FhirMessageGate
from customslab.domain.federation import public_key_id
from tests.unit.federation import samples


def test_the_committed_referral_example_is_valid_fhir_signed_by_the_key_beside_it_and_decodes() -> None:
    raw = samples.EXAMPLE_BUNDLE.read_bytes()
    public_key = samples.EXAMPLE_KEY.read_text(encoding="ascii").strip()
    bundle = json.loads(raw)
    Bundle.model_validate(bundle)
    for entry in bundle["entry"]:
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    gate = FhirMessageGate()
    message = gate.parse(raw)
    assert (message.sender, message.key_id) == ("KCS", public_key_id(public_key))
    assert gate.signature_valid(message, public_key)
    assert gate.decode(message) == samples.envelope(samples.referral())


def test_the_wire_format_page_names_every_extension_the_messages_use() -> None:
    page = (samples.DOCS / "wire-format.md").read_text(encoding="utf-8")
    texts = [samples.EXAMPLE_BUNDLE.read_text(encoding="utf-8")]
    texts += [json.dumps(fhir_codec.encode(e, "")) for e in samples.every_kind()]
    used = {part.split('"')[0] for text in texts for part in text.split("/StructureDefinition/")[1:]}
    assert {"key-id", "exact-value", "seal-intact", "old-key-valid-until"} <= used
    missing = sorted(name for name in used if f"`{name}`" not in page)
    assert not missing, f"docs/federation/wire-format.md does not describe {missing}"
