"""Delivering the outbox: order within a stream, retries with backoff, failures an admin retries, the
same bytes on every attempt, suspended partners, catching up, and on PostgreSQL two workers that never
send a message twice.

The worker claims due messages of every partner, so these tests run on a database of their own (one per
backend for the module) and suspend their partners when done, so that no test delivers another's
messages.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from customslab.adapters.db import upgrade
from customslab.adapters.federation import fhir_codec
from customslab.adapters.federation.encoder import BundleEncoder
from customslab.adapters.federation.keys import DeploymentKey, KeyFolder
from customslab.adapters.federation.signing import claimed_signer, signature_valid
from customslab.adapters.federation_tables import federation_outbox
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.domain.access import Actor
from customslab.domain.enums import Role
from customslab.domain.errors import InvalidTransition, PermissionDenied
from customslab.domain.federation import (
    Envelope,
    FederationKey,
    KeyRotated,
    OutboxMessage,
    OutboxState,
    Partner,
    PartnerState,
    TaskStatus,
    TaskStatusChanged,
)
from customslab.domain.model import Administration
from customslab.services.federation_delivery import (
    DeliveryPass,
    OutboxQuery,
    deliver_due,
    outbox_page,
    retry_message,
)
from customslab.services.federation_outbox import enqueue, home_code
from customslab.services.federation_ports import Courier, DeliveryAnswer, EncodedMessage, MessageEncoder
from tests.factories import unique
from tests.integration.conftest import create_pg_database, drop_pg_database

ADMIN = Actor(0, "admin.test", "", frozenset({Role.ADMIN}))
ANALYST = Actor(0, "analyst.test", "", frozenset({Role.ANALYST}))
Factory = Callable[[], SqlAlchemyUnitOfWork]


# -- the world: a database of this module's own, partners, a clock, an encoder and a courier -------
def _fresh_database(backend: str, folder: Path) -> Iterator[Database]:
    url = create_pg_database() if backend == "postgresql" else f"sqlite:///{folder / 'delivery.sqlite3'}"
    upgrade(url)
    db = Database(url)
    try:
        yield db
    finally:
        db.dispose()
        if backend == "postgresql":
            drop_pg_database(url)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def own_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    yield from _fresh_database(str(request.param), tmp_path_factory.mktemp("delivery"))


@pytest.fixture(scope="module")
def pg_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    yield from _fresh_database("postgresql", tmp_path_factory.mktemp("delivery-pg"))


class Clock:
    """The real time, moved on by `advance` (backoff without waiting for it)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class FakeEncoder:
    """Encodes an envelope as small JSON; a different `sent_at` per call would show a re-encoding."""

    calls: list[str] = field(default_factory=list)
    fail_with: Exception | None = None

    def __call__(self, envelope: Envelope) -> EncodedMessage:
        if self.fail_with is not None:
            raise self.fail_with
        self.calls.append(envelope.message_id)
        body = json.dumps(
            {
                "message_id": envelope.message_id,
                "stream": envelope.stream,
                "seq": envelope.seq,
                "encoded_at": time.monotonic_ns(),
            }
        )
        return EncodedMessage(body, hashlib.sha256(body.encode()).hexdigest())

    def signed_with(self, body: str) -> str | None:
        return None  # unsigned: the worker never signs these again


@dataclass
class Sent:
    base_url: str
    body: bytes

    @property
    def message(self) -> dict[str, object]:
        loaded: dict[str, object] = json.loads(self.body)
        return loaded


