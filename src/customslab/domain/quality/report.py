"""The content of an ISO/IEC 17025 clause 7.8 test report, and its verification code.

`ReportData` carries every item of 7.8.2.1 a–p plus the 7.8.6 conformity statements, the
classification opinion (7.8.7) and amendment details (7.8.8). Quantities are strings exactly as they are
printed: the service that builds the report has already rounded them (GUM 7.2.6), and hashing the
printed text keeps the verification code independent of float formatting in any language.

Verification code: sha256 (hex) of `canonical_json()`, which is UTF-8 JSON with keys sorted, no
whitespace, non-ASCII characters kept as-is, dates in ISO 8601 and enums by value. Anyone holding the
report data can recompute it; any edit to the data changes it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import date
from enum import Enum, StrEnum
from typing import Any

ONLY_ITEM_TESTED = "The results relate only to the item tested, as received."
SAMPLED_BY_CUSTOMER = (
    "Sampling was performed by the customer (customs) and is outside the laboratory's responsibility."
)


class DecisionRule(StrEnum):
    """ILAC-G8:09/2019 decision rules for statements of conformity (ISO/IEC 17025 7.1.3, 7.8.6)."""

    SIMPLE = "simple acceptance"
    GUARDED = "guarded acceptance"

    def explain(self) -> str:
        if self is DecisionRule.SIMPLE:
            return (
                "Simple acceptance (ILAC-G8:09/2019 4.2.1): the measured value is compared with the "
                "limit; w = 0."
            )
        return (
            "Guarded acceptance (ILAC-G8:09/2019 4.2.2): the limit is narrowed by a guard band w = U, so "
            "conformity is stated only when the result lies inside the limit by more than U."
        )


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
class ResultLine:
    """One reported result. `external_provider` names the referral laboratory that produced it."""

    parameter: str
    value: str
    unit: str
    method_id: str
    expanded_uncertainty: str = ""
    coverage_factor: str = ""
    lod: str = ""
    loq: str = ""
    external_provider: str = ""


@dataclass(frozen=True)
class ConformityStatement:
    specification: str
    decision_rule: DecisionRule
    statement: str


@dataclass(frozen=True)
class ClassificationOpinion:
    declared_hs_code: str
    determined_hs_code: str
    reasoning: str
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class Amendment:
    supersedes_report_id: str
    supersedes_version: int
    reason: str

    def statement(self) -> str:
        return (
            f"This report supersedes report {self.supersedes_report_id} version {self.supersedes_version}. "
            f"Reason: {self.reason}"
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
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
