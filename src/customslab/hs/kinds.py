"""How each kind of rule turns measurements into outcomes. Our own code: the legal logic is the domain.

Every function takes the rule, one candidate code, the measurements and the decision rule, and returns
the outcomes with their three-valued truth. The engine (`evaluate.py`) narrows codes and chains rules.

Sums of contents (platinum-group metals, "other elements") carry an expanded uncertainty combined as
the root sum of squares of the parts' U (GUM, uncorrelated inputs, sensitivity coefficients 1, same k).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from customslab.hs.decision import Comparison, DecisionRule, Tri, all_of, any_of, compare
from customslab.hs.levels import dotted
from customslab.hs.quantities import Measurement
from customslab.hs.rules import Rule

Results = Mapping[str, Measurement]
#: The presence result that states whether iron or steel is usefully malleable (Chapter 72, Note 1).
MALLEABLE = "usefully_malleable"


@dataclass(frozen=True)
class Outcome:
    truth: Tri
    codes: tuple[str, ...]
    explanation: str
    conditions: tuple[dict[str, Any], ...] = ()
    correspond: dict[str, str] = field(default_factory=dict)
    narrow: bool = True
    #: Evidence rules: the inputs still needed to decide (empty when the evidence is conclusive).
    missing: tuple[str, ...] = ()
    #: Evidence rules: measured evidence supports more than one candidate.
    conflicting: bool = False


def _check(
    label: str, value: float, uncertainty: float | None, op: str, limit: float, unit: str, rule: DecisionRule
) -> tuple[Tri, dict[str, Any]]:
    truth = compare(value, uncertainty, op, limit, rule)
    text = Comparison(label, op, limit, unit).text()
    return truth, {
        "condition": text,
        "value": round(value, 6),
        "expanded_uncertainty": uncertainty,
        "result": truth.value,
    }


def _measured(
    results: Results, name: str, op: str, limit: float, rule: DecisionRule
) -> tuple[Tri, dict[str, Any]]:
    m = results.get(name)
    if m is None:
        text = f"{name} {op} {limit:g}"
        return Tri.UNDECIDED, {"condition": text, "value": None, "result": "not measured"}
    return _check(name, m.value, m.expanded_uncertainty, op, limit, m.unit, rule)


def _total(results: Results, names: Iterable[str]) -> tuple[float, float | None]:
    parts = [results[n] for n in names if n in results]
    value = sum(m.value for m in parts)
    us = [m.expanded_uncertainty for m in parts if m.expanded_uncertainty]
    return value, (math.sqrt(sum(u * u for u in us)) if us else None)


def _elements(results: Results) -> dict[str, Measurement]:
    return {name.split(".", 1)[1]: m for name, m in results.items() if name.startswith("element.")}


def threshold(rule: Rule, candidate: str, results: Results, decision: DecisionRule) -> list[Outcome]:
    outcomes = []
    for branch in rule.branches:
        checks = [_measured(results, c.quantity, c.op, c.limit, decision) for c in branch.conditions]
        truth = all_of(t for t, _ in checks)
        # An optional input the branch needs but nobody measured is what keeps it open: name it.
        unmeasured = tuple(c.quantity for c in branch.conditions if c.quantity not in results)
        outcomes.append(
            Outcome(
                truth=truth,
                codes=branch.codes,
                explanation=branch.explanation,
                conditions=tuple(d for _, d in checks),
                correspond=branch.correspond,
                narrow=branch.narrow,
                missing=unmeasured if truth is Tri.UNDECIDED else (),
            )
        )
    return outcomes


def _split(
    cond: tuple[Tri, dict[str, Any]], yes: Callable[[], list[Outcome]], no: Callable[[], list[Outcome]]
) -> list[Outcome]:
    """Walk a decision tree on a three-valued condition; an undecided condition keeps both subtrees open."""
    truth, detail = cond
    if truth is Tri.TRUE:
        chosen = yes()
    elif truth is Tri.FALSE:
        chosen = no()
    else:
        chosen = [replace(o, truth=Tri.UNDECIDED) for o in yes() + no()]
    return [replace(o, conditions=(detail, *o.conditions)) for o in chosen]


def _leaf(codes: Iterable[str], explanation: str) -> Callable[[], list[Outcome]]:
    return lambda: [Outcome(Tri.TRUE, tuple(codes), explanation)]


def _say(rule: Rule, key: str, **values: str) -> str:
    """A reason in the catalogue's words (and language): the rule's text `key`, placeholders filled in."""
    return rule.texts[key].format(**values)


def _any(label: str, checks: list[tuple[Tri, dict[str, Any]]]) -> tuple[Tri, dict[str, Any]]:
    truth = any_of(t for t, _ in checks)
    met = [d["condition"] for t, d in checks if t is not Tri.FALSE]
    return truth, {"condition": label, "result": truth.value, "met": met}


def ferrous(rule: Rule, candidate: str, results: Results, decision: DecisionRule) -> list[Outcome]:
    p = rule.params
    el = _elements(results)
    # A declaration is not overturned on elements nobody reported (Note 1(e), (f)): chromium for goods
    # declared as stainless steel (72.18 to 72.23); every element of the Note 1(f) table for goods declared
    # as other alloy steel (72.24 to 72.29) when no alloying element at all was reported. Those elements
    # are unknown, not 0 %: they keep the class open and are named as still needed.
    stainless_headings = {h for form in p["forms"] for h in form["stainless"]}
    alloy_headings = {h for form in p["forms"] for h in form["alloy"]}
    unreported: tuple[str, ...] = ()
    if candidate[:4] in stainless_headings and "Cr" not in el:
        unreported = ("Cr",)
    elif candidate[:4] in alloy_headings and all(s in set(p["not_alloying"]) for s in el):
        unreported = tuple(p["alloy_limits"])

    def content(symbol: str, op: str, limit: float) -> tuple[Tri, dict[str, Any]]:
        m = el.get(symbol)
        if m is None and symbol in unreported:
            text = Comparison(f"element.{symbol}", op, limit, "%").text()
            return Tri.UNDECIDED, {"condition": text, "value": None, "result": "not measured"}
        value, u = (m.value, m.expanded_uncertainty) if m else (0.0, None)
        return _check(f"element.{symbol}", value, u, op, limit, "%", decision)

    def others_total(excluded: set[str], op: str, limit: float) -> tuple[Tri, dict[str, Any]]:
        value, u = _total(results, [f"element.{s}" for s in el if s not in excluded])
        return _check("other elements (total)", value, u, op, limit, "%", decision)

    def class_codes(name: str) -> list[str]:
        if name in p["classes"]:
            return list(p["classes"][name])
        heading = candidate[:4]
        for form in p["forms"]:
            if any(heading in form[k] for k in ("non_alloy", "stainless", "alloy")):
                return list(form[name])
        return [code for form in p["forms"] for code in form[name]]

    pig, fa, st = p["pig_iron"], p["ferro_alloy"], p["stainless"]
    major = {"C", "Fe", "Cr", "Mn", "P", "Si"}
    ferro_checks = [content(s, ">", v) for s, v in fa["above"].items()]
    if "Cu" in el and el["Cu"].value > fa["copper_max"]:
        ferro_checks.append(
            (Tri.FALSE, {"condition": f"element.Cu ≤ {fa['copper_max']} %", "result": "false"})
        )
    else:
        ferro_checks.append(others_total(major, ">", fa["other_total_above"]))
    ferro_cond = _any("ferro-alloy element limit exceeded (Note 1(c))", ferro_checks)
    if "Fe" in el:
        ferro_cond = (all_of([ferro_cond[0], content("Fe", ">=", fa["iron_min"])[0]]), ferro_cond[1])
    pig_cond = (
        all_of(
            [content("C", ">", pig["carbon_above"])[0]]
            + [content(s, "<=", v)[0] for s, v in pig["max"].items()]
            + [others_total(major, "<=", pig["other_total_max"])[0]]
        ),
        {"condition": f"pig iron: C > {pig['carbon_above']} % within Note 1(a) limits"},
    )
    pig_cond[1]["result"] = pig_cond[0].value
    stainless_cond = (
        all_of([content("C", "<=", st["carbon_max"])[0], content("Cr", ">=", st["chromium_min"])[0]]),
        {"condition": f"stainless: C ≤ {st['carbon_max']} % and Cr ≥ {st['chromium_min']} %"},
    )
    stainless_cond[1]["result"] = stainless_cond[0].value
    limits = dict(p["alloy_limits"])
    not_alloying = set(p["not_alloying"])
    alloy_checks = [content(s, ">=", v) for s, v in limits.items()]
    alloy_checks += [
        content(s, ">=", p["other_element_limit"]) for s in el if s not in limits and s not in not_alloying
    ]
    alloy_cond = _any("other alloy steel: an element reaches its Note 1(f) limit", alloy_checks)

    def steel() -> list[Outcome]:
        return _split(
            stainless_cond,
            _leaf(class_codes("stainless"), _say(rule, "stainless")),
            lambda: _split(
                alloy_cond,
                _leaf(class_codes("alloy"), _say(rule, "alloy")),
                _leaf(class_codes("non_alloy"), _say(rule, "non_alloy")),
            ),
        )

    def not_pig() -> list[Outcome]:
        carbon_high = content("C", ">", pig["carbon_above"])
        if carbon_high[0] is Tri.FALSE or not candidate.startswith(("7201", "7202")):
            return steel()
        return _split(ferro_cond, _leaf(class_codes("ferro_alloy"), _say(rule, "ferro_alloy")), steel)

    def decide() -> list[Outcome]:
        if candidate.startswith("7202"):
            return _split(
                ferro_cond,
                _leaf(class_codes("ferro_alloy"), _say(rule, "ferro_alloy")),
                lambda: _split(pig_cond, _leaf(class_codes("pig_iron"), _say(rule, "pig_iron")), steel),
            )
        malleable = results.get(MALLEABLE)
        if malleable is not None:
            # The laboratory states whether the goods are usefully malleable: steel if they are, whatever the
            # carbon (chromium steels, Note 1(d)); pig iron only if they are not (Note 1(a)).
            said = {"condition": f"{MALLEABLE}: {malleable.reported}", "result": "true"}
            chosen = (
                steel()
                if malleable.value >= 1
                else _split(pig_cond, _leaf(class_codes("pig_iron"), _say(rule, "pig_iron")), not_pig)
            )
            return [replace(o, conditions=(said, *o.conditions)) for o in chosen]
        if not candidate.startswith(("7201", "7206")) and pig_cond[0] is not Tri.FALSE:
            # Declared in a worked form (semi-finished, bars, sheet, wire...): more than 2 % carbon makes pig
            # iron only if the iron is "not usefully malleable" (Note 1(a)), which no composition shows, and
            # chromium steels may contain more carbon (Note 1(d)). The honest answer is open, with the reason.
            unknown = {
                "condition": "usefully malleable (Note 1(a), (d)): not stated for the worked form declared",
                "result": Tri.UNDECIDED.value,
            }
            outcomes = [
                replace(
                    o,
                    truth=Tri.UNDECIDED,
                    conditions=(unknown, pig_cond[1], *o.conditions),
                    missing=(MALLEABLE,),
                )
                for o in [Outcome(Tri.TRUE, tuple(class_codes("pig_iron")), _say(rule, "pig_iron")), *steel()]
            ]
            first = replace(
                outcomes[0], explanation=f"{outcomes[0].explanation} {_say(rule, 'malleability')}"
            )
            return [first, *(o for o in outcomes[1:] if o.truth is not Tri.FALSE)]
        return _split(pig_cond, _leaf(class_codes("pig_iron"), _say(rule, "pig_iron")), not_pig)

    outcomes = decide()
    if not unreported or all(o.truth is not Tri.UNDECIDED for o in outcomes):
        return outcomes
    names = tuple(f"element.{s}" for s in unreported)
    said = {
        "condition": f"not reported for the declared class (Note 1(e), (f)): {', '.join(names)}",
        "result": Tri.UNDECIDED.value,
    }
    return [
        replace(o, missing=tuple(dict.fromkeys((*o.missing, *names))), conditions=(said, *o.conditions))
        if o.truth is Tri.UNDECIDED
        else o
        for o in outcomes
    ]


def copper(rule: Rule, candidate: str, results: Results, decision: DecisionRule) -> list[Outcome]:
    p = rule.params
    family = p["families"].get(candidate[:4])
    if family is None:
        return []
    el = _elements(results)
    cu = el["Cu"]
    high = _check("element.Cu", cu.value, cu.expanded_uncertainty, ">=", p["refined_min"], "%", decision)
    base = _check(
        "element.Cu", cu.value, cu.expanded_uncertainty, ">=", p["refined_with_limits_min"], "%", decision
    )
    within = [
        _check(
            f"element.{s}",
            m.value,
            m.expanded_uncertainty,
            "<=",
            p["limits"].get(s, p["other_element_limit"]),
            "%",
            decision,
        )
        for s, m in el.items()
        if s != "Cu"
    ]
    all_within = all_of(t for t, _ in within)
    refined = any_of([high[0], all_of([base[0], all_within])])
    detail = {
        "condition": f"Cu ≥ {p['refined_min']} %, or Cu ≥ {p['refined_with_limits_min']} % "
        "with every other element within its limit",
        "result": refined.value,
        "checks": [high[1], base[1], *(d for _, d in within)],
    }

    def chapter_74() -> list[Outcome]:
        return _split(
            (refined, detail),
            _leaf(family["refined"], _say(rule, "refined")),
            _leaf(family["alloy"], _say(rule, "alloy")),
        )

    def exceeds(symbol: str, m: Measurement) -> tuple[Tri, dict[str, Any]]:
        """Does copper exceed `symbol`? The difference against zero, its U the root sum of squares of both
        U; an exact tie is undecided (neither predominates, and Section XV Note 5 names no tie-break)."""
        diff = cu.value - m.value
        u = math.sqrt((cu.expanded_uncertainty or 0) ** 2 + (m.expanded_uncertainty or 0) ** 2) or None
        truth = Tri.UNDECIDED if diff == 0 else compare(diff, u, ">", 0.0, decision)
        label = f"element.Cu > element.{symbol}"
        return truth, {
            "condition": label,
            "value": round(diff, 6),
            "expanded_uncertainty": u,
            "result": truth.value,
        }

    others = {s: m for s, m in el.items() if s != "Cu"}
    if not others:
        return chapter_74()
    # Copper must predominate by weight over each other element (Note 1(b)); otherwise the goods are an
    # alloy of the metal that predominates (Section XV, Note 5(a)) and leave Chapter 74.
    checks = [exceeds(s, m) for s, m in others.items()]
    predominates = all_of(t for t, _ in checks)
    top = max(others, key=lambda s: others[s].value)
    chapter = str(p.get("predominating_chapters", {}).get(top, p.get("other_chapter", "81")))
    said = {
        "condition": "Cu predominates by weight over each other element (Note 1(b); Section XV, Note 5)",
        "result": predominates.value,
        "checks": [d for _, d in checks],
    }
    return _split((predominates, said), chapter_74, _leaf((chapter,), _say(rule, "not_copper", element=top)))


def precious_metal(rule: Rule, candidate: str, results: Results, decision: DecisionRule) -> list[Outcome]:
    p = rule.params
    el = _elements(results)
    metals = p["precious"]

    def base_metal() -> list[Outcome]:
        chapters: Mapping[str, str] = p["base_metal_chapters"]
        base = {s: m.value for s, m in el.items() if s in chapters}
        if not base:
            codes = sorted(set(chapters.values()))
            return [Outcome(Tri.TRUE, tuple(codes), _say(rule, "base_metals_unreported"))]
        top = max(base, key=lambda s: base[s])
        return [Outcome(Tri.TRUE, (chapters[top],), _say(rule, "base_metal", element=top))]

    def level(index: int) -> list[Outcome]:
        if index == len(metals):
            return base_metal()
        metal = metals[index]
        value, u = _total(results, [f"element.{s}" for s in metal["elements"]])
        cond = _check(
            f"{metal['metal']} ({'+'.join(metal['elements'])})", value, u, ">=", p["threshold"], "%", decision
        )
        leaf = _leaf(metal["codes"], _say(rule, metal["metal"]))
        return _split(cond, leaf, lambda: level(index + 1))

    return level(0)


def copolymer(rule: Rule, candidate: str, results: Results, decision: DecisionRule) -> list[Outcome]:
    p = rule.params
    table: Mapping[str, Mapping[str, Any]] = p["monomers"]
    units = {n.split(".", 1)[1]: m for n, m in results.items() if n.startswith("monomer.")}
    unknown = sorted(set(units) - set(table))
    if unknown:
        # Refuse rather than guess: an unmapped unit could be the predominating one.
        raise ValueError(
            f"monomer(s) {', '.join(unknown)} are not mapped to a heading; known: {', '.join(table)}"
        )
    by_heading: dict[str, list[str]] = {}
    for name in units:
        by_heading.setdefault(table[name]["heading"], []).append(f"monomer.{name}")
    totals = {h: _total(results, names) for h, names in by_heading.items()}
    ranked = sorted(totals, key=lambda h: (totals[h][0], h), reverse=True)
    winner = ranked[0]
    contenders = [winner]
    details: list[dict[str, Any]] = [
        {
            "condition": f"heading {h}: {' + '.join(by_heading[h])}",
            "value": round(totals[h][0], 6),
            "expanded_uncertainty": totals[h][1],
        }
        for h in ranked
    ]
    for other in ranked[1:]:
        # Predominance is a comparison of two uncertain sums: the difference against zero.
        (a, ua), (b, ub) = totals[winner], totals[other]
        u = math.sqrt((ua or 0) ** 2 + (ub or 0) ** 2) or None
        truth = compare(a - b, u, ">", 0.0, decision)
        if truth is Tri.FALSE and a == b:
            truth = Tri.TRUE  # exact tie: the heading last in numerical order applies (ranked puts it first)
        if truth is not Tri.TRUE:
            contenders.append(other)
    outcomes = []
    for heading in contenders:
        names = by_heading[heading]
        top = max(names, key=lambda n: units[n.split(".", 1)[1]].value)
        m = units[top.split(".", 1)[1]]
        poly, poly_detail = _check(top, m.value, m.expanded_uncertainty, ">=", p["poly_min"], "%", decision)
        entry = table[top.split(".", 1)[1]]
        truth = Tri.TRUE if len(contenders) == 1 else Tri.UNDECIDED
        monomer, poly_min = top.split(".", 1)[1], f"{p['poly_min']:g}"
        for sub_truth, codes, text in (
            (poly, entry["poly"], _say(rule, "poly", heading=heading, monomer=monomer, poly_min=poly_min)),
            (poly.negate(), entry["copolymer"], _say(rule, "copolymer", heading=heading)),
        ):
            if sub_truth is Tri.FALSE:
                continue
            final = truth if sub_truth is Tri.TRUE else Tri.UNDECIDED
            outcomes.append(Outcome(final, tuple(codes), text, (*details, poly_detail)))
    return outcomes


def evidence(rule: Rule, candidate: str, results: Results, decision: DecisionRule) -> list[Outcome]:
    """A question the legal text answers without a number (re-esterified against natural fish oil): each
    branch is one piece of evidence for its candidate. The rule decides a candidate only when the evidence
    for it is conclusive (every input of one of its `conclusive` sets supports it) and no measured
    evidence supports another; otherwise every candidate stays open and the missing evidence is named."""
    conclusive: Mapping[str, list[list[str]]] = rule.params["conclusive"]
    groups: dict[str, tuple[str, ...]] = {}
    support: dict[str, set[str]] = {}
    conditions: list[dict[str, Any]] = []
    reasons: dict[str, list[str]] = {}
    # candidate → input → for each branch for the candidate reading it: did its measurement refute it?
    refuted_by: dict[str, dict[str, list[bool]]] = {}
    for branch in rule.branches:
        key = branch.codes[0]
        groups.setdefault(key, branch.codes)
        checks = [_measured(results, c.quantity, c.op, c.limit, decision) for c in branch.conditions]
        for (_, detail), c in zip(checks, branch.conditions, strict=True):
            detail["condition"] = c.text()
            detail["supports"] = " ".join(branch.codes)
        conditions.extend(d for _, d in checks)
        for (truth, _), c in zip(checks, branch.conditions, strict=True):
            if truth is Tri.FALSE and c.quantity in results:
                refuted_by.setdefault(key, {}).setdefault(c.quantity, []).append(True)
            else:
                refuted_by.setdefault(key, {}).setdefault(c.quantity, []).append(False)
        if all_of(t for t, _ in checks) is Tri.TRUE:
            support.setdefault(key, set()).update(c.quantity for c in branch.conditions)
            reasons.setdefault(key, []).append(branch.explanation)

    refuted = {k: {i for i, flags in by.items() if all(flags)} for k, by in refuted_by.items()}

    def missing_for(key: str) -> list[str]:
        """The unmeasured inputs of the candidate's nearest conclusive set that measured evidence does not
        already contradict ([] when conclusive, or when every set is measured and none supports it)."""
        have = support.get(key, set())
        open_sets = [s for s in conclusive[key] if not refuted.get(key, set()) & set(s)]
        # A set whose inputs are all measured without deciding is spent; only the others still need results.
        needs = [[i for i in s if i not in have and i not in results] for s in open_sets]
        return min((n for n in needs if n), key=len, default=[])

    def concluded(key: str) -> bool:
        return any(all(i in support.get(key, set()) for i in s) for s in conclusive[key])

    def label(key: str) -> str:
        return " / ".join(dotted(c) for c in groups[key])

    supported = [k for k in groups if k in support]
    if len(supported) == 1 and concluded(supported[0]):
        key = supported[0]
        text = " ".join([*reasons[key], _say(rule, "conclusive", codes=label(key))])
        return [Outcome(Tri.TRUE, groups[key], text, tuple(conditions))]
    conflicting = len(supported) > 1
    if conflicting:
        why = _say(rule, "conflicting", codes=", ".join(label(k) for k in supported))
        needed: list[str] = []
    else:
        needs = {k: missing_for(k) for k in groups}
        needed = list(dict.fromkeys(i for k in groups for i in needs[k]))
        parts = "; ".join(f"{label(k)}: {', '.join(needs[k])}" for k in groups if needs[k])
        # Nothing left to measure (the evidence lies between the limits): the verdict says so itself.
        why = _say(rule, "inconclusive", missing=parts) if parts else ""
    # Each candidate keeps the evidence for it; the reason the rule cannot decide is said once, last.
    last = len(groups) - 1
    return [
        Outcome(
            Tri.UNDECIDED,
            groups[k],
            " ".join([*reasons.get(k, []), *([why] if i == last and why else [])]),
            tuple(conditions) if i == 0 else (),
            missing=tuple(needed),
            conflicting=conflicting,
        )
        for i, k in enumerate(groups)
    ]


KIND_EVALUATORS: dict[str, Callable[[Rule, str, Results, DecisionRule], list[Outcome]]] = {
    "threshold": threshold,
    "ferrous": ferrous,
    "copper": copper,
    "precious_metal": precious_metal,
    "copolymer": copolymer,
    "evidence": evidence,
}


def required_present(rule: Rule, results: Results) -> list[str]:
    """The inputs the rule needs that are missing (empty when it can be evaluated)."""
    if rule.kind == "copolymer":
        return [] if any(n.startswith("monomer.") for n in results) else ["monomer.<name>"]
    if rule.kind == "evidence":
        # An evidence rule fires on any one piece of its evidence, unless it names what it requires.
        if rule.requires:
            return [name for name in rule.requires if name not in results]
        return [] if any(i in results for i in rule.inputs) else list(rule.inputs)
    if rule.kind == "precious_metal":
        wanted = {f"element.{s}" for m in rule.params["precious"] for s in m["elements"]}
        return [] if wanted & set(results) else ["element.Ag / element.Au / element.Pt ..."]
    missing = [name for name in rule.requires if name not in results]
    families = [i for i in rule.inputs if "<" in i]
    if not missing and not rule.requires and families:
        # A rule that reads only a family (fibre.<name>) needs at least one result of that family.
        prefixes = tuple(f.split("<", 1)[0] for f in families)
        return [] if any(n.startswith(prefixes) for n in results) else families
    return missing
