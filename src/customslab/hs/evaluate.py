"""Decision support: a declared code plus laboratory results → determined code(s) and the rules that fired.

The engine keeps a set of candidate codes, starting with the declared code. A rule applies to the
candidates it covers (scope) when its inputs were measured. Each outcome narrows a candidate:

* the candidate lies within one of the outcome's codes → the declaration stands (measurement agrees);
* the outcome names a counterpart for the candidate (``correspond``) → that counterpart;
* outcome codes lie below the candidate → those codes;
* otherwise the candidate is replaced by the outcome's codes (the declaration is contradicted).

Rules are tried in catalogue order, repeatedly, until none is left to fire: a code moved into a new
heading may bring a further rule into scope (2207.10 at 40 % vol → 2208.90, which the Chapter 22 Note 3
rule then reads). A rule whose outcome is undecided stops the chain; the open codes are reported as
determined, status "undecided".

Each determined code also carries the code the rules actually decided for it (`decided`): an outcome
that names one code decides that code; one that names several decides only what they share. A
declaration of 2208.30 that stands because the goods are an alcoholic beverage of 22.03 to 22.08 is
determined as 220830 but decided only as chapter 22; the heading and subheading were never tested, and
the verdict says so (`level`, `open_levels`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from customslab.hs import kinds_alloys, kinds_fibres
from customslab.hs.decision import DecisionRule, Tri, parse_decision_rule
from customslab.hs.duty import DutyComparison, compare_duty
from customslab.hs.kinds import KIND_EVALUATORS, Outcome, required_present
from customslab.hs.levels import common_level, level_of, open_below
from customslab.hs.nomenclature import HsError, Nomenclature, hs6, normalise_code
from customslab.hs.quantities import Measurement, QuantityError, make_measurement, parse_result
from customslab.hs.rules import Catalogue, Rule, default_catalogue
from customslab.hs.tariff import TariffLine, line_for
from customslab.hs.verdict import verdict_text

MISMATCH_LEVELS = ("none", "subheading", "heading", "chapter")
#: Every kind's evaluator: the core kinds and the computed kinds of alloys and fibres.
EVALUATORS = {**KIND_EVALUATORS, **kinds_alloys.EVALUATORS, **kinds_fibres.EVALUATORS}


@dataclass(frozen=True)
class RuleFiring:
    rule: Rule
    status: str  # decided | undecided | no_outcome
    codes: tuple[str, ...]
    reasons: tuple[str, ...]
    conditions: tuple[dict[str, Any], ...]
    inputs: tuple[Measurement, ...]
    #: Evidence rules: the inputs still needed before the rule can decide (empty when it decided).
    missing: tuple[str, ...] = ()
    #: Evidence rules: the measured evidence supports more than one candidate.
    conflicting: bool = False
    #: What this firing decided, at its level ("22" when it names 22.03 to 22.08); "" where nothing.
    decided: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.rule.id,
            "source": self.rule.source,
            "outcome": " or ".join(self.codes) if self.codes else "none",
            "codes": list(self.codes),
            "status": self.status,
            "title": self.rule.title,
            "checked": self.rule.checked,
            "explanation": self.rule.explanation,
            "reasons": list(self.reasons),
            "conditions": list(self.conditions),
            "inputs": [m.to_dict() for m in self.inputs],
            "kind": self.rule.kind,
            "missing_evidence": list(self.missing),
            "conflicting_evidence": self.conflicting,
            "decided": list(self.decided),
        }


@dataclass
class Evaluation:
    declared: str
    status: str  # decided | undecided | no_rule
    determined: list[str]
    mismatch: str
    firings: list[RuleFiring]
    decision_rule: DecisionRule
    edition: str
    results: list[Measurement]
    not_evaluated: list[dict[str, Any]] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    duty: DutyComparison | None = None
    descriptions: dict[str, str] = field(default_factory=dict)
    #: For each determined code, the code the rules decided (at its level), or "" where none did.
    decided: list[str] = field(default_factory=list)
    #: The language of the rules' text (titles, explanations, reasons) and of the decision rule statement.
    language: str = "en"

    @property
    def missing_evidence(self) -> list[str]:
        """The evidence an evidence rule still needs before it can decide (empty otherwise)."""
        return list(dict.fromkeys(i for f in self.firings for i in f.missing))

    @property
    def conflicting_evidence(self) -> bool:
        """Measured evidence supports more than one candidate of an evidence rule."""
        return any(f.conflicting for f in self.firings)

    @property
    def level(self) -> str:
        """The level at which the rules decided the declaration: chapter, heading, subheading; "" when
        they decided nothing about it (undecided, no rule, moved elsewhere, or left wholly open)."""
        return self.agreement()[1]

    @property
    def open_levels(self) -> list[str]:
        """The levels of the declaration the rules left undetermined below the decided level."""
        decided = self.agreement()[0]
        return open_below(decided, self.declared) if decided else []

    def agreement(self) -> tuple[str, str]:
        """Where the declaration stands, as (code, level): the code the rules decided that the declaration
        lies in — every open code shares it — and its level; ('', '') when the rules confirm no level of
        the declaration (undecided, moved elsewhere, or the open codes share nothing with it)."""
        if self.status != "decided" or self.mismatch != "none" or not self.determined:
            return "", ""
        code = hs6(self.declared)
        pairs = list(zip(self.determined, self.decided, strict=True))
        if any(c == code and not d for c, d in pairs):
            return "", ""  # the declaration stands, but no rule decided any level of it
        # A code left open without a decision (an exception the rules do not measure) counts as itself.
        shared = common_level([d or c for c, d in pairs])
        if not shared:
            return "", ""
        if code.startswith(shared):
            return shared, level_of(shared)
        if shared.startswith(code):  # the rules narrow a declared heading or chapter: it holds in full
            return code, level_of(code)
        return "", ""

    @property
    def message(self) -> str:
        """The verdict in one sentence, in the evaluation's language (hs.verdict)."""
        return verdict_text(self, self.language)

    def to_dict(self) -> dict[str, Any]:
        return {
            "declared": self.declared,
            "status": self.status,
            "determined": list(self.determined),
            "decided": list(self.decided),
            "mismatch": self.mismatch,
            "rules": [f.to_dict() for f in self.firings],
            "message": self.message,
            "level": self.level,
            "open_levels": self.open_levels,
            "missing_evidence": self.missing_evidence,
            "conflicting_evidence": self.conflicting_evidence,
            "edition": self.edition,
            "decision_rule": {
                "name": self.decision_rule.value,
                "statement": self.decision_rule.statement_in(self.language),
            },
            "results": [m.to_dict() for m in self.results],
            "not_evaluated": self.not_evaluated,
            "unused_results": self.unused,
            "descriptions": self.descriptions,
            "duty": self.duty.to_dict() if self.duty else None,
        }


