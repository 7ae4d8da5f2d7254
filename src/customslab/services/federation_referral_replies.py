"""Referrals across servers, the replies that reach the referrer's server, and what every referral handler
shares.

At the sender, the partner's laboratory reports its progress (`progress_at_partner`, called by
`federation_referral_handlers.task_status_changed`) and its report (`results_issued`).

Rules every referral handler follows:

- The link a message concerns follows from its stream alone (`referral_link`): a stream its sender opened
  (`referral_stream(sender, ref)`) is the sender's referral to us, our "in" link; one we opened
  (`referral_stream(home, ref)`) is ours to the sender, our "out" link. The other direction is never
  looked at, and any other stream is refused.
- A status or a report that arrives after the referral ended here (our link rejected or cancelled: the
  partner's receipt crossed our cancellation, or its laboratory went on after a cancellation it could no
  longer honour) is accepted, not refused: both servers acted in good faith and nothing can be undone by
  a refusal. The link keeps its end and notes what came (`note_after_end`); a report is kept with its PDF
  for the officer to read; the sample stays as the end left it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import datetime
from typing import TypeVar

from customslab.domain.enums import CustodyKind, ReferralState, State
from customslab.domain.errors import Conflict, ValidationFailed
from customslab.domain.federation import (
    Envelope,
    FederatedLink,
    Partner,
    ReceivedReport,
    ResultsIssued,
    TaskStatus,
    TaskStatusChanged,
    check_task_transition,
    referral_stream,
)
from customslab.domain.model import CustodyEvent, Sample
from customslab.domain.plain import to_plain
from customslab.services.federation_referrals import (
    ENDED,
    IN,
    OUT,
    home_administration,
    return_to_referrer,
    service_user,
    upload_pdf,
)
from customslab.services.ports import AbstractUnitOfWork

#: The order a sample's state goes through at the laboratory: the sender's copy follows it.
PATH = (
    State.REGISTERED,
    State.RECEIVED,
    State.IN_ANALYSIS,
    State.TO_BE_REVIEWED,
    State.APPROVED,
    State.REPORTED,
)
_SHA256 = re.compile(r"[0-9a-f]{64}")

T = TypeVar("T")


def body_of(envelope: Envelope, kind: type[T]) -> T:
    """The message's body, refused unless it is of the kind its handler takes."""
    if not isinstance(envelope.body, kind):
        raise ValidationFailed(f"Expected a {kind.__name__} message.", "body")
    return envelope.body


def referral_link(uow: AbstractUnitOfWork, partner: Partner, envelope: Envelope, ref: str) -> FederatedLink:
    """The link a status or a report concerns: only the direction its stream can address."""
    code = partner.administration_code
    home = home_administration(uow)
    link = None
    if envelope.stream == referral_stream(code, ref):
        link = uow.federation.link(code, IN, envelope.stream)
    elif home is not None and envelope.stream == referral_stream(home, ref):
        link = uow.federation.link(code, OUT, envelope.stream)
    if link is None or link.id is None:
        raise ValidationFailed(f"There is no referral {envelope.stream} with {code}'s server.", "stream")
    return link


def add_note(link: FederatedLink, note: str, at: datetime) -> None:
    """Append a note to the link's status reason (once: a message sent again adds nothing)."""
    if note not in link.status_reason:
        link.status_reason = f"{link.status_reason}; {note}" if link.status_reason else note
        link.updated_at = at


def note_after_end(link: FederatedLink, what: str, at: datetime) -> None:
    """The partner reported `what` after the referral ended here: noted on the link, which keeps its end."""
    add_note(link, f"the partner reported {what} after the referral was {link.status.value} here", at)


def advance(sample: Sample, target: State, at: datetime) -> None:
    """Move the sender's copy of a sample along the laboratory's path up to `target` (never back)."""
    if sample.state not in PATH:
        return
    while PATH.index(sample.state) < PATH.index(target):
        sample.move(PATH[PATH.index(sample.state) + 1], at)


