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

RULE_KINDS = ("threshold", "copolymer", "ferrous", "copper", "precious_metal")
#: Languages the catalogue's text is written in; "en" is catalogue.yaml itself.
CATALOGUE_LANGUAGES = ("en", "ko")
#: The `texts` each computed kind needs (hs.kinds words its reasons with them), given the rule's params.
KIND_TEXTS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "threshold": lambda p: [],
    "ferrous": lambda p: ["pig_iron", "ferro_alloy", "stainless", "alloy", "non_alloy"],
    "copper": lambda p: ["refined", "alloy"],
    "precious_metal": lambda p: (
        [m["metal"] for m in p.get("precious", [])] + ["base_metal", "base_metals_unreported"]
    ),
    "copolymer": lambda p: ["poly", "copolymer"],
}


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

    def covers(self, code: str) -> bool:
        """Does the rule discriminate between codes related to `code` (same line, wider or narrower)?"""
        if any(code.startswith(excluded) for excluded in self.exclude):
            return False
        return any(code.startswith(s) or s.startswith(code) for s in self.scope)


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
        for test in tests:
            if not (isinstance(test, list) and len(test) == 2 and test[0] in OPERATORS):
                raise CatalogueError(
                    f"{where}: condition {test!r} must be [op, limit], op one of {OPERATORS}"
                )
            out.append(Comparison(quantity, test[0], float(test[1]), unit))
    return tuple(out)


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
    if kind not in RULE_KINDS:
        raise CatalogueError(f"rule {rule_id}: kind {kind!r} is not one of {', '.join(RULE_KINDS)}")
    for key in ("source", "checked", "explanation", "scope", "inputs"):
        if not raw.get(key):
            raise CatalogueError(f"rule {rule_id}: '{key}' is required")
    branches = tuple(
        _branch(b, f"rule {rule_id} branch {i + 1}") for i, b in enumerate(raw.get("branches") or [])
    )
    if kind == "threshold" and not branches:
        raise CatalogueError(f"rule {rule_id}: a threshold rule needs branches")
    inputs = tuple(str(i) for i in raw["inputs"])
    texts = {str(k): " ".join(str(v).split()) for k, v in (raw.get("texts") or {}).items()}
    params = dict(raw.get("params") or {})
    missing = [k for k in KIND_TEXTS[kind](params) if not texts.get(k)]
    if missing:
        raise CatalogueError(f"rule {rule_id}: 'texts' needs {', '.join(missing)} for a {kind} rule")
    example = raw.get("example")
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
        requires=tuple(str(i) for i in raw.get("requires") or [i for i in inputs if "<" not in i]),
        explanation=" ".join(str(raw["explanation"]).split()),
        branches=branches,
        params=params,
        texts=texts,
        example=Example(
            declared=str(example["declared"]),
            results=tuple(example["results"]),
            expect=dict(example.get("expect") or {}),
        )
        if example
        else None,
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
    """The shipped catalogue, or another YAML file of the same shape."""
    if path is None:
        text = resources.files("customslab.hs").joinpath("rules/catalogue.yaml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CatalogueError(f"catalogue is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise CatalogueError("catalogue must be a mapping with 'edition' and 'rules'")
    return parse_catalogue(data)


def _shipped(name: str) -> Any:
    text = resources.files("customslab.hs").joinpath(f"rules/{name}").read_text(encoding="utf-8")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CatalogueError(f"{name} is not valid YAML: {error}") from None


@lru_cache(maxsize=len(CATALOGUE_LANGUAGES))
def default_catalogue(language: str = "en") -> Catalogue:
    """The shipped catalogue, its titles, explanations and reasons in `language` (en, ko)."""
    if language not in CATALOGUE_LANGUAGES:
        raise CatalogueError(
            f"the catalogue is not written in {language!r}; it is in {', '.join(CATALOGUE_LANGUAGES)}"
        )
    if language == "en":
        return load_catalogue()
    return translate_catalogue(default_catalogue("en"), _shipped(f"catalogue.{language}.yaml"))


# The translation layer. A translation is data in the catalogue's own shape, keyed by rule id (branches
# by their number), and it must match the English catalogue exactly: a rule, branch or text it misses, or
# one it names that the catalogue lacks, is refused at load, so the two files cannot drift apart.

_RULE_TEXT_KEYS = {"title", "source", "explanation", "branches", "texts"}


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
    if not isinstance(branches, dict) or not isinstance(texts, dict):
        errors.append(f"{where}: branches and texts map a number or a key to a sentence")
        return rule
    _same_keys(branches, list(range(1, len(rule.branches) + 1)), f"{where} branch", errors)
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
