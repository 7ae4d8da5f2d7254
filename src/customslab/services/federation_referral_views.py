"""What the pages and the API show of referrals across servers: where each stands on the partner's server,
the reports received, and their PDFs for whoever may read the sample's reports."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import Field

from customslab.domain.access import Actor, Kind
from customslab.domain.errors import NotFound, PermissionDenied
from customslab.domain.federation import FederatedLink, ReceivedReport, TaskStatus
from customslab.domain.model import AnalysisRequest
from customslab.domain.quality.report import short_code
from customslab.services.common import visible_sample
from customslab.services.confidentiality import declaration_view_for, fields_seen_at
from customslab.services.contract import View
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.reports import PRINTED_DECLARATION


class ReceivedResult(View):
    """One result of a received report, as the partner's laboratory printed it."""

    name: str
    value: str | None
    unit: str
    expanded_uncertainty: str | None = None
    coverage_factor: str | None = None
    method: str = ""


class ReceivedReportView(View):
    """A report a partner's laboratory issued on a sample we referred to it, as received."""

    id: int
    sample_id: int
    partner_code: str
    report_id: str
    version: int
    verification_code: str
    short_code: str
    pdf_sha256: str
    key_id: str
    issued_at: datetime
    received_at: datetime
    laboratory: str
    conclusion: str
    hs_code: str
    decision_rule: str
    results: list[ReceivedResult]
    status: Literal["issued", "superseded"]

    @classmethod
    def of(cls, r: ReceivedReport, latest: int) -> ReceivedReportView:
        return cls.of_record(
            r,
            short_code=short_code(r.verification_code),
            status="superseded" if r.version < latest else "issued",
        )


class ExternalReferral(View):
    """A sample's referral across servers: to a partner's laboratory ("out") or from a partner ("in")."""

    sample_id: int
    lab_sample_id: str
    referral_id: int | None
    partner_code: str
    partner_name: str
    direction: Literal["out", "in"]
    status: TaskStatus
    status_reason: str
    updated_at: datetime
    reports: list[ReceivedReportView] = Field(
        default_factory=list, description="Reports received from the partner's laboratory, oldest first."
    )


def _external(
    uow: AbstractUnitOfWork, actor: Actor, links: list[FederatedLink], names: dict[str, str]
) -> list[ExternalReferral]:
    out = []
    for link in links:
        sample = uow.repo.sample(link.sample_id)
        if sample is None or not uow.repo.can_see_sample(actor, sample):
            continue
        reports: list[ReceivedReport] = []
        if link.direction == "out" and uow.repo.can_see_sample(actor, sample, Kind.REPORT):
            reports = [r for r in uow.federation.received_reports([link.sample_id]) if r.link_id == link.id]
        latest = {r.report_id: max(x.version for x in reports if x.report_id == r.report_id) for r in reports}
        out.append(
            ExternalReferral.of_record(
                link,
                lab_sample_id=sample.lab_sample_id,
                partner_name=names.get(link.partner_code, link.partner_code),
                reports=[ReceivedReportView.of(r, latest[r.report_id]) for r in reports],
            )
        )
    return out


def _names(uow: AbstractUnitOfWork) -> dict[str, str]:
    return {a.code: a.name for a in uow.repo.administrations()}


def external_referrals_of_request(
    uow: AbstractUnitOfWork, actor: Actor, req: AnalysisRequest
) -> list[ExternalReferral]:
    """The request's samples' referrals across servers that the actor may see (inside a unit of work)."""
    links = list(uow.federation.links_for_request(req.id or 0))
    return _external(uow, actor, links, _names(uow)) if links else []


def external_referrals_of_sample(
    uow: AbstractUnitOfWork, actor: Actor, sample_id: int
) -> list[ExternalReferral]:
    """The sample's referrals across servers (inside a unit of work; the sample is visible to the actor)."""
    links = list(uow.federation.links_for_sample(sample_id))
    return _external(uow, actor, links, _names(uow)) if links else []


def received_report_pdf(
    uow: AbstractUnitOfWork, actor: Actor, sample_id: int, received_id: int
) -> tuple[str, bytes]:
    """The PDF of a report received from a partner's laboratory, byte for byte: (file name, bytes)."""
    with uow:
        try:
            sample = visible_sample(uow, actor, sample_id, Kind.REPORT)
        except NotFound:
            raise NotFound(f"Received report {received_id} was not found.") from None
        found = next((r for r in uow.federation.received_reports([sample_id]) if r.id == received_id), None)
        if found is None:
            raise NotFound(f"Received report {received_id} was not found.")
        req = uow.repo.request(sample.request_id or 0)
        assert req is not None
        # The partner printed what was released to its administration when it issued: a reader of a
        # third administration (the sample shared with it) may not see all of that.
        releases = list(uow.repo.releases_for(req.id or 0))
        printed = PRINTED_DECLARATION & fields_seen_at(found.partner_code, req, releases, found.issued_at)
        hidden = sorted(printed & declaration_view_for(uow, actor, req).withheld)
        if hidden:
            raise PermissionDenied(
                f"Report {found.report_id} prints declaration data ({', '.join(hidden)}) that the sending "
                "administration has not released to yours; ask it to release those fields."
            )
        with uow.files.open(found.pdf_sha256) as fh:
            return download_name(found.report_id, found.version), fh.read()


#: The longest file name a received report's PDF is offered under (the report id is the partner's).
_NAME_CHARS = 100


def download_name(report_id: str, version: int) -> str:
    """A received report's PDF file name: plain ASCII, as the partner's report id may hold anything
    (quotes, CR/LF, non-Latin-1 letters) that would break or forge the Content-Disposition header."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", report_id)[:_NAME_CHARS].lstrip(".") or "report"
    return f"{safe}-v{version}.pdf"
