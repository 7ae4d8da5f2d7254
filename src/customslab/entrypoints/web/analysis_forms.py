"""The forms of a test on the sample page, read into the commands of the analysis use cases.

The plan-a-test form picks a catalogued method version (or, explicitly, a non-catalogued method with its
reference); the result form picks a measurand from the list, its kind, an instrument and a QC batch from
what the laboratory may use. The use cases check every choice again.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.datastructures import FormData

from customslab.domain.access import LAB_STAFF, Actor
from customslab.domain.enums import ResultKind
from customslab.domain.errors import FieldError, ValidationFailed
from customslab.entrypoints.web.common import language, translations, uow_of
from customslab.entrypoints.web.measurands import KINDS, OUTCOMES, typed_key, typed_outcome
from customslab.hs.measurands import MEASURANDS
from customslab.services.analysis import ResultCreate, TestCreate
from customslab.services.analysis_choices import analysis_choices
from customslab.services.contract import parse

#: The method select's value for a method outside the catalogue, given by its reference.
NON_CATALOGUED = "other"
_RESULT_FIELDS = (
    "name",
    "kind",
    "value",
    "unit",
    "expanded_uncertainty",
    "coverage_factor",
    "lod",
    "loq",
    "observation",
    "text_value",
    "identification_id",
    "equipment_id",
    "qc_batch_id",
)


def _text(form: FormData, name: str) -> str:
    return str(form.get(name) or "").strip()


def test_command(form: FormData) -> TestCreate:
    """The plan-a-test form: a catalogued method version, or "other" with a free method reference."""
    choice = _text(form, "method_version_id")
    data = {k: _text(form, k) for k in ("determination", "analyst_id")}
    if choice == NON_CATALOGUED or (not choice and _text(form, "method_ref")):
        data["method_ref"] = _text(form, "method_ref")
        missing = (
            None
            if data["method_ref"]
            else FieldError("method_ref", "Give the reference of the non-catalogued method.")
        )
    else:
        data["method_version_id"] = choice
        missing = (
            None
            if choice
            else FieldError(
                "method_version_id",
                "Choose a method of the catalogue, or a non-catalogued method with its reference.",
            )
        )
    try:
        cmd = parse(TestCreate, data)
    except ValidationFailed as exc:
        raise ValidationFailed.of([*exc.errors, *([missing] if missing else [])]) from None
    if missing is not None:
        raise ValidationFailed.of([missing])
    return cmd


def result_command(request: Request, form: FormData) -> ResultCreate:
    """The result form; a measurand label or an outcome typed in the page's language is read as its key."""
    gettext = translations(language(request)).gettext
    data = {k: _text(form, k) for k in _RESULT_FIELDS}
    if data["name"]:
        data["name"] = typed_key(data["name"])
    if data["kind"] and data["kind"] != ResultKind.QUANTITY.value:
        data["text_value"] = typed_outcome(gettext, data["text_value"])
        # The form's coverage factor is prefilled for a quantity's U; an outcome has no U to qualify.
        data["coverage_factor"] = ""
    return parse(ResultCreate, data)


def analysis_context(request: Request, actor: Actor, can: Any) -> dict[str, Any]:
    """What the sample page's test forms offer: methods, instruments, QC batches, measurands, kinds."""
    wanted = actor.has(*LAB_STAFF) and (can.get("add_test") or can.get("analyse"))
    return {
        "choices": analysis_choices(uow_of(request), actor) if wanted else None,
        "measurands": MEASURANDS,
        "result_kinds": KINDS,
        "outcomes": OUTCOMES,
        "non_catalogued": NON_CATALOGUED,
    }