class FakeCourier(Courier):
    """Records every delivery; answers from a script of statuses (then `default`), per partner URL."""

    def __init__(self, default: int | None = 202, pause: float = 0.0) -> None:
        self.default = default
        self.script: dict[str, list[int | None]] = {}
        self.sent: list[Sent] = []
        self.pause = pause
        self.lock = threading.Lock()

    def answer(self, base_url: str, *statuses: int | None) -> None:
        self.script.setdefault(base_url, []).extend(statuses)

    def deliver(self, base_url: str, body: bytes) -> DeliveryAnswer:
        if self.pause:
            time.sleep(self.pause)  # long enough for another worker to try the same message
        with self.lock:
            self.sent.append(Sent(base_url, body))
            queued = self.script.get(base_url)
            status = queued.pop(0) if queued else self.default
        if status is None:
            return DeliveryAnswer(None, "ConnectError: [Errno 111] Connection refused")
        return DeliveryAnswer(status, "accepted" if status == 202 else f"refused with {status}")

    def to(self, partner: Partner) -> list[dict[str, object]]:
        return [s.message for s in self.sent if s.base_url == partner.base_url]


@dataclass
class World:
    uow: Factory
    clock: Clock
    partners: list[Partner] = field(default_factory=list)

    def partner(self) -> Partner:
        """A new active partner deployment (a new administration), suspended again when the test ends."""
        code = unique("PT")
        with self.uow() as uow:
            uow.act_as("test-setup")
            uow.repo.add(Administration(code, f"Partner {code}", "JP"))
            uow.repo.flush()
            partner = Partner(
                code, f"https://{code.lower()}.example", PartnerState.ACTIVE, "test", self.clock()
            )
            uow.federation.add(partner)
            uow.commit()
        self.partners.append(partner)
        return partner

    def enqueue(self, partner: Partner, stream: str, n: int = 1) -> list[OutboxMessage]:
        with self.uow() as uow:
            uow.act_as("test-setup")
            written = [
                enqueue(
                    uow, partner.administration_code, stream, TaskStatusChanged(stream, TaskStatus.ACCEPTED)
                )
                for _ in range(n)
            ]
            uow.commit()
        return written

    def message(self, message: OutboxMessage) -> OutboxMessage:
        with self.uow() as uow:
            found = uow.federation.outbox_message(message.id or 0)
            assert found is not None
            uow.session.expunge(found)  # read after the unit of work, which rolls back (and expires)
        return found

    def set_partner_state(self, partner: Partner, state: PartnerState) -> None:
        with self.uow() as uow:
            uow.act_as("test-setup")
            stored = uow.federation.partner(partner.administration_code)
            assert stored is not None
            stored.state = state
            uow.commit()

    def deliver(self, encoder: MessageEncoder, courier: Courier, limit: int = 50) -> DeliveryPass:
        return deliver_due(
            self.uow, encoder, courier, now=self.clock, limit=limit, retry_base=5, retry_cap=60
        )


def _ensure_home(uow_factory: Factory) -> None:
    """`enqueue` names the home administration as the sender; the module's database gets one."""
    with uow_factory() as uow:
        if any(a.home for a in uow.repo.administrations()):
            return
        uow.act_as("test-setup")
        uow.repo.add(Administration(unique("HM"), "Home customs", "KR", home=True))
        uow.commit()


def _world(db: Database, folder: Path) -> Iterator[World]:
    files = LocalFileStore(folder / "files")
    uow_factory: Factory = lambda: SqlAlchemyUnitOfWork(db, files)  # noqa: E731
    _ensure_home(uow_factory)
    world = World(uow_factory, Clock())
    yield world
    for partner in world.partners:
        world.set_partner_state(partner, PartnerState.SUSPENDED)


@pytest.fixture
def world(own_database: Database, tmp_path: Path) -> Iterator[World]:
    yield from _world(own_database, tmp_path)


def _seqs(sent: list[dict[str, object]], stream: str) -> list[object]:
    return [m["seq"] for m in sent if m["stream"] == stream]


# -- order ------------------------------------------------------------------------------------------
def test_the_messages_of_a_stream_go_in_order_even_when_a_later_one_is_due_first(world: World) -> None:
    partner = world.partner()
    first, *_ = world.enqueue(partner, "referral/A/1", 3)
    with world.uow() as uow:  # the first waits out a backoff; the second and third are due now
        uow.session.execute(
            update(federation_outbox)
            .where(federation_outbox.c.id == first.id)
            .values(next_attempt_at=world.clock() + timedelta(minutes=10))
        )
        uow.commit()
    encoder, courier = FakeEncoder(), FakeCourier()

    assert world.deliver(encoder, courier).sent == 0
    assert courier.to(partner) == [], "nothing overtakes the stream's head"

    world.clock.advance(11 * 60)
    assert world.deliver(encoder, courier).delivered == 3
    assert _seqs(courier.to(partner), "referral/A/1") == [1, 2, 3]


