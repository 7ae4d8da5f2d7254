"""The controlled substances register: the national lists an administration loads, and a look-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from customslab.entrypoints.api.deps import SignedIn
from customslab.services import substances
from customslab.services.substances import (
    CAS_PATTERN,
    INCHIKEY_PATTERN,
    CheckedSubstance,
    NationalListLoad,
    NationalListView,
)

router = APIRouter(prefix="/api/substances", tags=["substances"])


def _or_empty(pattern: str) -> str:
    """The pattern, or nothing at all (a parameter left out is an empty text)."""
    return f"^(?:{pattern.removeprefix('^').removesuffix('$')})?$"


Name = Annotated[str, Query(max_length=200, description="A name or synonym (case, spaces, hyphens aside).")]
Cas = Annotated[
    str,
    Query(pattern=_or_empty(CAS_PATTERN), description="A CAS number, with its correct check digit."),
]
InChIKey = Annotated[
    str, Query(pattern=_or_empty(INCHIKEY_PATTERN), description="A full InChIKey (27 characters).")
]


@router.get("/lists")
def list_national_lists(caller: SignedIn) -> list[NationalListView]:
    """The national lists of controlled substances loaded for my administration."""
    return substances.national_lists(caller.uow, caller.actor)


@router.post("/lists", status_code=201)
def load_national_list(body: NationalListLoad, caller: SignedIn) -> NationalListView:
    """Load my administration's national list from CSV (administrators only); a faulty file is refused
    with each fault's line, and nothing is loaded."""
    return substances.load_national_list(caller.uow, caller.actor, body)


@router.get("/check")
def check_substance(
    request: Request, caller: SignedIn, name: Name = "", cas: Cas = "", inchikey: InChIKey = ""
) -> CheckedSubstance:
    """The control status of a name, CAS number or InChIKey (one at least) in the UN lists and my
    national lists."""
    return substances.check_substance(
        caller.uow, caller.actor, request.app.state.substances, name, cas, inchikey
    )
