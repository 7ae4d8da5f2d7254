"""Envelopes as FHIR R4B message bundles: valid FHIR, and `decode(encode(e)) == e` for every body."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from fhir.resources.R4B.basic import Basic
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.messageheader import MessageHeader
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.specimen import Specimen
from fhir.resources.R4B.task import Task
from hypothesis import given, settings
from hypothesis import strategies as st

from customslab.adapters.federation.fhir_codec import decode, encode
from customslab.domain.federation import (
    FHIR_BASE,
    Envelope,
    KeyRotated,
    KnowledgeShared,
    MessageKind,
    ObservationData,
    ReferralRequested,
    ResultsIssued,
    SharedKind,
    SpecimenData,
    TaskStatus,
    TaskStatusChanged,
)
from tests.unit.federation import samples

MODELS = {
    m.__name__: m
    for m in (
        MessageHeader,
        ServiceRequest,
        Specimen,
        Task,
        DiagnosticReport,
        Observation,
        DocumentReference,
        Basic,
    )
}
RESOURCES_OF = {
    MessageKind.REFERRAL_REQUESTED: ["MessageHeader", "ServiceRequest", "Specimen", "Task"],
    MessageKind.TASK_STATUS: ["MessageHeader", "Task"],
    MessageKind.RESULTS_ISSUED: [
        "MessageHeader",
        "DiagnosticReport",
        "DocumentReference",
        "Task",
        *["Observation"] * 4,
    ],
    MessageKind.KNOWLEDGE_SHARED: ["MessageHeader", "DocumentReference"],
    MessageKind.KEY_ROTATED: ["MessageHeader", "Basic"],
}
# FHIR has no string made only of whitespace other than space, tab, CR and LF (and no empty one: those
# the codec marks absent); such a text is refused at encoding, tested below.
FHIR_STRING = re.compile(r"[ \r\n\t\S]+")
texts = st.text(max_size=12).filter(lambda s: s == "" or FHIR_STRING.fullmatch(s) is not None)
zones = st.sampled_from([UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=-5, minutes=-30))])
instants = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=zones)
decimals = st.decimals(allow_nan=False, allow_infinity=False)
numbers_as_text = decimals.map(str) | st.sampled_from(["1.50", "-0.00", "1e999", "NaN", " 12 ", "1_000"])
# No NUL: the receiver refuses it (no database column of its could store it), so no sender has one.
json_texts = st.text(alphabet=st.characters(blacklist_characters="\x00"))
json_keys = st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=5)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | json_texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(json_keys, inner, max_size=3),
    max_leaves=8,
)

specimens = st.builds(SpecimenData, texts, texts, decimals, texts, texts, texts)
referrals = st.builds(
    ReferralRequested,
    ref=texts,
    from_org=texts,
    to_lab=texts,
    reason=texts,
    request_reference=texts,
    office_code=texts,
    goods_description=texts,
    declared_hs=texts,
    origin_country=texts,
    analysis_reason=texts,
    priority=st.sampled_from(["routine", "urgent", "", "normal"]) | texts,
    due_date=st.dates(),
    requested_determinations=st.lists(texts, max_size=3).map(tuple),
    specimen=specimens,
    declaration=st.dictionaries(texts, texts, max_size=3),
)
statuses = st.builds(
    TaskStatusChanged,
    ref=texts,
    status=st.sampled_from(TaskStatus),
    reason=texts,
    at=st.none() | instants,
    seal_intact=st.none() | st.booleans(),
    custody_note=texts,
)
observations = st.builds(
    ObservationData,
    name=texts,
    value=st.none() | numbers_as_text | texts,
    unit=texts,
    expanded_uncertainty=st.none() | texts,
    coverage_factor=st.none() | texts,
    method=texts,
)
results = st.builds(
    ResultsIssued,
    ref=texts,
    report_id=texts,
    version=st.integers(0, 2**31 - 1),
    verification_code=texts,
    issued_at=instants,
    laboratory=texts,
    conclusion=texts,
    observations=st.lists(observations, max_size=4).map(tuple),
    pdf_sha256=texts,
    pdf_base64=st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode()),
    report_signature=texts,
    report_key_id=texts,
    hs_code=texts,
    decision_rule=texts,
)
knowledge = st.builds(
    KnowledgeShared,
    kind=st.sampled_from(SharedKind),
    origin_ref=texts,
    version=texts,
    author_lab=texts,
    licence=texts,
    title=texts,
    published_at=instants,
    content=st.dictionaries(json_keys, json_values, max_size=4),
)
rotations = st.builds(KeyRotated, texts, texts, texts, instants)
BODIES = {
    "referral": referrals,
    "status": statuses,
    "results": results,
    "knowledge": knowledge,
    "key-rotation": rotations,
}


def envelopes(bodies: st.SearchStrategy[Any]) -> st.SearchStrategy[Envelope]:
    return st.builds(
        Envelope,
        message_id=st.uuids().map(str),
        sender=st.sampled_from(["KCS", "JPC", "한국"]),
        recipient=st.sampled_from(["KCS", "JPC", "INC"]),
        stream=texts.filter(bool),
        seq=st.integers(1, 2**31 - 1),
        sent_at=instants,
        body=bodies,
    )


def received(bundle: dict[str, Any]) -> dict[str, Any]:
    """The bundle as a receiver parses it off the wire."""
    return json.loads(json.dumps(bundle, ensure_ascii=False))


@pytest.mark.slow
@pytest.mark.parametrize("kind", BODIES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_envelope_survives_encoding_sending_and_decoding_unchanged(
    kind: str, data: st.DataObject
) -> None:
    envelope = data.draw(envelopes(BODIES[kind]))
    bundle = encode(envelope, "https://kcs.example")
    assert received(bundle) == bundle
    assert decode(received(bundle)) == envelope


@pytest.mark.parametrize("envelope", samples.every_kind(), ids=lambda e: e.kind.value)
def test_each_message_kind_round_trips_and_every_resource_is_valid_r4b(envelope: Envelope) -> None:
    bundle = encode(envelope, "https://kcs.example")
    Bundle.model_validate(bundle)
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert kinds == RESOURCES_OF[envelope.kind]
    for entry in bundle["entry"]:
        MODELS[entry["resource"]["resourceType"]].model_validate(entry["resource"])
        assert entry["fullUrl"].startswith("urn:uuid:")
    assert decode(received(bundle)) == envelope


def test_the_header_names_kind_sender_recipient_stream_and_sequence() -> None:
    envelope = samples.envelope(samples.status(), seq=7)
    bundle = encode(envelope, "")
    header = bundle["entry"][0]["resource"]
    assert bundle["type"] == "message"
    assert bundle["identifier"] == {"system": FHIR_BASE + "/message-id", "value": envelope.message_id}
    assert bundle["timestamp"] == "2025-05-12T08:30:15.250000Z"
    assert header["eventCoding"] == {"system": FHIR_BASE + "/CodeSystem/message-kind", "code": "task-status"}
    assert header["source"] == {"endpoint": "urn:customslab:KCS"}
    assert header["destination"] == [{"endpoint": "urn:customslab:JPC"}]
    assert header["focus"] == [{"reference": bundle["entry"][1]["fullUrl"]}]
    extensions = {e["url"].rsplit("/", 1)[-1]: e for e in header["extension"]}
    assert extensions["seq"]["valueInteger"] == 7
    assert extensions["stream"]["valueString"] == "referral/KCS/4127"


def test_a_referral_carries_customs_data_in_extensions_and_only_the_released_declaration_fields() -> None:
    bundle = encode(samples.envelope(samples.referral()), "https://kcs.example")
    request = bundle["entry"][1]["resource"]
    by_url = {e["url"]: e for e in request["extension"]}
    assert by_url[FHIR_BASE + "/StructureDefinition/declared-hs-code"]["valueString"] == "1006.30"
    released = [e for e in request["extension"] if e["url"].endswith("/released-declaration-field")]
    assert [f["extension"][0]["valueString"] for f in released] == ["declaration_number", "question"]
    assert request["occurrenceDateTime"] == "2025-06-02"
    assert (request["priority"], request["status"], request["intent"]) == ("urgent", "active", "order")
    specimen = bundle["entry"][2]["resource"]
    assert specimen["collection"]["quantity"] == {"value": 0.5, "unit": "kg"}
    assert specimen["container"][0]["identifier"][0]["value"] == "KCS-S-558120"


def test_results_carry_the_pdf_its_hashes_and_the_report_signature() -> None:
    body = samples.results()
    bundle = encode(samples.envelope(body), "")
    document = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference"
    )
    attachment = document["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf"
    assert attachment["data"] == body.pdf_base64
    sha1 = hashlib.sha1(base64.b64decode(body.pdf_base64)).digest()
    assert attachment["hash"] == base64.b64encode(sha1).decode()  # FHIR's Attachment.hash is SHA-1
    extensions = {e["url"].rsplit("/", 1)[-1]: e.get("valueString") for e in document["extension"]}
    assert extensions == {"sha256": "ab" * 32, "report-signature": None, "report-key-id": None}
    assert document["identifier"] == [{"system": FHIR_BASE + "/verification-code", "value": "7KQ2-MX4P-Z9"}]
    observation = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
    )
    assert observation["valueQuantity"] == {"value": 92.0, "unit": "%"}


def test_encoding_the_same_envelope_twice_gives_the_same_bundle() -> None:
    envelope = samples.envelope(samples.results())
    assert encode(envelope, "u") == encode(envelope, "u")


def test_an_envelope_fhir_cannot_carry_is_refused_at_encoding_with_a_reason() -> None:
    naive = dataclasses.replace(samples.envelope(samples.status()), sent_at=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="timezone aware"):
        encode(naive, "")
    wrapped_pdf = dataclasses.replace(samples.results(), pdf_base64="JVBE\nRi0x")
    with pytest.raises(ValueError, match="PDF is not"):
        encode(samples.envelope(wrapped_pdf), "")
    blank = TaskStatusChanged(ref="\u00a0", status=TaskStatus.ACCEPTED)
    with pytest.raises(ValueError, match="not valid FHIR"):
        encode(samples.envelope(blank), "")


def test_a_decimal_quantity_keeps_its_exact_digits_beside_the_json_number() -> None:
    body = dataclasses.replace(samples.referral(), specimen=SpecimenData("S", "", Decimal("1.10"), "g", ""))
    decoded = decode(received(encode(samples.envelope(body), "")))
    assert isinstance(decoded.body, ReferralRequested)
    assert str(decoded.body.specimen.quantity) == "1.10"
