"""The federation inbox: a partner's signed message is acted on once and in order; anything else is refused
with its 4xx, logged, recorded as a refusal, and leaves nothing else behind."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from customslab.adapters.federation.encoder import BundleEncoder
from customslab.adapters.federation.gate import FhirMessageGate
from customslab.adapters.federation.keys import DeploymentKey
from customslab.adapters.federation_repository import SqlFederationRepository
from customslab.domain.errors import ValidationFailed
from customslab.domain.federation import (
    Envelope,
    FederationKey,
    MessageKind,
    Partner,
    PartnerState,
    envelope_from_plain,
)
from customslab.entrypoints import wiring
from customslab.services import federation_inbox, federation_partners
from customslab.services.federation_inbox import Received, RefusalEntry, Refused
from customslab.services.ports import AbstractUnitOfWork
from tests.integration.federation.support import Deployment, deployment, envelope, signed, status_change

GATE = FhirMessageGate()
FHIR_JSON = {"content-type": "application/fhir+json"}


@pytest.fixture
def acted(monkeypatch: pytest.MonkeyPatch) -> list[Envelope]:
    """A status change's handler that records what it was given (and writes nothing of its own)."""
    seen: list[Envelope] = []
    real = federation_inbox.handlers

    def handler(uow: AbstractUnitOfWork, partner: Partner, message: Envelope) -> None:
        assert partner.administration_code == message.sender
        seen.append(message)

    monkeypatch.setattr(federation_inbox, "handlers", lambda: real() | {MessageKind.TASK_STATUS: handler})
    return seen


@pytest.fixture
def kr(tmp_path: Path) -> Iterator[Deployment]:
    """The receiving deployment (Korea), which trusts Japan's key once a test calls `trust`."""
    made = deployment(tmp_path / "kr", "KRC", "JPC")
    yield made
    made.db.dispose()


@pytest.fixture
def jp_key(kr: Deployment, tmp_path: Path) -> DeploymentKey:
    """Japan's key, registered at Korea's deployment."""
    key = Deployment("JPC", "KRC", tmp_path / "jp", kr.db).folder.generate()
    kr.trust("JPC", key)
    return key


def receive(d: Deployment, raw: bytes) -> Received:
    return federation_inbox.receive(d.uow, GATE, raw, "192.0.2.7")


def refusals(d: Deployment) -> list[RefusalEntry]:
    return federation_inbox.refusals(d.uow(), d.users["admin"], 100)


def assert_refused(d: Deployment, raw: bytes, status: int, reason: str) -> None:
    """The message is refused with `status`, one refusal row says why, and nothing else was stored."""
    before, refused_before = d.counts(), len(refusals(d))
    with pytest.raises(Refused) as caught:
        receive(d, raw)
    assert caught.value.status == status, caught.value.detail
    assert reason in caught.value.detail
    after = d.counts()
    assert after.pop("federation_refusals") == before.pop("federation_refusals") + 1
    assert after == before
    found = refusals(d)
    assert len(found) == refused_before + 1
    assert found[0].reason.startswith(f"{status}: ") and reason in found[0].reason
    assert found[0].remote_address == "192.0.2.7" and found[0].size == len(raw)


# -- accepted -------------------------------------------------------------------------------------------
def test_a_signed_message_from_a_partner_is_acted_on_and_recorded_exactly_once(
    kr: Deployment, jp_key: DeploymentKey, acted: list[Envelope], caplog: pytest.LogCaptureFixture
) -> None:
    message = envelope("JPC", "KRC")
    raw = signed(message, jp_key)
    before = kr.counts()
    with caplog.at_level(logging.INFO, logger="customslab.federation"):
        received = receive(kr, raw)
    assert received.message_id == message.message_id and received.kind is MessageKind.TASK_STATUS
    assert [m.message_id for m in acted] == [message.message_id]
    after = kr.counts()
    assert after.pop("federation_inbox") == before.pop("federation_inbox") + 1
    assert after == before
    with kr.uow() as uow:
        row = uow.federation.inbox_message(message.message_id)
        assert row is not None and row.key_id == jp_key.key_id and row.partner_code == "JPC"
        assert row.body.encode() == raw and row.received_at == kr.now and row.seq == 1
    assert any(message.message_id in r.getMessage() for r in caplog.records)


