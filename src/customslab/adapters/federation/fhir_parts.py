"""The names and small pieces the FHIR codec writes and reads: URLs, identifiers, texts, extensions.

FHIR forbids empty strings, while the domain's texts may be empty. The codec therefore follows three
rules, each reversible: a text in a native element that may be left out is left out when empty (read
back as ""); a text in a customslab extension, or in an element FHIR requires, is always written, and
an empty one carries the standard data-absent-reason extension instead of a value; an optional value
that is None is left out entirely.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from customslab.domain.federation import FHIR_BASE
from customslab.services.federation_ports import MalformedMessage

STRUCTURE = FHIR_BASE + "/StructureDefinition/"
MESSAGE_ID_SYSTEM = FHIR_BASE + "/message-id"
ORGANISATION_SYSTEM = FHIR_BASE + "/organisation"
REFERRAL_SYSTEM = FHIR_BASE + "/referral"
LAB_SAMPLE_SYSTEM = FHIR_BASE + "/lab-sample"
SEAL_SYSTEM = FHIR_BASE + "/seal"
REPORT_SYSTEM = FHIR_BASE + "/report-id"
VERIFICATION_SYSTEM = FHIR_BASE + "/verification-code"
MESSAGE_KIND_SYSTEM = FHIR_BASE + "/CodeSystem/message-kind"
SHARED_KIND_SYSTEM = FHIR_BASE + "/CodeSystem/shared-kind"
ABSENT_URL = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
ABSENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
#: The data-absent-reason code that stands for an empty text.
EMPTY = "not-applicable"

Json = dict[str, Any]


def url(name: str) -> str:
    """The URL of a customslab extension."""
    return STRUCTURE + name


# -- writing ---------------------------------------------------------------------------------------


def absent() -> Json:
    return {"url": ABSENT_URL, "valueCode": EMPTY}


def text_ext(name: str, value: str, *, relative: bool = False) -> Json:
    """A text extension, always present: an empty text is marked absent (FHIR has no empty string)."""
    where = name if relative else url(name)
    return {"url": where, "valueString": value} if value else {"url": where, "extension": [absent()]}


def optional_text_ext(name: str, value: str | None) -> list[Json]:
    return [] if value is None else [text_ext(name, value)]


def text_element(value: str) -> Json:
    """A required element with a `text` (CodeableConcept): marked absent when the text is empty."""
    return {"text": value} if value else {"extension": [absent()]}


def identifiers(system: str, value: str) -> list[Json] | None:
    return [{"system": system, "value": value}] if value else None


def organisation(code: str) -> Json | None:
    if not code:
        return None
    return {"type": "Organization", "identifier": {"system": ORGANISATION_SYSTEM, "value": code}}


def referral_focus(ref: str) -> Json | None:
    if not ref:
        return None
    return {"type": "ServiceRequest", "identifier": {"system": REFERRAL_SYSTEM, "value": ref}}


def texts(value: str) -> list[Json] | None:
    """A repeating `{text}` element (a note, a reason), left out when the text is empty."""
    return [{"text": value}] if value else None


# -- reading ---------------------------------------------------------------------------------------


def as_dict(value: Any, where: str) -> Json:
    if not isinstance(value, dict):
        raise MalformedMessage(f"{where} is missing.")
    return value


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def extension(obj: Json, name: str, *, relative: bool = False) -> Json | None:
    """The one extension of `obj` with this name, or None; two of them make the message malformed."""
    where = name if relative else url(name)
    found = [e for e in as_list(obj.get("extension")) if isinstance(e, dict) and e.get("url") == where]
    if len(found) > 1:
        raise MalformedMessage(f"{obj.get('resourceType', 'An element')} carries extension {where} twice.")
    return found[0] if found else None


def _is_absent(obj: Json) -> bool:
    return any(
        isinstance(e, dict) and e.get("url") == ABSENT_URL and e.get("valueCode") == EMPTY
        for e in as_list(obj.get("extension"))
    )


def ext_text_value(found: Json, where: str) -> str:
    value = found.get("valueString")
    if isinstance(value, str):
        return value
    if _is_absent(found):
        return ""
    raise MalformedMessage(f"Extension {where} has neither a valueString nor an absent-data marker.")


def text_of(obj: Json, name: str, *, relative: bool = False) -> str:
    """A text extension that must be there."""
    found = extension(obj, name, relative=relative)
    where = name if relative else url(name)
    if found is None:
        raise MalformedMessage(f"{obj.get('resourceType', 'An element')} lacks extension {where}.")
    return ext_text_value(found, where)


def optional_text_of(obj: Json, name: str) -> str | None:
    found = extension(obj, name)
    return None if found is None else ext_text_value(found, url(name))


def int_of(obj: Json, name: str) -> int:
    found = extension(obj, name)
    value = found.get("valueInteger") if found else None
    # bool is an int in Python; JSON true is not a sequence number.
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedMessage(f"{obj.get('resourceType')} lacks an integer extension {url(name)}.")
    return value


def datetime_ext_of(obj: Json, name: str) -> datetime:
    found = extension(obj, name)
    return parse_datetime(found.get("valueDateTime") if found else None, url(name))


def parse_datetime(value: Any, where: str) -> datetime:
    """An instant with its time zone (FHIR's dateTime may be a bare date: not for these values)."""
    if not isinstance(value, str):
        raise MalformedMessage(f"{where} is missing.")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedMessage(f"{where} is not a date and time: {value!r}.") from None
    if parsed.tzinfo is None or "T" not in value:
        raise MalformedMessage(f"{where} must be a date and time with its time zone: {value!r}.")
    return parsed


def parse_date(value: Any, where: str) -> date:
    if not isinstance(value, str):
        raise MalformedMessage(f"{where} is missing.")
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise MalformedMessage(f"{where} must be a full date (YYYY-MM-DD): {value!r}.")


def identifier_of(resource: Json, system: str) -> str:
    """The value of the resource's identifier in `system`, or "" when it has none."""
    for i in as_list(resource.get("identifier")):
        if isinstance(i, dict) and i.get("system") == system and isinstance(i.get("value"), str):
            return str(i["value"])
    return ""


def organisation_of(reference: Any) -> str:
    if not isinstance(reference, dict):
        return ""
    identifier = reference.get("identifier")
    if isinstance(identifier, dict) and identifier.get("system") == ORGANISATION_SYSTEM:
        return str(identifier.get("value") or "")
    return ""


def first_text(obj: Json, key: str) -> str:
    """The text of a repeating `{text}` element (or of a single one), "" when left out."""
    value = obj.get(key)
    item = value[0] if isinstance(value, list) and value else value
    text = item.get("text") if isinstance(item, dict) else None
    return text if isinstance(text, str) else ""


def reference_to(obj: Any) -> str:
    return str(obj.get("reference") or "") if isinstance(obj, dict) else ""
