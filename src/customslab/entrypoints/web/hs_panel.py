"""Choices offered on the HS evaluation page, and how it words the determined codes."""

from __future__ import annotations

from customslab.entrypoints.web.common import N_
from customslab.hs.levels import dotted, level_of
from customslab.services.classification import EvaluationView, Language, SampleEvaluation

#: ISO/IEC 17025 7.8.6 decision rules the evaluation panel lets the user choose between.
DECISION_RULES = ("guarded", "simple")

#: What the evaluation page says when none of the sample's results is a quantity the rules know.
NO_RESULTS = N_("No result of this sample can be used by the HS rules.")

#: How the page names the state of each rule that fired (RuleFiring.status).
FIRING_STATES = {"decided": N_("decided"), "undecided": N_("undecided"), "no_outcome": N_("no outcome")}

#: The levels a code is decided at (hs.levels), as the page names them.
LEVEL_WORDS = (N_("chapter"), N_("heading"), N_("subheading"), N_("national tariff line"))

#: How the page words what one piece of evidence says about the candidate it would support.
EVIDENCE_STATES = {
    "true": N_("supports"),
    "false": N_("does not support"),
    "undecided": N_("inconclusive"),
    "not measured": N_("not measured"),
}


#: How the page words a proposed code against the declared one (HsProposalView's codes' `mismatch`).
PROPOSAL_AGREEMENT = {
    "none": N_("same subheading as declared"),
    "subheading": N_("same heading, another subheading"),
    "heading": N_("same chapter, another heading"),
    "chapter": N_("another chapter than declared"),
}


def proposed_code(ev: SampleEvaluation, wanted: str) -> str:
    """`wanted` when it is one of the codes proposed from identification (the analyst chose to copy it
    into the opinion form), else '': the form is never filled with anything else from a link."""
    codes = {c.code for p in ev.proposals for c in p.codes}
    return wanted if wanted in codes else ""


def rules_language(lang: str) -> Language:
    """The rules' text in the session's language: the catalogue is written in English and Korean."""
    return "ko" if lang == "ko" else "en"


def determined_codes(ev: EvaluationView) -> list[dict[str, str]]:
    """Each determined code as the rules decided it: the code at its level ('heading 22.08', not the
    declared 2208.30 the heading holds) and its nomenclature text when that is the code's own."""
    decided = ev.decided or ev.determined
    out: dict[str, dict[str, str]] = {}
    for code, shown in zip(ev.determined, decided, strict=True):
        if not shown:
            continue  # no rule decided this one: it is not the rules' to name
        text = ev.descriptions.get(code, "") if shown == code else ""
        out.setdefault(
            shown, {"code": shown, "level": level_of(shown), "dotted": dotted(shown), "description": text}
        )
    return list(out.values())