def mismatch_level(declared: str, determined: Iterable[str]) -> str:
    """The least severe level at which the declaration differs from any determined code."""
    levels = []
    for code in determined:
        if declared.startswith(code) or code.startswith(declared):
            levels.append("none")
        elif declared[:2] != code[:2]:
            levels.append("chapter")
        elif declared[:4] != code[:4]:
            levels.append("heading")
        else:
            levels.append("subheading")
    return min(levels, key=MISMATCH_LEVELS.index) if levels else "none"


def _narrow(candidate: str, outcome: Outcome, exclusions: Sequence[str]) -> tuple[list[str], list[str]]:
    """The codes the outcome moves or narrows the candidate to, and the exceptions it leaves possible."""
    if outcome.narrow and any(candidate.startswith(code) for code in outcome.codes):
        return [candidate], []
    for key, target in outcome.correspond.items():
        if candidate.startswith(key):
            return [target], []
    below = [code for code in outcome.codes if code.startswith(candidate)]
    if below and outcome.narrow:
        return below, []
    # A move out of the candidate; exceptions the rule skips (e.g. stuffed pasta) stay possible, but the
    # rule measures nothing about them, so they are not decided by it.
    return list(outcome.codes), [e for e in exclusions if e.startswith(candidate)]


def _as_measurements(results: Mapping[str, Measurement] | Iterable[Measurement | str]) -> list[Measurement]:
    items = results.values() if isinstance(results, Mapping) else results
    out = [parse_result(item) if isinstance(item, str) else item for item in items]
    names = [m.name for m in out]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise QuantityError(f"result given twice: {', '.join(duplicates)}")
    return out