def progress_at_partner(
    uow: AbstractUnitOfWork, partner: Partner, link: FederatedLink, body: TaskStatusChanged, at: datetime
) -> None:
    """At the sender (an "out" link that has not ended): the partner's laboratory received, began, rejected,
    cancelled or completed our referral. A rejection or cancellation returns the sample to us
    (`return_to_referrer`)."""
    check_task_transition(link.status, body.status)
    referral = uow.repo.referral(link.referral_id or 0)
    sample = uow.repo.sample(link.sample_id)
    assert referral is not None and sample is not None
    lab = referral.to_lab
    staff = service_user(uow, lab)
    assert staff.id is not None
    status = body.status
    if status is TaskStatus.ACCEPTED:
        referral.state, referral.accepted_at = ReferralState.ACCEPTED, at
        advance(sample, State.RECEIVED, at)
        note = f"received at {lab} ({partner.administration_code}'s server)"
        sample.record(
            CustodyEvent(
                CustodyKind.RECEIPT,
                at,
                staff.id,
                to_party=lab,
                seal_number=sample.seal_number,
                seal_intact=body.seal_intact,
                note=f"{note}: {body.custody_note}" if body.custody_note else note,
            )
        )
    elif status is TaskStatus.IN_PROGRESS:
        advance(sample, State.IN_ANALYSIS, at)
    elif status is TaskStatus.COMPLETED:
        referral.state, referral.completed_at = ReferralState.COMPLETED, referral.completed_at or at
    else:
        why = f"referral {status.value} by {lab} ({partner.administration_code}'s server)"
        return_to_referrer(sample, referral, at, staff.id, f"{why}: {body.reason}" if body.reason else why)
    link.status, link.status_reason, link.updated_at = body.status, body.reason, uow.clock()


def _check_report(body: ResultsIssued) -> bytes:
    """The PDF of a received report, if it is the one its sha256 names and its identifiers fit."""
    if not 1 <= len(body.report_id) <= 60 or body.version < 1:
        raise ValidationFailed("A report needs its id (at most 60 characters) and version.", "report_id")
    if not _SHA256.fullmatch(body.verification_code) or not _SHA256.fullmatch(body.pdf_sha256):
        raise ValidationFailed("A report's verification code and PDF hash are sha256 hex digests.", "pdf")
    if len(body.hs_code) > 10 or len(body.report_signature) > 200 or len(body.report_key_id) > 64:
        raise ValidationFailed("The report's HS code, signature or key id is too long.", "report")
    try:
        pdf = base64.b64decode(body.pdf_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed("The report's PDF is not valid base64.", "pdf") from None
    if hashlib.sha256(pdf).hexdigest() != body.pdf_sha256:
        raise ValidationFailed("The report's PDF does not match its sha256.", "pdf")
    return pdf


def results_issued(uow: AbstractUnitOfWork, partner: Partner, envelope: Envelope) -> None:
    """At the sender: the partner's laboratory issued its report on our referred sample. The PDF and the
    results are kept as received, with the report's signature, and the sample becomes reported; after the
    referral ended here, the report is kept all the same and noted on the link, and the sample stays."""
    body = body_of(envelope, ResultsIssued)
    code = partner.administration_code
    link = referral_link(uow, partner, envelope, body.ref)
    assert link.id is not None
    if link.direction != OUT:
        raise ValidationFailed(
            f"Referral {envelope.stream} is {code}'s referral to this server; only its laboratory reports.",
            "stream",
        )
    pdf = _check_report(body)
    if any(
        r.partner_code == code and r.report_id == body.report_id and r.version == body.version
        for r in uow.federation.received_reports([link.sample_id])
    ):
        raise Conflict(f"Report {body.report_id} version {body.version} was already received.")
    stored = upload_pdf(uow, pdf)
    uow.federation.add(
        ReceivedReport(
            link_id=link.id,
            sample_id=link.sample_id,
            partner_code=code,
            report_id=body.report_id,
            version=body.version,
            verification_code=body.verification_code,
            pdf_sha256=stored,
            signature=body.report_signature,
            key_id=body.report_key_id,
            issued_at=body.issued_at,
            laboratory=body.laboratory,
            conclusion=body.conclusion,
            results=[to_plain(o) for o in body.observations],
            received_at=uow.clock(),
            hs_code=body.hs_code,
            decision_rule=body.decision_rule,
        )
    )
    if link.status in ENDED:
        note_after_end(link, f"results (report {body.report_id} version {body.version})", uow.clock())
        return
    sample = uow.repo.sample(link.sample_id)
    assert sample is not None
    advance(sample, State.REPORTED, body.issued_at)
