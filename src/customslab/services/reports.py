"""Use cases of ISO/IEC 17025 test reports: issue, amend, download and verify.

The report data is built once from the case (7.8.2.1 a–p), its sha256 verification code is stored with
the issued version, and the rendered PDF is kept in the content-addressed file store. An amendment
issues a new version that names the one it supersedes (7.8.8); nothing issued is ever overwritten.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from customslab.domain.access import Action, Actor, Kind
from customslab.domain.enums import State
from customslab.domain.errors import InvalidTransition, NotFound, PermissionDenied
from customslab.domain.model import AnalysisRequest, Sample
from customslab.domain.quality import report as r
from customslab.domain.quality.report import ReportData, short_code
from customslab.domain.quality.report_text import ReportLanguage
from customslab.services.common import acting, visible_sample
from customslab.services.confidentiality import declaration_view_for, fields_seen_at
from customslab.services.contract import Command, Flag, Text, View
from customslab.services.federation_received import ReceivedCheck, ReportSignatureCheck, check_received
from customslab.services.federation_referrals import report_issued
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.quality_ports import IssuedReport
from customslab.services.report_content import PRINTED_DECLARATION, build_report_data


class Conformity(Command):
    """A statement of conformity to a specification (17025 7.8.6), under the report's decision rule."""

    specification: Annotated[str, Text(500, 1)]
    statement: Annotated[str, Text(2000, 1)]


class ReportIssue(Command):
    """What the signatory adds to the case data when issuing a report; everything else comes from the case."""

    title: Annotated[str, Text(300)] = Field(
        default="", description="Defaults to 'Test report: <goods description>'."
    )
    accreditation: Annotated[str, Text(300)] = ""
    decision_rule: Literal["guarded", "simple"] = "guarded"
    remarks: list[Annotated[str, Text(2000, 1)]] = Field(default_factory=list, max_length=20)
    conformity: list[Conformity] = Field(default_factory=list, max_length=20)
    verify_url_base: Annotated[str, Text(300)] = ""
    leave_out_draft_opinion: Flag = Field(
        default=False,
        description="Issue the report without a classification opinion while the sample's opinion is "
        "still a draft. Without it, a draft opinion refuses the report; an approved one is printed.",
    )
    language: ReportLanguage = Field(
        default="en",
        description="The language of the report's headings, labels and statements (English or Korean); "
        "the case data (goods, reasoning, names) is printed as it was written. An amendment keeps the "
        "language of the version it supersedes unless this is given.",
    )


class ReportAmend(ReportIssue):
    """A new version of an issued report, with the reason for the amendment (17025 7.8.8)."""

    reason: Annotated[str, Text(2000, 1)]


class ReportView(View):
    """One issued version of a report, as the register keeps it."""

    id: int | None
    report_id: str
    version: int
    sample_id: int
    lab_code: str
    verification_code: str = Field(description="sha256 of the report data, printed on the PDF.")
    short_code: str
    pdf_sha256: str
    issued_by: int
    issued_at: datetime
    supersedes_id: int | None
    superseded_by_id: int | None
    status: Literal["issued", "superseded"]
    amendment_reason: str

    @classmethod
    def of(cls, e: IssuedReport) -> ReportView:
        return cls.of_record(
            e,
            short_code=short_code(e.verification_code),
            status="superseded" if e.superseded_by_id else "issued",
        )


class ReportVersion(View):
    report_id: str
    version: int


class Verdict(View):
    """What the register says about a report or its verification code: issued, superseded or unknown."""

    status: Literal["issued", "superseded", "unknown"]
    verification_code: str | None
    problem: str | None = None
    report_id: str | None = None
    version: int | None = None
    laboratory: str | None = None
    sample: str | None = Field(default=None, description="The laboratory sample id printed on the report.")
    issued_at: datetime | None = None
    pdf_sha256: str | None = None
    superseded_by: ReportVersion | None = None
    superseded_at: datetime | None = None
    identical_file: bool | None = Field(
        default=None, description="Whether an uploaded file is byte for byte the PDF that was issued."
    )
    received_from: str | None = Field(
        default=None,
        description="For a report a partner's laboratory issued on a sample referred to it: the partner's "
        "administration (the report is in the register of received reports, not of issued ones).",
    )
    signed_by: str | None = Field(
        default=None,
        description="For a received report: who signed it and whether the signature holds "
        "('signed by JPC key 3f…: valid').",
    )
    signature_valid: bool | None = Field(
        default=None, description="For a received report: whether the issuing deployment's signature holds."
    )


