"""Generate docs/hs-rules.md from the catalogue itself; every worked example is evaluated, so the page
cannot disagree with the engine. An example whose expectation fails stops generation."""

from __future__ import annotations

from pathlib import Path

from customslab.hs.decision import DecisionRule
from customslab.hs.evaluate import evaluate
from customslab.hs.nomenclature import HsError, format_code
from customslab.hs.quantities import FAMILIES, QUANTITIES
from customslab.hs.rules import Catalogue, Rule, default_catalogue
from customslab.hs.tariff import OPTIONAL_COLUMNS, REQUIRED_COLUMNS


class ExampleMismatch(HsError):
    """A worked example in the catalogue no longer gives the outcome it claims."""


def _codes(codes: tuple[str, ...] | list[str]) -> str:
    return ", ".join(format_code(c) for c in codes) or "—"


def check_example(rule: Rule) -> str:
    """Evaluate the rule's worked example and return it as Markdown; raise if it disagrees with `expect`."""
    example = rule.example
    if example is None:
        raise ExampleMismatch(f"rule {rule.id} has no worked example")
    result = evaluate(example.declared, list(example.results), DecisionRule.GUARDED)
    for key, wanted in example.expect.items():
        got = getattr(result, key)
        if got != wanted:
            raise ExampleMismatch(f"rule {rule.id}: example expects {key}={wanted!r}, engine gives {got!r}")
    if rule.id not in [f.rule.id for f in result.firings]:
        raise ExampleMismatch(f"rule {rule.id}: its worked example does not fire it")
    lines = [
        f"**Worked example** (evaluated when this page was generated): declared `{example.declared}`, "
        f"results `{' '.join(example.results)}`.",
        "",
        f"- status: **{result.status}**; determined: **{_codes(result.determined)}**; "
        f"declared ≠ determined: **{result.mismatch}**",
    ]
    for firing in result.firings:
        lines.append(f"- `{firing.rule.id}` ({firing.rule.source}): {' '.join(firing.reasons)}")
    return "\n".join(lines)


def render(catalogue: Catalogue | None = None) -> str:
    catalogue = catalogue or default_catalogue()
    out = [
        "# HS measurement rules catalogue",
        "",
        "<!-- Generated from src/customslab/hs/rules/catalogue.yaml by `customslab hs docs`. -->",
        "",
        f"Edition **{catalogue.edition}**, catalogue version {catalogue.version}, "
        f"{len(catalogue.rules)} rules.",
        "Each rule names its legal source and where its wording was checked. Entries marked *recall* were",
        "written from working knowledge of the legal text and must be re-checked against the printed WCO",
        "edition before being cited in an official report.",
        "",
        "## Decision rule (ISO/IEC 17025:2017 7.8.6)",
        "",
        *(f"- `{r.value}`: {r.statement}" for r in DecisionRule),
        "",
        "The default is `guarded`. Under it a result whose interval value ± U reaches across a limit is",
        "**undecided**, and the codes it cannot tell apart are listed as determined.",
        "",
        "## Quantities",
        "",
        "| name | default unit | meaning |",
        "|---|---|---|",
        *(f"| `{q.name}` | `{q.unit or '(none)'}` | {q.meaning} |" for q in QUANTITIES.values()),
        *(f"| `{family}.<…>` | `%` | {meaning} (by mass) |" for family, meaning in FAMILIES.items()),
        "",
        "Results are written `NAME=VALUE[UNIT][±U]`, U being the expanded uncertainty in the same unit,",
        "e.g. `alcohol_strength=80.2%vol±0.4`, `element.Cr=120g/kg`, `calorific_value=24.4MJ/kg`.",
        "Units are converted with pint; `kcal` is the International Table kilocalorie (4.1868 kJ).",
        "",
        "## Derived quantities",
        "",
    ]
    for d in catalogue.derived:
        out.append(
            f"- `{d.name}` = {d.factor:g} × ({' + '.join(d.sources)}); "
            f"optional: {', '.join(d.optional) or '—'}."
        )
        out.append(f"  Source: {d.source} Checked: {d.checked}.")
    out += ["", "## Rules", ""]
    for rule in catalogue.rules:
        out += [
            f"### {rule.title}",
            "",
            f"- id: `{rule.id}` ({rule.kind}), edition {rule.edition}",
            f"- legal source: {rule.source}",
            f"- checked: {rule.checked}",
            f"- scope (declared codes it discriminates between): {_codes(rule.scope)}"
            + (f"; not applied to {_codes(rule.exclude)}" if rule.exclude else ""),
            f"- inputs: {', '.join(f'`{i}`' for i in rule.inputs)}",
            "",
            rule.explanation,
            "",
        ]
        if rule.branches:
            out += ["| condition | outcome | explanation |", "|---|---|---|"]
            for branch in rule.branches:
                condition = " and ".join(c.text() for c in branch.conditions)
                out.append(f"| {condition} | {_codes(branch.codes)} | {branch.explanation} |")
            out.append("")
        out += [check_example(rule), ""]
    out += [
        "## National tariff CSV",
        "",
        f"Required columns: {', '.join(f'`{c}`' for c in REQUIRED_COLUMNS)}; optional: "
        f"{', '.join(f'`{c}`' for c in OPTIONAL_COLUMNS)}. `code` is the 8–10 digit national line, "
        "`ad_valorem` a percentage of the customs value (`free` = 0), `specific` an amount per "
        "`specific_unit`. The edition (e.g. `KR-2025`) is given on loading; several editions coexist.",
        "",
    ]
    return "\n".join(out)


def write_docs(path: Path | str) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(), encoding="utf-8")
    return target
