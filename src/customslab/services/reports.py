"""Use cases of ISO/IEC 17025 test reports: issue, amend, download and verify.

The report data is built once from the case (7.8.2.1 a–p), its sha256 verification code is stored with
the issued version, and the rendered PDF is kept in the content-addressed file store. An amendment
issues a new version that names the one it supersedes (7.8.8); nothing issued is ever overwritten.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from typing import Any

from customslab.domain.access import Action, Actor, require
from customslab.domain.enums import CustodyKind, Role, State
from customslab.domain.errors import InvalidTransition, NotFound, ValidationFailed
from customslab.domain.model import AnalysisRequest, Sample
from customslab.domain.quality import report as r
from customslab.domain.quality.report import ReportData, short_code
from customslab.services.common import visible_sample
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.quality_ports import IssuedReport, MethodEntry

_REPORTABLE = (State.APPROVED, State.REPORTED)


def _num(v: Any) -> str:
    return "" if v is None else str(v)


def _seal(sample: Sample) -> str:
    receipts = [e for e in sample.custody if e.kind is CustodyKind.RECEIPT]
    intact = receipts[-1].seal_intact if receipts else None
    state = {True: "intact on receipt", False: "broken on receipt", None: "state not recorded"}[intact]
    return f"{sample.seal_number or 'no seal number'}, {state}"


def _org_name(uow: AbstractUnitOfWork, code: str) -> str:
    org = uow.repo.org(code)
    return org.name if org else code


def build_report_data(
    uow: AbstractUnitOfWork, actor: Actor, sample: Sample, req: AnalysisRequest, options: dict[str, Any]
) -> ReportData:
    """Everything 7.8.2.1 asks for, taken from the case as stored; quantities printed as entered."""
    issuer = actor.org_code
    lab = uow.repo.org(issuer)
    requester = uow.repo.user(req.requester_id)
    methods: dict[str, r.MethodUsed] = {}
    lines: list[r.ResultLine] = []
    tests = [t for t in sample.tests if t.state in _REPORTABLE]
    for t in tests:
        entry = uow.quality.get(MethodEntry, t.method_version_id) if t.method_version_id else None
        if entry is not None:
            used = r.MethodUsed(entry.method_code, entry.method.title, entry.version)
        else:
            used = r.MethodUsed(t.method_ref, t.determination, "not catalogued")
        methods.setdefault(used.method_id, used)
        analyst = uow.repo.user(t.analyst_id) if t.analyst_id else None
        external = "" if analyst is None or analyst.org_code == issuer else _org_name(uow, analyst.org_code)
        for res in t.results:
            value = _num(res.value) if res.value is not None else res.observation
            lines.append(
                r.ResultLine(
                    res.name,
                    value,
                    res.unit,
                    used.method_id,
                    _num(res.expanded_uncertainty),
                    _num(res.coverage_factor),
                    _num(res.lod),
                    _num(res.loq),
                    external,
                )
            )
    if not lines:
        raise ValidationFailed("The sample has no approved results to report.", field="sample")
    opinions = [o for o in uow.repo.opinions_for(sample.id or 0) if o.state == "approved"]
    opinion = max(opinions, key=lambda o: o.reviewed_at or o.created_at) if opinions else None
    now = uow.clock()
    received = sample.received_at or sample.registered_at
    ends = [t.approved_at or t.submitted_at or now for t in tests]
    rule = r.DecisionRule.SIMPLE if options.get("decision_rule") == "simple" else r.DecisionRule.GUARDED
    remarks = (f"Decision rule: {rule.explain()}", *[str(x) for x in options.get("remarks") or ()])
    conformity = tuple(
        r.ConformityStatement(str(c["specification"]), rule, str(c["statement"]))
        for c in options.get("conformity") or ()
    )
    signatory = uow.repo.user(actor.user_id)
    function = "Reviewer (technical manager)" if actor.has(Role.REVIEWER) else "Laboratory manager"
    return ReportData(
        title=str(options.get("title") or f"Test report: {req.goods_description}"),
        laboratory=r.Laboratory(
            lab.name if lab else issuer,
            (lab.address or lab.country) if lab else "",
            str(options.get("accreditation", "")),
        ),
        tests_performed_at=_org_name(uow, sample.lab_code),
        report_id="",
        version=1,
        customer=r.Customer(
            _org_name(uow, req.office_code),
            requester.full_name if requester else str(req.requester_id),
            f"Request {req.reference}; declaration {req.declaration_number}, item {req.item_number}",
        ),
        methods=tuple(methods.values()),
        item=r.ItemTested(
            sample.lab_sample_id,
            sample.description or req.goods_description,
            sample.condition_on_receipt or "No remarks on receipt.",
            _seal(sample),
            f"Declared HS {req.declared_hs}",
        ),
        received_on=received.date(),
        analysis_from=(sample.analysis_started_at or received).date(),
        analysis_to=max(ends).date(),
        issued_on=now.date(),
        results=tuple(lines),
        authorised_by=(
            r.Signatory(signatory.full_name if signatory else actor.username, function, now.date()),
        ),
        conformity=conformity,
        classification=None
        if opinion is None
        else r.ClassificationOpinion(
            opinion.declared_code, opinion.determined_code, opinion.reasoning, tuple(opinion.references)
        ),
        remarks=remarks,
        verify_url_base=str(options.get("verify_url_base", "")),
    )


def report_view(e: IssuedReport) -> dict[str, Any]:
    return {
        "id": e.id,
        "report_id": e.report_id,
        "version": e.version,
        "sample_id": e.sample_id,
        "lab_code": e.lab_code,
        "verification_code": e.verification_code,
        "short_code": short_code(e.verification_code),
        "pdf_sha256": e.pdf_sha256,
        "issued_by": e.issued_by,
        "issued_at": e.issued_at.isoformat(),
        "supersedes_id": e.supersedes_id,
        "superseded_by_id": e.superseded_by_id,
        "status": "superseded" if e.superseded_by_id else "issued",
        "amendment_reason": e.amendment_reason,
    }


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
    uow: AbstractUnitOfWork,
    actor: Actor,
    sample_id: int,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Issue the test report of an approved sample; the sample moves from approved to reported."""
    with uow:
        require(actor, Action.ISSUE_REPORT)
        uow.act_as(actor.username)
        sample, req = _reporting_sample(uow, actor, sample_id)
        if sample.state is not State.APPROVED:
            raise InvalidTransition(
                f"Only an approved sample can be reported; sample {sample.lab_sample_id} is "
                f"{sample.state.value.replace('_', ' ')}."
            )
        now = uow.clock()
        number = uow.repo.next_number(f"report-{actor.org_code}-{now.year}")
        data = build_report_data(uow, actor, sample, req, options or {})
        data = replace(data, report_id=f"{actor.org_code}-R-{now.year}-{number:05d}")
        entry = _store(uow, actor, data, sample_id)
        for t in sample.tests:
            if t.state is State.APPROVED:
                t.move(State.REPORTED)
        sample.move(State.REPORTED, now)
        uow.commit()
        return report_view(entry)