# -- answers ------------------------------------------------------------------------------------------
def test_a_server_error_is_retried_after_its_backoff_and_then_delivered(world: World) -> None:
    partner = world.partner()
    message = world.enqueue(partner, "referral/B/1")[0]
    encoder, courier = FakeEncoder(), FakeCourier()
    courier.answer(partner.base_url, 503)

    done = world.deliver(encoder, courier)
    waiting = world.message(message)
    assert (done.retrying, waiting.state, waiting.attempts) == (1, OutboxState.PENDING, 1)
    assert waiting.last_error == "HTTP 503: refused with 503"
    wait = (waiting.next_attempt_at - world.clock()).total_seconds()
    assert 2.4 <= wait <= 5.0, "the first retry comes base·[0.5, 1] seconds later"

    assert world.deliver(encoder, courier).sent == 0, "not before its backoff"
    world.clock.advance(5)
    done = world.deliver(encoder, courier)
    delivered = world.message(message)
    assert (done.delivered, delivered.state, delivered.attempts) == (1, OutboxState.DELIVERED, 2)
    assert delivered.last_error == "" and delivered.delivered_at is not None
    assert len(courier.to(partner)) == 2


def test_no_answer_at_all_is_retried_like_a_server_error(world: World) -> None:
    partner = world.partner()
    message = world.enqueue(partner, "referral/B/2")[0]
    courier = FakeCourier(default=None)

    world.deliver(FakeEncoder(), courier)
    waiting = world.message(message)
    assert (waiting.state, waiting.attempts) == (OutboxState.PENDING, 1)
    assert waiting.last_error.startswith("no answer: ConnectError")


def test_a_refused_message_fails_holds_its_stream_back_and_goes_after_an_admin_retry(world: World) -> None:
    partner = world.partner()
    refused, after = world.enqueue(partner, "referral/C/1", 2)
    encoder, courier = FakeEncoder(), FakeCourier()
    courier.answer(partner.base_url, 422)

    done = world.deliver(encoder, courier)
    failed = world.message(refused)
    assert (done.failed, failed.state, failed.attempts) == (1, OutboxState.FAILED, 1)
    assert failed.last_error == "HTTP 422: refused with 422"
    world.clock.advance(3600)
    assert world.deliver(encoder, courier).sent == 0, "a failed message waits, and its stream with it"
    assert world.message(after).state is OutboxState.PENDING
    other = world.enqueue(partner, "referral/C/2")[0]
    assert world.deliver(encoder, courier).delivered == 1, "other streams go on"
    assert world.message(other).state is OutboxState.DELIVERED
    assert world.message(after).state is OutboxState.PENDING

    with pytest.raises(PermissionDenied):
        retry_message(world.uow(), ANALYST, refused.id or 0)
    entry = retry_message(world.uow(), ADMIN, refused.id or 0)
    # The attempts start again (a message out of attempts gets the whole backoff again); the error stays.
    assert (entry.state, entry.attempts, entry.last_error) == (OutboxState.PENDING, 0, failed.last_error)

    done = world.deliver(encoder, courier)
    assert done.delivered == 2
    assert _seqs(courier.to(partner), "referral/C/1") == [1, 1, 2]
    assert world.message(refused).attempts == 1
    with pytest.raises(InvalidTransition, match="nothing to retry"):
        retry_message(world.uow(), ADMIN, refused.id or 0)


def test_a_message_the_partner_already_has_counts_as_delivered(world: World) -> None:
    partner = world.partner()
    message = world.enqueue(partner, "referral/D/1")[0]
    courier = FakeCourier(default=409)

    assert world.deliver(FakeEncoder(), courier).delivered == 1
    assert world.message(message).state is OutboxState.DELIVERED


