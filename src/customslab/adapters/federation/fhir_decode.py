"""Reading a validated FHIR message bundle back into an `Envelope` (the inverse of `fhir_codec.encode`).

The reader works on the JSON as received (already validated by fhir.resources), so that values come
back exactly as the sender wrote them; each missing or ill-formed piece raises `MalformedMessage`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from customslab.adapters.federation.fhir_parts import (
    LAB_SAMPLE_SYSTEM,
    MESSAGE_ID_SYSTEM,
    MESSAGE_KIND_SYSTEM,
    REFERRAL_SYSTEM,
    REPORT_SYSTEM,
    SEAL_SYSTEM,
    SHARED_KIND_SYSTEM,
    VERIFICATION_SYSTEM,
    Json,
    as_dict,
    as_list,
    datetime_ext_of,
    ext_text_value,
    extension,
    first_text,
    identifier_of,
    int_of,
    optional_text_of,
    organisation_of,
    parse_date,
    parse_datetime,
    reference_to,
    text_of,
    url,
)
from customslab.adapters.federation.strict_json import parse_json
from customslab.domain.federation import (
    Body,
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
from customslab.services.federation_ports import MalformedMessage, shown

#: The longest message id and stream name the inbox stores (its columns' sizes): a longer one is refused
#: here, as malformed, rather than by the database.
MESSAGE_ID_CHARS = 64
STREAM_CHARS = 200


class _Entries:
    """The bundle's resources, by full URL and by type."""

    def __init__(self, bundle: Json) -> None:
        self.ordered: list[Json] = []
        self.by_url: dict[str, Json] = {}
        for i, entry in enumerate(as_list(bundle.get("entry"))):
            resource = as_dict(
                as_dict(entry, f"Bundle.entry[{i}]").get("resource"), f"Bundle.entry[{i}].resource"
            )
            self.ordered.append(resource)
            if isinstance(entry.get("fullUrl"), str):
                self.by_url[entry["fullUrl"]] = resource

    def referenced(self, reference: Any, resource_type: str, where: str) -> Json:
        found = self.by_url.get(reference_to(reference))
        if found is None or found.get("resourceType") != resource_type:
            raise MalformedMessage(f"{where} does not point to a {resource_type} in the bundle.")
        return found

    def only(self, resource_type: str) -> Json:
        found = [r for r in self.ordered if r.get("resourceType") == resource_type]
        if len(found) != 1:
            raise MalformedMessage(f"The message must carry one {resource_type}; it carries {len(found)}.")
        return found[0]


def envelope_of(bundle: Json) -> Envelope:
    if bundle.get("type") != "message":
        raise MalformedMessage(f"The bundle's type is {shown(bundle.get('type'))}, not 'message'.")
    identifier = bundle.get("identifier")
    if not isinstance(identifier, dict) or identifier.get("system") != MESSAGE_ID_SYSTEM:
        raise MalformedMessage(
            f"The bundle has no message id (Bundle.identifier, system {MESSAGE_ID_SYSTEM})."
        )
    message_id = identifier.get("value")
    if not isinstance(message_id, str) or not message_id:
        raise MalformedMessage("The bundle's message id has no value.")
    if len(message_id) > MESSAGE_ID_CHARS:
        raise MalformedMessage(f"The bundle's message id is longer than {MESSAGE_ID_CHARS} characters.")
    entries = _Entries(bundle)
    if not entries.ordered or entries.ordered[0].get("resourceType") != "MessageHeader":
        raise MalformedMessage("The bundle's first entry is not a MessageHeader.")
    header = entries.ordered[0]
    event = header.get("eventCoding")
    if not isinstance(event, dict) or event.get("system") != MESSAGE_KIND_SYSTEM:
        raise MalformedMessage(f"The MessageHeader has no eventCoding in {MESSAGE_KIND_SYSTEM}.")
    try:
        kind = MessageKind(str(event.get("code")))
    except ValueError:
        raise MalformedMessage(f"Unknown message kind {shown(event.get('code'))}.") from None
    focus = as_list(header.get("focus"))
    main = entries.by_url.get(reference_to(focus[0])) if len(focus) == 1 else None
    if main is None:
        raise MalformedMessage("The MessageHeader's focus does not point to one resource of the bundle.")
    stream, seq = text_of(header, "stream"), int_of(header, "seq")
    if not stream or len(stream) > STREAM_CHARS:
        raise MalformedMessage(f"The message's stream must have 1 to {STREAM_CHARS} characters.")
    if seq < 1:  # FHIR's integer bounds it above (32 bits, like the column)
        raise MalformedMessage(f"The message's seq is {seq}; a stream's messages are numbered from 1.")
    return Envelope(
        message_id=message_id,
        sender=text_of(header, "sender"),
        recipient=text_of(header, "recipient"),
        stream=stream,
        seq=seq,
        sent_at=parse_datetime(bundle.get("timestamp"), "Bundle.timestamp"),
        body=_BODY_READERS[kind](main, entries),
    )


