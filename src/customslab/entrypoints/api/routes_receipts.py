"""Bulk receipt of samples by the codes on their labels."""

from __future__ import annotations

from fastapi import APIRouter

from customslab.entrypoints.api.deps import SignedIn
from customslab.entrypoints.api.errors import ErrorBody
from customslab.services import bulk_receipt
from customslab.services.bulk_receipt import BulkReceipt, BulkReceived

router = APIRouter(prefix="/api", tags=["cases"])


@router.post(
    "/sample-receipts",
    responses={
        422: {
            "model": ErrorBody,
            "description": "No code given, or a code that is unknown, another laboratory's, not registered "
            "or repeated: nothing is received, and each bad code is named.",
        }
    },
)
def receive_samples(body: BulkReceipt, caller: SignedIn) -> BulkReceived:
    """Receive several registered samples of the laboratory at once, all or nothing."""
    return bulk_receipt.receive_samples(caller.uow, caller.actor, body)