def test_a_message_stops_retrying_by_itself_after_the_last_attempt(world: World) -> None:
    from customslab.domain.federation import MAX_ATTEMPTS

    partner = world.partner()
    message = world.enqueue(partner, "referral/D/2")[0]
    with world.uow() as uow:
        uow.session.execute(
            update(federation_outbox)
            .where(federation_outbox.c.id == message.id)
            .values(attempts=MAX_ATTEMPTS - 1)
        )
        uow.commit()
    world.deliver(FakeEncoder(), FakeCourier(default=503))
    failed = world.message(message)
    assert (failed.state, failed.attempts) == (OutboxState.FAILED, MAX_ATTEMPTS)


# -- the bytes --------------------------------------------------------------------------------------
def test_a_retry_sends_the_same_bytes_signed_once_and_stored_before_the_first_send(world: World) -> None:
    partner = world.partner()
    message = world.enqueue(partner, "referral/E/1")[0]
    encoder = FakeEncoder()
    stored_when_sent: list[str] = []

    class Inspecting(FakeCourier):
        def deliver(self, base_url: str, body: bytes) -> DeliveryAnswer:
            stored_when_sent.append(world.message(message).body)  # read by another connection
            return super().deliver(base_url, body)

    courier = Inspecting()
    courier.answer(partner.base_url, 503, 503)
    world.deliver(encoder, courier)
    for _ in range(2):
        world.clock.advance(60)
        world.deliver(encoder, courier)

    stored = world.message(message)
    bodies = [s.body for s in courier.sent if s.base_url == partner.base_url]
    assert stored.state is OutboxState.DELIVERED and len(bodies) == 3
    assert set(bodies) == {stored.body.encode()}, "every attempt sends the stored bytes"
    assert stored.sha256 == hashlib.sha256(stored.body.encode()).hexdigest()
    assert encoder.calls == [message.message_id], "encoded (and signed) once"
    assert stored_when_sent[0] == stored.body, "committed before the first send"


def test_a_message_that_cannot_be_encoded_says_why_and_waits(world: World) -> None:
    partner = world.partner()
    message = world.enqueue(partner, "referral/E/2")[0]
    encoder = FakeEncoder(fail_with=ValueError("CUSTOMSLAB_PUBLIC_URL is not set"))
    courier = FakeCourier()

    done = world.deliver(encoder, courier)
    waiting = world.message(message)
    assert (done.retrying, waiting.state, waiting.body) == (1, OutboxState.PENDING, "")
    assert waiting.last_error == "no answer: could not encode: CUSTOMSLAB_PUBLIC_URL is not set"
    assert courier.to(partner) == []
    encoder.fail_with = None
    world.clock.advance(60)
    assert world.deliver(encoder, courier).delivered == 1


# -- signed again when the key ends -----------------------------------------------------------------
@dataclass
class Keys:
    """This deployment's keys A (ending in an hour: a rotation's overlap) and B, and an encoder that signs
    as `wiring.signing_key` chooses: with the oldest own key valid at the world's clock."""

    folder: KeyFolder
    a: DeploymentKey
    b: DeploymentKey
    a_ends: datetime


def _keys(world: World, folder: Path) -> Keys:
    keys = KeyFolder(folder)
    a, b = keys.generate(), keys.generate()
    a_ends = world.clock() + timedelta(hours=1)
    with world.uow() as uow:
        uow.act_as("test-setup")
        home = home_code(uow)
        uow.federation.add(
            FederationKey(home, a.key_id, a.public_b64, world.clock() - timedelta(days=9), a_ends)
        )
        uow.federation.add(FederationKey(home, b.key_id, b.public_b64, world.clock(), None))
        uow.commit()
    return Keys(keys, a, b, a_ends)


def _encoder(world: World, keys: Keys, cache_seconds: float = 0.0) -> BundleEncoder:
    def current() -> DeploymentKey:
        now = world.clock()
        return keys.a if now < keys.a_ends else keys.b

    return BundleEncoder(current, keys.folder, "https://home.example", world.clock, cache_seconds)


