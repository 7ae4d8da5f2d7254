"""The receiving bench: scan the labels of a delivery, then receive every sample at once."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from customslab.domain.access import Action, require
from customslab.domain.enums import State
from customslab.entrypoints.web.common import Form, PageActor, flash_redirect, render, say, uow_of
from customslab.services import bulk_receipt, queries
from customslab.services.bulk_receipt import MAX_CODES, BulkReceipt
from customslab.services.contract import parse
from customslab.services.ports import QueueFilter

router = APIRouter(include_in_schema=False)

#: How many registered samples the page lists as waiting to be received.
WAITING = 50


@router.get("/receive")
def receive_page(request: Request, actor: PageActor) -> Response:
    """A scan field (a hand scanner types the label code and Enter), the pending codes, and the receipt."""
    require(actor, Action.RECEIVE_SAMPLE)
    flt = QueueFilter(states=frozenset({State.REGISTERED}), sort="registered", limit=WAITING)
    waiting = queries.lab_queue(uow_of(request), actor, flt)
    return render(request, "receive.html", {"waiting": waiting, "max_codes": MAX_CODES})


@router.post("/receive")
def receive_all(request: Request, actor: PageActor, form: Form) -> Response:
    """Receive every scanned sample in one go; a bad code refuses them all, each bad code named."""
    cmd = parse(BulkReceipt, {**_receipt_fields(form), "codes": scanned_codes(form)})
    out = bulk_receipt.receive_samples(uow_of(request), actor, cmd)
    codes = ", ".join(s.lab_sample_id for s in out.received)
    return flash_redirect(request, "/receive", say(request, "Samples received: {codes}.", codes=codes))


def scanned_codes(form: FormData) -> list[str]:
    """The codes of the pending list (one hidden input each) and of the textarea used without
    JavaScript (one per line), in order, blanks dropped; repeats are kept for the service to name."""
    lines = [str(value) for key in ("codes", "codes_text") for value in form.getlist(key)]
    return [code.strip() for text in lines for code in text.splitlines() if code.strip()]


def _receipt_fields(form: FormData) -> dict[str, object]:
    return {
        "condition": str(form.get("condition", "")),
        "storage_location": str(form.get("storage_location", "")),
        "seal_intact": form.get("seal_intact", "yes") == "yes",
        "note": str(form.get("note", "")),
    }
