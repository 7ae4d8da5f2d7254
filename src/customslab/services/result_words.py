"""How a result reads to the people it is for, on the test report and on the officer's request page.

A result's name is a key the HS rules read (`alcohol_strength`); people read its label ("Alcoholic
strength by volume", hs/measurands.py). A qualitative outcome is a word ("Not detected", not
`not_detected`), and an identity shows what it rests on: the library searched, its version, the best
hits. Both the report and the page word results here, so they say the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from customslab.domain.enums import QUALITATIVE_OUTCOMES, ResultKind, State
from customslab.domain.model import Identification, Result
from customslab.domain.quality.report import IdentityEvidence, LibraryHit
from customslab.domain.quality.report_text import report_text
from customslab.hs.measurands import measurand_label

#: The closed qualitative kinds' outcomes (domain.enums.QUALITATIVE_OUTCOMES); their words, in each
#: language, are the report's (domain/quality/report_text.py, "outcome.<value>").
OUTCOMES = tuple(value for values in QUALITATIVE_OUTCOMES.values() for value in values)
#: How many of an identification's best hits the report and the page show.
TOP_HITS = 3


def state_words(state: State | str) -> str:
    """A workflow state as words: `to_be_reviewed` → "to be reviewed"."""
    value = state.value if isinstance(state, State) else str(state)
    return value.replace("_", " ")


def number(value: Decimal | None) -> str:
    """A stored quantity exactly as it was entered (the service already rounded it); '' for none."""
    return "" if value is None else str(value)


def outcome_words(result: Result, identification: Identification | None = None, language: str = "en") -> str:
    """What the result states: the value as entered, the outcome in words (in `language`), the text,
    the identity."""
    if result.kind is ResultKind.QUANTITY:
        return number(result.value) if result.value is not None else result.observation
    if result.kind in (ResultKind.DETECTION, ResultKind.SCREENING):
        if result.text_value in OUTCOMES:
            return report_text(language, f"outcome.{result.text_value}")
        return result.text_value.replace("_", " ")
    if result.kind is ResultKind.IDENTITY and not result.text_value and identification is not None:
        top = _hits(identification)[:1]
        return top[0].name if top else ""
    return result.text_value


def _score(value: Any) -> str:
    try:
        return f"{float(value):.3f}"
    except (TypeError, ValueError):
        return str(value)


def _hits(identification: Identification) -> list[LibraryHit]:
    ranked = sorted(identification.hits, key=lambda h: int(str(h.get("rank", 0) or 0)))
    return [LibraryHit(str(h.get("name", "")), _score(h.get("score"))) for h in ranked]


def evidence_of(result: Result, identifications: Sequence[Identification]) -> IdentityEvidence | None:
    """An identity result's evidence: the stored identification it names (library, version, best hits)."""
    if result.kind is not ResultKind.IDENTITY or result.identification_id is None:
        return None
    found = next((i for i in identifications if i.id == result.identification_id), None)
    if found is None:
        return None
    return IdentityEvidence(
        found.library_id, found.library_version, found.technique, tuple(_hits(found)[:TOP_HITS])
    )


def label(result: Result, language: str = "en") -> str:
    """The result's name as people read it, in `language` where the measurand has a label in it."""
    return measurand_label(result.name, language)