def _signers(courier: FakeCourier, partner: Partner) -> list[tuple[str, str]]:
    """(message id, key id) of each bundle sent to the partner, in order."""
    sent = [json.loads(s.body) for s in courier.sent if s.base_url == partner.base_url]
    return [(b["identifier"]["value"], claimed_signer(b)[1]) for b in sent]


def test_a_message_signed_with_a_key_that_has_ended_is_signed_again_with_the_current_key(
    world: World, tmp_path: Path
) -> None:
    keys = _keys(world, tmp_path / "keys")
    partner = world.partner()
    (message,) = world.enqueue(partner, "referral/K/1")
    courier = FakeCourier()
    courier.answer(partner.base_url, 425)
    encoder = _encoder(world, keys)
    assert world.deliver(encoder, courier).retrying == 1

    world.clock.advance(2 * 3600)  # A's overlap is over, and the backoff too
    assert world.deliver(encoder, courier).delivered == 1

    first, second = (s.body for s in courier.sent if s.base_url == partner.base_url)
    assert _signers(courier, partner) == [
        (message.message_id, keys.a.key_id),
        (message.message_id, keys.b.key_id),
    ]
    assert signature_valid(json.loads(second), keys.b.public_b64)
    assert not signature_valid(json.loads(second), keys.a.public_b64)
    assert fhir_codec.decode(json.loads(second)) == fhir_codec.decode(json.loads(first)), "the same envelope"
    stored = world.message(message)
    assert stored.body.encode() == second and stored.sha256 == hashlib.sha256(second).hexdigest()


def test_a_key_rotation_keeps_the_old_keys_signature_after_that_key_has_ended(
    world: World, tmp_path: Path
) -> None:
    keys = _keys(world, tmp_path / "keys")
    partner = world.partner()
    with world.uow() as uow:
        uow.act_as("test-setup")
        home = home_code(uow)
        rotation = KeyRotated(keys.b.key_id, keys.b.public_b64, keys.a.key_id, keys.a_ends)
        message = enqueue(uow, partner.administration_code, f"keys/{home}", rotation)
        uow.commit()
    courier = FakeCourier()
    courier.answer(partner.base_url, 503)
    encoder = _encoder(world, keys)
    world.deliver(encoder, courier)
    world.clock.advance(2 * 3600)
    assert world.deliver(encoder, courier).delivered == 1

    # The partner trusts A until this very message ends it: it must stay signed with A, byte for byte.
    first, second = (s.body for s in courier.sent if s.base_url == partner.base_url)
    assert first == second and _signers(courier, partner)[1] == (message.message_id, keys.a.key_id)


def test_an_encoder_that_still_signs_with_the_ended_key_signs_again_once_per_pass(
    world: World, tmp_path: Path
) -> None:
    keys = _keys(world, tmp_path / "keys")
    partner = world.partner()
    (message,) = world.enqueue(partner, "referral/K/2")
    courier = FakeCourier()
    courier.answer(partner.base_url, 425, 403)
    encoder = BundleEncoder(lambda: keys.a, keys.folder, "https://home.example", world.clock)
    world.deliver(encoder, courier)
    world.clock.advance(2 * 3600)

    done = world.deliver(encoder, courier)  # it signs with A again (a cached key): those bytes go

    assert (done.encoded, done.retrying) == (1, 1)
    assert [k for _, k in _signers(courier, partner)] == [keys.a.key_id, keys.a.key_id]
    assert world.message(message).last_error.startswith("HTTP 403")


# -- partners -----------------------------------------------------------------------------------------
def test_a_suspended_partner_gets_nothing_until_it_is_resumed(world: World) -> None:
    partner = world.partner()
    message = world.enqueue(partner, "referral/F/1")[0]
    world.set_partner_state(partner, PartnerState.SUSPENDED)
    courier = FakeCourier()

    world.deliver(FakeEncoder(), courier)
    assert courier.to(partner) == [] and world.message(message).state is OutboxState.PENDING
    world.set_partner_state(partner, PartnerState.ACTIVE)
    world.deliver(FakeEncoder(), courier)
    assert world.message(message).state is OutboxState.DELIVERED


