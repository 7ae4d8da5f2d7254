"""Computed rule kinds for alloys (see kinds.py for the contract: rule, candidate, results, decision →
outcomes). Registered in evaluate.py (EVALUATORS) and rules.py (TEXTS: the reason keys each kind needs).

* ``ferrous_grade``: a grade of pig iron or steel defined by a Subheading Note to Chapter 72 (alloy pig
  iron, free-cutting, silicon-electrical, high-speed, silico-manganese steel). The rule's params state the
  definition as data (``grade``: element conditions) and, for each heading, the subheadings of the grade
  and the others. The class (pig iron, non-alloy or alloy steel) is the Chapter 72 class rule's; this kind
  only chooses among the subheadings of the heading it left.
* ``copper_alloy``: the copper-alloy families of Chapter 74 Subheading Note 1 (brass, bronze, nickel
  silver, cupro-nickel), weighed by predominance, for the subheadings that name them.

An element the laboratory did not report is never taken as absent where its presence could make the
goods the grade: a test an element passes by being present (a grade's "one or more of", "at least two
of", "0.6 % or more") is open while the element is unreported, so a grade is not ruled out on a content
nobody measured; the outcome is undecided and names the elements still needed (``Outcome.missing``).
Conditions that exclude a grade by the presence of other elements ("no other element in a proportion
that would give the steel the characteristics of another alloy steel", "not more than 1 % aluminium")
read the elements reported and take an unreported one as absent, as the Chapter 72 class rule does: the
set of "other elements" is open, so no analysis could show all of them. The copper-alloy families read
the reported elements in the same way, and decide a family only when copper predominates (Chapter 74,
Note 1(b)). Comparisons follow the decision rule: a content whose interval value ± U reaches across a
limit, or a predominance whose difference interval reaches zero, is undecided.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from itertools import combinations
from typing import Any

from customslab.hs.decision import Comparison, DecisionRule, Tri, all_of, any_of, compare
from customslab.hs.kinds import Outcome, Results, _check, _elements, _leaf, _say, _split, _total
from customslab.hs.levels import dotted
from customslab.hs.quantities import Measurement
from customslab.hs.rules import Rule

Check = tuple[Tri, dict[str, Any]]


#: Comparisons an element passes by being present in a large enough proportion.
_LOWER_BOUNDS = (">", ">=")


def _content(
    el: Mapping[str, Measurement],
    symbol: str,
    op: str,
    limit: float,
    rule: DecisionRule,
    *,
    open_if_unreported: bool = False,
) -> Check:
    """An element's content against a limit. An element not reported counts as 0 %, unless
    `open_if_unreported`: then the test is undecided and names the element as missing."""
    m = el.get(symbol)
    if m is None and open_if_unreported:
        return Tri.UNDECIDED, {
            "condition": Comparison(f"element.{symbol}", op, limit, "%").text(),
            "value": None,
            "result": "not reported",
            "missing": [f"element.{symbol}"],
        }
    value, u = (m.value, m.expanded_uncertainty) if m else (0.0, None)
    return _check(f"element.{symbol}", value, u, op, limit, "%", rule)


def _with_missing(detail: dict[str, Any], truth: Tri, checks: Iterable[Check]) -> dict[str, Any]:
    """Name, on an undecided condition, the unreported elements that keep its undecided parts open."""
    if truth is Tri.UNDECIDED:
        missing = list(
            dict.fromkeys(n for t, d in checks if t is Tri.UNDECIDED for n in d.get("missing", ()))
        )
        if missing:
            detail["missing"] = missing
    return detail


def _group(label: str, checks: list[Check], combine: Callable[[Iterable[Tri]], Tri]) -> Check:
    truth = combine(t for t, _ in checks)
    detail = {"condition": label, "result": truth.value, "checks": [d for _, d in checks]}
    return truth, _with_missing(detail, truth, checks)


def _combined(
    el: Mapping[str, Measurement], names: list[str], op: str, limit: float, rule: DecisionRule
) -> Check:
    """The combined content of `names` against a limit. Unreported elements add an unknown, non-negative
    amount: a lower bound the reported ones miss, or an upper bound they meet, stays open."""
    value, u = _total({f"element.{s}": m for s, m in el.items()}, [f"element.{s}" for s in names])
    truth, detail = _check(" + ".join(f"element.{s}" for s in names), value, u, op, limit, "%", rule)
    unreported = [f"element.{s}" for s in names if s not in el]
    could_change = truth is not Tri.TRUE if op in _LOWER_BOUNDS else truth is not Tri.FALSE
    if unreported and could_change:
        truth = Tri.UNDECIDED
        detail = {**detail, "result": truth.value, "missing": unreported}
    return truth, detail


def _family(rule: Rule, candidate: str) -> dict[str, Any] | None:
    family: dict[str, Any] | None = rule.params["families"].get(candidate[:4])
    return family


def _codes(candidate: str, codes: Iterable[str]) -> tuple[str, ...]:
    """The codes of an outcome. A declared subheading among several the grade leaves open (7228.30 among
    the bars that are not high-speed steel, which their form tells apart) stands, but the rule decides it
    only as far as its heading: the outcome names the heading, so the verdict claims no more."""
    group = tuple(codes)
    if len(candidate) == 6 and candidate in group and len(group) > 1:
        return (candidate[:4],)
    return group


# --- Chapter 72: grades of pig iron and steel -------------------------------------------------------


def _grade(p: Mapping[str, Any], el: Mapping[str, Measurement], rule: DecisionRule) -> Check:
    """Does the composition meet the grade's definition (``name``: how the report names it)? Every part
    given must hold. An element passing a test by its presence (``>``, ``≥``) is open while unreported,
    and an undecided result names those elements under ``missing``; an upper limit (``<``, ``≤``) and
    ``others_below`` read the reported elements and take an unreported one as absent:

    * ``all``: {element: [[op, limit], ...]}, each test holds;
    * ``any``: {element: [op, limit]}, one or more holds ("one or more of the following elements");
    * ``two_of``: {elements: [...], combined: [op, limit]}: at least two of the elements present, their
      combined content within the limit (high-speed steel);
    * ``others_below``: [element, ...], the elements the definition names; every other element (except
      those of ``not_alloying``) stays below its Chapter 72 Note 1(f) limit ("no other element in a
      proportion that would give the steel the characteristics of another alloy steel").
    """
    grade = p["grade"]
    parts: list[Check] = []

    def content(symbol: str, op: str, limit: float) -> Check:
        return _content(el, symbol, op, limit, rule, open_if_unreported=op in _LOWER_BOUNDS)

    if "all" in grade:
        checks = [content(s, op, limit) for s, tests in grade["all"].items() for op, limit in tests]
        parts.append(_group("each of", checks, all_of))
    if "any" in grade:
        checks = [content(s, op, limit) for s, (op, limit) in grade["any"].items()]
        parts.append(_group("one or more of", checks, any_of))
    if "two_of" in grade:
        names = list(grade["two_of"]["elements"])
        present = {s: content(s, ">", 0.0) for s in names}
        pairs = [all_of([present[a][0], present[b][0]]) for a, b in combinations(names, 2)]
        two = any_of(pairs)
        label = f"at least two of {', '.join(names)} present"
        parts.append((two, _with_missing({"condition": label, "result": two.value}, two, present.values())))
        op, limit = grade["two_of"]["combined"]
        parts.append(_combined(el, names, op, limit, rule))
    if "others_below" in grade:
        named = set(grade["others_below"]) | set(p["not_alloying"])
        limits: Mapping[str, float] = p["alloy_limits"]
        checks = [
            _content(el, s, "<", limits.get(s, p["other_element_limit"]), rule) for s in el if s not in named
        ]
        parts.append(_group("no other element reaches its Chapter 72 Note 1(f) limit", checks, all_of))
    return _group(str(grade["name"]), parts, all_of)


def ferrous_grade(rule: Rule, candidate: str, results: Results, decision: DecisionRule) -> list[Outcome]:
    family = _family(rule, candidate)
    if family is None:
        return []
    p = rule.params
    cond = _grade(p, _elements(results), decision)
    # Undecided for want of an element that could make the goods the grade: name it (the verdict says
    # "still needed: lead (Pb) ..."); the grade and the other subheadings both stay open.
    missing = tuple(cond[1].get("missing", ()))
    # A whole heading (the class rule moved the goods into it, keeping their form) may hold subheadings
    # defined by form ahead of, or apart from, the grade (reinforcing bars, angles): they stay open.
    form = list(family.get("open", [])) if len(candidate) == 4 else []
    extra = f" {_say(rule, 'form', codes=', '.join(dotted(c) for c in form))}" if form else ""
    outcomes = _split(
        cond,
        _leaf(_codes(candidate, [*family["grade"], *form]), _say(rule, "grade") + extra),
        _leaf(_codes(candidate, [*family["other"], *form]), _say(rule, "other") + extra),
    )
    return [replace(o, missing=missing) for o in outcomes] if missing else outcomes


def _ferrous_texts(params: dict[str, Any]) -> list[str]:
    families = params.get("families") or {}
    return ["grade", "other"] + (["form"] if any(f.get("open") for f in families.values()) else [])


# --- Chapter 74: copper-alloy families -----------------------------------------------------------------


def _exceeds(el: Mapping[str, Measurement], a: str, b: str, rule: DecisionRule) -> Check:
    """Does element a predominate by weight over element b? The difference of two uncertain contents is
    compared with zero, its U the root sum of squares of theirs."""
    ma, mb = el.get(a), el.get(b)
    va, ua = (ma.value, ma.expanded_uncertainty or 0.0) if ma else (0.0, 0.0)
    vb, ub = (mb.value, mb.expanded_uncertainty or 0.0) if mb else (0.0, 0.0)
    u = math.hypot(ua, ub) or None
    truth = compare(va - vb, u, ">", 0.0, rule)
    return truth, {
        "condition": f"element.{a} > element.{b}",
        "value": round(va - vb, 6),
        "expanded_uncertainty": u,
        "result": truth.value,
    }


def _predominates(el: Mapping[str, Measurement], a: str, skip: set[str], rule: DecisionRule) -> list[Check]:
    return [_exceeds(el, a, s, rule) for s in el if s not in skip | {a, "Cu"}]


def _copper_predominates(el: Mapping[str, Measurement], rule: DecisionRule) -> Check:
    """Chapter 74, Note 1(b): copper predominates by weight over each of the other elements reported."""
    checks = [_exceeds(el, "Cu", s, rule) for s in el if s != "Cu"]
    return _group("element.Cu predominates over each other element (Chapter 74, Note 1(b))", checks, all_of)


def _copper_families(
    p: Mapping[str, Any], el: Mapping[str, Measurement], rule: DecisionRule
) -> dict[str, Check]:
    """Subheading Note 1 to Chapter 74, (a) to (d), each as a three-valued condition."""
    brass_p, bronze_p, nisi_p, cuni_p = p["brass"], p["bronze"], p["nickel_silver"], p["cupro_nickel"]
    brass = [
        _content(el, "Zn", ">", 0.0, rule),
        *_predominates(el, "Zn", set(), rule),
        _content(el, "Ni", "<", brass_p["nickel_below"], rule),
        _content(el, "Sn", "<", brass_p["tin_below"], rule),
    ]
    # Tin predominates over each other element; but with 3 % tin or more, zinc may exceed tin if it stays
    # below 10 %.
    zinc_allowed = _group(
        f"element.Sn > element.Zn, or element.Sn ≥ {bronze_p['tin_min_for_zinc']:g} % "
        f"and element.Zn < {bronze_p['zinc_below']:g} %",
        [
            _exceeds(el, "Sn", "Zn", rule),
            _group(
                "zinc exception",
                [
                    _content(el, "Sn", ">=", bronze_p["tin_min_for_zinc"], rule),
                    _content(el, "Zn", "<", bronze_p["zinc_below"], rule),
                ],
                all_of,
            ),
        ],
        any_of,
    )
    bronze = [_content(el, "Sn", ">", 0.0, rule), *_predominates(el, "Sn", {"Zn"}, rule), zinc_allowed]
    nickel_silver = [
        _content(el, "Ni", ">=", nisi_p["nickel_min"], rule),
        _content(el, "Zn", ">", 0.0, rule),
    ]
    cupro_nickel = [
        _content(el, "Ni", ">", 0.0, rule),
        _content(el, "Zn", "<=", cuni_p["zinc_max"], rule),
        *_predominates(el, "Ni", set(), rule),
    ]
    return {
        "brass": _group("copper-zinc base alloy (brass), Subheading Note 1(a)", brass, all_of),
        "bronze": _group("copper-tin base alloy (bronze), Subheading Note 1(b)", bronze, all_of),
        "nickel_silver": _group(
            "copper-nickel-zinc base alloy (nickel silver), Subheading Note 1(c)", nickel_silver, all_of
        ),
        "cupro_nickel": _group(
            "copper-nickel base alloy (cupro-nickel), Subheading Note 1(d)", cupro_nickel, all_of
        ),
    }


#: The code group of each family in a heading; a family the heading does not name is "other".
_GROUP = {"brass": "brass", "bronze": "bronze", "nickel_silver": "nickel", "cupro_nickel": "nickel"}


def copper_alloy(rule: Rule, candidate: str, results: Results, decision: DecisionRule) -> list[Outcome]:
    family = _family(rule, candidate)
    if family is None:
        return []
    p = rule.params
    el = _elements(results)
    # Subheading Note 1 sorts copper alloys; an alloy in which copper does not predominate (or may not,
    # within the uncertainty) is no copper alloy of Chapter 74 (Note 1(b); Section XV, Note 5 puts it
    # with the predominating base metal, which the class rule ch74-refined-copper decides). This rule
    # then decides no family: no outcome, so the candidate keeps what the class rule decided.
    if _copper_predominates(el, decision)[0] is not Tri.TRUE:
        return []
    conds = _copper_families(p, el, decision)
    none = all_of(t.negate() for t, _ in conds.values())
    members: dict[str, list[tuple[Tri, str]]] = {}
    for name, (truth, _) in conds.items():
        group = _GROUP[name] if _GROUP[name] in family else "other"
        members.setdefault(group, []).append((truth, _say(rule, name)))
    members.setdefault("other", []).append((none, _say(rule, "other")))
    outcomes = []
    for group, entries in members.items():
        truth = any_of(t for t, _ in entries)
        if truth is Tri.FALSE:
            continue
        text = " ".join(s for t, s in entries if t is not Tri.FALSE)
        correspond = dict((p.get("correspond") or {}).get(group) or {})
        outcomes.append(Outcome(truth, _codes(candidate, family[group]), text, correspond=correspond))
    if sum(o.truth is Tri.TRUE for o in outcomes) > 1:
        outcomes = [replace(o, explanation=f"{o.explanation} {_say(rule, 'overlap')}") for o in outcomes]
    details = tuple(d for _, d in conds.values())
    return [replace(o, conditions=details) if i == 0 else o for i, o in enumerate(outcomes)]


#: kind → evaluator.
EVALUATORS: dict[str, Callable[[Rule, str, Results, DecisionRule], list[Outcome]]] = {
    "ferrous_grade": ferrous_grade,
    "copper_alloy": copper_alloy,
}
#: kind → the 'texts' keys a rule of that kind must give, from its params.
TEXTS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "ferrous_grade": _ferrous_texts,
    "copper_alloy": lambda p: ["brass", "bronze", "nickel_silver", "cupro_nickel", "other", "overlap"],
}
