"""The content of a test report, built once from the case as stored (ISO/IEC 17025 7.8.2.1 a–p, 7.8.7).

The item is the goods the officer declared, results read as people read them (labels, outcome words,
the identification behind an identity), and the classification opinion only once a reviewer approved it:
a draft blocks the report unless the signatory leaves it out on purpose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from customslab.domain.access import Actor
from customslab.domain.enums import CustodyKind, ResultKind, Role, State
from customslab.domain.errors import ValidationFailed
from customslab.domain.model import AnalysisRequest, AnalysisTest, ClassificationOpinion, Sample
from customslab.domain.quality import report as r
from customslab.domain.quality.report import ReportData
from customslab.domain.quality.report_text import LEVEL_KEYS, report_text
from customslab.hs.levels import dotted, level_of
from customslab.hs.nomenclature import HsError, normalise_code
from customslab.services.confidentiality import WITHHELD_NOTE, declaration_view_for
from customslab.services.control_views import control_words, identified_controls
from customslab.services.determination import approved_opinion, measurement_verdict, open_drafts
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.quality_ports import MethodEntry
from customslab.services.result_words import evidence_of, label, number, outcome_words

if TYPE_CHECKING:
    from customslab.services.reports import ReportIssue

_REPORTABLE = (State.APPROVED, State.REPORTED)
#: The field of the report form that leaves a draft opinion out; a refusal names it.
LEAVE_OUT_FIELD = "leave_out_draft_opinion"
#: Said on a report issued while the opinion was still a draft, left out on purpose.
NO_OPINION_REMARK = report_text("en", "no_opinion")

#: The declaration fields a report prints (in the customer's reference).
PRINTED_DECLARATION = frozenset({"declaration_number", "item_number"})


def _seal(sample: Sample, language: str) -> str:
    receipts = [e for e in sample.custody if e.kind is CustodyKind.RECEIPT]
    intact = receipts[-1].seal_intact if receipts else None
    state = {True: "seal.intact", False: "seal.broken", None: "seal.unknown"}[intact]
    number = sample.seal_number or report_text(language, "seal.no_number")
    return report_text(language, "seal", number=number, state=report_text(language, state))


def _org_name(uow: AbstractUnitOfWork, code: str) -> str:
    org = uow.repo.org(code)
    return org.name if org else code


def _customer_reference(req: AnalysisRequest, withheld: frozenset[str], language: str) -> str:
    """The request, and the declaration as far as the issuing laboratory may read it: a laboratory of
    another administration prints only what the sender released to it."""
    note = WITHHELD_NOTE if language == "en" else report_text(language, "withheld")
    if "declaration_number" in withheld:
        return report_text(language, "reference.withheld", request=req.reference, withheld=note)
    if "item_number" in withheld:
        return report_text(
            language,
            "reference.item_withheld",
            request=req.reference,
            declaration=req.declaration_number,
            withheld=note,
        )
    return report_text(
        language, "reference", request=req.reference, declaration=req.declaration_number, item=req.item_number
    )


def item_description(sample: Sample, req: AnalysisRequest, language: str = "en") -> str:
    """The goods the item is a sample of, as the officer described them; and the laboratory's own words
    for the item when it wrote some. A sub-sample's stored description is a note naming its parent's
    internal id ("sub-sample of KCS-2026-00042: ..."), which is not the goods: the goods are printed."""
    goods = req.goods_description.strip()
    own = sample.description.strip()
    if sample.parent_id is not None or own in ("", goods):
        return goods
    return report_text(language, "item.own_words", goods=goods, own=own)


def _result_lines(
    uow: AbstractUnitOfWork,
    actor: Actor,
    tests: list[AnalysisTest],
    methods: dict[str, r.MethodUsed],
    language: str,
) -> list[r.ResultLine]:
    """The approved results as printed lines; `methods` collects the methods they were measured by."""
    lines: list[r.ResultLine] = []
    for t in tests:
        entry = uow.quality.get(MethodEntry, t.method_version_id) if t.method_version_id else None
        if entry is not None:
            used = r.MethodUsed(entry.method_code, entry.method.title, entry.version)
        else:
            used = r.MethodUsed(t.method_ref, t.determination, report_text(language, "method.not_catalogued"))
        methods.setdefault(used.method_id, used)
        analyst = uow.repo.user(t.analyst_id) if t.analyst_id else None
        external = ""
        if analyst is not None and analyst.org_code != actor.org_code:
            external = _org_name(uow, analyst.org_code)
        identifications = list(uow.repo.identifications_for(t.id or 0)) if t.id else []
        for res in t.results:
            evidence = evidence_of(res, identifications)
            found = next((i for i in identifications if i.id == res.identification_id), None)
            quantity = res.kind is ResultKind.QUANTITY
            lines.append(
                r.ResultLine(
                    res.name,
                    outcome_words(res, found, language),
                    res.unit if quantity else "",
                    used.method_id,
                    number(res.expanded_uncertainty) if quantity else "",
                    number(res.coverage_factor) if quantity else "",
                    number(res.lod),
                    number(res.loq),
                    external,
                    kind=res.kind.value,
                    evidence=evidence,
                    label=label(res, language),
                    controls=control_words(identified_controls(found, res.text_value), language)
                    if res.kind is ResultKind.IDENTITY
                    else (),
                )
            )
    return lines


def _opinion_for_report(
    uow: AbstractUnitOfWork, sample: Sample, req: AnalysisRequest, leave_out_draft: bool, language: str
) -> tuple[r.ClassificationOpinion | None, bool]:
    """The approved opinion as the report prints it, and whether a draft was left out. A draft still
    open refuses the report, unless the signatory leaves it out explicitly; then no opinion is printed
    at all, not even an older approved one, as the laboratory is revising it."""
    opinions = list(uow.repo.opinions_for(sample.id or 0))
    if open_drafts(opinions):
        if not leave_out_draft:
            raise ValidationFailed(
                f"The classification opinion on sample {sample.lab_sample_id} is still a draft: have a "
                "reviewer approve it first, or leave the draft out of this report explicitly.",
                field=LEAVE_OUT_FIELD,
            )
        return None, True
    opinion = approved_opinion(opinions)
    return (None if opinion is None else _printed_opinion(uow, opinion, sample, req, language)), False


def _printed_opinion(
    uow: AbstractUnitOfWork, o: ClassificationOpinion, sample: Sample, req: AnalysisRequest, language: str
) -> r.ClassificationOpinion:
    reviewer = uow.repo.user(o.reviewer_id) if o.reviewer_id else None
    verdict = measurement_verdict(sample, req, language)
    try:
        determined = normalise_code(o.determined_code, allow_national=True)
    except HsError:
        determined = o.determined_code
    return r.ClassificationOpinion(
        o.declared_code,
        determined,
        o.reasoning,
        tuple(o.references),
        determined_level=report_text(language, LEVEL_KEYS[level_of(determined)]),
        approved_by=reviewer.full_name if reviewer else "",
        approved_on=o.reviewed_at.date() if o.reviewed_at else None,
        measurement_verdict=verdict.message if verdict is not None else "",
    )


def build_report_data(
    uow: AbstractUnitOfWork, actor: Actor, sample: Sample, req: AnalysisRequest, cmd: ReportIssue
) -> ReportData:
    """Everything 7.8.2.1 asks for, taken from the case as stored; quantities printed as entered. The
    fixed text is in the report's language (`cmd.language`); case data stays as people wrote it."""
    language = cmd.language
    issuer = actor.org_code
    lab = uow.repo.org(issuer)
    requester = uow.repo.user(req.requester_id)
    methods: dict[str, r.MethodUsed] = {}
    tests = [t for t in sample.tests if t.state in _REPORTABLE]
    lines = _result_lines(uow, actor, tests, methods, language)
    if not lines:
        raise ValidationFailed("The sample has no approved results to report.", field="sample")
    classification, left_out_draft = _opinion_for_report(
        uow, sample, req, cmd.leave_out_draft_opinion, language
    )
    now = uow.clock()
    received = sample.received_at or sample.registered_at
    ends = [t.approved_at or t.submitted_at or now for t in tests]
    rule = r.DecisionRule.SIMPLE if cmd.decision_rule == "simple" else r.DecisionRule.GUARDED
    remarks = (
        report_text(language, "decision_rule_remark", rule=rule.explain(language)),
        *((report_text(language, "no_opinion"),) * left_out_draft),
        *cmd.remarks,
    )
    conformity = tuple(r.ConformityStatement(c.specification, rule, c.statement) for c in cmd.conformity)
    signatory = uow.repo.user(actor.user_id)
    function = report_text(language, "function.reviewer" if actor.has(Role.REVIEWER) else "function.manager")
    return ReportData(
        title=cmd.title or report_text(language, "title", goods=req.goods_description),
        laboratory=r.Laboratory(
            lab.name if lab else issuer,
            (lab.address or lab.country) if lab else "",
            cmd.accreditation,
        ),
        tests_performed_at=_org_name(uow, sample.lab_code),
        report_id="",
        version=1,
        customer=r.Customer(
            _org_name(uow, req.office_code),
            requester.full_name if requester else str(req.requester_id),
            _customer_reference(req, declaration_view_for(uow, actor, req).withheld, language),
        ),
        methods=tuple(methods.values()),
        item=r.ItemTested(
            sample.lab_sample_id,
            item_description(sample, req, language),
            sample.condition_on_receipt or report_text(language, "no_remarks_on_receipt"),
            _seal(sample, language),
            report_text(language, "declared_hs", code=dotted(req.declared_hs)),
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
        classification=classification,
        remarks=remarks,
        verify_url_base=cmd.verify_url_base,
        only_item_tested_statement=report_text(language, "only_item_tested"),
        sampling_statement=report_text(language, "sampled_by_customer"),
        language=language,
    )
