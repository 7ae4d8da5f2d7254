"""Federation at the edge: deployment keys, signed HL7 FHIR message bundles, and the inbox's gate.

`keys` holds this deployment's Ed25519 keys, `signing` the canonical form and the bundle signature,
`fhir_codec` turns an `Envelope` into a FHIR R4B message bundle and back, and `gate` implements the
`MessageGate` port with them. The wire format is described in docs/federation/wire-format.md.
"""
