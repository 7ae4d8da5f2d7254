"""Method catalogue: versions of test methods, their validation data and status (ISO/IEC 17025 7.2)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from customslab.domain.quality.errors import MethodNotValidated, MethodTransitionError


class MethodStatus(StrEnum):
    DRAFT = "draft"
    VALIDATED = "validated"
    WITHDRAWN = "withdrawn"


class Technique(StrEnum):
    GC_MS = "GC-MS"
    LC_MS = "LC-MS"
    FTIR = "FTIR"
    RAMAN = "Raman"
    ICP_MS = "ICP-MS"
    ICP_OES = "ICP-OES"
    HPLC = "HPLC"
    XRF = "XRF"
    XRD = "XRD"
    SEM_EDS = "SEM-EDS"
    TITRATION = "titration"
    POLARIMETRY = "polarimetry"
    DISTILLATION = "distillation (ISO 3405)"
    DENSITY = "density"
    OTHER = "other"


@dataclass(frozen=True)
class ValidationData:
    """Performance characteristics established during validation (17025 7.2.2.1, 7.6).

    Precision is given as standard deviations (sr repeatability, sR reproducibility) in the method's
    result unit; recovery in percent; uncertainty either relative (fraction, e.g. 0.05 for 5 %) or
    absolute (result unit), with k the coverage factor of the expanded uncertainty U.
    """

    repeatability_sr: float | None = None
    reproducibility_sR: float | None = None
    recovery_percent: float | None = None
    lod: float | None = None
    loq: float | None = None
    unit: str = ""
    uncertainty_model: str = ""
    expanded_uncertainty_relative: float | None = None
    expanded_uncertainty_absolute: float | None = None
    coverage_factor: float = 2.0

    def is_sufficient(self) -> bool:
        """Validation needs at least a precision figure and an uncertainty statement."""
        has_precision = self.repeatability_sr is not None or self.reproducibility_sR is not None
        has_uncertainty = bool(self.uncertainty_model.strip()) and (
            self.expanded_uncertainty_relative is not None or self.expanded_uncertainty_absolute is not None
        )
        return has_precision and has_uncertainty


@dataclass(frozen=True)
class DocumentRef:
    """An attached file (SOP, validation report), identified by the sha256 of its content."""

    name: str
    sha256: str


@dataclass(frozen=True)
class MethodOrigin:
    """Who published the method; adopted methods name the source lab and its version, and, when the
    method came from a partner deployment, that partner's administration and the licence it gave."""

    published_by: str
    adopted_from_version: str | None = None
    partner: str | None = None
    licence: str | None = None

    def describe(self) -> str:
        if self.adopted_from_version:
            told = f"adopted from {self.published_by} version {self.adopted_from_version}"
            if self.partner:
                told += f" (shared by partner {self.partner} under {self.licence or 'no stated licence'})"
            return told
        return f"published by {self.published_by}"


@dataclass(frozen=True)
class MethodVersion:
    """One version of a test method. Versions are immutable; transitions return a new object."""

    method_id: str
    title: str
    version: str
    technique: Technique
    status: MethodStatus = MethodStatus.DRAFT
    analytes: tuple[str, ...] = ()
    matrices: tuple[str, ...] = ()
    hs_headings: tuple[str, ...] = ()
    principle: str = ""
    scope: str = ""
    reagents: tuple[str, ...] = ()
    apparatus: tuple[str, ...] = ()
    validation: ValidationData | None = None
    standards: tuple[str, ...] = ()
    documents: tuple[DocumentRef, ...] = ()
    approved_by: str | None = None
    approved_at: datetime | None = None
    origin: MethodOrigin | None = None
    superseded_by: str | None = None

    @property
    def label(self) -> str:
        return f"{self.method_id} v{self.version} ({self.title})"


def validate_method(method: MethodVersion, approved_by: str, approved_at: datetime) -> MethodVersion:
    """draft → validated; needs sufficient validation data and a named approver."""
    if method.status is not MethodStatus.DRAFT:
        raise MethodTransitionError(
            f"Method {method.label} is {method.status.value}; only a draft can be validated."
        )
    if method.validation is None or not method.validation.is_sufficient():
        raise MethodTransitionError(
            f"Method {method.label} cannot be validated: record precision (sr or sR) and a "
            "measurement-uncertainty model with its expanded uncertainty first."
        )
    if not approved_by.strip():
        raise MethodTransitionError(f"Method {method.label} cannot be validated without an approver.")
    return replace(method, status=MethodStatus.VALIDATED, approved_by=approved_by, approved_at=approved_at)


def withdraw_method(method: MethodVersion) -> MethodVersion:
    """validated → withdrawn. A draft is discarded, not withdrawn, so it is refused."""
    if method.status is not MethodStatus.VALIDATED:
        raise MethodTransitionError(
            f"Method {method.label} is {method.status.value}; only a validated method can be withdrawn."
        )
    return replace(method, status=MethodStatus.WITHDRAWN)


def supersede(old: MethodVersion, new: MethodVersion) -> tuple[MethodVersion, MethodVersion]:
    """A validated new version of the same method withdraws the old one and records the link."""
    if new.method_id != old.method_id:
        raise MethodTransitionError(
            f"Version {new.version} belongs to method {new.method_id}, not {old.method_id}."
        )
    if new.status is not MethodStatus.VALIDATED:
        raise MethodTransitionError(
            f"Method {new.label} must be validated before it can supersede version {old.version}."
        )
    withdrawn = withdraw_method(old) if old.status is MethodStatus.VALIDATED else old
    return replace(withdrawn, superseded_by=new.version), new


def assert_usable_for_test(method: MethodVersion) -> None:
    """Refuse a test on any method version that is not currently validated."""
    if method.status is MethodStatus.VALIDATED and method.superseded_by is None:
        return
    if method.superseded_by is not None:
        why = f"it has been superseded by version {method.superseded_by}"
    elif method.status is MethodStatus.DRAFT:
        why = "it is still a draft and has not been validated"
    else:
        why = "it has been withdrawn"
    raise MethodNotValidated(
        f"Method {method.label} cannot be used for a test: {why}. Use a validated version."
    )