def test_a_partner_that_answers_again_is_caught_up_at_once(world: World) -> None:
    partner = world.partner()
    backlog = world.enqueue(partner, "referral/G/1") + world.enqueue(partner, "referral/G/2")
    courier = FakeCourier(default=None)  # the partner is down
    encoder = FakeEncoder()
    assert world.deliver(encoder, courier).retrying == 1, "tried once in the pass, then left for later"
    assert world.message(backlog[0]).next_attempt_at > world.clock()

    courier.default = 202  # back up: a new message goes at once, and wakes the backlog
    world.enqueue(partner, "referral/G/3")
    done = world.deliver(encoder, courier)
    assert done.delivered == 3
    assert all(world.message(m).state is OutboxState.DELIVERED for m in backlog)


def test_an_answer_to_one_message_wakes_only_those_that_got_no_answer_not_those_in_backoff(
    world: World,
) -> None:
    partner = world.partner()
    (answered,) = world.enqueue(partner, "referral/G/4")
    (unanswered,) = world.enqueue(partner, "referral/G/5")
    encoder, courier = FakeEncoder(), FakeCourier()
    courier.answer(partner.base_url, 503, None)
    assert world.deliver(encoder, courier).retrying == 2

    world.enqueue(partner, "referral/G/6")  # due now: answered 202, which wakes the partner's backlog
    done = world.deliver(encoder, courier)

    assert done.delivered == 2 and world.message(unanswered).state is OutboxState.DELIVERED
    waiting = world.message(answered)
    assert (waiting.state, waiting.attempts) == (OutboxState.PENDING, 1), "the partner said: later"
    assert waiting.next_attempt_at > world.clock()


def test_a_partner_that_does_not_answer_is_tried_once_a_pass_and_others_are_not_kept_waiting(
    world: World,
) -> None:
    away, up = world.partner(), world.partner()
    for i in range(3):
        world.enqueue(away, f"referral/X/{i}")
        world.enqueue(up, f"referral/Y/{i}")
    courier = FakeCourier()
    courier.answer(away.base_url, None, None, None)

    done = world.deliver(FakeEncoder(), courier)

    assert len(courier.to(away)) == 1, "each further message would wait out the timeout again"
    assert len(courier.to(up)) == 3 and (done.delivered, done.retrying) == (3, 1)


class NulCourier(FakeCourier):
    """Refuses the messages to one partner with a detail PostgreSQL text cannot hold."""

    def __init__(self, refusing: Partner) -> None:
        super().__init__()
        self.refusing = refusing.base_url

    def deliver(self, base_url: str, body: bytes) -> DeliveryAnswer:
        answer = super().deliver(base_url, body)
        if base_url == self.refusing:
            return DeliveryAnswer(422, "bad\u0000 value\x07\tin field\n")
        return answer


@pytest.mark.postgres
def test_a_refusal_whose_words_hold_a_nul_fails_its_message_and_stops_no_other(
    pg_database: Database, tmp_path: Path
) -> None:
    for world in _world(pg_database, tmp_path):
        refusing, other = world.partner(), world.partner()
        (refused,) = world.enqueue(refusing, "referral/N/1")
        (fine,) = world.enqueue(other, "referral/N/2")

        done = world.deliver(FakeEncoder(), NulCourier(refusing))

        failed = world.message(refused)
        assert (failed.state, failed.last_error) == (OutboxState.FAILED, "HTTP 422: bad value\tin field")
        assert world.message(fine).state is OutboxState.DELIVERED
        assert (done.failed, done.delivered) == (1, 1)


