"""Recording targeting outcomes: a sample's approved classification against its declaration, with the
duty difference when the national tariff lines and the declared value are known; and the rebuild.

Written once when an opinion is approved (`record_decision`, called inside the approval's unit of work),
so the targeting figures never evaluate HS rules again per result.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from pydantic import Field

from customslab.domain.model import AnalysisRequest, ClassificationOpinion, Sample
from customslab.domain.targeting import party_key, party_name, subheading_differs
from customslab.hs.duty import compare_duty
from customslab.hs.tariff import TariffLine, line_for
from customslab.services.contract import View
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.targeting_ports import Outcome


class RebuildSummary(View):
    """What a rebuild of the outcomes table did."""

    recorded: int = Field(description="Outcomes recorded: requests with an approved opinion on a sample.")
    before: int = Field(description="Outcomes the table held before the rebuild.")


def _digits(code: str) -> str:
    return "".join(ch for ch in code if ch.isdigit())


def duty_difference(
    lines: list[TariffLine], declared: str, determined: str, customs_value: Decimal | None
) -> Decimal | None:
    """Determined − declared duty on the declared value (hs.duty), or None when it cannot be told honestly:
    no value, no single national line for either code, or a specific duty (the quantity in the duty's unit
    is not part of the declaration data kept here)."""
    if customs_value is None or not lines:
        return None
    declared_line = line_for(lines, declared)
    # As hs.evaluate does: a determination that confirms the declared code keeps the declared line.
    determined_line = line_for(lines, declared if declared.startswith(determined) else determined)
    if declared_line is None or determined_line is None:
        return None
    if declared_line.specific is not None or determined_line.specific is not None:
        return None
    found = compare_duty(declared_line, determined_line, float(customs_value))
    return Decimal(str(round(found.difference, 2))).quantize(Decimal("0.01"))


def _decisive(opinions: list[ClassificationOpinion]) -> ClassificationOpinion | None:
    """The latest approved opinion: a later approval replaces an earlier one."""
    approved = [o for o in opinions if o.state == "approved"]
    if not approved:
        return None
    return max(approved, key=_when)


def _when(opinion: ClassificationOpinion) -> tuple[datetime, int]:
    return opinion.reviewed_at or opinion.created_at, opinion.id or 0


def outcome_of(
    sample: Sample, request: AnalysisRequest, opinion: ClassificationOpinion, lines: list[TariffLine]
) -> Outcome:
    """The outcome row of a sample decided by `opinion`."""
    declared = _digits(request.declared_hs)
    determined = _digits(opinion.determined_code)
    decided_at = opinion.reviewed_at or opinion.created_at
    return Outcome(
        sample_id=sample.id or 0,
        reference=sample.lab_sample_id,
        lab_code=sample.lab_code,
        administration_code=request.administration_code,
        declared_hs=declared,
        determined_hs=determined,
        heading=declared[:4],
        differs=subheading_differs(declared, determined),
        origin=request.origin_country,
        importer=party_name(request.importer),
        declarant=party_name(request.declarant),
        decided_on=decided_at.date(),
        customs_value=request.declared_value,
        currency=request.currency or "",
        duty_difference=duty_difference(lines, declared, determined, request.declared_value),
    )


def record_decision(uow: AbstractUnitOfWork, sample_id: int) -> Outcome | None:
    """Record (or replace, or remove) the outcome of the sample's request from the latest approved opinion
    on any of its samples; inside the caller's unit of work, which commits it.

    One request is one declaration item: its samples (several taken, or a sub-sample referred to another
    laboratory) are one outcome, stored under the sample whose opinion decides, so that a declaration
    counts once in n and k."""
    sample = uow.repo.sample(sample_id)
    request = None if sample is None else uow.repo.request(sample.request_id or 0)
    # The ids of the request's samples and their approved opinions, each in one read; only the sample
    # that decides is loaded (a seizure's request holds hundreds of samples, with custody and tests).
    ids = {sample_id, *(uow.repo.sample_ids(request.id) if request and request.id else [])}
    uow.targeting.forget_all(ids)
    opinion = _decisive(list(uow.repo.approved_opinions_for(ids))) if request else None
    if request is None or opinion is None:
        return None
    if opinion.sample_id != sample_id:
        sample = uow.repo.sample(opinion.sample_id)
    if sample is None:
        return None
    administration = uow.repo.administration(request.administration_code)
    lines: list[TariffLine] = []
    if administration is not None and request.declared_value is not None:
        codes = {_digits(request.declared_hs), _digits(opinion.determined_code)}
        lines = uow.targeting.tariff_lines(administration.country, codes)
    outcome = _spelled_as_stored(uow, outcome_of(sample, request, opinion, lines))
    uow.targeting.record(outcome)
    return outcome


def _spelled_as_stored(uow: AbstractUnitOfWork, outcome: Outcome) -> Outcome:
    """The outcome with the importer and declarant spelled as the administration's outcomes already
    spell them (same `party_key`): "HANBIT  TRADING" joins "Hanbit Trading", so the figures, which group
    by the name, count one importer as the alert rules (`importer_token`) do, and show one spelling."""
    admin = outcome.administration_code
    importer = outcome.importer and uow.targeting.spelling(admin, "importer", party_key(outcome.importer))
    declarant = outcome.declarant and uow.targeting.spelling(admin, "declarant", party_key(outcome.declarant))
    return replace(outcome, importer=importer or outcome.importer, declarant=declarant or outcome.declarant)


def rebuild_outcomes(uow: AbstractUnitOfWork) -> RebuildSummary:
    """Recompute every outcome from the approved opinions (after an upgrade, a tariff load, or to repair
    the table); running it twice gives the same table."""
    with uow:
        before = uow.targeting.count()
        uow.targeting.clear()
        for sample_id in uow.targeting.decided_sample_ids():
            record_decision(uow, sample_id)
        recorded = uow.targeting.count()
        uow.commit()
    return RebuildSummary(recorded=recorded, before=before)
