"""Measurand labels, result kinds and outcomes as the pages show them, marked for translation.

A measurand's labels in English and Korean are data (hs/rules/quantities/*.yaml, hs.measurands), so the
`measurand` filter picks the page's language from them; kinds and outcomes are page words inside N_().
The filters translate a result's name, kind and outcome in templates (`{{ r.name|measurand }}`);
`typed_key` maps a label typed in either language back to its key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import pass_context

from customslab.domain.enums import ResultKind
from customslab.hs.measurands import measurand_key, measurand_label


def N_(message: str) -> str:  # the marker Babel extracts (babel.cfg: -k N_)
    """Mark a string for extraction (entrypoints/web/common.py has the same marker; importing it here
    would tie this module to the templates it registers filters on)."""
    return message


#: The kinds of result, as the result form offers them (a result shows its kind as the enum's word).
KINDS = {
    ResultKind.QUANTITY: N_("quantity (value and unit)"),
    ResultKind.DETECTION: N_("detection (detected / not detected)"),
    ResultKind.SCREENING: N_("screening (positive / negative)"),
    ResultKind.TEXT: N_("finding (text)"),
    ResultKind.IDENTITY: N_("identity (from an identification)"),
}
#: The outcomes of detection and screening results, by their stored key.
OUTCOMES = {
    "detected": N_("detected"),
    "not_detected": N_("not detected"),
    "positive": N_("positive"),
    "negative": N_("negative"),
}

Gettext = Callable[[str], str]


def typed_key(typed: str) -> str:
    """The key of a measurand whose label was typed in English or Korean, an element's name or an alias;
    otherwise the name as typed."""
    return measurand_key(typed)


def typed_outcome(gettext: Gettext, typed: str) -> str:
    """The key of an outcome typed (or picked) in the page's language; other text as typed."""
    folded = typed.strip().casefold()
    return next((k for k, word in OUTCOMES.items() if folded == gettext(word).casefold()), typed)


def _gettext(context: Any) -> Gettext:
    found = context.get("_")
    return found if callable(found) else (lambda s: s)


@pass_context
def measurand_filter(context: Any, name: str) -> str:
    """A result's name as people read it, in the page's language (the measurand's own labels)."""
    return measurand_label(name, str(context.get("lang", "en")))


@pass_context
def outcome_filter(context: Any, text: str) -> str:
    """A detection or screening outcome in the page's language; other text as it was written."""
    word = OUTCOMES.get(text)
    return _gettext(context)(word) if word is not None else text


@pass_context
def kind_filter(context: Any, kind: str) -> str:
    """A kind of result as a word of the page's language (the vocabulary of domain.enums.ResultKind)."""
    return _gettext(context)(str(kind).replace("_", " "))


#: Registered on the templates (common.py).
FILTERS = {"measurand": measurand_filter, "outcome": outcome_filter, "result_kind": kind_filter}