def test_an_outcome_that_cannot_be_stored_is_recorded_apart_and_the_pass_goes_on(world: World) -> None:
    refusing, other = world.partner(), world.partner()
    (refused,) = world.enqueue(refusing, "referral/N/3")
    (fine,) = world.enqueue(other, "referral/N/4")
    armed: list[bool] = []

    class Arming(FakeCourier):
        def deliver(self, base_url: str, body: bytes) -> DeliveryAnswer:
            armed.append(base_url == refusing.base_url)  # the commit of this outcome fails
            return super().deliver(base_url, body)

    def uow_factory() -> SqlAlchemyUnitOfWork:
        uow = world.uow()
        commit = uow.commit

        def failing_once() -> None:
            if armed and armed[-1]:
                armed[-1] = False
                raise RuntimeError("the database refused the row")
            commit()

        uow.commit = failing_once  # type: ignore[method-assign]
        return uow

    courier = Arming()
    courier.answer(refusing.base_url, 422)
    done = deliver_due(uow_factory, FakeEncoder(), courier, now=world.clock, retry_base=5, retry_cap=60)

    failed = world.message(refused)
    assert (failed.state, failed.attempts) == (OutboxState.FAILED, 1)
    assert failed.last_error == "HTTP 422: the answer could not be stored"
    assert world.message(fine).state is OutboxState.DELIVERED
    assert (done.failed, done.delivered) == (1, 1)


# -- the administrator's list -------------------------------------------------------------------------
def test_an_admin_lists_the_outbox_by_state_and_partner_and_others_may_not(world: World) -> None:
    partner = world.partner()
    failing, fine = world.enqueue(partner, "referral/H/1"), world.enqueue(partner, "referral/H/2")
    courier = FakeCourier()
    courier.answer(partner.base_url, 400)
    world.deliver(FakeEncoder(), courier)

    code = partner.administration_code
    page = outbox_page(world.uow(), ADMIN, OutboxQuery(partner=code.lower()))
    assert page.total == 2 and [e.message_id for e in page.items] == [
        fine[0].message_id,
        failing[0].message_id,
    ]
    failed = outbox_page(world.uow(), ADMIN, OutboxQuery(partner=code, state=OutboxState.FAILED))
    assert [(e.partner, e.state, e.attempts, e.last_error) for e in failed.items] == [
        (code, OutboxState.FAILED, 1, "HTTP 400: refused with 400")
    ]
    assert failed.counts[OutboxState.FAILED] >= 1
    with pytest.raises(PermissionDenied):
        outbox_page(world.uow(), ANALYST, OutboxQuery())


# -- two workers --------------------------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.slow
def test_two_workers_deliver_each_of_200_messages_exactly_once_and_in_order(
    pg_database: Database, tmp_path: Path
) -> None:
    for world in _world(pg_database, tmp_path):
        partners = [world.partner(), world.partner()]
        streams = [(p, f"referral/W/{i}") for p in partners for i in range(10)]
        for partner, stream in streams:
            world.enqueue(partner, stream, 10)
        courier = FakeCourier(pause=0.002)
        encoder = FakeEncoder()
        errors: list[BaseException] = []

        workers = [threading.Thread(target=_drain, args=(world, encoder, courier, errors)) for _ in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(150)
        assert not errors, errors
        assert _pending(world) == 0
        times = Counter(str(s.message["message_id"]) for s in courier.sent)
        assert len(times) == 200 and set(times.values()) == {1}, "each message sent exactly once"
        for partner, stream in streams:
            assert _seqs(courier.to(partner), stream) == list(range(1, 11)), stream


def _drain(world: World, encoder: FakeEncoder, courier: FakeCourier, errors: list[BaseException]) -> None:
    """One worker: deliver until nothing is pending, for at most two minutes."""
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            done = world.deliver(encoder, courier, limit=10)
            if not (done.sent or done.encoded) and _pending(world) == 0:
                return
    except BaseException as exc:  # reported by the test, not lost in the thread
        errors.append(exc)


def _pending(world: World) -> int:
    return sum(
        outbox_page(
            world.uow(), ADMIN, OutboxQuery(partner=p.administration_code, state=OutboxState.PENDING)
        ).total
        for p in world.partners
    )
