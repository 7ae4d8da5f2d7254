"""Measurand labels, result kinds and outcomes as the pages show them, marked for translation.

Babel extracts only entrypoints/web (babel.cfg), so every label of `hs.measurands.MEASURANDS` is written
here once more inside N_(); a unit test keeps the two lists equal. The filters below translate a result's
name, kind and outcome in templates (`{{ r.name|measurand }}`); `typed_key` maps a label typed in the
page's language back to its key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import pass_context

from customslab.domain.enums import ResultKind
from customslab.hs.measurands import MEASURANDS, measurand_key, measurand_label


def N_(message: str) -> str:  # the marker Babel extracts (babel.cfg: -k N_)
    """Mark a string for extraction (entrypoints/web/common.py has the same marker; importing it here
    would tie this module to the templates it registers filters on)."""
    return message


#: Every label of hs.measurands.MEASURANDS, in its order.
LABELS = (
    N_("Alcoholic strength by volume"),
    N_("Excess pressure"),
    N_("Polarisation (sugar)"),
    N_("Cocoa, defatted basis"),
    N_("Theobromine"),
    N_("Caffeine"),
    N_("Meat or fish content"),
    N_("Volatile matter (dmmf)"),
    N_("Gross calorific value"),
    N_("Distilled at 210 °C"),
    N_("Distilled at 300 °C"),
    N_("Petroleum oil content"),
    N_("Specific gravity"),
    N_("Erucic acid"),
    N_("carbon (C)"),
    N_("silicon (Si)"),
    N_("manganese (Mn)"),
    N_("phosphorus (P)"),
    N_("sulfur (S)"),
    N_("chromium (Cr)"),
    N_("nickel (Ni)"),
    N_("molybdenum (Mo)"),
    N_("copper (Cu)"),
    N_("aluminium (Al)"),
    N_("boron (B)"),
    N_("cobalt (Co)"),
    N_("niobium (Nb)"),
    N_("titanium (Ti)"),
    N_("vanadium (V)"),
    N_("tungsten (W)"),
    N_("zirconium (Zr)"),
    N_("lead (Pb)"),
    N_("nitrogen (N)"),
    N_("iron (Fe)"),
    N_("zinc (Zn)"),
    N_("tin (Sn)"),
    N_("magnesium (Mg)"),
    N_("silver (Ag)"),
    N_("gold (Au)"),
    N_("platinum (Pt)"),
    N_("palladium (Pd)"),
    N_("rhodium (Rh)"),
    N_("iridium (Ir)"),
    N_("osmium (Os)"),
    N_("ruthenium (Ru)"),
    N_("arsenic (As)"),
    N_("cadmium (Cd)"),
    N_("tellurium (Te)"),
    N_("bismuth (Bi)"),
    N_("antimony (Sb)"),
    N_("beryllium (Be)"),
    N_("germanium (Ge)"),
    N_("gallium (Ga)"),
    N_("hafnium (Hf)"),
    N_("indium (In)"),
    N_("rhenium (Re)"),
    N_("thallium (Tl)"),
    N_("ethylene (monomer unit)"),
    N_("propylene (monomer unit)"),
    N_("isobutylene (monomer unit)"),
    N_("butene (monomer unit)"),
    N_("hexene (monomer unit)"),
    N_("octene (monomer unit)"),
    N_("styrene (monomer unit)"),
    N_("vinyl chloride (monomer unit)"),
    N_("vinylidene chloride (monomer unit)"),
    N_("tetrafluoroethylene (monomer unit)"),
    N_("vinyl acetate (monomer unit)"),
    N_("methyl methacrylate (monomer unit)"),
    N_("acrylonitrile (monomer unit)"),
    N_("acrylic acid (monomer unit)"),
    N_("Moisture"),
    N_("Ash"),
    N_("Sucrose"),
    N_("Fat content"),
    N_("Protein content"),
    N_("Starch content"),
    N_("Degree of gelatinisation"),
    N_("Density at 20 °C"),
    N_("pH"),
)
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


def typed_key(gettext: Gettext, typed: str) -> str:
    """The key of a measurand whose label was typed in the page's language; otherwise what the service
    maps (an English label, an element's name) or the name as typed."""
    folded = " ".join(typed.casefold().split())
    for m in MEASURANDS:
        if folded and folded == " ".join(gettext(m.label).casefold().split()):
            return m.key
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
    """A result's name as people read it, in the page's language."""
    return _gettext(context)(measurand_label(name))


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
