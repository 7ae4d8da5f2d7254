"""The whole referral between two real servers over HTTP, with real signatures, across the RCL's crash.

Bhutan's member deployment (SQLite) and Japan's RCL deployment (PostgreSQL) run as two `customslab serve`
processes on loopback, each with its own database, key and in-process worker, set up with the commands
the README shows. The RCL is killed mid-way while the member goes on sending; once it is back, every
message arrives exactly once and in order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from customslab.entrypoints.cli import app as cli_app
from tests.federation_pair import Server, eventually, federation_pair
from tests.federation_story import (
    Referred,
    approve_and_report,
    at_the_rcl,
    external_referral,
    file_and_refer,
    ok,
    receive_at_the_rcl,
    refer_from_member,
    result_seen,
)
from tests.integration.conftest import create_pg_database, drop_pg_database

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    rcl_url = create_pg_database()
    try:
        with federation_pair(tmp_path, f"sqlite:///{tmp_path}/member.sqlite3", rcl_url) as servers:
            yield servers
    finally:
        drop_pg_database(rcl_url)


def outbox(server: Server, **params: Any) -> list[dict[str, Any]]:
    return list(ok(server.admin().get("/api/federation/outbox", params={"limit": 200, **params}))["items"])


def inbox(server: Server) -> list[dict[str, Any]]:
    return list(ok(server.admin().get("/api/federation/inbox", params={"limit": 200}))["items"])


def status_of(member: Server, referred: Referred) -> str:
    return str(external_referral(member, referred)["status"])


def all_delivered(server: Server) -> bool:
    states = {m["state"] for m in outbox(server)}
    assert "failed" not in states, [m for m in outbox(server) if m["state"] == "failed"]
    return states == {"delivered"}


def assert_each_arrived_once_in_order(sender: Server, receiver: Server) -> None:
    """Every message the sender wrote is in the receiver's inbox once, with the same hash, and each
    stream's messages were taken in their order."""
    sent = {m["message_id"]: m for m in outbox(sender)}
    received = inbox(receiver)
    assert sorted(m["message_id"] for m in received) == sorted(sent)  # nothing lost, nothing twice
    assert all(m["sha256"] == sent[m["message_id"]]["sha256"] for m in received)
    by_stream: dict[str, list[int]] = defaultdict(list)
    for m in sorted(received, key=lambda m: m["id"]):
        by_stream[m["stream"]].append(m["seq"])
    assert all(seqs == list(range(1, len(seqs) + 1)) for seqs in by_stream.values()), by_stream


def test_two_servers_carry_the_whole_referral_across_the_rcls_crash(
    pair: tuple[Server, Server], tmp_path: Path
) -> None:
    member, rcl = pair

    # The member refers; the RCL sees an incoming external referral with only the released field.
    first = refer_from_member(member, rcl, "BT-DCL-0001")
    row = at_the_rcl(rcl, first)
    assert row is not None and row["from_administration"] == "BTC"
    request = ok(rcl.client("manager.jp").get(f"/api/samples/{first.rcl_sample_id}"))["request"]
    assert request["question"] == "Is this rum of heading 2208?"
    assert request["importer"] is None and request["declaration_number"] is None
    assert set(request["withheld"]) == {
        "declaration_number",
        "item_number",
        "importer",
        "declarant",
        "declared_value",
        "currency",
    }
    assert status_of(member, first) == "requested"

    # The RCL goes down; the member files and refers two more and calls one of them off.
    rcl.stop()
    second = file_and_refer(member, "BT-DCL-0002", "S-2")
    third = file_and_refer(member, "BT-DCL-0003", "S-3")
    ok(member.client("focal.bt").post(f"/api/referrals/{third.referral_id}/cancel", json={"reason": "wrong"}))
    waiting = eventually(lambda: [m for m in outbox(member, state="pending") if m["attempts"] >= 1])
    assert len(waiting) >= 1 and all("no answer" in m["last_error"] for m in waiting)
    assert len(outbox(member, state="pending")) == 3  # two referrals and the cancellation

    # Back up: everything arrives, once each, in order.
    rcl.start()
    eventually(lambda: all_delivered(member))
    assert_each_arrived_once_in_order(member, rcl)
    at_rcl_second = eventually(lambda: at_the_rcl(rcl, second))
    second = Referred(**{**second.__dict__, "rcl_sample_id": at_rcl_second["id"]})
    third_at_rcl = eventually(lambda: _rcl_sample_by_label(rcl, third.lab_sample_id))
    assert third_at_rcl["state"] == "cancelled"

    # The RCL receives the first sample: the custody event goes back as Task status.
    receive_at_the_rcl(rcl, first)
    eventually(lambda: status_of(member, first) == "accepted")
    custody = ok(member.client("focal.bt").get(f"/api/samples/{first.sample_id}"))["custody"]
    assert custody[-1]["kind"] == "receipt" and custody[-1]["seal_intact"] is True

    # It analyses, approves and reports: results and the PDF reach the member's officer.
    approve_and_report(rcl, first)
    eventually(lambda: result_seen(member, first))
    seen = external_referral(member, first)
    assert seen["status"] == "completed"
    (report,) = seen["reports"]
    (result,) = report["results"]
    assert (result["value"], result["unit"], result["expanded_uncertainty"]) == ("40.1", "%vol", "0.2")
    assert result["coverage_factor"] == "2"

    # The member verifies the RCL's report against the RCL's public key.
    pdf = member.client("officer.bt").get(
        f"/api/samples/{first.sample_id}/received-reports/{report['id']}/pdf"
    )
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf.content)
    said = member.cli("report", "verify", str(path))
    assert "signed by JPC key" in said and ": valid" in said and report["report_id"] in said
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(pdf.content + b"\n% appended\n")
    altered = CliRunner().invoke(cli_app, ["report", "verify", str(tampered)], env=member.env)
    assert altered.exit_code == 3 and "the file differs from the one issued" in altered.output

    # The RCL rejects the second sample: the rejection travels back.
    manager = rcl.client("manager.jp")
    ok(manager.post(f"/api/samples/{second.rcl_sample_id}/reject", json={"reason": "leaking container"}))
    eventually(lambda: status_of(member, second) == "rejected")
    assert "leaking" in external_referral(member, second)["status_reason"]

    # Both sides end with nothing waiting; every message crossed once, in order, in both directions.
    eventually(lambda: all_delivered(rcl) and all_delivered(member))
    assert_each_arrived_once_in_order(member, rcl)
    assert_each_arrived_once_in_order(rcl, member)
    assert not ok(member.admin().get("/api/federation/refusals"))
    assert not ok(rcl.admin().get("/api/federation/refusals"))


def _rcl_sample_by_label(rcl: Server, lab_sample_id: str) -> dict[str, Any] | None:
    """The RCL's sample with this label, in whatever state (a cancelled one has left the open queue)."""
    manager = rcl.client("manager.jp")
    rows = ok(manager.get("/api/queue", params={"q": lab_sample_id, "state": ["cancelled", "registered"]}))
    found = [r for r in rows["items"] if r["lab_sample_id"] == lab_sample_id]
    return found[0] if found else None