def amend_report(
    uow: AbstractUnitOfWork,
    actor: Actor,
    entry_id: int,
    reason: str,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Issue a new version that supersedes the current one, with the reason (17025 7.8.8)."""
    with uow:
        require(actor, Action.ISSUE_REPORT)
        uow.act_as(actor.username, reason)
        old = uow.quality.get(IssuedReport, entry_id)
        if old is None or old.lab_code != actor.org_code:
            raise NotFound(f"Report {entry_id} was not found.")
        if old.superseded_by_id is not None:
            raise InvalidTransition(
                f"Report {old.report_id} version {old.version} is already superseded; "
                "amend the latest version."
            )
        if not reason.strip():
            raise ValidationFailed("Say why the report is amended.", field="reason")
        sample, req = _reporting_sample(uow, actor, old.sample_id)
        data = build_report_data(uow, actor, sample, req, options or {})
        data = replace(
            data,
            report_id=old.report_id,
            version=old.version + 1,
            amendment=r.Amendment(old.report_id, old.version, reason.strip()),
        )
        new = _store(uow, actor, data, old.sample_id)
        new.supersedes_id, new.amendment_reason = old.id, reason.strip()
        old.superseded_by_id, old.superseded_at = new.id, uow.clock()
        uow.commit()
        return report_view(new)


def _readable_report(uow: AbstractUnitOfWork, actor: Actor, entry_id: int) -> IssuedReport:
    entry = uow.quality.get(IssuedReport, entry_id)
    if entry is None:
        raise NotFound(f"Report {entry_id} was not found.")
    try:
        visible_sample(uow, actor, entry.sample_id)
    except NotFound:
        raise NotFound(f"Report {entry_id} was not found.") from None
    return entry


def report_detail(uow: AbstractUnitOfWork, actor: Actor, entry_id: int) -> dict[str, Any]:
    with uow:
        return report_view(_readable_report(uow, actor, entry_id))


def report_pdf(uow: AbstractUnitOfWork, actor: Actor, entry_id: int) -> tuple[str, bytes]:
    """The issued PDF exactly as it was stored: (file name, bytes)."""
    with uow:
        entry = _readable_report(uow, actor, entry_id)
        with uow.files.open(entry.pdf_sha256) as fh:
            return f"{entry.report_id}-v{entry.version}.pdf", fh.read()


def reports_for_sample(uow: AbstractUnitOfWork, actor: Actor, sample_id: int) -> list[dict[str, Any]]:
    with uow:
        visible_sample(uow, actor, sample_id)
        return [report_view(e) for e in uow.quality.find(IssuedReport, sample_id=sample_id)]


def verify_code(uow: AbstractUnitOfWork, code: str) -> dict[str, Any]:
    """What the register says about a verification code: issued, superseded or unknown."""
    with uow:
        found = uow.quality.find(IssuedReport, verification_code=code.strip().lower())
        if not found:
            return {"status": "unknown", "verification_code": code}
        e = found[0]
        out: dict[str, Any] = {
            "status": "superseded" if e.superseded_by_id else "issued",
            "verification_code": e.verification_code,
            "report_id": e.report_id,
            "version": e.version,
            "laboratory": e.data.laboratory.name,
            "sample": e.data.item.sample_id,
            "issued_at": e.issued_at.isoformat(),
            "pdf_sha256": e.pdf_sha256,
        }
        if e.superseded_by_id:
            newer = uow.quality.get(IssuedReport, e.superseded_by_id)
            out["superseded_by"] = (
                None if newer is None else {"report_id": newer.report_id, "version": newer.version}
            )
            out["superseded_at"] = e.superseded_at.isoformat() if e.superseded_at else None
        return out


def verify_report(uow: AbstractUnitOfWork, pdf_bytes: bytes) -> dict[str, Any]:
    """Read the code from a report PDF and check it; also say whether the file is byte-identical."""
    code = uow.reports.read_code(pdf_bytes)
    if code is None:
        return {
            "status": "unknown",
            "verification_code": None,
            "problem": "no verification code in this file",
        }
    verdict = verify_code(uow, code)
    if verdict["status"] != "unknown":
        verdict["identical_file"] = hashlib.sha256(pdf_bytes).hexdigest() == verdict["pdf_sha256"]
    return verdict
