"""The outbox worker at the edges: the thread the served application runs, `customslab worker`, the HTTP
courier, and the administrator's outbox in the API, the pages and the CLI.

Each test has a deployment of its own (tests/integration/federation/support.py): the worker delivers every
partner's messages, so none may see another test's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from customslab.adapters.federation.courier import HttpCourier
from customslab.adapters.federation.keys import KeyFolder
from customslab.adapters.federation.signing import signature_valid
from customslab.domain.federation import OutboxMessage, OutboxState, TaskStatus, TaskStatusChanged
from customslab.entrypoints.api.app import create_app
from customslab.entrypoints.cli import app as cli
from customslab.entrypoints.web.app import create_web_app
from customslab.services import federation_partners
from customslab.services.federation_outbox import enqueue
from tests.integration.conftest import ADMIN_PASSWORD
from tests.integration.federation.support import PASSWORD, Deployment, deployment

WORKER_THREAD = "customslab-outbox-worker"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
T = TypeVar("T")


def closed_port() -> int:
    """A port nothing listens on: a delivery there is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def eventually(check: Callable[[], T | None], timeout: float = 20.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"not reached within {timeout} s")


def worker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == WORKER_THREAD and t.is_alive()]


@pytest.fixture
def krc(tmp_path: Path) -> Deployment:
    """Korea's deployment, whose partner Japan does not answer (nothing listens at its URL)."""
    made = deployment(tmp_path / "krc", "KRC", "JPC")
    partner_key = KeyFolder(tmp_path / "jpc-keys").generate()
    made.trust("JPC", partner_key, base_url=f"http://127.0.0.1:{closed_port()}")
    return made


def queue(d: Deployment, n: int = 1, stream: str = "referral/KRC/R-1") -> list[OutboxMessage]:
    with d.uow() as uow:
        written = [
            enqueue(uow, "JPC", stream, TaskStatusChanged("R-1", TaskStatus.ACCEPTED)) for _ in range(n)
        ]
        uow.commit()
    return written


def stored(d: Deployment, message: OutboxMessage) -> OutboxMessage:
    with d.uow() as uow:
        found = uow.federation.outbox_message(message.id or 0)
        assert found is not None
        uow.session.expunge(found)
    return found


def cli_env(d: Deployment) -> dict[str, str]:
    return {
        "CUSTOMSLAB_MODE": "test",
        "CUSTOMSLAB_DATABASE_URL": d.db.url,
        "CUSTOMSLAB_FILE_STORE": str(d.root / "files"),
        "CUSTOMSLAB_FEDERATION_KEY_DIR": str(d.root / "keys"),
        "CUSTOMSLAB_AUDIT_KEY_FILE": str(d.root / "audit-key.pem"),
        "CUSTOMSLAB_PUBLIC_URL": d.public_url,
    }


# -- the in-process worker ----------------------------------------------------------------------------
def test_a_test_client_starts_no_worker_thread_unless_the_settings_ask_for_one(krc: Deployment) -> None:
    with TestClient(create_app(krc.settings(), db=krc.db)):
        assert worker_threads() == [], "mode test, worker_in_process unset: no thread"
    with TestClient(create_app(krc.settings(worker_in_process=True, worker_poll_seconds=0.05), db=krc.db)):
        assert len(worker_threads()) == 1
    assert worker_threads() == [], "stopped with the application"
    assert krc.settings(mode="dev").delivers_in_process() is True
    assert krc.settings(mode="dev", worker_in_process=False).delivers_in_process() is False


def test_the_served_application_signs_and_sends_its_outbox_and_a_partner_away_waits(krc: Deployment) -> None:
    message = queue(krc)[0]
    settings = krc.settings(worker_in_process=True, worker_poll_seconds=0.05)
    with TestClient(create_app(settings, db=krc.db)):
        tried = eventually(lambda: (m := stored(krc, message)).attempts and m)
    assert tried.state is OutboxState.PENDING and tried.last_error.startswith("no answer: ConnectError")
    own = federation_partners.own_keys(krc.uow(), None).keys
    assert len(own) == 1, "the deployment's first key was made on first use (outside production)"
    bundle = json.loads(tried.body)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "message"
    assert signature_valid(bundle, own[0].public_key), "signed with the deployment's key"


