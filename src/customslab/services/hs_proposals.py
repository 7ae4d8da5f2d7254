"""HS codes proposed from identification: a sample's identity results whose substance the CAS → HS table
knows (substances/chem_hs.py) propose its code to the HS evaluation, as evidence for the analyst.

Nothing here writes: a proposal never changes an opinion, the rules' verdict or the declared code. It
reads the results the viewer may already see (an officer: approved tests only) and the identifications
they cite, so it shows nothing the sample page does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, cast

from pydantic import Field

from customslab.domain.access import Actor
from customslab.domain.enums import ResultKind
from customslab.domain.model import AnalysisTest, Identification, Result, Sample
from customslab.hs.evaluate import mismatch_level
from customslab.hs.nomenclature import HsError, normalise_code
from customslab.services.contract import View
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.views import results_visible_to
from customslab.substances.chem_hs import ChemHsTable, Proposal

Mismatch = Literal["none", "subheading", "heading", "chapter"]


class ProposedCodeView(View):
    """One code a proposal names, against the declared code."""

    code: str = Field(
        description="Digits: a subheading, or a national tariff line of the laboratory's table."
    )
    dotted: str
    description: str = Field(description="The HS 2022 text of its subheading.")
    mismatch: Mismatch = Field(
        description="How it differs from the declared code: none (the same subheading, or one holds the "
        "other), subheading (same heading), heading (same chapter), chapter (another chapter)."
    )


class HsProposalView(View):
    """An HS code proposed for a substance an identity result names: evidence, never applied."""

    substance: str = Field(description="The substance as the CAS → HS table names it.")
    cas: str = Field(description="The table's CAS number ('' for a class of polymers).")
    identified_as: str = Field(description="The substance the identity result names.")
    hit_cas: str = Field(default="", description="The CAS number of the library hit, when it has one.")
    matched_by: Literal["cas", "name"]
    names_agree: bool = Field(
        description="False when the hit's CAS number found a row of another name: check the library "
        "entry before relying on the proposal."
    )
    codes: list[ProposedCodeView] = Field(
        description="The code, or the codes among which the substance's form or a measurement decides."
    )
    source: str = Field(description="The list or table the code comes from, and how it was checked.")
    notes: str
    table: str = Field(description="The file the row was read from (the seed table or the laboratory's).")
    result_id: int
    test_id: int
    determination: str
    identification_id: int | None


def _hit(result: Result, identification: Identification | None) -> dict[str, object]:
    """The library hit an identity result names (the best hit when it names none), or {}."""
    if identification is None:
        return {}
    ranked = sorted(identification.hits, key=lambda h: int(str(h.get("rank", 0) or 0)))
    chosen = result.text_value.strip().casefold()
    named = (h for h in ranked if str(h.get("name", "")).strip().casefold() == chosen)
    return next(named, ranked[0] if ranked and not chosen else {})


def _declared(code: str) -> str:
    try:
        return normalise_code(code, allow_national=True)
    except HsError:
        return ""


def _mismatch(declared: str, code: str) -> Mismatch:
    found = mismatch_level(declared, [code]) if declared else "none"
    return cast(Mismatch, found)


def _view(
    proposal: Proposal,
    table: ChemHsTable,
    declared: str,
    result: Result,
    test: AnalysisTest,
    name: str,
    cas: str,
) -> HsProposalView:
    entry = proposal.entry
    return HsProposalView(
        substance=entry.name,
        cas=entry.cas,
        identified_as=name,
        hit_cas=cas,
        matched_by=proposal.matched_by,
        names_agree=proposal.matched_by == "name" or table.knows_name(entry, name),
        codes=[
            ProposedCodeView(
                code=c.code, dotted=c.dotted, description=c.description, mismatch=_mismatch(declared, c.code)
            )
            for c in entry.codes
        ],
        source=entry.source,
        notes=entry.notes,
        table=entry.table,
        result_id=result.id or 0,
        test_id=test.id or 0,
        determination=test.determination,
        identification_id=result.identification_id,
    )


def identity_proposals(
    uow: AbstractUnitOfWork, actor: Actor, sample: Sample, declared: str, table: ChemHsTable | None
) -> list[HsProposalView]:
    """Inside the caller's unit of work: the HS proposals of the sample's identity results the actor may
    see, in the order of the tests and results; none without a table."""
    if table is None:
        return []
    target = _declared(declared)
    out: list[HsProposalView] = []
    for test in sample.tests:
        identities = [r for r in test.results if r.kind == ResultKind.IDENTITY]
        if not identities or not results_visible_to(actor, test):
            continue
        kept: Sequence[Identification] = uow.repo.identifications_for(test.id or 0)
        by_id = {i.id: i for i in kept}
        for result in identities:
            hit = _hit(result, by_id.get(result.identification_id))
            name = result.text_value or str(hit.get("name", ""))
            cas = str(hit.get("cas") or "")
            label = str(hit.get("label") or "") or None
            for proposal in table.propose(cas=cas, name=name, label=label):
                out.append(_view(proposal, table, target, result, test, name, cas))
    return out