def _reporting_sample(
    uow: AbstractUnitOfWork, actor: Actor, sample_id: int
) -> tuple[Sample, AnalysisRequest]:
    sample = visible_sample(uow, actor, sample_id)
    req = uow.repo.request(sample.request_id or 0)
    assert req is not None
    # The laboratory holding the sample reports it, or the laboratory the customs office asked.
    if actor.org_code not in (sample.lab_code, req.lab_code):
        raise NotFound(f"Sample {sample_id} was not found.")
    return sample, req


def _store(uow: AbstractUnitOfWork, actor: Actor, data: ReportData, sample_id: int) -> IssuedReport:
    pdf = uow.reports.render(data)
    stored = uow.files.put(io.BytesIO(pdf), len(pdf) + 1)
    entry = IssuedReport(
        data.report_id,
        data.version,
        sample_id,
        actor.org_code,
        data.verification_code(),
        stored.sha256,
        data,
        actor.user_id,
        uow.clock(),
    )
    uow.quality.add(entry)
    return entry


def issue_report(
    uow: AbstractUnitOfWork, actor: Actor, sample_id: int, cmd: ReportIssue | None = None
) -> ReportView:
    """Issue the test report of an approved sample; the sample moves from approved to reported."""
    with acting(uow, actor, Action.ISSUE_REPORT):
        sample, req = _reporting_sample(uow, actor, sample_id)
        if sample.state is not State.APPROVED:
            raise InvalidTransition(
                f"Only an approved sample can be reported; sample {sample.lab_sample_id} is "
                f"{sample.state.value.replace('_', ' ')}."
            )
        now = uow.clock()
        number = uow.repo.next_number(f"report-{actor.org_code}-{now.year}")
        data = build_report_data(uow, actor, sample, req, cmd or ReportIssue())
        data = replace(data, report_id=f"{actor.org_code}-R-{now.year}-{number:05d}")
        entry = _store(uow, actor, data, sample_id)
        for t in sample.tests:
            if t.state is State.APPROVED:
                t.move(State.REPORTED)
        sample.move(State.REPORTED, now)
        report_issued(uow, sample, entry)
        uow.commit()
        return ReportView.of(entry)


def amend_report(uow: AbstractUnitOfWork, actor: Actor, entry_id: int, cmd: ReportAmend) -> ReportView:
    """Issue a new version that supersedes the current one, with the reason (17025 7.8.8)."""
    with acting(uow, actor, Action.ISSUE_REPORT, cmd.reason):
        old = uow.quality.get(IssuedReport, entry_id)
        if old is None or old.lab_code != actor.org_code:
            raise NotFound(f"Report {entry_id} was not found.")
        if old.superseded_by_id is not None:
            raise InvalidTransition(
                f"Report {old.report_id} version {old.version} is already superseded; "
                "amend the latest version."
            )
        sample, req = _reporting_sample(uow, actor, old.sample_id)
        if "language" not in cmd.model_fields_set:
            cmd = cmd.model_copy(update={"language": old.data.language})
        data = build_report_data(uow, actor, sample, req, cmd)
        data = replace(
            data,
            report_id=old.report_id,
            version=old.version + 1,
            amendment=r.Amendment(old.report_id, old.version, cmd.reason),
        )
        new = _store(uow, actor, data, old.sample_id)
        new.supersedes_id, new.amendment_reason = old.id, cmd.reason
        old.superseded_by_id, old.superseded_at = new.id, uow.clock()
        report_issued(uow, sample, new)
        uow.commit()
        return ReportView.of(new)


def _readable_report(uow: AbstractUnitOfWork, actor: Actor, entry_id: int) -> IssuedReport:
    entry = uow.quality.get(IssuedReport, entry_id)
    if entry is None:
        raise NotFound(f"Report {entry_id} was not found.")
    try:
        visible_sample(uow, actor, entry.sample_id, Kind.REPORT)
    except NotFound:
        raise NotFound(f"Report {entry_id} was not found.") from None
    return entry


