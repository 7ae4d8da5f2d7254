"""Federation: the inbox partners' servers post signed messages to, and the administrator's partners and keys.

The inbox (`POST /api/federation/messages`) is the one API route without a signed-in user: the message's
Ed25519 signature, by a key of a registered, active partner, authenticates it (services/federation_inbox).
It reads its body itself, up to `federation_max_message_bytes` (the application's body limit passes this
route by, `entrypoints/limits.SELF_LIMITED_ROUTES`), so that an oversized message is recorded as a refusal
like any other. Every other route here is for administrators.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from customslab.entrypoints.api.deps import Offset, SignedIn, get_uow_factory
from customslab.entrypoints.api.errors import ErrorBody, error_response
from customslab.entrypoints.limits import readable_size
from customslab.services import federation_inbox, federation_partners
from customslab.services.federation_inbox import InboxPage, RefusalEntry, Refused
from customslab.services.federation_partners import (
    KeyCreate,
    OwnKeys,
    PartnerCreate,
    PartnerEdit,
    PartnerView,
)
from customslab.services.organisations import CODE_PATTERN

router = APIRouter(prefix="/api/federation")
#: The inbox, included without the signed-in routes' error responses (it never answers 401 or 404).
inbox = APIRouter(prefix="/api/federation")

FEDERATION: list[str | Enum] = ["federation"]
AdminCode = Annotated[
    str, Path(pattern=CODE_PATTERN, max_length=32, description="The partner's administration code")
]
#: The media types a FHIR message may be sent as (FHIR's own, and plain JSON).
MESSAGE_TYPES = ("application/fhir+json", "application/json")


class Accepted(BaseModel):
    """The message was verified, acted on and recorded; its id is what the sender tracks."""

    status: Literal["accepted"] = "accepted"
    message_id: str


def _refusal(text: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": text}


INBOX_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _refusal("Not a signed FHIR message bundle, not valid FHIR, or not addressed to this deployment."),
    403: _refusal("Unknown or suspended sender, a key not valid now, or a signature that does not match."),
    409: _refusal("A duplicate: this message (or a later one of its stream) was received already."),
    413: _refusal("The message is larger than this deployment's `federation_max_message_bytes`."),
    415: _refusal("The body is not sent as application/fhir+json or application/json."),
    422: _refusal("Signed and valid, but refused by the use case (the reason says why); nothing was stored."),
    425: _refusal("Out of order: an earlier message of the same stream has not arrived yet; retry later."),
    503: _refusal("The message clashed with a concurrent change here and was not stored; send it again."),
}

MESSAGE_BODY = {
    "required": True,
    "description": "A FHIR R4 Bundle of type `message`, signed by the sender's deployment key "
    "(`Bundle.signature`; see docs/federation/wire-format.md). Sent as application/fhir+json; plain "
    "application/json is accepted too (one media type is declared, so that generated clients get one "
    "body model).",
    "content": {
        MESSAGE_TYPES[0]: {"schema": {"type": "object", "description": "A signed FHIR Bundle (type message)"}}
    },
}


def _gate(request: Request) -> Any:
    """The application's message gate (FHIR and signatures), built once."""
    gate = getattr(request.app.state, "federation_gate", None)
    if gate is None:
        from customslab.adapters.federation.gate import FhirMessageGate

        gate = request.app.state.federation_gate = FhirMessageGate()
    return gate


async def _refuse(request: Request, status: int, reason: str, size: int) -> Response:
    address = request.client.host if request.client else ""
    refused = await run_in_threadpool(
        federation_inbox.refuse,
        get_uow_factory(request),
        status,
        reason,
        size=size,
        remote_address=address,
    )
    return error_response(refused.status, refused.detail)


@inbox.post(
    "/messages",
    tags=FEDERATION,
    status_code=202,
    response_model=Accepted,
    responses=INBOX_RESPONSES,
    openapi_extra={"requestBody": MESSAGE_BODY},
)
async def receive_message(request: Request) -> Any:
    """A partner deployment delivers a signed message (authenticated by its signature, not a user)."""
    limit: int = request.app.state.settings.federation_max_message_bytes
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in MESSAGE_TYPES:
        shown = media or "no Content-Type"
        return await _refuse(request, 415, f"A message is sent as application/fhir+json, not {shown}.", 0)
    too_large = f"The message is larger than this deployment's limit of {readable_size(limit)}."
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        return await _refuse(request, 413, too_large, int(length))
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            # Stop reading: the server discards the rest, memory stays bounded by the limit.
            return await _refuse(request, 413, too_large, len(body))
    address = request.client.host if request.client else ""
    try:
        received = await run_in_threadpool(
            federation_inbox.receive, get_uow_factory(request), _gate(request), bytes(body), address
        )
    except Refused as exc:
        return error_response(exc.status, exc.detail)
    return JSONResponse(Accepted(message_id=received.message_id).model_dump(), status_code=202)


# -- partners and keys (administrators) ------------------------------------------------------------------
@router.get("/partners", tags=FEDERATION, response_model=list[PartnerView])
def list_partners(caller: SignedIn) -> list[PartnerView]:
    """The partner deployments, their state and keys (admins only)."""
    return federation_partners.partners(caller.uow, caller.actor)


@router.post("/partners", tags=FEDERATION, status_code=201, response_model=PartnerView)
def register_partner(body: PartnerCreate, caller: SignedIn) -> PartnerView:
    """Trust another administration's deployment: its base URL and public key (admins only)."""
    return federation_partners.register_partner(caller.uow, caller.actor, body)


@router.get("/partners/{administration}", tags=FEDERATION, response_model=PartnerView)
def get_partner(administration: AdminCode, caller: SignedIn) -> PartnerView:
    """One partner deployment, its state and keys (admins only)."""
    return federation_partners.partner(caller.uow, caller.actor, administration)


@router.patch("/partners/{administration}", tags=FEDERATION, response_model=PartnerView)
def edit_partner(administration: AdminCode, body: PartnerEdit, caller: SignedIn) -> PartnerView:
    """Change a partner's base URL or note, or suspend or resume it; a stale `row_version` is a 409."""
    return federation_partners.edit_partner(caller.uow, caller.actor, administration, body)


@router.post("/partners/{administration}/keys", tags=FEDERATION, status_code=201, response_model=PartnerView)
def add_partner_key(
    administration: AdminCode, body: Annotated[KeyCreate, Body()], caller: SignedIn
) -> PartnerView:
    """Accept one more public key of a partner, from now on (admins only)."""
    return federation_partners.add_partner_key(caller.uow, caller.actor, administration, body)


@router.get("/key", tags=FEDERATION, response_model=OwnKeys)
def own_keys(caller: SignedIn) -> OwnKeys:
    """This deployment's administration and public keys, to give to partners' administrators."""
    return federation_partners.own_keys(caller.uow, caller.actor)


# -- what came in ---------------------------------------------------------------------------------------
@router.get("/inbox", tags=FEDERATION, response_model=InboxPage)
def list_inbox(
    caller: SignedIn, limit: Annotated[int, Query(ge=1, le=200)] = 50, offset: Offset = 0
) -> InboxPage:
    """Messages received from partners and acted on, newest first (admins only)."""
    return federation_inbox.inbox(caller.uow, caller.actor, limit, offset)


@router.get("/refusals", tags=FEDERATION, response_model=list[RefusalEntry])
def list_refusals(caller: SignedIn, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[RefusalEntry]:
    """Messages refused, newest first: who claimed to send them and why (admins only)."""
    return federation_inbox.refusals(caller.uow, caller.actor, limit)
