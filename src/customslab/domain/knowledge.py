"""The knowledge base's rules: what a document is, how its metadata is checked, who may change it.

Pure: the services apply these rules and the repositories store the result. Who may *see* a document is
the visibility table's (`access.sees_document`, narrowed by the document's `SharingLevel`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from customslab.domain.access import Action, Actor, SharingLevel, require
from customslab.domain.codes import check_hs_chapter
from customslab.domain.enums import Role
from customslab.domain.errors import DomainError, InvalidTransition, PermissionDenied, ValidationFailed


class DocumentKind(StrEnum):
    GUIDEBOOK = "guidebook"
    RESEARCH = "research"
    SEMINAR_PAPER = "seminar_paper"
    METHOD = "method"
    COMMITTEE_DECISION = "committee_decision"
    CLASSIFICATION_OPINION = "classification_opinion"
    TRAINING_MATERIAL = "training_material"


class UnsupportedFileType(DomainError):
    """A file of a type the knowledge base cannot read text from (HTTP 415)."""


class FileTooLarge(DomainError):
    """A file over the configured upload limit (HTTP 413)."""


#: Where a document came from: uploaded, or an approved classification opinion (`opinion:<id>`).
UPLOADED = "upload"
OPINION_SOURCE = "opinion:"

#: A BCP-47 tag as the knowledge base keeps it: a primary language subtag (en, ko, zh), optionally a
#: script or region (zh-Hans, pt-BR). Lower-case primary, as RFC 5646 recommends.
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
FIRST_YEAR, LAST_YEAR = 1900, 2199
#: Bounds on the lists a document carries (a guidebook names a few headings, not the tariff).
MAX_CODES, MAX_NAMES, MAX_NAME_LENGTH = 50, 50, 120


def normalise_language(raw: str) -> str:
    """'EN' → 'en', 'zh-hans' → 'zh-hans' (primary subtag lower-cased); refuse what is no BCP-47 tag."""
    text = raw.strip().replace("_", "-")
    primary = text.partition("-")[0]
    tag = primary.lower() + text[len(primary) :]
    if not _LANGUAGE.fullmatch(tag):
        raise ValidationFailed(
            f"'{raw}' is not a language tag: give a BCP-47 code such as en, ko, ja or zh-Hans.",
            field="language",
        )
    return tag


def check_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationFailed(f"The year {year} is not plausible for a document.", field="year")
    return year


def hs_digits(raw: str, field: str = "hs_codes") -> str:
    """An HS code a document bears on, as digits: a chapter (2), heading (4), subheading (6) or national
    line (8 to 10); dots, spaces and dashes between the digits are dropped."""
    digits = re.sub(r"[.\s-]", "", raw.strip())
    if not digits.isascii() or not digits.isdigit() or len(digits) not in (2, 4, 6, 8, 9, 10):
        raise ValidationFailed(
            f"'{raw}' is not an HS code: give a chapter, heading or subheading (09, 0904, 0904.22) "
            "or a national line of 8 to 10 digits.",
            field=field,
        )
    return check_hs_chapter(digits, field)


def format_hs(digits: str) -> str:
    """'090422' → '0904.22', '09042210' → '0904.22.10'; a chapter or heading stays as it is."""
    if len(digits) <= 4:
        return digits
    if len(digits) <= 6:
        return f"{digits[:4]}.{digits[4:]}"
    return f"{digits[:4]}.{digits[4:6]}.{digits[6:]}"


def normalise_hs_codes(raw: Iterable[str]) -> list[str]:
    """Each code checked and written as the nomenclature writes it, once, in the order given."""
    codes = list(dict.fromkeys(format_hs(hs_digits(c)) for c in raw if c.strip()))
    if len(codes) > MAX_CODES:
        raise ValidationFailed(f"A document names at most {MAX_CODES} HS codes.", field="hs_codes")
    return codes


def normalise_names(raw: Iterable[str], field: str) -> list[str]:
    """Substances or tags: trimmed, blanks dropped, each once (case aside), at most MAX_NAMES."""
    seen: dict[str, str] = {}
    for name in raw:
        text = " ".join(name.split())
        if not text:
            continue
        if len(text) > MAX_NAME_LENGTH:
            raise ValidationFailed(
                f"'{text[:40]}…' is longer than {MAX_NAME_LENGTH} characters.", field=field
            )
        seen.setdefault(text.casefold(), text)
    if len(seen) > MAX_NAMES:
        raise ValidationFailed(f"A document lists at most {MAX_NAMES} {field}.", field=field)
    return list(seen.values())


def heading_of(code: str) -> str:
    """The 4-digit heading of an HS code (digits or formatted); '' for a chapter."""
    digits = re.sub(r"\D", "", code)
    return digits[:4] if len(digits) >= 4 else ""


def hs_index_text(codes: Iterable[str]) -> str:
    """The codes as the search index's filter column holds them: digits, space-delimited, with a leading
    and a trailing space, so that `LIKE '% 0904%'` finds every code under heading 09.04 and
    `LIKE '% 09 %'` a document on chapter 09 as a whole."""
    digits = [re.sub(r"\D", "", c) for c in codes]
    return " " + " ".join(d for d in digits if d) + " "


def hs_ancestors(digits: str) -> list[str]:
    """The chapter, heading, subheading and 8-digit line a code lies under ('090422' → ['09', '0904']): a
    document on any of them bears on the code too (a chapter's guidebook on every heading in it)."""
    return [digits[:n] for n in (2, 4, 6, 8) if n < len(digits)]


def may_manage(actor: Actor, owner_lab: str, level: SharingLevel) -> None:
    """Only the owning laboratory's staff (an RCL's coordinator for the RCL's documents) add versions to a
    document or change its metadata. A reader elsewhere sees the document, so is told why, not NotFound.
    A document shared beyond the administration is changed only by whoever may share it so far
    (`check_sharing`): a new version or a metadata edit is published as far as the document goes."""
    require(actor, Action.MANAGE_KNOWLEDGE)
    if actor.org_code != owner_lab:
        raise PermissionDenied(
            f"Only the staff of {owner_lab}, which owns this document, may change it or add a version."
        )
    check_sharing(actor, level)


def check_sharing(actor: Actor, level: SharingLevel) -> SharingLevel:
    """Who may share how far: any of the laboratory's staff within the laboratory or administration; the
    network and partner deployments only by a reviewer, a lab manager or a coordinator, who answer for
    what leaves the administration (ISO/IEC 17025 4.2, confidentiality)."""
    wide = (SharingLevel.NETWORK, SharingLevel.PARTNERS)
    if level in wide and not actor.has(Role.REVIEWER, Role.LAB_MANAGER, Role.NETWORK_COORDINATOR):
        raise PermissionDenied(
            "Only a reviewer, a lab manager or a network coordinator may share a document beyond the "
            "administration.",
        )
    return level


def opinion_source(opinion_id: int) -> str:
    return f"{OPINION_SOURCE}{opinion_id}"


def follows_an_opinion(source: str) -> bool:
    return source.startswith(OPINION_SOURCE)


def refuse_if_opinion(source: str, document_id: int) -> None:
    """A precedent's document follows its opinion: it changes when the opinion is shared, not here."""
    if follows_an_opinion(source):
        raise InvalidTransition(
            f"Document {document_id} is an approved classification opinion: it follows the opinion "
            "and cannot be edited or given a version here."
        )
