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
        f"- verdict: {result.message}",
    ]
    for firing in result.firings:
        lines.append(f"- `{firing.rule.id}` ({firing.rule.source}): {' '.join(firing.reasons)}")
    return "\n".join(lines)


def render(catalogue: Catalogue | None = None) -> str:
    catalogue = catalogue or default_catalogue()
    out = [
        "# HS measurement rules catalogue",
        "",
        "<!-- Generated from src/customslab/hs/rules/catalogue.yaml, rules/parts/*.yaml and",
        "     rules/quantities/*.yaml by `customslab hs docs`. -->",
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
        "## Quantities (the measurands result entry offers)",
        "",
        "The rules read the same measurand list the laboratory pages offer on result entry",
        "(`src/customslab/hs/rules/quantities/*.yaml`): a key, its unit, its label in English and Korean,",
        "and the other names analysts write for it, which result entry maps to the key.",
        "",
        "| name | default unit | meaning | label | Korean label | also written |",
        "|---|---|---|---|---|---|",
        *(
            f"| `{q.name}` | `{q.unit or ('detected / not_detected' if q.kind == 'presence' else '(none)')}` "
            f"| {q.meaning} | {q.label} | {q.label_ko} | {', '.join(q.aliases) or '—'} |"
            for q in QUANTITIES.values()
        ),
        *(f"| `{family}.<…>` | `%` | {meaning} (by mass) | | | |" for family, meaning in FAMILIES.items()),
        "",
        "Results are written `NAME=VALUE[UNIT][±U]`, U being the expanded uncertainty in the same unit,",
        "e.g. `alcohol_strength=80.2%vol±0.4`, `element.Cr=120g/kg`, `calorific_value=24.4MJ/kg`; a",
        "qualitative (presence) result as `NAME=detected` or `NAME=not_detected` (also yes / no).",
        "Units are converted with pint; `kcal` is the International Table kilocalorie (4.1868 kJ).",
        "",
        "## Levels and evidence",
        "",
        "A determination states the level the rules actually decided: a rule that places goods in heading",
        '22.08 says "agrees at heading 22.08; subheading not determined by these results", never that',
        "2208.30 agrees. `level`, `open_levels` and `missing_evidence` carry the same in the JSON.",
        "An **evidence rule** answers a question the legal text leaves without a number (re-esterified or",
        "natural fish oil): each row is one piece of evidence for a candidate; the rule decides only when",
        "every input of one of the candidate's conclusive sets supports it and no measured evidence",
        "supports another candidate; otherwise it answers undecided and names the missing evidence.",
        "An **exception** keeps goods the legal text excepts where they are, whatever the measurement.",
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
            *([f"- legal notes encoded: {', '.join(f'`{n}`' for n in rule.notes)}"] if rule.notes else []),
            *([] if rule.wider else ["- reads only declared codes within its scope, never a wider one"]),
            "",
            rule.explanation,
            "",
        ]
        if rule.branches:
            evidence = rule.kind == "evidence"
            head = (
                "| evidence | supports | explanation |"
                if evidence
                else "| condition | outcome | explanation |"
            )
            out += [head, "|---|---|---|"]
            for branch in rule.branches:
                condition = " and ".join(c.text() for c in branch.conditions)
                out.append(f"| {condition} | {_codes(branch.codes)} | {branch.explanation} |")
            out.append("")
            if evidence:
                for code, sets in rule.params["conclusive"].items():
                    ways = " or ".join("{" + ", ".join(f"`{i}`" for i in s) + "}" for s in sets)
                    out.append(f"- conclusive for {format_code(str(code))}: {ways}")
                out.append("")
        for exception in rule.exceptions:
            out += [f"- exception {_codes(exception.codes)}: {exception.explanation}", ""]
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


def write_page(path: Path | str, text: str) -> Path:
    """Write a generated page (creating its folder) and return where it went."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def write_docs(path: Path | str) -> Path:
    return write_page(path, render())
