"""The measurement rules catalogue: load and validate `rules/catalogue.yaml` (shipped as package data),
and lay its human text in another language over it (`rules/catalogue.<language>.yaml`)."""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from customslab.hs.decision import OPERATORS, Comparison
from customslab.hs.nomenclature import HsError, normalise_code
from customslab.hs.quantities import QuantityError, spec_for

#: Languages the catalogue's text is written in; "en" is catalogue.yaml itself.
CATALOGUE_LANGUAGES = ("en", "ko")
#: The `texts` each computed kind needs (hs.kinds words its reasons with them), given the rule's params.
KIND_TEXTS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "threshold": lambda p: [],
    "ferrous": lambda p: ["pig_iron", "ferro_alloy", "stainless", "alloy", "non_alloy", "malleability"],
    "copper": lambda p: ["refined", "alloy", "not_copper"],
    "precious_metal": lambda p: (
        [m["metal"] for m in p.get("precious", [])] + ["base_metal", "base_metals_unreported"]
    ),
    "copolymer": lambda p: ["poly", "copolymer"],
    "evidence": lambda p: ["inconclusive", "conflicting", "conclusive"],
}


def all_kind_texts() -> dict[str, Callable[[dict[str, Any]], list[str]]]:
    """Every rule kind the engine evaluates, with the texts it needs: the core kinds here and the
    computed kinds of hs.kinds_alloys and hs.kinds_fibres (imported here, late: they import this module)."""
    from customslab.hs import kinds_alloys, kinds_fibres

    return {**KIND_TEXTS, **kinds_alloys.TEXTS, **kinds_fibres.TEXTS}


class CatalogueError(HsError):
    """The catalogue file is malformed; raised at load so a bad rule never reaches a report."""


@dataclass(frozen=True, slots=True)
class Branch:
    conditions: tuple[Comparison, ...]
    codes: tuple[str, ...]
    explanation: str
    correspond: dict[str, str] = field(default_factory=dict)
    # False: the branch leaves several codes open even when the declaration is one of them.
    narrow: bool = True


@dataclass(frozen=True, slots=True)
class RuleException:
    """Goods the legal text excepts from the rule's limit (stuffed pasta of 19.02 from the 20 % meat rule):
    a candidate within `codes` stays where it is whatever the measurement, decided as far as `decides`."""

    codes: tuple[str, ...]
    decides: str
    explanation: str


@dataclass(frozen=True, slots=True)
class Example:
    declared: str
    results: tuple[str, ...]
    expect: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    edition: str
    source: str
    checked: str
    kind: str
    scope: tuple[str, ...]
    exclude: tuple[str, ...]
    inputs: tuple[str, ...]
    requires: tuple[str, ...]
    explanation: str
    branches: tuple[Branch, ...]
    params: dict[str, Any]
    example: Example | None
    #: The sentences a computed kind gives as reasons, by key ({placeholders} filled in by hs.kinds).
    texts: dict[str, str] = field(default_factory=dict)
    exceptions: tuple[RuleException, ...] = ()
    #: The coverage keys (rules/coverage.yaml) of the legal notes this rule encodes.
    notes: tuple[str, ...] = ()
    #: False: the rule reads only codes within its scope, never a wider one (heading 22.08 is not
    #: narrowed by a rule that concerns only the ethyl alcohol of 2208.90).
    wider: bool = True

    def exception_for(self, code: str) -> RuleException | None:
        """The exception that keeps `code` where it is, if the code lies within one."""
        return next((e for e in self.exceptions if any(code.startswith(c) for c in e.codes)), None)

    def covers(self, code: str) -> bool:
        """Does the rule discriminate between codes related to `code` (same line, wider or narrower)?"""
        if any(code.startswith(excluded) for excluded in self.exclude):
            return False
        return any(code.startswith(s) or (self.wider and s.startswith(code)) for s in self.scope)


@dataclass(frozen=True, slots=True)
class DerivedQuantity:
    name: str
    sources: tuple[str, ...]
    optional: tuple[str, ...]
    factor: float
    source: str
    checked: str


@dataclass(frozen=True, slots=True)
class Catalogue:
    edition: str
    version: int
    rules: tuple[Rule, ...]
    derived: tuple[DerivedQuantity, ...]

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def _codes(values: Any, where: str) -> tuple[str, ...]:
    if not isinstance(values, list):
        raise CatalogueError(f"{where}: expected a list of codes")
    try:
        return tuple(normalise_code(str(v)) for v in values)
    except HsError as error:
        raise CatalogueError(f"{where}: {error}") from None