# -- `customslab worker` and `customslab federation messages / retry` ----------------------------------
def test_the_worker_command_refuses_a_database_it_would_have_to_migrate(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    result = CliRunner().invoke(
        cli, ["worker", "--once", "--database-url", url], env={"CUSTOMSLAB_MODE": "test"}
    )
    assert result.exit_code == 2
    assert "is not at this version's schema" in result.output and "customslab db upgrade" in result.output


def test_the_worker_command_sends_once_and_an_operator_lists_and_retries_messages(krc: Deployment) -> None:
    message = queue(krc)[0]
    env = cli_env(krc)
    runner = CliRunner()

    once = runner.invoke(cli, ["worker", "--once"], env=env)
    assert once.exit_code == 0, once.output
    assert "Delivered 0, 1 to retry later, 0 failed (1 signed for their first sending)." in once.output
    first = stored(krc, message)
    assert first.attempts == 1 and first.sha256

    listed = runner.invoke(cli, ["federation", "messages", "--state", "pending", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    page = json.loads(listed.output)
    assert [(m["id"], m["partner"], m["attempts"]) for m in page["items"]] == [(message.id, "JPC", 1)]
    text = runner.invoke(cli, ["federation", "messages"], env=env).output
    assert "last error: no answer: ConnectError" in text

    retried = runner.invoke(cli, ["federation", "retry", str(message.id)], env=env)
    assert retried.exit_code == 0, retried.output
    assert f"Message {message.id} (task-status to JPC) will be sent again now" in retried.output
    runner.invoke(cli, ["worker", "--once"], env=env)
    again = stored(krc, message)
    # The retry started the count again (this is its first attempt); the bytes are the same.
    assert again.attempts == 1 and again.body == first.body, "the same bytes again"

    missing = runner.invoke(cli, ["federation", "retry", "999999"], env=env)
    assert missing.exit_code == 2 and "There is no outbox message 999999." in missing.output


def test_the_worker_command_delivers_until_it_is_told_to_stop(krc: Deployment) -> None:
    message = queue(krc)[0]
    exe = shutil.which("customslab", path=str(Path(sys.executable).parent)) or "customslab"
    env = {**os.environ, **cli_env(krc), "CUSTOMSLAB_WORKER_POLL_SECONDS": "0.05"}
    worker = subprocess.Popen([exe, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        eventually(lambda: stored(krc, message).attempts)
    finally:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=30)[0].decode()
    assert worker.returncode == 0, output
    assert "will be retried (attempt 1)" in output and "outbox worker stopped" in output


# -- the courier --------------------------------------------------------------------------------------
def test_the_courier_posts_fhir_json_to_the_partners_inbox_and_reads_its_answer() -> None:
    seen: list[httpx.Request] = []

    def partner(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.content == b"late":
            return httpx.Response(425, json={"detail": "Message 2 of the stream has not arrived."})
        if request.content == b"broken":
            return httpx.Response(502, text="<html>Bad gateway</html>")
        return httpx.Response(202, json={"status": "accepted"})

    courier = HttpCourier(5, transport=httpx.MockTransport(partner))
    answer = courier.deliver("https://lims.jpc.example/base/", b'{"resourceType": "Bundle"}')
    assert (answer.status, str(seen[0].url)) == (202, "https://lims.jpc.example/base/api/federation/messages")
    assert seen[0].method == "POST" and seen[0].headers["content-type"] == "application/fhir+json"
    assert (
        courier.deliver("https://lims.jpc.example", b"late").detail
        == "Message 2 of the stream has not arrived."
    )
    assert courier.deliver("https://lims.jpc.example", b"broken").detail == "<html>Bad gateway</html>"


def test_the_courier_keeps_no_control_characters_of_a_partners_answer() -> None:
    def partner(request: httpx.Request) -> httpx.Response:
        if request.content == b"text":
            return httpx.Response(500, text="\x00boom\x1b\tnow\n")
        return httpx.Response(422, json={"detail": "bad\u0000 field\x07\nnext"})

    courier = HttpCourier(5, transport=httpx.MockTransport(partner))
    assert courier.deliver("https://lims.jpc.example", b"{}").detail == "bad field\nnext"
    assert courier.deliver("https://lims.jpc.example", b"text").detail == "boom\tnow"


def test_the_courier_answers_none_when_nothing_answers() -> None:
    courier = HttpCourier(2)
    answer = courier.deliver(f"http://127.0.0.1:{closed_port()}", b"{}")
    assert answer.status is None and answer.detail.startswith("ConnectError")
    assert HttpCourier(2).deliver("not a url at all", b"{}").status is None


# -- the administrator's outbox: API and pages -----------------------------------------------------------
@pytest.fixture
def failed_message(krc: Deployment) -> Iterator[OutboxMessage]:
    """A message the worker tried once (no answer) and that then failed for good."""
    message = queue(krc)[0]
    CliRunner().invoke(cli, ["worker", "--once"], env=cli_env(krc))
    with krc.uow() as uow:
        found = uow.federation.outbox_message(message.id or 0)
        assert found is not None
        found.state = OutboxState.FAILED
        uow.commit()
    yield message


def _bearer(client: TestClient, username: str, password: str) -> dict[str, str]:
    token = client.post("/api/auth/token", json={"username": username, "password": password})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def test_an_admin_reads_the_outbox_and_retries_through_the_api(
    krc: Deployment, failed_message: OutboxMessage
) -> None:
    with TestClient(create_app(krc.settings(), db=krc.db)) as client:
        admin = _bearer(client, "admin.krc", ADMIN_PASSWORD)
        analyst = _bearer(client, "analyst.krc", PASSWORD)
        page = client.get(
            "/api/federation/outbox", params={"state": "failed", "partner": "JPC"}, headers=admin
        )
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["total"] == 1 and body["counts"]["failed"] == 1
        item = body["items"][0]
        assert (item["id"], item["state"], item["attempts"]) == (failed_message.id, "failed", 1)
        assert item["last_error"].startswith("no answer: ConnectError") and len(item["sha256"]) == 64
        assert "body" not in item and "payload" not in item

        assert client.get("/api/federation/outbox", headers=analyst).status_code == 403
        assert client.get("/api/federation/outbox").status_code == 401
        assert (
            client.get("/api/federation/outbox", params={"state": "lost"}, headers=admin).status_code == 422
        )
        assert (
            client.post(f"/api/federation/outbox/{failed_message.id}/retry", headers=analyst).status_code
            == 403
        )

        retried = client.post(f"/api/federation/outbox/{failed_message.id}/retry", headers=admin)
        assert retried.status_code == 200, retried.text
        assert (retried.json()["state"], retried.json()["attempts"]) == ("pending", 0)
        assert client.post("/api/federation/outbox/999999/retry", headers=admin).status_code == 404
    with krc.uow() as uow:
        delivered = uow.federation.outbox_message(failed_message.id or 0)
        assert delivered is not None
        delivered.state = OutboxState.DELIVERED
        uow.commit()
    with TestClient(create_app(krc.settings(), db=krc.db)) as client:
        admin = _bearer(client, "admin.krc", ADMIN_PASSWORD)
        refused = client.post(f"/api/federation/outbox/{failed_message.id}/retry", headers=admin)
        assert refused.status_code == 409 and "nothing to retry" in refused.json()["error"]


def test_an_admin_sees_failed_messages_with_their_error_and_retries_one_on_the_page(
    krc: Deployment, failed_message: OutboxMessage
) -> None:
    with TestClient(create_web_app(krc.settings(), db=krc.db)) as client:
        token = TOKEN.search(client.get("/login").text)
        assert token is not None
        form = {"username": "admin.krc", "password": ADMIN_PASSWORD, "next": "/", "csrf_token": token[1]}
        assert client.post("/login", data=form, follow_redirects=False).status_code == 303

        page = client.get("/admin/messages?state=failed")
        assert page.status_code == 200
        assert 'href="/admin/messages"' in page.text, "linked from the administrator's navigation"
        assert failed_message.message_id in page.text and "no answer: ConnectError" in page.text
        csrf = TOKEN.search(page.text)
        assert csrf is not None and f"/admin/messages/{failed_message.id}/retry" in page.text

        forged = client.post(f"/admin/messages/{failed_message.id}/retry", data={}, follow_redirects=False)
        assert forged.status_code == 403 and stored(krc, failed_message).state is OutboxState.FAILED
        done = client.post(
            f"/admin/messages/{failed_message.id}/retry",
            data={"csrf_token": csrf[1], "next": "/admin/messages?state=failed"},
            follow_redirects=False,
        )
        assert done.status_code == 303 and done.headers["location"] == "/admin/messages?state=failed"
        assert stored(krc, failed_message).state is OutboxState.PENDING
        after = client.get("/admin/messages?state=pending")
        assert "will be sent again now" in after.text and failed_message.message_id in after.text


def test_an_operator_retries_every_failed_message_to_a_partner_and_names_one_or_the_other(
    krc: Deployment, failed_message: OutboxMessage
) -> None:
    env, runner = cli_env(krc), CliRunner()
    done = runner.invoke(cli, ["federation", "retry", "--partner", "jpc"], env=env)
    assert done.exit_code == 0, done.output
    assert "1 failed message to JPC will be sent again now." in done.output
    again = stored(krc, failed_message)
    assert (again.state, again.attempts) == (OutboxState.PENDING, 0)
    as_json = runner.invoke(cli, ["federation", "retry", "--partner", "JPC", "--json"], env=env)
    assert json.loads(as_json.output) == {"partner": "JPC", "retried": 0}

    for wrong in (["federation", "retry"], ["federation", "retry", "1", "--partner", "JPC"]):
        refused = runner.invoke(cli, wrong, env=env)
        assert refused.exit_code == 2 and "either a message id or --partner" in refused.output
    unknown = runner.invoke(cli, ["federation", "retry", "--partner", "ZZZ"], env=env)
    assert unknown.exit_code == 2 and "There is no partner deployment ZZZ." in unknown.output


def test_an_admin_retries_every_failed_message_to_a_partner_through_the_api(
    krc: Deployment, failed_message: OutboxMessage
) -> None:
    with TestClient(create_app(krc.settings(), db=krc.db)) as client:
        admin = _bearer(client, "admin.krc", ADMIN_PASSWORD)
        analyst = _bearer(client, "analyst.krc", PASSWORD)
        url = "/api/federation/outbox/retry-failed"
        assert client.post(url, params={"partner": "JPC"}).status_code == 401
        assert client.post(url, params={"partner": "JPC"}, headers=analyst).status_code == 403
        assert stored(krc, failed_message).state is OutboxState.FAILED
        assert client.post(url, headers=admin).status_code == 422, "the partner is required"
        assert client.post(url, params={"partner": "ZZZ"}, headers=admin).status_code == 404

        done = client.post(url, params={"partner": "jpc"}, headers=admin)
        assert done.status_code == 200, done.text
        assert done.json() == {"partner": "JPC", "retried": 1}
        again = stored(krc, failed_message)
        assert (again.state, again.attempts) == (OutboxState.PENDING, 0)
        assert client.post(url, params={"partner": "JPC"}, headers=admin).json()["retried"] == 0