def _with_derived(measured: dict[str, Measurement], catalogue: Catalogue) -> dict[str, Measurement]:
    """Add quantities the catalogue derives (cocoa from theobromine + caffeine) unless measured directly."""
    out = dict(measured)
    for d in catalogue.derived:
        required = [s for s in d.sources if s not in d.optional]
        if d.name in out or not all(s in out for s in required):
            continue
        parts = [out[s] for s in d.sources if s in out]
        value = d.factor * sum(m.value for m in parts)
        us = [m.expanded_uncertainty for m in parts if m.expanded_uncertainty]
        u = d.factor * sum(x * x for x in us) ** 0.5 if us else None
        derived = make_measurement(d.name, value, parts[0].unit, u)
        note = f"{d.factor:g} × ({' + '.join(m.name for m in parts)})"
        out[d.name] = Measurement(
            derived.name, derived.value, derived.unit, derived.expanded_uncertainty, note
        )
    return out


def evaluate(
    declared: str,
    results: Mapping[str, Measurement] | Iterable[Measurement | str],
    decision_rule: DecisionRule | str = DecisionRule.GUARDED,
    *,
    catalogue: Catalogue | None = None,
    nomenclature: Nomenclature | None = None,
    tariff: Sequence[TariffLine] | None = None,
    customs_value: float | None = None,
    quantity: float | None = None,
    language: str = "en",
) -> Evaluation:
    """Evaluate the measurement rules for a declared code (2–10 digits) and laboratory results; the
    rules' text comes in `language` (en, ko) when the shipped catalogue is used."""
    catalogue = catalogue or default_catalogue(language)
    rule_kind = parse_decision_rule(decision_rule)
    full = normalise_code(declared, allow_national=True)
    code = hs6(full)
    if nomenclature is not None:
        nomenclature.get(code)
    measured = _as_measurements(results)
    available = _with_derived({m.name: m for m in measured}, catalogue)

    candidates = [code]
    # candidate → the code the rules decided for it; the declaration starts with nothing decided.
    decided: dict[str, str] = {}
    firings: list[RuleFiring] = []
    skipped: dict[str, list[str]] = {}
    used: set[str] = set()
    status = "decided"
    progress = True
    while progress and status == "decided":
        progress = False
        for rule in catalogue.rules:
            if any(f.rule.id == rule.id for f in firings):
                continue
            related = [c for c in candidates if rule.covers(c)]
            if not related:
                continue
            missing = required_present(rule, available)
            if missing:
                skipped[rule.id] = missing
                continue
            skipped.pop(rule.id, None)
            firing, new_codes = _fire(rule, related, available, rule_kind, decided)
            firings.append(firing)
            used.update(m.name for m in firing.inputs)
            unrelated = [c for c in candidates if c not in related]
            decided = _merge_decided({c: decided.get(c, "") for c in unrelated}, new_codes)
            candidates = _unique(unrelated + [c for c, _ in new_codes])
            progress = True
            if firing.status == "undecided":
                status = "undecided"
                break
    if not firings:
        status = "no_rule"
    determined = [] if status == "no_rule" else candidates
    descriptions = {}
    if nomenclature is not None:
        descriptions = {
            c: nomenclature.nodes[c].description for c in [code, *determined] if c in nomenclature
        }
    return Evaluation(
        declared=full,
        status=status,
        determined=determined,
        mismatch=mismatch_level(code, determined) if status != "no_rule" else "none",
        firings=firings,
        decision_rule=rule_kind,
        edition=catalogue.edition,
        results=measured,
        not_evaluated=[{"id": rid, "missing": names} for rid, names in skipped.items()],
        unused=sorted(m.name for m in measured if m.name not in used and not _feeds(m.name, used, catalogue)),
        duty=_duty(full, determined, status, tariff, customs_value, quantity),
        descriptions=descriptions,
        decided=[decided.get(c, "") for c in determined],
        language=language,
    )


def _duty(
    declared: str,
    determined: list[str],
    status: str,
    tariff: Sequence[TariffLine] | None,
    customs_value: float | None,
    quantity: float | None,
) -> DutyComparison | None:
    """Only when one national line answers each side; otherwise there is no honest single figure."""
    if not tariff or customs_value is None or status != "decided" or len(determined) != 1:
        return None
    lines = list(tariff)
    declared_line = line_for(lines, declared)
    target = declared if declared.startswith(determined[0]) else determined[0]
    determined_line = line_for(lines, target)
    if declared_line is None or determined_line is None:
        return None
    return compare_duty(declared_line, determined_line, customs_value, quantity)