def _conditions(when: Any, where: str) -> tuple[Comparison, ...]:
    if not isinstance(when, dict) or not when:
        raise CatalogueError(f"{where}: 'when' must map quantities to [[op, limit], ...]")
    out = []
    for quantity, tests in when.items():
        try:
            unit = spec_for(quantity).unit
        except QuantityError as error:
            raise CatalogueError(f"{where}: {error}") from None
        if isinstance(tests, str):
            tests = _presence_test(quantity, tests, where)
            out.append(Comparison(quantity, tests[0], tests[1], unit, words=tests[2]))
            continue
        for test in tests:
            if not (isinstance(test, list) and len(test) == 2 and test[0] in OPERATORS):
                raise CatalogueError(
                    f"{where}: condition {test!r} must be [op, limit], op one of {OPERATORS}"
                )
            out.append(Comparison(quantity, test[0], float(test[1]), unit))
    return tuple(out)


def _presence_test(quantity: str, word: str, where: str) -> tuple[str, float, str]:
    """`{added_ingredients: detected}` in a branch: the presence result is 1 (detected) or 0."""
    if spec_for(quantity).kind != "presence" or word not in ("detected", "not_detected"):
        raise CatalogueError(
            f"{where}: {quantity}: {word!r}; a word condition is detected or not_detected on a "
            "presence quantity"
        )
    return (">=", 1.0, "detected") if word == "detected" else ("<", 1.0, "not detected")


def _exception(raw: Any, where: str) -> RuleException:
    if not isinstance(raw, dict) or not raw.get("explanation"):
        raise CatalogueError(f"{where}: an exception needs codes, decides and explanation")
    codes = _codes(raw.get("codes"), where)
    decides = normalise_code(str(raw.get("decides") or codes[0]))
    if not all(c.startswith(decides) for c in codes):
        raise CatalogueError(f"{where}: 'decides' {decides} must contain every code of the exception")
    return RuleException(codes, decides, " ".join(str(raw["explanation"]).split()))


def _branch(raw: dict[str, Any], where: str) -> Branch:
    correspond = {
        normalise_code(str(k)): normalise_code(str(v)) for k, v in (raw.get("correspond") or {}).items()
    }
    return Branch(
        conditions=_conditions(raw.get("when"), where),
        codes=_codes(raw.get("codes"), where),
        explanation=str(raw.get("explanation", "")).strip(),
        correspond=correspond,
        narrow=bool(raw.get("narrow", True)),
    )


def _rule(raw: dict[str, Any], edition: str) -> Rule:
    rule_id = str(raw.get("id", "")).strip()
    if not rule_id:
        raise CatalogueError("a rule has no id")
    kind = raw.get("kind")
    kind_texts = all_kind_texts()
    if kind not in kind_texts:
        raise CatalogueError(f"rule {rule_id}: kind {kind!r} is not one of {', '.join(kind_texts)}")
    for key in ("source", "checked", "explanation", "scope", "inputs"):
        if not raw.get(key):
            raise CatalogueError(f"rule {rule_id}: '{key}' is required")
    branches = tuple(
        _branch(b, f"rule {rule_id} branch {i + 1}") for i, b in enumerate(raw.get("branches") or [])
    )
    if kind in ("threshold", "evidence") and not branches:
        raise CatalogueError(f"rule {rule_id}: a {kind} rule needs branches")
    if not raw.get("example"):
        raise CatalogueError(f"rule {rule_id}: every rule keeps a worked example")
    inputs = tuple(str(i) for i in raw["inputs"])
    texts = {str(k): " ".join(str(v).split()) for k, v in (raw.get("texts") or {}).items()}
    params = dict(raw.get("params") or {})
    missing = [k for k in kind_texts[kind](params) if not texts.get(k)]
    if missing:
        raise CatalogueError(f"rule {rule_id}: 'texts' needs {', '.join(missing)} for a {kind} rule")
    example = raw.get("example")
    exceptions = tuple(
        _exception(e, f"rule {rule_id} exception {i + 1}") for i, e in enumerate(raw.get("exceptions") or [])
    )
    if kind == "evidence":
        _check_evidence(rule_id, branches, params, tuple(str(i) for i in raw["inputs"]))
    return Rule(
        id=rule_id,
        title=str(raw.get("title", rule_id)),
        edition=str(raw.get("edition", edition)),
        source=str(raw["source"]).strip(),
        checked=str(raw["checked"]).strip(),
        kind=kind,
        scope=_codes(raw["scope"], f"rule {rule_id} scope"),
        exclude=_codes(raw.get("exclude") or [], f"rule {rule_id} exclude"),
        inputs=inputs,
        requires=tuple(
            str(i)
            for i in raw.get("requires")
            or ([] if kind == "evidence" else [i for i in inputs if "<" not in i])
        ),
        explanation=" ".join(str(raw["explanation"]).split()),
        branches=branches,
        params=params,
        texts=texts,
        exceptions=exceptions,
        notes=tuple(str(n) for n in raw.get("notes") or []),
        wider=bool(raw.get("wider", True)),
        example=Example(
            declared=str(example["declared"]),
            results=tuple(example["results"]),
            expect=dict(example.get("expect") or {}),
        )
        if example
        else None,
    )


