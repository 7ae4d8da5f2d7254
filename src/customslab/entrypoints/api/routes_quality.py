"""ISO/IEC 17025 quality registers, built from their declarations in `services.quality`.

Every register gets `GET /api/quality/<register>` (list), `POST` (add an entry, its command as the
body) and `GET .../{entry_id}` (one entry); every step of an entry gets `POST .../{entry_id}/<step>`.
Request and response models are the register's command and view, so the OpenAPI document, the
validation of the body and the JSON returned all come from the one declaration.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response

from customslab.entrypoints.api.deps import Caller, PathId, SignedIn
from customslab.services import quality
from customslab.services.quality_control import qc_chart_svg
from customslab.services.quality_equipment import DueView, equipment_due
from customslab.services.quality_register import NoInput, Register, Step

router = APIRouter(prefix="/api", tags=["quality"])

SVG_CONTENT = {"image/svg+xml": {"schema": {"type": "string"}}}
#: Whose registers to read: a laboratory under the caller's central laboratory (read-only); default own.
LabParam = Annotated[
    str | None,
    Query(max_length=40, description="A laboratory under yours, to read its registers; default yours."),
]


# Registered before the generated `/quality/equipment/{entry_id}`, which would otherwise take "due".
@router.get("/quality/equipment/due")
def calibrations_due(
    caller: SignedIn, horizon_days: int = Query(30, ge=0, le=366), lab: LabParam = None
) -> list[DueView]:
    """Calibrations overdue or due within the horizon, most urgent first."""
    return equipment_due(caller.uow, caller.actor, horizon_days, lab)


@router.get(
    "/quality/qc-batches/{entry_id}/chart.svg",
    response_class=Response,
    responses={200: {"description": "The chart as SVG.", "content": SVG_CONTENT}},
)
def qc_chart(entry_id: PathId, caller: SignedIn) -> Response:
    """The Levey–Jennings chart of a QC batch, Westgard violations coloured."""
    return Response(qc_chart_svg(caller.uow, caller.actor, entry_id), media_type="image/svg+xml")


_KW = inspect.Parameter.KEYWORD_ONLY
_CALLER = inspect.Parameter("caller", _KW, annotation=SignedIn)
_ENTRY = inspect.Parameter("entry_id", _KW, annotation=PathId)
_LAB = inspect.Parameter("lab", _KW, annotation=LabParam, default=None)


def _body(command: type[Any]) -> list[inspect.Parameter]:
    """The request body of a command; one whose fields all have defaults may be left out."""
    if command is NoInput:
        return []
    if any(f.is_required() for f in command.model_fields.values()):
        return [inspect.Parameter("body", _KW, annotation=command)]
    return [inspect.Parameter("body", _KW, annotation=Annotated[command | None, Body()], default=None)]


def _add(
    method: str,
    path: str,
    name: str,
    doc: str,
    call: Callable[..., Any],
    params: list[inspect.Parameter],
    returns: Any,
    status_code: int = 200,
) -> None:
    """Route `call`, giving FastAPI the typed signature it reads parameters and the response from."""
    call.__signature__ = inspect.Signature([*params, _CALLER], return_annotation=returns)  # type: ignore[attr-defined]
    call.__name__, call.__doc__ = name, doc
    router.add_api_route(
        path, call, methods=[method], name=name, status_code=status_code, response_model=returns
    )


def add_register(reg: Register[Any, Any, Any]) -> None:
    """The list, create and detail routes of one register."""
    base, slug, one = f"/quality/{reg.path}", reg.path.replace("-", "_"), reg.what.lower().replace(" ", "_")
    register = f"the register of {reg.path.replace('-', ' ')}"
    _add(
        "GET",
        base,
        f"list_{slug}",
        f"Every entry of {register} the laboratory keeps or may see, oldest first.",
        lambda *, caller, lab=None: reg.list_all(caller.uow, caller.actor, lab),
        [_LAB],
        list[reg.view],  # type: ignore[name-defined]
    )
    _add(
        "POST",
        base,
        f"record_{one}",
        reg.summary,
        lambda *, body, caller: reg.record(caller.uow, caller.actor, body),
        _body(reg.command),
        reg.view,
        201,
    )
    _add(
        "GET",
        f"{base}/{{entry_id}}",
        f"get_{one}",
        f"One entry of {register}.",
        lambda *, entry_id, caller: reg.detail(caller.uow, caller.actor, entry_id),
        [_ENTRY],
        reg.view,
    )


def add_step(step: Step[Any, Any, Any]) -> None:
    """The route of one step of a register's entry."""
    reg = step.register

    def take(*, entry_id: int, caller: Caller, body: Any = None) -> Any:
        return step(caller.uow, caller.actor, entry_id, body)

    _add(
        "POST",
        f"/quality/{reg.path}/{{entry_id}}/{step.path}",
        f"{step.apply.__name__.strip('_')}_{reg.what.lower().replace(' ', '_')}",
        step.summary,
        take,
        [_ENTRY, *_body(step.command)],
        reg.view,
        201 if step.adds else 200,
    )


for _register in quality.REGISTERS:
    add_register(_register)
for _step in quality.STEPS:
    add_step(_step)
