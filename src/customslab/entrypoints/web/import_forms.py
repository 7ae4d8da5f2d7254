"""The mapping form of an instrument model read into its command, and a stored mapping written back into
the form's inputs.

Lists are typed one entry a line: analyte columns ("SiO2"), skip rules ("Sample Type: Cal*, QC"),
analyte aliases ("208 Pb [He] = element.Pb") and unit aliases ("ppb = µg/kg"). A line that does not
fit its box is refused on that box, with its number.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from customslab.domain.errors import FieldError, ValidationFailed
from customslab.services.contract import parse
from customslab.services.instrument_mappings import MappingSave, MappingView

#: Single inputs of the form, named as the command's fields.
_PLAIN = (
    "instrument_model",
    "description",
    "layout",
    "sample_column",
    "analyte_column",
    "value_column",
    "unit_column",
    "unit",
    "uncertainty_column",
    "coverage_factor_column",
    "coverage_factor",
    "lod_column",
    "loq_column",
    "header_row",
    "sheet",
    "delimiter",
    "test_hint",
)
_BOOLEAN = {"yes": True, "no": False}


def _lines(form: FormData, name: str) -> list[tuple[int, str]]:
    text = str(form.get(name) or "")
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


def _pairs(form: FormData, name: str, sign: str, faults: list[FieldError], what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for n, line in _lines(form, name):
        left, found, right = line.partition(sign)
        if not found or not left.strip() or not right.strip():
            faults.append(FieldError(name, f"Line {n} of {what}: write it as name {sign} value."))
            continue
        pairs[left.strip()] = right.strip()
    return pairs


def mapping_command(form: FormData) -> MappingSave:
    """The posted mapping form as the command the use cases take; every fault on its input."""
    faults: list[FieldError] = []
    data: dict[str, Any] = {name: str(form.get(name) or "").strip() for name in _PLAIN}
    data["analyte_columns"] = [line for _, line in _lines(form, "analyte_columns")]
    rules = []
    for n, line in _lines(form, "skip_rules"):
        column, found, patterns = line.partition(":")
        listed = [p.strip() for p in patterns.split(",") if p.strip()]
        if not found or not column.strip() or not listed:
            faults.append(
                FieldError("skip_rules", f"Line {n} of the skip rules: write Column: pattern, pattern.")
            )
            continue
        rules.append({"column": column.strip(), "patterns": listed})
    data["skip_rules"] = rules
    data["analyte_aliases"] = _pairs(form, "analyte_aliases", "=", faults, "the analyte aliases")
    data["unit_aliases"] = _pairs(form, "unit_aliases", "=", faults, "the unit aliases")
    data["uncertainty_relative"] = "yes" if form.get("uncertainty_relative") else "no"
    choice = str(form.get("decimal_comma") or "")
    if choice in _BOOLEAN:
        data["decimal_comma"] = _BOOLEAN[choice]
    if faults:
        raise ValidationFailed.of(faults)
    return parse(MappingSave, {k: v for k, v in data.items() if v not in ([], {})})


def mapping_values(view: MappingView | None) -> dict[str, str]:
    """What the form's inputs hold: the stored mapping's, or a new mapping's defaults."""
    if view is None:
        return {"layout": "long", "delimiter": "auto", "decimal_comma": "", "coverage_factor": "2"}
    values = {name: "" if getattr(view, name) is None else str(getattr(view, name)) for name in _PLAIN}
    values["layout"], values["delimiter"] = view.layout.value, view.delimiter.value
    values["analyte_columns"] = "\n".join(view.analyte_columns)
    values["skip_rules"] = "\n".join(f"{r.column}: {', '.join(r.patterns)}" for r in view.skip_rules)
    values["analyte_aliases"] = "\n".join(f"{k} = {v}" for k, v in view.analyte_aliases.items())
    values["unit_aliases"] = "\n".join(f"{k} = {v}" for k, v in view.unit_aliases.items())
    values["uncertainty_relative"] = "yes" if view.uncertainty_relative else ""
    values["decimal_comma"] = {True: "yes", False: "no", None: ""}[view.decimal_comma]
    return values