def _check_evidence(
    rule_id: str, branches: tuple[Branch, ...], params: dict[str, Any], inputs: tuple[str, ...]
) -> None:
    """An evidence rule: each branch is one piece of evidence for its codes; `params.conclusive` names, for
    each candidate (its first code), the sets of inputs that together decide it."""
    where = f"rule {rule_id}"
    candidates = {b.codes[0] for b in branches}
    conclusive = params.get("conclusive")
    if not isinstance(conclusive, dict) or set(map(str, conclusive)) != candidates:
        raise CatalogueError(
            f"{where}: params.conclusive must map each candidate ({', '.join(sorted(candidates))}) "
            "to the sets of inputs that decide it"
        )
    for code, sets in conclusive.items():
        if not isinstance(sets, list) or not sets or not all(isinstance(s, list) and s for s in sets):
            raise CatalogueError(f"{where}: conclusive {code} must be a list of input lists")
        unknown = {i for s in sets for i in s if i not in inputs}
        if unknown:
            raise CatalogueError(f"{where}: conclusive {code} names inputs not in 'inputs': {unknown}")
        read = {c.quantity for b in branches if b.codes[0] == str(code) for c in b.conditions}
        unread = {i for s in sets for i in s if i not in read}
        if unread:
            raise CatalogueError(
                f"{where}: conclusive {code} needs evidence no branch for it reads: {unread}"
            )


def parse_catalogue(data: dict[str, Any]) -> Catalogue:
    edition = str(data.get("edition", ""))
    if not edition:
        raise CatalogueError("the catalogue names no HS edition")
    rules = tuple(_rule(r, edition) for r in data.get("rules") or [])
    ids = [r.id for r in rules]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise CatalogueError(f"duplicate rule ids: {', '.join(sorted(duplicates))}")
    derived = tuple(
        DerivedQuantity(
            name=name,
            sources=tuple(spec["from"]),
            optional=tuple(spec.get("optional") or []),
            factor=float(spec["factor"]),
            source=" ".join(str(spec["source"]).split()),
            checked=str(spec.get("checked", "")),
        )
        for name, spec in (data.get("derived") or {}).items()
    )
    return Catalogue(
        edition=edition, version=int(data.get("catalogue_version", 1)), rules=rules, derived=derived
    )


def load_catalogue(path: Path | str | None = None) -> Catalogue:
    """The shipped catalogue (catalogue.yaml and the rule families of rules/parts/*.yaml, in file-name
    order), or another YAML file of the same shape."""
    if path is not None:
        data = _yaml(Path(path).read_text(encoding="utf-8"), str(path))
        if not isinstance(data, dict):
            raise CatalogueError("catalogue must be a mapping with 'edition' and 'rules'")
        return parse_catalogue(data)
    data = _shipped("catalogue.yaml")
    rules = list(data.get("rules") or [])
    for name, part in _parts("en"):
        if not isinstance(part, dict) or set(part) - {"rules"}:
            raise CatalogueError(f"parts/{name}: a rule family file holds 'rules' only")
        rules += part.get("rules") or []
    return parse_catalogue({**data, "rules": rules})