def _expect(resource: Json, resource_type: str) -> Json:
    if resource.get("resourceType") != resource_type:
        raise MalformedMessage(
            f"The message's focus is a {resource.get('resourceType')}, not a {resource_type}."
        )
    return resource


def _referral(main: Json, entries: _Entries) -> ReferralRequested:
    sr = _expect(main, "ServiceRequest")
    specimens = as_list(sr.get("specimen"))
    specimen = entries.referenced(specimens[0] if specimens else None, "Specimen", "ServiceRequest.specimen")
    declaration: dict[str, str] = {}
    for field in as_list(sr.get("extension")):
        if isinstance(field, dict) and field.get("url") == url("released-declaration-field"):
            name = text_of(field, "name", relative=True)
            if name in declaration:
                raise MalformedMessage(f"The declaration field {name!r} is released twice.")
            declaration[name] = text_of(field, "value", relative=True)
    priority = optional_text_of(sr, "priority")
    return ReferralRequested(
        ref=identifier_of(entries.only("Task"), REFERRAL_SYSTEM),
        from_org=organisation_of(sr.get("requester")),
        to_lab=organisation_of(as_list(sr.get("performer"))[0] if sr.get("performer") else None),
        reason=first_text(sr, "reasonCode"),
        request_reference=text_of(sr, "request-reference"),
        office_code=text_of(sr, "office-code"),
        goods_description=str(as_dict(sr.get("subject"), "ServiceRequest.subject").get("display") or ""),
        declared_hs=text_of(sr, "declared-hs-code"),
        origin_country=text_of(sr, "origin-country"),
        analysis_reason=text_of(sr, "analysis-reason"),
        priority=priority if priority is not None else str(sr.get("priority") or ""),
        due_date=parse_date(sr.get("occurrenceDateTime"), "ServiceRequest.occurrenceDateTime"),
        requested_determinations=tuple(first_text({"d": d}, "d") for d in as_list(sr.get("orderDetail"))),
        specimen=_specimen(specimen),
        declaration=declaration,
    )


def _specimen(specimen: Json) -> SpecimenData:
    exact = text_of(specimen, "exact-quantity")
    try:
        quantity = Decimal(exact)
    except InvalidOperation:
        raise MalformedMessage(f"The specimen's quantity {exact!r} is not a number.") from None
    collection = specimen.get("collection")
    measured = collection.get("quantity") if isinstance(collection, dict) else None
    containers = as_list(specimen.get("container"))
    return SpecimenData(
        lab_sample_id=identifier_of(specimen, LAB_SAMPLE_SYSTEM),
        description=first_text(specimen, "note"),
        quantity=quantity,
        unit=str(measured.get("unit") or "") if isinstance(measured, dict) else "",
        seal_number=identifier_of(containers[0], SEAL_SYSTEM) if containers else "",
        condition=first_text(specimen, "condition"),
    )


def _status(main: Json, entries: _Entries) -> TaskStatusChanged:
    task = _expect(main, "Task")
    try:
        status = TaskStatus(str(task.get("status")))
    except ValueError:
        raise MalformedMessage(f"Unknown referral status {task.get('status')!r}.") from None
    seal = extension(task, "seal-intact")
    seal_intact = seal.get("valueBoolean") if seal else None
    if seal is not None and not isinstance(seal_intact, bool):
        raise MalformedMessage(f"Extension {url('seal-intact')} has no valueBoolean.")
    last_modified = task.get("lastModified")
    return TaskStatusChanged(
        ref=identifier_of(task, REFERRAL_SYSTEM),
        status=status,
        reason=first_text(task, "statusReason"),
        at=None if last_modified is None else parse_datetime(last_modified, "Task.lastModified"),
        seal_intact=seal_intact,
        custody_note=first_text(task, "note"),
    )


