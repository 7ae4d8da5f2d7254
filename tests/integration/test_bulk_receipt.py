"""Bulk receipt by label codes: the use case, its API route and its page, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from customslab.domain.errors import PermissionDenied, ValidationFailed
from customslab.services import bulk_receipt, cases, queries, referrals
from customslab.services.bulk_receipt import BulkReceipt
from customslab.services.cases import SampleCreate
from customslab.services.referrals import ReferralCreate
from customslab.services.views import SampleSummary
from tests.factories import PASSWORD, Network, received_sample, request_command
from tests.integration.test_pages import post, sign_in


def registered(app: Any, net: Network, lab: str = "central", count: int = 1) -> list[SampleSummary]:
    """`count` samples of one officer's request that the `lab` laboratory's manager registers."""
    uow = app.state.uow_factory
    req = cases.file_request(uow(), net["officer"], request_command(net, lab_code=getattr(net, lab)))
    manager = net[f"{lab}_manager"]
    return [
        cases.register_sample(uow(), manager, req.id, SampleCreate(quantity="1", unit="L"))
        for _ in range(count)
    ]


def state_of(app: Any, net: Network, sample_id: int) -> str:
    return str(queries.sample_detail(app.state.uow_factory(), net["central_manager"], sample_id).state)


def test_several_registered_samples_are_received_at_once_with_the_same_receipt(
    app: Any, net: Network
) -> None:
    samples = registered(app, net, count=3)
    cmd = BulkReceipt(
        codes=[s.lab_sample_id for s in samples],
        condition="intact",
        storage_location="Fridge 2",
        note="box 4",
    )
    out = bulk_receipt.receive_samples(app.state.uow_factory(), net["analyst"], cmd)
    assert [s.lab_sample_id for s in out.received] == cmd.codes
    assert {s.state for s in out.received} == {"received"}
    for s in samples:
        detail = queries.sample_detail(app.state.uow_factory(), net["central_manager"], s.id)
        assert detail.state == "received"
        assert detail.condition_on_receipt == "intact" and detail.storage_location == "Fridge 2"
        receipt = detail.custody[-1]
        assert receipt.kind == "receipt" and receipt.seal_intact is True and receipt.note == "box 4"
        assert receipt.location == "Fridge 2"


def test_one_bad_code_refuses_the_whole_delivery_and_every_bad_code_is_named(app: Any, net: Network) -> None:
    good = registered(app, net, count=2)
    elsewhere = registered(app, net, lab="local")[0]
    already = received_sample(app.state.uow_factory, net)
    codes = [
        good[0].lab_sample_id,
        "NO-SUCH-CODE",
        elsewhere.lab_sample_id,
        already.lab_sample_id,
        good[1].lab_sample_id,
        good[0].lab_sample_id,
    ]
    with pytest.raises(ValidationFailed) as refused:
        bulk_receipt.receive_samples(
            app.state.uow_factory(), net["central_manager"], BulkReceipt(codes=codes)
        )
    messages = [e.message for e in refused.value.errors]
    assert {e.field for e in refused.value.errors} == {"codes"}
    assert messages == [
        "NO-SUCH-CODE: no sample of your laboratory has this code.",
        f"{elsewhere.lab_sample_id}: held by {net.local}, not by your laboratory.",
        f"{already.lab_sample_id}: already received; only a registered sample can be received.",
        f"{good[0].lab_sample_id}: scanned more than once.",
    ]
    # All or nothing: the good codes of the refused delivery are still waiting.
    assert [state_of(app, net, s.id) for s in good] == ["registered", "registered"]


def test_a_sample_the_actor_may_not_see_reads_as_an_unknown_code(app: Any, net: Network) -> None:
    theirs = registered(app, net, lab="local")[0]
    with pytest.raises(ValidationFailed) as refused:
        bulk_receipt.receive_samples(
            app.state.uow_factory(), net["outsider"], BulkReceipt(codes=[theirs.lab_sample_id])
        )
    assert refused.value.message == f"{theirs.lab_sample_id}: no sample of your laboratory has this code."


def test_a_sample_referred_away_is_named_with_the_laboratory_that_holds_it(app: Any, net: Network) -> None:
    uow = app.state.uow_factory
    sample = received_sample(uow, net, lab="local")
    referrals.refer_sample(
        uow(), net["local_manager"], sample.id, ReferralCreate(to_lab=net.central, reason="GC-MS")
    )
    with pytest.raises(ValidationFailed) as refused:
        bulk_receipt.receive_samples(uow(), net["local_manager"], BulkReceipt(codes=[sample.lab_sample_id]))
    assert refused.value.message == f"{sample.lab_sample_id}: referred to {net.central}, which holds it now."
    # The laboratory it was referred to receives it in a bulk receipt, and the referral is accepted.
    out = bulk_receipt.receive_samples(
        uow(), net["central_manager"], BulkReceipt(codes=[sample.lab_sample_id])
    )
    assert out.received[0].state == "received"
    detail = queries.sample_detail(uow(), net["central_manager"], sample.id)
    assert [r.state for r in detail.referrals] == ["accepted"]


def test_an_empty_delivery_and_an_officer_are_refused(app: Any, net: Network) -> None:
    with pytest.raises(ValidationFailed) as empty:
        bulk_receipt.receive_samples(app.state.uow_factory(), net["analyst"], BulkReceipt(codes=[]))
    assert empty.value.field == "codes"
    code = registered(app, net)[0].lab_sample_id
    with pytest.raises(PermissionDenied):
        bulk_receipt.receive_samples(app.state.uow_factory(), net["officer"], BulkReceipt(codes=[code]))


def test_the_api_receives_samples_by_code_and_names_the_bad_codes(
    client: TestClient, net: Network, app: Any
) -> None:
    token = client.post("/api/auth/token", json={"username": net["analyst"].username, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    samples = registered(app, net, count=2)
    codes = [s.lab_sample_id for s in samples]
    refused = client.post("/api/sample-receipts", json={"codes": [*codes, "NOPE"]}, headers=headers)
    assert refused.status_code == 422
    assert refused.json() == {"error": "NOPE: no sample of your laboratory has this code.", "field": "codes"}
    answer = client.post(
        "/api/sample-receipts", json={"codes": codes, "storage_location": "B-1"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert [(s["lab_sample_id"], s["state"]) for s in answer.json()["received"]] == [
        (code, "received") for code in codes
    ]


def test_the_page_receives_the_codes_of_the_textarea_without_javascript(
    client: TestClient, net: Network, app: Any
) -> None:
    samples = registered(app, net, count=2)
    sign_in(client, net, "analyst")
    page = client.get("/receive")
    assert page.status_code == 200
    assert (
        'id="scan"' in page.text and 'name="codes_text"' in page.text and "/static/js/receive.js" in page.text
    )
    assert samples[0].lab_sample_id in page.text  # listed as waiting
    text = f"{samples[0].lab_sample_id}\r\n\r\n  {samples[1].lab_sample_id}  \n"
    answer = post(
        client, "/receive", {"codes_text": text, "storage_location": "Shelf 9", "seal_intact": "no"}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/receive"
    flash = client.get("/receive").text
    assert f"Samples received: {samples[0].lab_sample_id}, {samples[1].lab_sample_id}." in flash
    detail = queries.sample_detail(app.state.uow_factory(), net["analyst"], samples[1].id)
    assert detail.state == "received" and detail.custody[-1].seal_intact is False


def test_a_refused_scan_list_comes_back_as_form_errors_and_nothing_is_received(
    client: TestClient, net: Network, app: Any
) -> None:
    sample = registered(app, net)[0]
    sign_in(client, net, "analyst")
    answer = post(
        client,
        "/receive",
        {"codes": [sample.lab_sample_id, "BAD-1", "BAD-2"]},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200 and answer.headers["HX-Reswap"] == "none"
    errors = json.loads(answer.headers["HX-Trigger"])["form-errors"]["errors"]
    assert [(e["field"], e["message"].split(":")[0]) for e in errors] == [
        ("codes", "BAD-1"),
        ("codes", "BAD-2"),
    ]
    assert state_of(app, net, sample.id) == "registered"


def test_a_scan_list_of_200_bad_codes_sends_the_first_20_errors_and_how_many_more_in_a_small_header(
    client: TestClient, net: Network
) -> None:
    sign_in(client, net, "analyst")
    codes = [f"UNKNOWN-LABEL-CODE-{i:03d}" for i in range(bulk_receipt.MAX_CODES)]
    answer = post(client, "/receive", {"codes": codes}, headers={"HX-Request": "true"})
    header = answer.headers["HX-Trigger"]
    # Proxies refuse a response whose headers pass 8 KB (nginx's default buffer is 4 or 8 KB).
    assert len(header) < 4096
    errors = json.loads(header)["form-errors"]["errors"]
    assert [e["message"].split(":")[0] for e in errors[:-1]] == codes[:20]
    assert errors[-1] == {"field": None, "message": "… and 180 more."}


def test_the_receiving_page_is_for_laboratory_staff(client: TestClient, net: Network) -> None:
    sign_in(client, net, "officer")
    assert client.get("/receive").status_code == 403
    assert 'href="/receive"' not in client.get("/requests").text