def _yaml(text: str, name: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CatalogueError(f"{name} is not valid YAML: {error}") from None


def _shipped(name: str) -> Any:
    return _yaml(resources.files("customslab.hs").joinpath(f"rules/{name}").read_text(encoding="utf-8"), name)


def _parts(language: str) -> list[tuple[str, Any]]:
    """The rule family files of `language` ("en": parts/NAME.yaml; "ko": parts/NAME.ko.yaml)."""
    folder = resources.files("customslab.hs").joinpath("rules/parts")
    translations = tuple(f".{lang}.yaml" for lang in CATALOGUE_LANGUAGES if lang != "en")
    out = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        name = entry.name
        wanted = name.endswith(f".{language}.yaml") if language != "en" else not name.endswith(translations)
        if not name.endswith(".yaml") or not wanted:
            continue
        out.append((name, _yaml(entry.read_text(encoding="utf-8"), f"parts/{name}")))
    return out


def _shipped_translation(language: str) -> Any:
    """catalogue.<language>.yaml with the rules of parts/*.<language>.yaml merged in."""
    data = _shipped(f"catalogue.{language}.yaml")
    if not isinstance(data, dict):
        return data
    rules = dict(data.get("rules") or {})
    for name, part in _parts(language):
        if not isinstance(part, dict) or set(part) - {"rules"}:
            raise CatalogueError(f"parts/{name}: a translation file holds 'rules' only")
        for rule_id, text in (part.get("rules") or {}).items():
            if rule_id in rules:
                raise CatalogueError(f"parts/{name}: rule {rule_id} is translated twice")
            rules[rule_id] = text
    return {**data, "rules": rules}


@lru_cache(maxsize=len(CATALOGUE_LANGUAGES))
def default_catalogue(language: str = "en") -> Catalogue:
    """The shipped catalogue, its titles, explanations and reasons in `language` (en, ko)."""
    if language not in CATALOGUE_LANGUAGES:
        raise CatalogueError(
            f"the catalogue is not written in {language!r}; it is in {', '.join(CATALOGUE_LANGUAGES)}"
        )
    if language == "en":
        return load_catalogue()
    return translate_catalogue(default_catalogue("en"), _shipped_translation(language))


# The translation layer. A translation is data in the catalogue's own shape, keyed by rule id (branches
# by their number), and it must match the English catalogue exactly: a rule, branch or text it misses, or
# one it names that the catalogue lacks, is refused at load, so the two files cannot drift apart.

_RULE_TEXT_KEYS = {"title", "source", "explanation", "branches", "texts", "exceptions"}


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _words(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _same_keys(given: dict[Any, Any], expected: list[Any], where: str, errors: list[str]) -> None:
    errors += [f"{where}: no text for {k}" for k in expected if not _words(given.get(k))]
    errors += [f"{where}: {k} is not in the English catalogue" for k in given if k not in expected]


def _translated_rule(rule: Rule, raw: Any, errors: list[str]) -> Rule:
    where = f"rule {rule.id}"
    if not isinstance(raw, dict):
        errors.append(f"{where}: expected title, source, explanation (and branches or texts)")
        return rule
    errors += [f"{where}: unknown key {k!r}" for k in raw if k not in _RULE_TEXT_KEYS]
    prose = ["title", "source", "explanation"]
    _same_keys({k: raw.get(k) for k in prose}, prose, where, errors)
    branches = raw.get("branches") or {}
    texts = raw.get("texts") or {}
    exceptions = raw.get("exceptions") or {}
    if not all(isinstance(x, dict) for x in (branches, texts, exceptions)):
        errors.append(f"{where}: branches, exceptions and texts map a number or a key to a sentence")
        return rule
    _same_keys(branches, list(range(1, len(rule.branches) + 1)), f"{where} branch", errors)
    _same_keys(exceptions, list(range(1, len(rule.exceptions) + 1)), f"{where} exception", errors)
    _same_keys(texts, list(rule.texts), f"{where} text", errors)
    for key, english in rule.texts.items():
        if key in texts and _placeholders(_words(texts[key])) != _placeholders(english):
            errors.append(f"{where} text {key}: placeholders must be those of {english!r}")
    return replace(
        rule,
        title=_words(raw.get("title")),
        source=_words(raw.get("source")),
        explanation=_words(raw.get("explanation")),
        branches=tuple(
            replace(b, explanation=_words(branches.get(i, b.explanation)))
            for i, b in enumerate(rule.branches, start=1)
        ),
        texts={k: _words(texts.get(k, v)) for k, v in rule.texts.items()},
        exceptions=tuple(
            replace(e, explanation=_words(exceptions.get(i, e.explanation)))
            for i, e in enumerate(rule.exceptions, start=1)
        ),
    )


def translate_catalogue(catalogue: Catalogue, data: Any) -> Catalogue:
    """The catalogue with every title, legal source, explanation, branch explanation, reason text and
    derived-quantity source replaced by the translation's; refused unless the two match exactly."""
    if not isinstance(data, dict) or not data.get("language"):
        raise CatalogueError("a catalogue translation names its language and maps rule ids to text")
    language = str(data["language"])
    rules_text = data.get("rules") or {}
    derived_text = data.get("derived") or {}
    errors: list[str] = []
    ids = [r.id for r in catalogue.rules]
    _same_keys(rules_text, ids, "rules", errors)
    rules = tuple(
        _translated_rule(r, rules_text.get(r.id), errors) for r in catalogue.rules if r.id in rules_text
    )
    names = [d.name for d in catalogue.derived]
    sources = {k: v.get("source") if isinstance(v, dict) else None for k, v in derived_text.items()}
    _same_keys(sources, names, "derived", errors)
    if errors:
        raise CatalogueError(
            f"the {language} catalogue text does not match the catalogue: " + "; ".join(errors)
        )
    derived = tuple(replace(d, source=_words(sources[d.name])) for d in catalogue.derived)
    return replace(catalogue, rules=rules, derived=derived)
