"""Federation messages as HL7 FHIR R4B message bundles, and back: `decode(encode(e)) == e`.

Each resource is built as JSON-ready data and validated by its `fhir.resources.R4B` model before it goes
into the bundle; the bundle is validated as a whole. Customs data (HS codes, decision rules, released
declaration fields) travel in extensions under `FHIR_BASE/StructureDefinition/`. Values that FHIR would
change in passing keep their exact form in an extension: a decimal becomes a JSON number in a Quantity,
so the quantity's and a result's exact text ride along. Docs: docs/federation/wire-format.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import uuid
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from itertools import count

import pydantic
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from customslab.adapters.federation import fhir_decode
from customslab.adapters.federation.fhir_parts import (
    ABSENT_SYSTEM,
    LAB_SAMPLE_SYSTEM,
    MESSAGE_ID_SYSTEM,
    MESSAGE_KIND_SYSTEM,
    REFERRAL_SYSTEM,
    REPORT_SYSTEM,
    SEAL_SYSTEM,
    SHARED_KIND_SYSTEM,
    VERIFICATION_SYSTEM,
    Json,
    identifiers,
    optional_text_ext,
    organisation,
    referral_focus,
    text_element,
    text_ext,
    texts,
    url,
)
from customslab.domain.federation import (
    Body,
    Envelope,
    KeyRotated,
    KnowledgeShared,
    ObservationData,
    ReferralRequested,
    ResultsIssued,
    TaskStatusChanged,
)
from customslab.services.federation_ports import MalformedMessage

#: The codes FHIR's ServiceRequest.priority takes; another priority travels in an extension.
FHIR_PRIORITIES = frozenset({"routine", "urgent", "asap", "stat"})


def encode(envelope: Envelope, sender_url: str) -> Json:
    """The envelope as an unsigned FHIR message bundle (JSON-ready), validated by fhir.resources.

    Raises ValueError for an envelope FHIR cannot carry (a naive datetime, a PDF that is not base64)."""
    # Full URLs derive from the message id, so the same envelope always gives the same bundle.
    urls = (f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{envelope.message_id}/{i}')}" for i in count())
    header_url = next(urls)
    resources = _resources(envelope.body, urls)
    header: Json = {
        "resourceType": "MessageHeader",
        "eventCoding": {"system": MESSAGE_KIND_SYSTEM, "code": envelope.kind.value},
        "source": {"endpoint": sender_url or f"urn:customslab:{envelope.sender}"},
        "destination": [{"endpoint": f"urn:customslab:{envelope.recipient}"}],
        "focus": [{"reference": resources[0][0]}],
        "extension": [
            text_ext("sender", envelope.sender),
            text_ext("recipient", envelope.recipient),
            text_ext("stream", envelope.stream),
            {"url": url("seq"), "valueInteger": envelope.seq},
        ],
    }
    entries = [{"fullUrl": header_url, "resource": _checked(header)}]
    entries += [{"fullUrl": full_url, "resource": _checked(resource)} for full_url, resource in resources]
    # Each resource was validated above; the bundle's own fields are validated here without them,
    # which halves the work (tests validate whole bundles).
    bundle = _checked(
        {
            "resourceType": "Bundle",
            "identifier": {"system": MESSAGE_ID_SYSTEM, "value": envelope.message_id},
            "type": "message",
            "timestamp": envelope.sent_at,
        }
    )
    bundle["entry"] = entries
    if json.loads(json.dumps(bundle)) != bundle:  # what is signed must be what the receiver parses
        raise ValueError("The encoded bundle does not survive a JSON round trip.")
    return bundle


def decode(bundle: Json) -> Envelope:
    """The envelope a customslab message bundle carries; `MalformedMessage` says what is wrong."""
    if not isinstance(bundle, dict):
        raise MalformedMessage("The message is not a JSON object.")
    _check_resource_types(bundle)
    try:
        Bundle.model_validate(bundle)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "Bundle"
        raise MalformedMessage(f"Not a valid FHIR R4B Bundle: {where}: {first['msg']}.") from None
    except Exception as exc:  # fhir.resources raises KeyError and others for an unknown resourceType
        raise MalformedMessage(f"Not a valid FHIR R4B Bundle: {type(exc).__name__}: {exc}.") from None
    return fhir_decode.envelope_of(bundle)


def _check_resource_types(bundle: Json) -> None:
    # fhir.resources answers an unknown resourceType with a bare KeyError; name the entry instead.
    entries = bundle.get("entry")
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        name = resource.get("resourceType") if isinstance(resource, dict) else None
        try:
            get_fhir_model_class(name)
        except (ValueError, TypeError):
            raise MalformedMessage(
                f"Bundle.entry[{i}] is not a FHIR resource (resourceType {name!r})."
            ) from None


def _checked(resource: Json) -> Json:
    """The resource after its fhir.resources model has validated it, as JSON-ready data."""
    model = get_fhir_model_class(resource["resourceType"])
    try:
        validated = model.model_validate(resource)
    except pydantic.ValidationError as exc:
        raise ValueError(f"{resource['resourceType']} is not valid FHIR: {exc}") from exc
    dumped: Json = validated.model_dump(mode="json", exclude_none=True)
    return dumped


def _resources(body: Body, urls: Iterator[str]) -> list[tuple[str, Json]]:
    """(fullUrl, resource) of the body's resources; the first is the message's focus."""
    if isinstance(body, ReferralRequested):
        return _referral(body, next(urls), next(urls), next(urls))
    if isinstance(body, TaskStatusChanged):
        return [(next(urls), _status_task(body))]
    if isinstance(body, ResultsIssued):
        return _results(body, urls)
    if isinstance(body, KnowledgeShared):
        return [(next(urls), _knowledge(body))]
    return [(next(urls), _key_rotation(body))]


def _referral(
    body: ReferralRequested, sr_url: str, specimen_url: str, task_url: str
) -> list[tuple[str, Json]]:
    declaration = [
        {
            "url": url("released-declaration-field"),
            "extension": [
                text_ext("name", name, relative=True),
                text_ext("value", value, relative=True),
            ],
        }
        for name, value in body.declaration.items()
    ]
    fhir_priority = body.priority in FHIR_PRIORITIES
    service_request: Json = {
        "resourceType": "ServiceRequest",
        "identifier": identifiers(REFERRAL_SYSTEM, body.ref),
        "status": "active",
        "intent": "order",
        "priority": body.priority if fhir_priority else None,
        "code": text_element("; ".join(body.requested_determinations)),
        "orderDetail": [text_element(d) for d in body.requested_determinations] or None,
        "subject": {"display": body.goods_description} if body.goods_description else text_element(""),
        "occurrenceDateTime": body.due_date.isoformat(),
        "requester": organisation(body.from_org),
        "performer": [organisation(body.to_lab)] if body.to_lab else None,
        "reasonCode": texts(body.reason),
        "specimen": [{"reference": specimen_url}],
        "extension": [
            text_ext("declared-hs-code", body.declared_hs),
            text_ext("origin-country", body.origin_country),
            text_ext("analysis-reason", body.analysis_reason),
            text_ext("request-reference", body.request_reference),
            text_ext("office-code", body.office_code),
            *([] if fhir_priority else [text_ext("priority", body.priority)]),
            *declaration,
        ],
    }
    s = body.specimen
    quantity = {"value": _json_number(s.quantity), "unit": s.unit or None}
    specimen: Json = {
        "resourceType": "Specimen",
        "identifier": identifiers(LAB_SAMPLE_SYSTEM, s.lab_sample_id),
        "request": [{"reference": sr_url}],
        "collection": {"quantity": quantity} if any(v is not None for v in quantity.values()) else None,
        "container": [{"identifier": identifiers(SEAL_SYSTEM, s.seal_number)}] if s.seal_number else None,
        "condition": texts(s.condition),
        "note": texts(s.description),
        "extension": [text_ext("exact-quantity", str(s.quantity))],
    }
    task: Json = {
        "resourceType": "Task",
        "identifier": identifiers(REFERRAL_SYSTEM, body.ref),
        "status": "requested",
        "intent": "order",
        "focus": {"reference": sr_url},
        "requester": organisation(body.from_org),
        "owner": organisation(body.to_lab),
    }
    return [(sr_url, service_request), (specimen_url, specimen), (task_url, task)]


def _status_task(body: TaskStatusChanged) -> Json:
    seal = [] if body.seal_intact is None else [{"url": url("seal-intact"), "valueBoolean": body.seal_intact}]
    return {
        "resourceType": "Task",
        "identifier": identifiers(REFERRAL_SYSTEM, body.ref),
        "status": body.status.value,
        "intent": "order",
        "focus": referral_focus(body.ref),
        "statusReason": {"text": body.reason} if body.reason else None,
        "lastModified": body.at,
        "note": texts(body.custody_note),
        "extension": seal or None,
    }


def _results(body: ResultsIssued, urls: Iterator[str]) -> list[tuple[str, Json]]:
    report_url, document_url, task_url = next(urls), next(urls), next(urls)
    observations = [(next(urls), _observation(o)) for o in body.observations]
    report: Json = {
        "resourceType": "DiagnosticReport",
        "identifier": identifiers(REPORT_SYSTEM, body.report_id),
        "basedOn": [referral_focus(body.ref)] if body.ref else None,
        "status": "final",
        "code": {"text": "Customs laboratory analysis report"},
        "issued": body.issued_at,
        "performer": [organisation(body.laboratory)] if body.laboratory else None,
        "result": [{"reference": u} for u, _ in observations] or None,
        "conclusion": body.conclusion or None,
        "extension": [
            {"url": url("report-version"), "valueInteger": body.version},
            text_ext("hs-code", body.hs_code),
            text_ext("decision-rule", body.decision_rule),
        ],
    }
    pdf = _pdf_bytes(body.pdf_base64)
    attachment: Json = {"contentType": "application/pdf"}
    if body.pdf_base64:
        # FHIR's Attachment.hash is SHA-1 by definition; the report's own sha256 is an extension.
        attachment |= {"data": body.pdf_base64, "hash": base64.b64encode(hashlib.sha1(pdf).digest()).decode()}
    document: Json = {
        "resourceType": "DocumentReference",
        "identifier": identifiers(VERIFICATION_SYSTEM, body.verification_code),
        "status": "current",
        "content": [{"attachment": attachment}],
        "context": {"related": [{"reference": report_url}]},
        "extension": [
            text_ext("sha256", body.pdf_sha256),
            text_ext("report-signature", body.report_signature),
            text_ext("report-key-id", body.report_key_id),
        ],
    }
    task: Json = {
        "resourceType": "Task",
        "identifier": identifiers(REFERRAL_SYSTEM, body.ref),
        "status": "completed",
        "intent": "order",
        "focus": referral_focus(body.ref),
        "output": [{"type": {"text": "report"}, "valueReference": {"reference": report_url}}],
    }
    return [(report_url, report), (document_url, document), (task_url, task), *observations]


def _observation(o: ObservationData) -> Json:
    number = _number(o.value)
    observation: Json = {
        "resourceType": "Observation",
        "status": "final",
        "code": text_element(o.name),
        "method": {"text": o.method} if o.method else None,
    }
    extensions = [
        *optional_text_ext("expanded-uncertainty", o.expanded_uncertainty),
        *optional_text_ext("coverage-factor", o.coverage_factor),
    ]
    if number is not None:
        # A Quantity's value is a JSON number: "1.50" would come back as 1.5, so the text rides along.
        observation["valueQuantity"] = {"value": number, "unit": o.unit or None}
        extensions.append(text_ext("exact-value", o.value or ""))
    else:
        if o.value:
            observation["valueString"] = o.value
        else:
            observation["dataAbsentReason"] = {"coding": [{"system": ABSENT_SYSTEM, "code": "unknown"}]}
            extensions += optional_text_ext("exact-value", o.value)  # "" is kept apart from None
        extensions += [text_ext("unit", o.unit)] if o.unit else []
    observation["extension"] = extensions or None
    return observation


def _knowledge(body: KnowledgeShared) -> Json:
    content = json.dumps(body.content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {"coding": [{"system": SHARED_KIND_SYSTEM, "code": body.kind.value}]},
        "content": [
            {
                "attachment": {
                    "contentType": "application/json",
                    "data": base64.b64encode(content.encode("utf-8")).decode("ascii"),
                }
            }
        ],
        "extension": [
            text_ext("origin-ref", body.origin_ref),
            text_ext("version", body.version),
            text_ext("author-lab", body.author_lab),
            text_ext("licence", body.licence),
            text_ext("title", body.title),
            {"url": url("published"), "valueDateTime": body.published_at},
        ],
    }


def _key_rotation(body: KeyRotated) -> Json:
    return {
        "resourceType": "Basic",
        "code": {"coding": [{"system": MESSAGE_KIND_SYSTEM, "code": "key-rotated"}]},
        "extension": [
            text_ext("key-id", body.key_id),
            text_ext("public-key", body.public_key),
            text_ext("old-key-id", body.old_key_id),
            {"url": url("old-key-valid-until"), "valueDateTime": body.old_key_valid_until},
        ],
    }


def _number(value: str | None) -> Decimal | None:
    """The result as a number, when it is one a JSON number can carry; else None (sent as text)."""
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if _json_number(number) is not None else None


def _json_number(value: Decimal) -> Decimal | None:
    # NaN and infinities have no JSON form, and a huge exponent would overflow to one.
    return value if value.is_finite() and math.isfinite(float(value)) else None


def _pdf_bytes(pdf_base64: str) -> bytes:
    try:
        pdf = base64.b64decode(pdf_base64, validate=True)
    except ValueError:
        raise ValueError("The report's PDF is not base64.") from None
    if base64.b64encode(pdf).decode("ascii") != pdf_base64:
        # fhir.resources re-encodes base64Binary: only the canonical form comes back unchanged.
        raise ValueError("The report's PDF is not in canonical base64 (no line breaks, standard padding).")
    return pdf
