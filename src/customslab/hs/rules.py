"""The measurement rules catalogue: load and validate `rules/catalogue.yaml` (shipped as package data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from customslab.hs.decision import OPERATORS, Comparison
from customslab.hs.nomenclature import HsError, normalise_code
from customslab.hs.quantities import QuantityError, spec_for

RULE_KINDS = ("threshold", "copolymer", "ferrous", "copper", "precious_metal")


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
        params=dict(raw.get("params") or {}),
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


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    return load_catalogue()
