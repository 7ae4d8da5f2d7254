"""Reports received from partners' laboratories, checked: is this verification code one of them, is it the
latest version, and does the issuing deployment's signature hold?

A received report is kept as it came (`federation_referral_replies.results_issued`); its signature is
checked when someone asks, with the partner's key that was valid when the report was issued, so that a
key rotated since still vouches for what it signed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from customslab.domain.federation import FederationKey, ReceivedReport, report_statement
from customslab.services.ports import AbstractUnitOfWork

#: Checks an Ed25519 signature: (statement, signature base64, public key base64) → valid. Built at the edge
#: (`MessageGate.report_signature_valid`); services never hold the cryptography themselves.
ReportSignatureCheck = Callable[[bytes, str, str], bool]


@dataclass(frozen=True)
class ReceivedCheck:
    """A received report found by its verification code, what superseded it, and its signature's check."""

    report: ReceivedReport
    lab_sample_id: str | None
    newer: ReceivedReport | None
    #: None when no checker was given (the signature was not checked here).
    signature_valid: bool | None
    signed_by: str


def signing_key(keys: Sequence[FederationKey], report: ReceivedReport) -> FederationKey | None:
    """The partner's key the report names, if it was valid when the report was issued."""
    return next((k for k in keys if k.key_id == report.key_id and k.valid_at(report.issued_at)), None)


def signature_verdict(
    report: ReceivedReport, keys: Sequence[FederationKey], check: ReportSignatureCheck | None
) -> tuple[bool | None, str]:
    """Whether the issuing deployment's signature of the report holds, and a sentence that says so."""
    who = f"signed by {report.partner_code} key {report.key_id or '(none)'}"
    if not report.signature or not report.key_id:
        return False, f"not signed by {report.partner_code}: the report came without a signature"
    if check is None:
        return None, f"{who}: not checked here"
    key = signing_key(keys, report)
    if key is None:
        return False, f"{who}: no such key of {report.partner_code} was valid when the report was issued"
    statement = report_statement(
        report.verification_code, report.pdf_sha256, report.report_id, report.version
    )
    if check(statement, report.signature, key.public_key):
        return True, f"{who}: valid"
    return False, f"{who}: the signature does not match the report"


def check_received(
    uow: AbstractUnitOfWork, code: str, check: ReportSignatureCheck | None, pdf_sha256: str | None = None
) -> ReceivedCheck | None:
    """The received report with this verification code (and this file, when given), checked (called
    inside a unit of work)."""
    report = uow.federation.received_report_by_code(code, pdf_sha256)
    if report is None:
        return None
    versions = [
        r
        for r in uow.federation.received_reports([report.sample_id])
        if r.partner_code == report.partner_code and r.report_id == report.report_id
    ]
    newer = max((r for r in versions if r.version > report.version), key=lambda r: r.version, default=None)
    valid, signed_by = signature_verdict(report, uow.federation.keys_of(report.partner_code), check)
    sample = uow.repo.sample(report.sample_id)
    return ReceivedCheck(report, sample.lab_sample_id if sample else None, newer, valid, signed_by)
