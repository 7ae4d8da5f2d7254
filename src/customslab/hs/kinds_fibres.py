"""Computed rule kinds for fibres (see kinds.py for the contract: rule, candidate, results, decision →
outcomes). Registered in evaluate.py (EVALUATORS) and rules.py (TEXTS: the reason keys each kind needs).

Fibre shares are results ``fibre.<name>=60%`` (% by mass of the textile blend, e.g. ISO 1833). A rule's
params map every fibre it knows to its textile material (``fibres``); a fibre it does not know is refused
rather than guessed, since it could be the one that predominates.

* ``textile_predominance`` (Section XI, Note 2): goods of two or more textile materials are classified as
  if consisting wholly of the material that predominates by weight over each other single material. The
  chapter is chosen first, then the heading within it, disregarding the materials of other chapters
  (Note 2(B)(b)); Chapters 54 and 55 count as one chapter when both occur with another chapter (2(B)(c));
  the materials one heading names together are one material (2(B)(d), the params' ``materials``). When
  none predominates, the heading last in numerical order among those equally meriting consideration
  applies.
* ``textile_fabric``: the share and weight limits of a heading's woven fabrics: "containing 85 % or more
  by weight of cotton", "mixed mainly or solely with man-made fibres", "weighing not more than 200 g/m²".

Predominance is a comparison of two uncertain sums: their difference against zero, U the root sum of
squares of the parts' U (as kinds.copolymer). The part of the composition the results do not report
(100 % less the sum of the reported shares) is counted against every conclusion, since it could be any
fibre: a partial composition decides only what no fibre in the rest could change, and otherwise names
the rest of the composition as the missing evidence.

"Mixed mainly or solely with" is not defined in the legal text. It is read two ways: (a) the fibres named
outweigh all the other admixed fibres together; (b) they outweigh each other single admixed material,
the measure of Note 2(A). Reading (a) implies (b); a rule decides where the two agree and leaves both
headings open where they do not, saying why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from customslab.hs.decision import DecisionRule, Tri, all_of, any_of, compare
from customslab.hs.kinds import Outcome, Results, _check, _measured, _say
from customslab.hs.levels import dotted
from customslab.hs.quantities import Measurement
from customslab.hs.rules import Rule

FIBRE = "fibre."
#: The fabric weight (mass per unit area, g/m²) the woven fabric headings are split by.
WEIGHT = "fabric_weight"
#: How far the reported shares may add up beyond 100 % (rounding of each share), besides their U.
ROUNDING = 0.5

#: A value and its expanded uncertainty (None when not given).
Value = tuple[float, float | None]


def _sum(parts: Iterable[Measurement]) -> Value:
    items = list(parts)
    us = [m.expanded_uncertainty for m in items if m.expanded_uncertainty]
    return sum(m.value for m in items), (math.sqrt(sum(u * u for u in us)) if us else None)


def _rss(*us: float | None) -> float | None:
    return math.sqrt(sum((u or 0.0) ** 2 for u in us)) or None


def _codes(codes: Iterable[Any]) -> str:
    return ", ".join(dotted(str(c)) for c in codes)


@dataclass(frozen=True)
class Blend:
    """The reported fibre composition: each fibre's result and textile material, and the share of the
    blend the results leave unreported (`rest`, % by mass, never negative)."""

    shares: dict[str, Measurement]
    material: dict[str, str]
    rest: float

    def of(self, materials: Iterable[str]) -> Value:
        wanted = set(materials)
        return _sum(m for f, m in self.shares.items() if self.material[f] in wanted)

    def materials(self) -> list[str]:
        """The materials present: a fibre reported at 0 % is absent (it involves no chapter)."""
        return list(dict.fromkeys(self.material[f] for f, m in self.shares.items() if m.value > 0))

    def names(self, materials: Iterable[str]) -> str:
        wanted = set(materials)
        return " + ".join(f"{FIBRE}{f}" for f in self.shares if self.material[f] in wanted)

    def detail(self, label: str, materials: Iterable[str]) -> dict[str, Any]:
        group = list(materials)
        value, u = self.of(group)
        return {
            "condition": f"{label}: {self.names(group)}",
            "value": round(value, 6),
            "expanded_uncertainty": u,
        }


def blend(rule: Rule, results: Results) -> Blend | None:
    """The fibre composition the results report, each fibre mapped to its material by the rule's params;
    None when no fibre share was reported."""
    table: Mapping[str, Any] = rule.params["fibres"]
    shares = {n[len(FIBRE) :]: m for n, m in results.items() if n.startswith(FIBRE)}
    if not shares:
        return None
    unknown = sorted(set(shares) - set(table))
    if unknown:
        raise ValueError(
            f"fibre(s) {', '.join(unknown)} are not mapped to a textile material; known: {', '.join(table)}"
        )
    total, u = _sum(shares.values())
    if total - (u or 0.0) > 100 + ROUNDING:
        raise ValueError(f"the fibre shares add up to {total:g} %, more than the whole blend")
    return Blend(shares, {f: str(table[f]) for f in shares}, max(0.0, round(100 - total, 9)))


@dataclass(frozen=True)
class Contest:
    """Which of several weighed groups may predominate."""

    #: The groups that may predominate, the leader first; one when the leader surely predominates.
    contenders: list[str]
    #: The leader leads only by the rule of the heading last in numerical order (an exact tie).
    tie: bool
    #: Does the leader outweigh the unreported rest, which could be one more material of its own?
    over_rest: Tri

    @property
    def decided(self) -> bool:
        return len(self.contenders) == 1 and self.over_rest is Tri.TRUE


def contest(
    totals: Mapping[str, Value], order: Mapping[str, str], rest: float, decision: DecisionRule
) -> Contest:
    """Weigh the groups: the heaviest leads (an exact tie goes to the one last in `order`); another group
    stays a contender unless the leader surely outweighs it with the rest counted for the other."""
    ranked = sorted(totals, key=lambda k: (totals[k][0], order[k]), reverse=True)
    leader = ranked[0]
    a, ua = totals[leader]
    contenders, tie = [leader], False
    for other in ranked[1:]:
        b, ub = totals[other]
        truth = compare(a - b - rest, _rss(ua, ub), ">", 0.0, decision)
        if truth is Tri.FALSE and a == b and not rest:
            truth, tie = Tri.TRUE, True  # equal: the heading last in numerical order applies
        if truth is not Tri.TRUE:
            contenders.append(other)
    over_rest = compare(a - rest, ua, ">", 0.0, decision) if rest else Tri.TRUE
    return Contest(contenders, tie, over_rest)


# -- Section XI, Note 2: the predominating textile material ------------------------------------------


def predominance(rule: Rule, candidate: str, results: Results, decision: DecisionRule) -> list[Outcome]:
    found = blend(rule, results)
    if found is None:
        return []
    outcomes, decided = _predominance(rule, found, found.rest, decision)
    if not decided and found.rest and _predominance(rule, found, 0.0, decision)[1]:
        # Decided but for the unreported rest: that is the evidence still needed.
        missing = (_say(rule, "rest", rest=f"{found.rest:g}"),)
        outcomes = [replace(o, missing=missing) for o in outcomes]
    return outcomes


def _predominance(
    rule: Rule, found: Blend, rest: float, decision: DecisionRule
) -> tuple[list[Outcome], bool]:
    p = rule.params
    materials: Mapping[str, Mapping[str, Any]] = p["materials"]
    form = str(p["form"])

    def first(material: str) -> str:
        return str(materials[material][form][0])

    present = found.materials()
    if not present:
        return [], False
    chapter = {m: str(materials[m]["chapter"]) for m in present}
    involved = set(chapter.values())
    merged = {"54", "55"} <= involved and len(involved) > 2
    if merged:
        chapter = {m: "54+55" if c in ("54", "55") else c for m, c in chapter.items()}
    groups: dict[str, list[str]] = {}
    for m in present:
        groups.setdefault(chapter[m], []).append(m)
    chapters = contest(
        {c: found.of(ms) for c, ms in groups.items()},
        {c: max(first(m) for m in ms) for c, ms in groups.items()},
        rest,
        decision,
    )
    details = [found.detail(f"chapter {c}", groups[c]) for c in sorted(groups)]
    if rest:
        details.append({"condition": "not reported (could be any fibre)", "value": round(rest, 6)})
    leaves: list[tuple[str, bool]] = []  # (material, decided by the tie rule)
    decided = chapters.decided
    for c in chapters.contenders:
        ms = groups[c]
        within = contest({m: found.of([m]) for m in ms}, {m: first(m) for m in ms}, rest, decision)
        if len(ms) > 1:
            details += [found.detail(f"chapter {c}, heading {dotted(first(m))}", [m]) for m in ms]
        decided = decided and within.decided
        leaves += [(m, chapters.tie or within.tie) for m in within.contenders]
    prefix = [_say(rule, "chapters_54_55")] if merged else []
    truth = Tri.TRUE if decided else Tri.UNDECIDED
    outcomes = []
    for i, (m, tie) in enumerate(leaves):
        codes = tuple(str(x) for x in materials[m][form])
        words = {"codes": _codes(codes), "chapter": str(materials[m]["chapter"])}
        key = ("tie" if tie else "predominates") if decided else "open"
        reason = _say(rule, key, **words)
        outcomes.append(Outcome(truth, codes, " ".join([*prefix, reason]), tuple(details) if i == 0 else ()))
    return outcomes, decided


# -- Woven fabrics: the share and weight limits of the headings --------------------------------------


def fabric(rule: Rule, candidate: str, results: Results, decision: DecisionRule) -> list[Outcome]:
    found = blend(rule, results)
    if found is None:
        return []
    outcomes = _fabric(rule, candidate, results, found, found.rest, decision)
    undecided = any(o.truth is Tri.UNDECIDED for o in outcomes)
    if undecided and found.rest:
        without_rest = _fabric(rule, candidate, results, found, 0.0, decision)
        if [o.truth for o in without_rest] == [Tri.TRUE]:
            missing = (_say(rule, "rest", rest=f"{found.rest:g}"),)
            outcomes = [replace(o, missing=missing) for o in outcomes]
    return outcomes


@dataclass(frozen=True)
class _Mainly:
    truth: Tri
    #: The two readings of "mainly" disagree (the fibres outweigh each other admixed material, but not
    #: all of them together).
    readings_differ: bool
    detail: dict[str, Any]


def _mainly(
    found: Blend,
    main: Sequence[str],
    partner: Sequence[str],
    groups: Sequence[Sequence[str]],
    rest: float,
    decision: DecisionRule,
) -> _Mainly:
    """Is the admixture (the fibres not of the main material) mainly or solely of `partner`? `groups`
    are the other admixed materials, each counted as a single material."""
    pv, pu = found.of(partner)
    others = [m for m in found.materials() if m not in main and m not in partner]
    ov, ou = found.of(others)
    u = _rss(pu, ou)
    # Reading (a): more than all the other admixed fibres together, the rest counted with them.
    a_true = compare(pv - ov - rest, u, ">", 0.0, decision)
    a_false = compare(pv + rest - ov, u, "<=", 0.0, decision)
    # Reading (b): more than each other single admixed material (and than the rest, were it one).
    weights = [found.of(g) for g in groups if any(m in others for m in g)]
    b_false = any_of(compare(gv - pv - rest, _rss(gu, pu), ">=", 0.0, decision) for gv, gu in weights)
    b_true = all_of(
        [compare(pv - gv - rest, _rss(gu, pu), ">", 0.0, decision) for gv, gu in weights]
        + ([compare(pv - rest, pu, ">", 0.0, decision)] if rest else [])
    )
    if a_true is Tri.TRUE:
        truth = Tri.TRUE
    elif b_false is Tri.TRUE:
        truth = Tri.FALSE
    else:
        truth = Tri.UNDECIDED
    detail = {
        "condition": f"mixed mainly or solely with {' + '.join(partner)}",
        "value": round(pv, 6),
        "expanded_uncertainty": pu,
        "other_admixed": round(ov, 6),
        "not_reported": round(rest, 6),
        "result": truth.value,
    }
    return _Mainly(truth, a_false is Tri.TRUE and b_true is Tri.TRUE, detail)


def _fabric(
    rule: Rule, candidate: str, results: Results, found: Blend, rest: float, decision: DecisionRule
) -> list[Outcome]:
    p = rule.params
    main = [str(m) for m in p["main"]]
    share, share_u = found.of(main)
    main_t, main_d = _check(" + ".join(main), share, share_u, ">=", float(p["main_min"]), "%", decision)
    mixed: list[Mapping[str, Any]] = list(p.get("mixed") or [])
    groups = [[str(m) for m in e["with"]] for e in mixed]
    grouped = {m for g in groups for m in g}
    groups += [[m] for m in found.materials() if m not in grouped and m not in main]
    partners = [_mainly(found, main, g, groups, rest, decision) for g in groups[: len(mixed)]]
    other_t = all_of(x.truth.negate() for x in partners)
    specs = [p["share"], *mixed, p["other"]]
    light: tuple[Tri, dict[str, Any]] | None = None
    if any("light" in s for s in specs):
        light = _measured(results, WEIGHT, "<=", float(p["light_max"]), decision)

    leaves: list[tuple[Tri, list[str], str]] = []

    def add(path: list[Tri], spec: Mapping[str, Any], key: str) -> None:
        if "codes" in spec:
            leaves.append((all_of(path), [str(c) for c in spec["codes"]], key))
            return
        assert light is not None
        leaves.append((all_of([*path, light[0]]), [str(c) for c in spec["light"]], key))
        leaves.append((all_of([*path, light[0].negate()]), [str(c) for c in spec["heavy"]], key))

    add([main_t], p["share"], "main")
    for entry, partner in zip(mixed, partners, strict=True):
        add([main_t.negate(), partner.truth], entry, f"mixed_{entry['key']}")
    add([main_t.negate(), other_t], p["other"], "other")

    # A declared subheading moves to the one at the same place in the outcome's list (the same finish:
    # unbleached, dyed, printed...), which the fibre shares do not change.
    source = next((codes for _, codes, _ in leaves if candidate in codes), None)
    details = (main_d, *(x.detail for x in partners), *([light[1]] if light else []))
    differ = any(x.readings_differ for x in partners)
    outcomes: list[Outcome] = []
    for truth, codes, key in leaves:
        if truth is Tri.FALSE:
            continue
        words = [_say(rule, key, codes=_codes(codes))]
        if truth is Tri.UNDECIDED and differ and key != "main":
            words.append(_say(rule, "reading"))
        same_place = source is not None and len(source) == len(codes)
        correspond = {candidate: codes[source.index(candidate)]} if source and same_place else {}
        conditions = () if outcomes else details
        outcomes.append(Outcome(truth, tuple(codes), " ".join(words), conditions, correspond=correspond))
    return outcomes


#: kind → evaluator.
EVALUATORS: dict[str, Callable[[Rule, str, Results, DecisionRule], list[Outcome]]] = {
    "textile_predominance": predominance,
    "textile_fabric": fabric,
}
#: kind → the 'texts' keys a rule of that kind must give, from its params.
TEXTS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "textile_predominance": lambda p: ["predominates", "tie", "open", "chapters_54_55", "rest"],
    "textile_fabric": lambda p: (
        ["main", "other", "rest"]
        + [f"mixed_{e['key']}" for e in p.get("mixed") or []]
        + (["reading"] if p.get("mixed") else [])
    ),
}
