"""The content of an ISO/IEC 17025 clause 7.8 test report, and its verification code.

`ReportData` carries every item of 7.8.2.1 a–p plus the 7.8.6 conformity statements, the
classification opinion (7.8.7) and amendment details (7.8.8). Quantities are strings exactly as they are
printed: the service that builds the report has already rounded them (GUM 7.2.6), and hashing the
printed text keeps the verification code independent of float formatting in any language.

Verification code: sha256 (hex) of `canonical_json()`, which is UTF-8 JSON with keys sorted, no
whitespace, non-ASCII characters kept as-is, dates in ISO 8601 and enums by value. Anyone holding the
report data can recompute it; any edit to the data changes it. Fields added after reports were first
issued (`later`) are left out of the JSON while they hold their default, so the data of a report issued
before them still hashes to the code printed on it; once set, they are covered like any other.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from enum import Enum, StrEnum
from typing import Any

from customslab.domain.quality.report_text import ReportLanguage, report_text

#: Marks a field added after reports were first issued: hashed only when it differs from its default.
LATER = {"later": True}

ONLY_ITEM_TESTED = report_text("en", "only_item_tested")
SAMPLED_BY_CUSTOMER = report_text("en", "sampled_by_customer")


class DecisionRule(StrEnum):
    """ILAC-G8:09/2019 decision rules for statements of conformity (ISO/IEC 17025 7.1.3, 7.8.6)."""

    SIMPLE = "simple acceptance"
    GUARDED = "guarded acceptance"

    def explain(self, language: str = "en") -> str:
        return report_text(language, "rule.simple" if self is DecisionRule.SIMPLE else "rule.guarded")


@dataclass(frozen=True)
class Laboratory:
    name: str
    address: str
    accreditation: str = ""


@dataclass(frozen=True)
class Customer:
    office: str
    requester: str
    reference: str = ""


@dataclass(frozen=True)
class MethodUsed:
    method_id: str
    title: str
    version: str
    deviations: str = ""


@dataclass(frozen=True)
class ItemTested:
    sample_id: str
    description: str
    condition_on_receipt: str
    seal: str
    declaration_reference: str = ""


@dataclass(frozen=True)
class LibraryHit:
    """One library spectrum a search ranked, as printed: its name and its similarity score."""

    name: str
    score: str


@dataclass(frozen=True)
class IdentityEvidence:
    """What an identity rests on: the spectral library searched (and its version) and the best hits."""

    library_id: str
    library_version: str
    technique: str
    hits: tuple[LibraryHit, ...] = ()


@dataclass(frozen=True)
class ResultLine:
    """One reported result. `external_provider` names the referral laboratory that produced it.

    `parameter` is the result's name as stored (a measurand key such as alcohol_strength, which partner
    laboratories read); `label` is how the report prints it ("Alcoholic strength by volume"). `kind` is
    "quantity" (a value with its unit) or a qualitative kind (detection, screening, text, identity)
    whose `value` holds the outcome in words; an identity carries its `evidence`."""

    parameter: str
    value: str
    unit: str
    method_id: str
    expanded_uncertainty: str = ""
    coverage_factor: str = ""
    lod: str = ""
    loq: str = ""
    external_provider: str = ""
    kind: str = field(default="quantity", metadata=LATER)
    evidence: IdentityEvidence | None = field(default=None, metadata=LATER)
    label: str = field(default="", metadata=LATER)
    #: An identity's control entries as printed ("Convention on Psychotropic Substances, 1971, Schedule
    #: II"), from the identification's stored hit; none for an uncontrolled substance.
    controls: tuple[str, ...] = field(default=(), metadata=LATER)

    @property
    def printed_name(self) -> str:
        return self.label or self.parameter


@dataclass(frozen=True)
class ConformityStatement:
    specification: str
    decision_rule: DecisionRule
    statement: str


@dataclass(frozen=True)
class ClassificationOpinion:
    """The laboratory's approved opinion (7.8.7). `determined_level` says how far the determined code
    goes (heading, subheading...); `measurement_verdict` is what the HS measurement rules decide on the
    reported results, at the level they decide it."""

    declared_hs_code: str
    determined_hs_code: str
    reasoning: str
    references: tuple[str, ...] = ()
    determined_level: str = field(default="", metadata=LATER)
    approved_by: str = field(default="", metadata=LATER)
    approved_on: date | None = field(default=None, metadata=LATER)
    measurement_verdict: str = field(default="", metadata=LATER)


@dataclass(frozen=True)
class Amendment:
    supersedes_report_id: str
    supersedes_version: int
    reason: str

    def statement(self, language: str = "en") -> str:
        return report_text(
            language,
            "amendment",
            id=self.supersedes_report_id,
            version=self.supersedes_version,
            reason=self.reason,
        )


@dataclass(frozen=True)
class Signatory:
    name: str
    function: str
    signed_on: date


@dataclass(frozen=True)
class ReportData:
    title: str
    laboratory: Laboratory
    report_id: str
    version: int
    customer: Customer
    methods: tuple[MethodUsed, ...]
    item: ItemTested
    received_on: date
    analysis_from: date
    analysis_to: date
    issued_on: date
    results: tuple[ResultLine, ...]
    authorised_by: tuple[Signatory, ...]
    tests_performed_at: str = ""
    conformity: tuple[ConformityStatement, ...] = ()
    classification: ClassificationOpinion | None = None
    amendment: Amendment | None = None
    remarks: tuple[str, ...] = ()
    only_item_tested_statement: str = ONLY_ITEM_TESTED
    sampling_statement: str = SAMPLED_BY_CUSTOMER
    verify_url_base: str = ""
    #: The language of the report's fixed text (report_text.py); case data stays as people wrote it.
    language: ReportLanguage = field(default="en", metadata=LATER)

    def canonical_json(self) -> str:
        """Sorted-key, whitespace-free JSON of every field; the input of the verification hash."""
        return json.dumps(_plain(self), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def verification_code(self) -> str:
        """sha256 hex digest of the UTF-8 bytes of `canonical_json()`."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    def verification_payload(self) -> str:
        """What the QR code holds: a verification URL when one is configured, else id, version and hash."""
        code = self.verification_code()
        if self.verify_url_base:
            return f"{self.verify_url_base.rstrip('/')}/{self.report_id}/{self.version}?sha256={code}"
        return f"customslab-report:{self.report_id};v{self.version};sha256={code}"

    @property
    def external_providers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.external_provider for r in self.results if r.external_provider))


def short_code(code: str) -> str:
    """The first 16 hex digits in groups of four, easy to read aloud over the phone."""
    return "-".join(code[i : i + 4] for i in range(0, 16, 4)).upper()


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not (f.metadata.get("later") and getattr(value, f.name) == f.default)
        }
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