def check_printed_declaration(uow: AbstractUnitOfWork, actor: Actor, entry: IssuedReport) -> None:
    """Refuse the document when it prints declaration data its reader's administration may not see (a
    report issued inside the sending administration, read by a laboratory it was shared with). What the
    issuer printed is what its administration saw when it issued: releases are append-only and dated."""
    sample = uow.repo.sample(entry.sample_id)
    req = uow.repo.request(sample.request_id or 0) if sample is not None else None
    if req is None:
        return
    issuer = uow.repo.org(entry.lab_code)
    releases = list(uow.repo.releases_for(req.id or 0))
    printed = PRINTED_DECLARATION & fields_seen_at(
        issuer.administration_code if issuer else None, req, releases, entry.issued_at
    )
    hidden = sorted(printed & declaration_view_for(uow, actor, req).withheld)
    if hidden:
        raise PermissionDenied(
            f"Report {entry.report_id} prints declaration data ({', '.join(hidden)}) that the sending "
            "administration has not released to yours; ask it to release those fields."
        )


def report_detail(uow: AbstractUnitOfWork, actor: Actor, entry_id: int) -> ReportView:
    """One issued report version, for anyone who may see its sample."""
    with uow:
        return ReportView.of(_readable_report(uow, actor, entry_id))


def report_pdf(uow: AbstractUnitOfWork, actor: Actor, entry_id: int) -> tuple[str, bytes]:
    """The issued PDF exactly as it was stored: (file name, bytes)."""
    with uow:
        entry = _readable_report(uow, actor, entry_id)
        check_printed_declaration(uow, actor, entry)
        with uow.files.open(entry.pdf_sha256) as fh:
            return f"{entry.report_id}-v{entry.version}.pdf", fh.read()


def reports_for_sample(uow: AbstractUnitOfWork, actor: Actor, sample_id: int) -> list[ReportView]:
    """Every issued version of the sample's report, oldest first."""
    with uow:
        visible_sample(uow, actor, sample_id, Kind.REPORT)
        return [ReportView.of(e) for e in uow.quality.find(IssuedReport, sample_id=sample_id)]


def verify_code(
    uow: AbstractUnitOfWork,
    code: str,
    check: ReportSignatureCheck | None = None,
    pdf_sha256: str | None = None,
) -> Verdict:
    """What the register says about a verification code: issued, superseded or unknown. A report received
    from a partner's laboratory is found too (the one whose file is `pdf_sha256`, when given, as two
    partners may print the same code); `check` verifies its issuer's signature."""
    with uow:
        found = uow.quality.find(IssuedReport, verification_code=code.strip().lower())
        if not found:
            received = check_received(uow, code.strip().lower(), check, pdf_sha256)
            return (
                Verdict(status="unknown", verification_code=code) if received is None else _received(received)
            )
        e = found[0]
        newer = uow.quality.get(IssuedReport, e.superseded_by_id) if e.superseded_by_id else None
        return Verdict.of_record(
            e,
            status="superseded" if e.superseded_by_id else "issued",
            laboratory=e.data.laboratory.name,
            sample=e.data.item.sample_id,
            superseded_by=newer,
            superseded_at=e.superseded_at if e.superseded_by_id else None,
        )


def _received(found: ReceivedCheck) -> Verdict:
    """The verdict on a report received from a partner: issued or superseded while its signature holds
    (or was not checked), unknown when it does not."""
    r, newer = found.report, found.newer
    status: Literal["issued", "superseded", "unknown"] = "superseded" if newer else "issued"
    return Verdict.of_record(
        r,
        status="unknown" if found.signature_valid is False else status,
        problem=found.signed_by if found.signature_valid is False else None,
        sample=found.lab_sample_id,
        superseded_by=ReportVersion(report_id=newer.report_id, version=newer.version) if newer else None,
        superseded_at=newer.received_at if newer else None,
        received_from=r.partner_code,
        signed_by=found.signed_by,
        signature_valid=found.signature_valid,
    )


def verify_report(
    uow: AbstractUnitOfWork, pdf_bytes: bytes, check: ReportSignatureCheck | None = None
) -> Verdict:
    """Read the code from a report PDF and check it; also say whether the file is byte-identical."""
    code = uow.reports.read_code(pdf_bytes)
    if code is None:
        return Verdict(status="unknown", verification_code=None, problem="no verification code in this file")
    sha256 = hashlib.sha256(pdf_bytes).hexdigest()
    verdict = verify_code(uow, code, check, sha256)
    if verdict.status == "unknown":
        return verdict
    identical = sha256 == verdict.pdf_sha256
    return verdict.model_copy(update={"identical_file": identical})