def _results(main: Json, entries: _Entries) -> ResultsIssued:
    report = _expect(main, "DiagnosticReport")
    document = entries.only("DocumentReference")
    observations = [
        _observation(entries.referenced(r, "Observation", "DiagnosticReport.result"))
        for r in as_list(report.get("result"))
    ]
    contents = as_list(document.get("content"))
    attachment = contents[0].get("attachment") if contents and isinstance(contents[0], dict) else None
    performers = as_list(report.get("performer"))
    return ResultsIssued(
        ref=identifier_of(entries.only("Task"), REFERRAL_SYSTEM),
        report_id=identifier_of(report, REPORT_SYSTEM),
        version=int_of(report, "report-version"),
        verification_code=identifier_of(document, VERIFICATION_SYSTEM),
        issued_at=parse_datetime(report.get("issued"), "DiagnosticReport.issued"),
        laboratory=organisation_of(performers[0] if performers else None),
        conclusion=str(report.get("conclusion") or ""),
        observations=tuple(observations),
        pdf_sha256=text_of(document, "sha256"),
        pdf_base64=str(attachment.get("data") or "") if isinstance(attachment, dict) else "",
        report_signature=text_of(document, "report-signature"),
        report_key_id=text_of(document, "report-key-id"),
        hs_code=text_of(report, "hs-code"),
        decision_rule=text_of(report, "decision-rule"),
    )


def _observation(observation: Json) -> ObservationData:
    quantity = observation.get("valueQuantity")
    exact = extension(observation, "exact-value")
    value: str | None
    if isinstance(quantity, dict):
        if exact is None:
            raise MalformedMessage(f"A numeric Observation lacks extension {url('exact-value')}.")
        value = ext_text_value(exact, url("exact-value"))
        unit = str(quantity.get("unit") or "")
    else:
        written = observation.get("valueString")
        if isinstance(written, str):
            value = written
        else:
            value = None if exact is None else ext_text_value(exact, url("exact-value"))
        unit = optional_text_of(observation, "unit") or ""
    return ObservationData(
        name=first_text(observation, "code"),
        value=value,
        unit=unit,
        expanded_uncertainty=optional_text_of(observation, "expanded-uncertainty"),
        coverage_factor=optional_text_of(observation, "coverage-factor"),
        method=first_text(observation, "method"),
    )


def _knowledge(main: Json, entries: _Entries) -> KnowledgeShared:
    document = _expect(main, "DocumentReference")
    codings = as_list(as_dict(document.get("type"), "DocumentReference.type").get("coding"))
    codes = [c.get("code") for c in codings if isinstance(c, dict) and c.get("system") == SHARED_KIND_SYSTEM]
    try:
        kind = SharedKind(str(codes[0]) if codes else "")
    except ValueError:
        raise MalformedMessage(
            f"DocumentReference.type names no shared kind of {SHARED_KIND_SYSTEM}."
        ) from None
    contents = as_list(document.get("content"))
    attachment = contents[0].get("attachment") if contents and isinstance(contents[0], dict) else None
    try:
        data = base64.b64decode(as_dict(attachment, "The shared content")["data"], validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise MalformedMessage("The shared content is not base64 JSON.") from None
    try:
        # As strict as the bundle itself: the content is stored and shown as the partner meant it.
        content = parse_json(data)
    except MalformedMessage as exc:
        raise MalformedMessage(f"The shared content is not base64 JSON: {exc}") from None
    if not isinstance(content, dict):
        raise MalformedMessage("The shared content is not a JSON object.")
    return KnowledgeShared(
        kind=kind,
        origin_ref=text_of(document, "origin-ref"),
        version=text_of(document, "version"),
        author_lab=text_of(document, "author-lab"),
        licence=text_of(document, "licence"),
        title=text_of(document, "title"),
        published_at=datetime_ext_of(document, "published"),
        content=content,
    )


def _key_rotation(main: Json, entries: _Entries) -> KeyRotated:
    basic = _expect(main, "Basic")
    return KeyRotated(
        key_id=text_of(basic, "key-id"),
        public_key=text_of(basic, "public-key"),
        old_key_id=text_of(basic, "old-key-id"),
        old_key_valid_until=datetime_ext_of(basic, "old-key-valid-until"),
    )


_BODY_READERS: dict[MessageKind, Callable[[Json, _Entries], Body]] = {
    MessageKind.REFERRAL_REQUESTED: _referral,
    MessageKind.TASK_STATUS: _status,
    MessageKind.RESULTS_ISSUED: _results,
    MessageKind.KNOWLEDGE_SHARED: _knowledge,
    MessageKind.KEY_ROTATED: _key_rotation,
}