def test_the_same_message_twice_is_acted_on_once_and_the_replay_is_a_409(
    kr: Deployment, jp_key: DeploymentKey, acted: list[Envelope]
) -> None:
    raw = signed(envelope("JPC", "KRC"), jp_key)
    receive(kr, raw)
    assert_refused(kr, raw, 409, "received already")
    assert len(acted) == 1


def test_another_message_reusing_a_sequence_number_already_taken_is_a_422_not_a_duplicate(
    kr: Deployment, jp_key: DeploymentKey, acted: list[Envelope]
) -> None:
    """A 409 would make the sender count it delivered and drop it silently (a sender restored from an
    old backup numbers new messages again from where the backup was)."""
    receive(kr, signed(envelope("JPC", "KRC", seq=1), jp_key))
    assert_refused(kr, signed(envelope("JPC", "KRC", seq=1), jp_key), 422, "reuses number 1")
    assert [m.seq for m in acted] == [1]


def test_a_handler_that_fails_unexpectedly_is_a_503_with_a_refusal_row_and_nothing_else_stored(
    kr: Deployment, jp_key: DeploymentKey, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def failing(uow: AbstractUnitOfWork, partner: Partner, message: Envelope) -> None:
        uow.federation.add(FederationKey("JPC", "f" * 32, jp_key.public_b64, kr.now))
        raise RuntimeError("a bug in the use case")

    monkeypatch.setattr(federation_inbox, "handlers", lambda: {MessageKind.TASK_STATUS: failing})
    message = envelope("JPC", "KRC")
    with caplog.at_level(logging.ERROR, logger="customslab.federation"):
        assert_refused(kr, signed(message, jp_key), 503, "nothing was stored; send it again later")
    assert any(r.exc_info and "a bug in the use case" in str(r.exc_info[1]) for r in caplog.records)
    with kr.uow() as uow:
        assert uow.federation.inbox_message(message.message_id) is None


def test_a_use_case_that_clashes_with_a_concurrent_change_is_a_503_for_the_sender_to_retry(
    kr: Deployment, jp_key: DeploymentKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lost race inside the use case (a row version moved) stores nothing; a 409 would make the sender
    count the message delivered and lose it, so it is told to send it again."""
    from sqlalchemy.orm.exc import StaleDataError

    def clashing(uow: AbstractUnitOfWork, partner: Partner, message: Envelope) -> None:
        raise StaleDataError(
            "UPDATE statement on table 'samples' expected to update 1 row(s); 0 were matched"
        )

    real = federation_inbox.handlers
    monkeypatch.setattr(federation_inbox, "handlers", lambda: real() | {MessageKind.TASK_STATUS: clashing})
    raw = signed(envelope("JPC", "KRC", seq=1), jp_key)
    assert_refused(kr, raw, 503, "send it again")
    monkeypatch.setattr(federation_inbox, "handlers", real)


def test_a_message_ahead_of_its_stream_is_a_425_until_the_earlier_one_arrives(
    kr: Deployment, jp_key: DeploymentKey, acted: list[Envelope]
) -> None:
    first, second = envelope("JPC", "KRC", seq=1), envelope("JPC", "KRC", seq=2)
    assert_refused(kr, signed(second, jp_key), 425, "came before message 1")
    receive(kr, signed(first, jp_key))
    receive(kr, signed(second, jp_key))
    assert [m.seq for m in acted] == [1, 2]
    # Streams are independent: another referral's first message is not held back by this one.
    receive(kr, signed(envelope("JPC", "KRC", stream="referral/JPC/R-2"), jp_key))


def test_order_idempotency_and_the_unique_key_race_hold_on_sqlite_and_postgresql(
    fresh_url: str, tmp_path: Path, acted: list[Envelope], monkeypatch: pytest.MonkeyPatch
) -> None:
    kr = deployment(tmp_path / "kr", "KRC", "JPC", url=fresh_url)
    key = kr.folder.generate()  # a key file standing in for Japan's (the receiver only knows its public half)
    kr.trust("JPC", key)
    first, third = envelope("JPC", "KRC", seq=1), envelope("JPC", "KRC", seq=3)
    receive(kr, signed(first, key))
    assert_refused(kr, signed(first, key), 409, "received already")
    assert_refused(kr, signed(third, key), 425, "came before message 2")
    # Both deliveries pass the checks before either commits: the first call in each delivery (the
    # check) misses the stored message, the second (after the unique key refused the insert) finds it.
    real_lookup = SqlFederationRepository.inbox_message
    calls = iter(range(1000))

    def racing(self: SqlFederationRepository, message_id: str) -> object:
        return None if next(calls) % 2 == 0 else real_lookup(self, message_id)

    monkeypatch.setattr(SqlFederationRepository, "inbox_message", racing)
    monkeypatch.setattr(SqlFederationRepository, "last_seq", lambda self, partner, stream: 0)
    assert_refused(kr, signed(first, key), 409, "received already")
    # The racing delivery's handler ran, and was rolled back with its inbox row (assert_refused counts).
    assert [m.seq for m in acted] == [1, 1]
    kr.db.dispose()


# -- refused before anything is trusted -------------------------------------------------------------
def test_one_byte_changed_in_a_signed_bundle_is_a_403(
    kr: Deployment, jp_key: DeploymentKey, acted: list[Envelope]
) -> None:
    raw = signed(envelope("JPC", "KRC", status_change("R-1")), jp_key)
    at = raw.index(b'"R-1"') + 3
    tampered = raw[:at] + b"7" + raw[at + 1 :]  # the referral R-1 becomes R-7
    assert len(tampered) == len(raw) and sum(a != b for a, b in zip(raw, tampered, strict=True)) == 1
    assert_refused(kr, tampered, 403, "signature does not match")
    assert acted == []


def test_a_bundle_signed_with_a_key_the_partner_never_registered_is_a_403(
    kr: Deployment, jp_key: DeploymentKey, tmp_path: Path
) -> None:
    stranger = Deployment("JPC", "KRC", tmp_path / "other", kr.db).folder.generate()
    assert_refused(kr, signed(envelope("JPC", "KRC"), stranger), 403, f"has no key '{stranger.key_id}'")


def test_a_message_from_an_administration_that_is_not_a_partner_is_a_403(
    kr: Deployment, tmp_path: Path
) -> None:
    key = Deployment("JPC", "KRC", tmp_path / "jp", kr.db).folder.generate()
    raw = signed(envelope("JPC", "KRC"), key)
    assert_refused(kr, raw, 403, "'JPC' is not a partner of this deployment")
    assert refusals(kr)[0].claimed_sender == "JPC"


def test_a_suspended_partners_message_is_a_403_and_is_accepted_again_once_resumed(
    kr: Deployment, jp_key: DeploymentKey, acted: list[Envelope]
) -> None:
    federation_partners.set_partner_state(kr.uow(), None, "JPC", PartnerState.SUSPENDED)
    raw = signed(envelope("JPC", "KRC"), jp_key)
    assert_refused(kr, raw, 403, "Partner JPC is suspended")
    federation_partners.set_partner_state(kr.uow(), None, "JPC", PartnerState.ACTIVE)
    receive(kr, raw)
    assert len(acted) == 1


def test_a_message_not_addressed_to_this_deployment_is_a_400(kr: Deployment, jp_key: DeploymentKey) -> None:
    assert_refused(kr, signed(envelope("JPC", "CNC"), jp_key), 400, "addressed to CNC")


def test_a_partner_signing_in_another_administrations_name_is_refused(
    kr: Deployment, jp_key: DeploymentKey
) -> None:
    # Japan's key, Japan named as the signer, but the message says it comes from Korea itself.
    raw = signed(envelope("KRC", "KRC"), jp_key, signer="JPC")
    assert_refused(kr, raw, 400, "signed for 'JPC'")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"resourceType": "Patient"}', "not a FHIR Bundle"),
        (b'{"resourceType": "Bundle", "type": "message"}', "no signature"),
        ("{}".encode("utf-16"), "not UTF-8"),
    ],
)
def test_bytes_that_are_not_a_signed_bundle_are_a_400(kr: Deployment, raw: bytes, reason: str) -> None:
    assert_refused(kr, raw, 400, reason)


def test_a_signed_bundle_that_is_not_valid_fhir_is_a_400(kr: Deployment, jp_key: DeploymentKey) -> None:
    from customslab.adapters.federation.signing import bundle_text, sign_bundle

    bundle = {"resourceType": "Bundle", "type": "message", "entry": "not a list"}
    raw = bundle_text(sign_bundle(bundle, "JPC", jp_key, kr.now)).encode()
    assert_refused(kr, raw, 400, "Not a valid customslab FHIR message")


# -- refused by the use case ---------------------------------------------------------------------------
def test_a_use_cases_refusal_is_a_422_and_rolls_back_what_the_handler_wrote(
    kr: Deployment, jp_key: DeploymentKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refusing(uow: AbstractUnitOfWork, partner: Partner, message: Envelope) -> None:
        uow.federation.add(FederationKey("JPC", "f" * 32, jp_key.public_b64, kr.now))
        raise ValidationFailed("Referral R-1 is not known here.")

    monkeypatch.setattr(federation_inbox, "handlers", lambda: {MessageKind.TASK_STATUS: refusing})
    assert_refused(kr, signed(envelope("JPC", "KRC"), jp_key), 422, "Referral R-1 is not known here.")


def test_a_kind_of_message_without_a_handler_is_a_422(
    kr: Deployment, jp_key: DeploymentKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(federation_inbox, "handlers", dict)
    assert_refused(kr, signed(envelope("JPC", "KRC"), jp_key), 422, "does not act on task-status")


# -- keys: validity and rotation ----------------------------------------------------------------------
def test_a_key_is_refused_once_it_has_ended(kr: Deployment, jp_key: DeploymentKey) -> None:
    with kr.uow() as uow:
        (key,) = uow.federation.keys_of("JPC")
        key.valid_until = kr.now + timedelta(hours=1)
        uow.commit()
    kr.advance(timedelta(hours=2))
    assert_refused(kr, signed(envelope("JPC", "KRC"), jp_key), 403, "is not valid now")


def test_a_rotated_key_is_announced_and_both_keys_work_until_the_overlap_ends(
    tmp_path: Path, acted: list[Envelope]
) -> None:
    jp = deployment(tmp_path / "jp", "JPC", "KRC")
    kr = deployment(tmp_path / "kr", "KRC", "JPC")
    old = wiring.signing_key(jp.settings(), jp.uow)  # the first key, created outside production
    kr.trust("JPC", old)
    jp.trust("KRC", wiring.signing_key(kr.settings(), kr.uow))

    jp.advance(timedelta(days=30))
    kr.advance(timedelta(days=30))
    new = jp.folder.generate()
    own = federation_partners.register_own_key(jp.uow(), None, new.key_id, new.public_b64, timedelta(days=14))
    assert [k.key_id for k in own.keys] == [old.key_id, new.key_id]
    assert own.keys[0].valid_until == jp.now + timedelta(days=14) and own.current is not None
    # The old key goes on signing during the overlap, so no partner meets the new one before it is told.
    assert wiring.signing_key(jp.settings(), jp.uow).key_id == old.key_id

    with jp.uow() as uow:
        (announced,) = uow.federation.outbox(None, "KRC", 10, 0)[0]
        assert announced.stream == "keys/JPC" and announced.kind is MessageKind.KEY_ROTATED
        payload = announced.payload
    encode = BundleEncoder(lambda: new, jp.folder, jp.public_url, clock=lambda: jp.now)
    rotation = encode(envelope_from_plain(payload))
    assert json.loads(rotation.body)["signature"]["extension"][0]["valueString"] == old.key_id
    assert receive(kr, rotation.body.encode()).kind is MessageKind.KEY_ROTATED

    keys = {k.key_id: k for k in federation_partners.partner(kr.uow(), None, "JPC").keys}
    assert keys[old.key_id].valid_until == jp.now + timedelta(days=14)
    assert keys[new.key_id].valid_from == kr.now and keys[new.key_id].valid_until is None

    kr.advance(timedelta(days=13))
    receive(kr, signed(envelope("JPC", "KRC", seq=1), old))
    receive(kr, signed(envelope("JPC", "KRC", seq=2), new))
    kr.advance(timedelta(days=2))
    assert_refused(kr, signed(envelope("JPC", "KRC", seq=3), old), 403, "is not valid now")
    receive(kr, signed(envelope("JPC", "KRC", seq=3), new))
    assert [m.seq for m in acted] == [1, 2, 3]
    jp.advance(timedelta(days=15))
    assert wiring.signing_key(jp.settings(), jp.uow).key_id == new.key_id
    jp.db.dispose()
    kr.db.dispose()


def test_a_key_rotation_naming_a_key_the_partner_never_had_is_a_422(
    kr: Deployment, jp_key: DeploymentKey, tmp_path: Path
) -> None:
    from customslab.domain.federation import KeyRotated

    new = Deployment("JPC", "KRC", tmp_path / "jp2", kr.db).folder.generate()
    body = KeyRotated(new.key_id, new.public_b64, "0" * 32, kr.now + timedelta(days=1))
    assert_refused(kr, signed(envelope("JPC", "KRC", body, stream="keys/JPC"), jp_key), 422, "has no key")


# -- through HTTP ---------------------------------------------------------------------------------------
@pytest.fixture
def inbox(kr: Deployment) -> Iterator[TestClient]:
    with TestClient(kr.app(federation_max_message_bytes=64 * 1024)) as client:
        yield client


def test_the_inbox_route_answers_202_with_the_message_id_without_a_signed_in_user(
    kr: Deployment, jp_key: DeploymentKey, acted: list[Envelope], inbox: TestClient
) -> None:
    message = envelope("JPC", "KRC")
    answer = inbox.post("/api/federation/messages", content=signed(message, jp_key), headers=FHIR_JSON)
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"status": "accepted", "message_id": message.message_id}
    again = inbox.post("/api/federation/messages", content=signed(message, jp_key), headers=FHIR_JSON)
    assert again.status_code == 409 and "received already" in again.json()["error"]


def test_a_message_over_the_size_limit_is_a_413_and_is_recorded(kr: Deployment, inbox: TestClient) -> None:
    before = kr.counts()
    big = b'{"resourceType": "Bundle", "pad": "' + b"x" * (64 * 1024) + b'"}'
    answer = inbox.post("/api/federation/messages", content=big, headers=FHIR_JSON)
    assert answer.status_code == 413 and "64 kB" in answer.json()["error"]

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x" * 1024

    streamed = inbox.post("/api/federation/messages", content=chunks(), headers=FHIR_JSON)
    assert streamed.status_code == 413
    after = kr.counts()
    assert after.pop("federation_refusals") == before.pop("federation_refusals") + 2
    assert after == before
    assert [r.reason[:4] for r in refusals(kr)] == ["413:", "413:"]


def test_a_message_that_is_not_sent_as_json_is_a_415(kr: Deployment, inbox: TestClient) -> None:
    answer = inbox.post(
        "/api/federation/messages", content=b"<Bundle/>", headers={"content-type": "text/xml"}
    )
    assert answer.status_code == 415 and "application/fhir+json" in answer.json()["error"]
    assert refusals(kr)[0].reason.startswith("415:")


def test_the_inbox_route_answers_each_refusal_with_its_status_and_the_usual_error_body(
    kr: Deployment, jp_key: DeploymentKey, inbox: TestClient
) -> None:
    answer = inbox.post(
        "/api/federation/messages",
        content=signed(envelope("JPC", "CNC"), jp_key),
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert answer.status_code == 400 and set(answer.json()) == {"error"}


def test_a_huge_claimed_sender_with_a_newline_is_refused_and_recorded_cut_to_its_columns(
    fresh_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """On PostgreSQL too: the refusal row must fit its columns, or the refusal itself would fail."""
    from customslab.adapters.federation.signing import bundle_text, sign_bundle

    kr = deployment(tmp_path / "kr", "KRC", "JPC", url=fresh_url)
    key = kr.folder.generate()
    claimed = "JPC\nWARNING forged line " + "x" * 100_000
    bundle = {"resourceType": "Bundle", "type": "message", "entry": []}
    raw = bundle_text(sign_bundle(bundle, claimed, key, kr.now)).encode()
    before = kr.counts()
    with (
        TestClient(kr.app(federation_max_message_bytes=1024 * 1024)) as client,
        caplog.at_level(logging.WARNING, logger="customslab.federation"),
    ):
        answer = client.post("/api/federation/messages", content=raw, headers=FHIR_JSON)
    assert answer.status_code in (400, 403), answer.text
    assert "\n" not in answer.json()["error"] and len(answer.json()["error"]) <= 500
    after = kr.counts()
    assert after.pop("federation_refusals") == before.pop("federation_refusals") + 1
    assert after == before
    (row,) = refusals(kr)
    assert len(row.reason) <= 500 and row.claimed_sender == claimed[:32]
    assert all("\n" not in r.getMessage() for r in caplog.records)
    kr.db.dispose()