def _decided_code(candidate: str, new: str, outcome: Outcome, before: str) -> str:
    """The code a rule's outcome establishes for `new`: a code it moves to is decided in full; a
    candidate that stands is decided only as far as the outcome's code that holds it (heading 2208 for
    220830), or only as far as the outcome's codes agree when it names several (chapter 22 for 22.03 to
    22.08), or as an earlier rule decided it, whichever is more precise."""
    if new != candidate or any(candidate.startswith(k) for k in outcome.correspond):
        return new  # moved, or named by the outcome's own counterpart for it: decided in full
    holding = max((c for c in outcome.codes if candidate.startswith(c)), key=len, default="")
    if len(outcome.codes) > 1:
        # The outcome leaves several codes open (still wine in any container size, an alcoholic beverage
        # of 22.03 to 22.08): it decides only what they share, not the declared one among them.
        holding = common_level(list(outcome.codes))
    return max(holding, before, key=len)


def _merge_decided(kept: dict[str, str], new_codes: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Decided codes after a firing; a code reached along two paths keeps the less precise decision."""
    out = dict(kept)
    for code, level in new_codes:
        out[code] = min(out[code], level, key=len) if code in out else level
    return out


def _fire(
    rule: Rule,
    related: list[str],
    available: Mapping[str, Measurement],
    decision: DecisionRule,
    decided: Mapping[str, str],
) -> tuple[RuleFiring, list[tuple[str, str]]]:
    """Fire a rule on the related candidates: the firing, and each new code with the code decided for it."""
    evaluator = EVALUATORS[rule.kind]
    new_codes: list[tuple[str, str]] = []
    reasons: list[str] = []
    conditions: list[dict[str, Any]] = []
    truths: list[Tri] = []
    missing: list[str] = []
    conflicting = False
    for candidate in related:
        try:
            outcomes = evaluator(rule, candidate, available, decision)
        except ValueError as error:
            raise HsError(f"rule {rule.id}: {error}") from None
        before = decided.get(candidate, "")
        exception = rule.exception_for(candidate)
        if exception is not None:
            # Goods the legal text excepts stay where they are, whatever the measurement says.
            new_codes.append((candidate, max(exception.decides, before, key=len)))
            reasons.append(exception.explanation)
            truths.append(Tri.TRUE)
            conditions.append({"condition": f"exception: {' '.join(exception.codes)}", "result": "true"})
            continue
        live = [o for o in outcomes if o.truth is not Tri.FALSE]
        if not live:
            new_codes.append((candidate, before))  # the rule concludes nothing for this candidate
            continue
        for outcome in live:
            moved, exceptions = _narrow(candidate, outcome, _excepted(rule))
            missing.extend(outcome.missing)
            conflicting = conflicting or outcome.conflicting
            new_codes.extend((new, _decided_code(candidate, new, outcome, before)) for new in moved)
            # An exception stays open only as far as the candidate was decided before: the rule did not
            # measure it (whether pasta is stuffed), so it decides nothing more about it.
            new_codes.extend((code, before) for code in exceptions)
            if outcome.explanation:
                reasons.append(outcome.explanation)
            truths.append(outcome.truth)
        conditions.extend(c for o in outcomes for c in o.conditions)
    if not truths:
        state = "no_outcome"
    elif len(live_codes := _unique(c for c, _ in new_codes)) > 1 and Tri.UNDECIDED in truths:
        state = "undecided"
    else:
        state = "decided" if live_codes else "no_outcome"
    inputs = tuple(m for name, m in available.items() if _is_input(rule, name))
    codes = tuple(_unique(c for c, _ in new_codes))
    firing = RuleFiring(
        rule,
        state,
        codes,
        tuple(dict.fromkeys(reasons)),  # a reason given for several candidates is said once
        tuple(conditions),
        inputs,
        tuple(dict.fromkeys(missing)),
        conflicting,
        tuple(_unique(d for _, d in new_codes if d)),
    )
    return firing, new_codes


def _excepted(rule: Rule) -> tuple[str, ...]:
    """Codes a move out of a wider candidate leaves possible: the rule's exclusions and exceptions."""
    return (*rule.exclude, *(c for e in rule.exceptions for c in e.codes))


def _is_input(rule: Rule, name: str) -> bool:
    family = name.split(".", 1)[0] + ".<"
    return name in rule.inputs or any(i.startswith(family) for i in rule.inputs)


def _feeds(name: str, used: set[str], catalogue: Catalogue) -> bool:
    return any(name in d.sources and d.name in used for d in catalogue.derived)


def _unique(codes: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(codes))
