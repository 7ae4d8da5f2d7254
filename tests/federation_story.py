"""The referral between two real servers, step by step through their HTTP APIs (tests/federation_pair.py):
Bhutan's officer files, its focal point registers, releases the officer's question to Japan and refers
the sample to Japan's RCL on the other server, which receives, analyses, approves and reports it.

The two-server test plays the whole story with these steps; the federation benchmark times some of them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from tests.federation_pair import Server, eventually


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: {response.text}"
    )
    return response.json()


@dataclass(frozen=True)
class Referred:
    """One sample referred from the member to the RCL: its ids on both servers."""

    request_id: int  # the member's request
    sample_id: int  # the member's sample
    lab_sample_id: str
    referral_id: int  # the member's referral
    rcl_sample_id: int = 0  # the RCL's sample, once the referral arrived there


def file_and_refer(member: Server, declaration_number: str, seal: str) -> Referred:
    """The member's officer files a request, the focal point registers the sample, releases the officer's
    question to Japan and refers the sample to Japan's RCL."""
    officer, focal = member.client("officer.bt"), member.client("focal.bt")
    request = {
        "lab_code": "BT-FP",
        "declaration_number": declaration_number,
        "item_number": 1,
        "declared_hs": "2208.40",
        "goods_description": "Rum in 700 mL bottles",
        "origin_country": "JM",
        "importer": "Druk Trading",
        "declared_value": "12000",
        "currency": "USD",
        "reason": "classification",
        "priority": "urgent",
        "requested_determinations": ["alcoholic strength"],
        "question": "Is this rum of heading 2208?",
    }
    filed = ok(officer.post("/api/requests", json=request), 201)
    sample = ok(
        focal.post(
            f"/api/requests/{filed['id']}/samples",
            json={"quantity": "700", "unit": "mL", "seal_number": f"{seal}-0"},
        ),
        201,
    )
    release = {"administration_code": "JPC", "fields": ["question"], "reason": "the method depends on it"}
    ok(focal.post(f"/api/requests/{filed['id']}/releases", json=release), 201)
    referral = ok(
        focal.post(
            f"/api/samples/{sample['id']}/refer",
            json={"to_lab": "RCL-JP", "reason": "no laboratory in Bhutan", "seal_number": seal},
        ),
        201,
    )
    return Referred(filed["id"], sample["id"], sample["lab_sample_id"], referral["id"])


def at_the_rcl(rcl: Server, referred: Referred) -> dict[str, Any] | None:
    """The RCL's queue row of the referred sample, once its referral arrived there."""
    rows = ok(rcl.client("manager.jp").get("/api/queue", params={"q": referred.lab_sample_id}))["items"]
    found = [r for r in rows if r["lab_sample_id"] == referred.lab_sample_id]
    return found[0] if found else None


def refer_from_member(member: Server, rcl: Server, declaration_number: str) -> Referred:
    """File and refer on the member; wait until the RCL has the sample in its queue."""
    referred = file_and_refer(member, declaration_number, f"S-{declaration_number}")
    row = eventually(lambda: at_the_rcl(rcl, referred), timeout=60)
    return Referred(**{**referred.__dict__, "rcl_sample_id": row["id"]})


def receive_at_the_rcl(rcl: Server, referred: Referred, seal_intact: bool = True) -> None:
    manager = rcl.client("manager.jp")
    ok(manager.post(f"/api/samples/{referred.rcl_sample_id}/receive", json={"seal_intact": seal_intact}))


def approve_and_report(rcl: Server, referred: Referred, value: str = "40.1") -> float:
    """The RCL measures the received sample, approves and reports it. Returns `time.perf_counter()` at the
    approval (the start of what the member waits for)."""
    manager, analyst, reviewer = (rcl.client(u) for u in ("manager.jp", "analyst.jp", "reviewer.jp"))
    sid = referred.rcl_sample_id
    if ok(manager.get(f"/api/samples/{sid}"))["state"] == "registered":
        ok(manager.post(f"/api/samples/{sid}/receive", json={"seal_intact": True}))
    analyst_id = ok(analyst.get("/api/auth/me"))["id"]
    test = ok(
        manager.post(
            f"/api/samples/{sid}/tests",
            json={"determination": "alcoholic strength", "method_ref": "JP-M-7", "analyst_id": analyst_id},
        ),
        201,
    )
    result = {
        "name": "alcohol_strength",
        "value": value,
        "unit": "%vol",
        "expanded_uncertainty": "0.2",
        "coverage_factor": "2",
    }
    ok(analyst.post(f"/api/tests/{test['id']}/results", json=result), 201)
    ok(analyst.post(f"/api/tests/{test['id']}/submit"))
    start = time.perf_counter()
    ok(reviewer.post(f"/api/tests/{test['id']}/review", json={"approve": True}))
    ok(reviewer.post(f"/api/samples/{sid}/report", json={}), 201)
    return start


def external_referral(member: Server, referred: Referred) -> dict[str, Any]:
    """Where the referral stands, as the member's officer sees it on the request."""
    seen = ok(member.client("officer.bt").get(f"/api/requests/{referred.request_id}"))
    (found,) = [r for r in seen["external_referrals"] if r["referral_id"] == referred.referral_id]
    return dict(found)


def result_seen(member: Server, referred: Referred) -> bool:
    """Whether the member's officer sees the RCL's results on the request."""
    reports = external_referral(member, referred)["reports"]
    return bool(reports and reports[-1]["results"])
