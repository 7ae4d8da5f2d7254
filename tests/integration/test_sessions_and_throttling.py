"""Server-side sessions, sign-in throttling, password rules and the command line's password input.

Each test signs in from its own made-up client address and with fresh users, so the throttle's counts
(kept in the shared test database) never leak from one test into another. Time is the unit of work's
injected clock, moved by hand: no test waits or depends on how fast it runs.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from customslab.adapters.uow import Database, SqlAlchemyUnitOfWork
from customslab.config import Settings
from customslab.entrypoints import cli
from customslab.entrypoints.web.app import SESSION_COOKIE, create_web_app
from customslab.services import sign_in_throttle
from tests.factories import PASSWORD, Network, make_network, unique
from tests.integration.conftest import serving

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
NEW_PASSWORD = "amber-kettle-orbit-lantern"
_addresses = itertools.count(1)


def an_address() -> str:
    """A client address no other test uses (TEST-NET-2, never routed)."""
    n = next(_addresses)
    return f"198.51.{100 + n // 250}.{n % 250 + 1}"


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Lab:
    app: Any
    clock: Clock
    net: Network

    def uow(self) -> SqlAlchemyUnitOfWork:
        factory: Any = self.app.state.uow_factory
        uow: SqlAlchemyUnitOfWork = factory()
        return uow

    def client(self, address: str | None = None) -> TestClient:
        return TestClient(self.app, client=(address or an_address(), 50000))


def _settings(database: Database, tmp_path: Path) -> Settings:
    return Settings(mode="test", database_url=database.url, file_store=tmp_path / "files")


@pytest.fixture
def lab(database: Database, tmp_path: Path) -> Lab:
    """The pages and the API, their unit of work on a clock the test moves."""
    app = create_web_app(_settings(database, tmp_path), db=database)
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    files = app.state.files
    app.state.uow_factory = lambda: SqlAlchemyUnitOfWork(database, files, clock=clock)
    return Lab(app, clock, make_network(app.state.uow_factory))


def token_of(client: TestClient, username: str, password: str = PASSWORD) -> str:
    answer = client.post("/api/auth/token", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def csrf(client: TestClient | httpx.Client, path: str = "/login") -> str:
    match = TOKEN.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def page_sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf(client), "next": "/"},
        follow_redirects=False,
    )


def signed_in_page(client: TestClient, username: str) -> TestClient:
    assert page_sign_in(client, username).status_code == 303
    return client


def opens(client: TestClient, path: str = "/hs") -> bool:
    """Whether the page opens (True) or sends the visitor to the sign-in page (False)."""
    answer = client.get(path, follow_redirects=False)
    if answer.status_code == 303:
        assert answer.headers["location"].startswith("/login")
        return False
    assert answer.status_code == 200, answer.text
    return True


def me(client: TestClient, token: str) -> int:
    return client.get("/api/auth/me", headers=bearer(token)).status_code


# -- sign-out ends the session on the server -------------------------------------------------------


@pytest.fixture
def served(database: Database, tmp_path: Path) -> Iterator[tuple[str, Network]]:
    """The application behind a real HTTP server."""
    app = create_web_app(_settings(database, tmp_path), db=database)
    with serving(app) as base:
        yield base, make_network(app.state.uow_factory)


def test_a_page_cookie_copied_before_sign_out_opens_nothing_afterwards(served: tuple[str, Network]) -> None:
    base, net = served
    with httpx.Client(base_url=base) as browser:
        signed = browser.post(
            "/login",
            data={"username": net["analyst"].username, "password": PASSWORD, "csrf_token": csrf(browser)},
            follow_redirects=True,
        )
        assert signed.status_code == 200 and "/queue" in str(signed.url)
        saved = browser.cookies[SESSION_COOKIE]
        # The copy works while the session lasts...
        with httpx.Client(base_url=base, cookies={SESSION_COOKIE: saved}) as thief:
            assert thief.get("/queue", follow_redirects=False).status_code == 200
        logout = browser.post("/logout", data={"csrf_token": csrf(browser, "/hs")}, follow_redirects=False)
        assert logout.status_code == 303
    # ...and not once the user has signed out: the cookie names a session that has ended.
    with httpx.Client(base_url=base, cookies={SESSION_COOKIE: saved}) as thief:
        replay = thief.get("/queue", follow_redirects=False)
        assert replay.status_code == 303 and replay.headers["location"].startswith("/login")


def test_a_bearer_token_stops_working_when_its_holder_signs_out(lab: Lab) -> None:
    with lab.client() as client:
        token = token_of(client, lab.net["analyst"].username)
        assert me(client, token) == 200
        assert client.post("/api/auth/logout", headers=bearer(token)).status_code == 204
        refused = client.get("/api/auth/me", headers=bearer(token))
        assert refused.status_code == 401 and "sign in again" in refused.json()["error"]


def test_a_page_session_token_is_not_a_bearer_token(lab: Lab) -> None:
    with lab.client() as client:
        signed_in_page(client, lab.net["analyst"].username)
        cookie_token = _cookie_token(client)
        assert opens(client) and me(client, cookie_token) == 401


def _cookie_token(client: TestClient) -> str:
    """The session token inside the signed cookie (itsdangerous: base64 JSON, then the signature)."""
    import base64
    import json

    value = client.cookies[SESSION_COOKIE]
    payload = value.split(".")[0]
    data = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    assert set(data) <= {"sid", "csrf", "lang", "flash"}, data
    return str(data["sid"])


# -- timeouts ---------------------------------------------------------------------------------------


def test_a_session_ends_after_thirty_idle_minutes_but_not_while_it_is_used(lab: Lab) -> None:
    with lab.client() as api, lab.client() as browser:
        token = token_of(api, lab.net["analyst"].username)
        signed_in_page(browser, lab.net["analyst"].username)
        for _ in range(3):  # used every 29 minutes: each request restarts the idle time
            lab.clock.advance(minutes=29)
            assert me(api, token) == 200
            assert opens(browser)
        lab.clock.advance(minutes=30, seconds=1)
        assert me(api, token) == 401
        assert not opens(browser)
    listing = _sessions_of(lab, lab.net["analyst"].user_id)
    assert listing["active"] == 0
    assert {s["ended_reason"] for s in listing["sessions"]} == {"idle timeout"}


def test_a_session_ends_eight_hours_after_sign_in_however_busy(lab: Lab) -> None:
    with lab.client() as api:
        token = token_of(api, lab.net["reviewer"].username)
        signed_in = lab.clock.now
        while lab.clock.now + timedelta(minutes=20) < signed_in + timedelta(hours=8):
            lab.clock.advance(minutes=20)
            assert me(api, token) == 200
        lab.clock.now = signed_in + timedelta(hours=8)
        assert me(api, token) == 401
    (ended,) = _sessions_of(lab, lab.net["reviewer"].user_id)["sessions"]
    assert ended["ended_reason"] == "expired" and not ended["active"]


def test_last_seen_is_written_at_most_once_a_minute(lab: Lab) -> None:
    with lab.client() as api:
        token = token_of(api, lab.net["analyst"].username)
        first = _sessions_of(lab, lab.net["analyst"].user_id)["sessions"][0]["last_seen_at"]
        lab.clock.advance(seconds=30)
        assert me(api, token) == 200
        assert _sessions_of(lab, lab.net["analyst"].user_id)["sessions"][0]["last_seen_at"] == first
        lab.clock.advance(seconds=31)
        assert me(api, token) == 200
        later = _sessions_of(lab, lab.net["analyst"].user_id)["sessions"][0]["last_seen_at"]
        assert datetime.fromisoformat(later) == lab.clock.now


# -- administrators --------------------------------------------------------------------------------


def _sessions_of(lab: Lab, user_id: int) -> dict[str, Any]:
    with lab.client() as admin:
        answer = admin.get(
            f"/api/admin/users/{user_id}/sessions", headers=bearer(token_of(admin, lab.net["admin"].username))
        )
    assert answer.status_code == 200, answer.text
    listing: dict[str, Any] = answer.json()
    return listing


def test_an_administrator_lists_and_ends_a_users_sessions_and_nobody_else_may(lab: Lab) -> None:
    analyst = lab.net["analyst"]
    address = an_address()
    with lab.client(address) as api, lab.client() as browser, lab.client() as admin_client:
        token = token_of(api, analyst.username)
        signed_in_page(browser, analyst.username)
        admin = bearer(token_of(admin_client, lab.net["admin"].username))

        listing = admin_client.get(f"/api/admin/users/{analyst.user_id}/sessions", headers=admin).json()
        assert listing["user"]["username"] == analyst.username and listing["active"] == 2
        by_kind = {s["kind"]: s for s in listing["sessions"]}
        assert set(by_kind) == {"api", "web"} and by_kind["api"]["address"] == address
        assert all(s["active"] and s["ended_at"] is None for s in listing["sessions"])

        # Not an administrator: refused, whoever's sessions they ask for.
        for path, verb in (
            (f"/api/admin/users/{analyst.user_id}/sessions", "GET"),
            (f"/api/admin/users/{analyst.user_id}/sessions/end", "POST"),
        ):
            assert api.request(verb, path, headers=bearer(token)).status_code == 403
        assert admin_client.get("/api/admin/users/2147483000/sessions", headers=admin).status_code == 404

        one = admin_client.post(
            f"/api/admin/users/{analyst.user_id}/sessions/{by_kind['api']['id']}/end", headers=admin
        )
        assert one.status_code == 200 and one.json() == {"ended": 1}
        assert me(api, token) == 401 and opens(browser)
        other_user = lab.net["reviewer"].user_id
        wrong_owner = f"/api/admin/users/{other_user}/sessions/{by_kind['web']['id']}/end"
        assert admin_client.post(wrong_owner, headers=admin).status_code == 404

        everything = admin_client.post(f"/api/admin/users/{analyst.user_id}/sessions/end", headers=admin)
        assert everything.status_code == 200 and everything.json() == {"ended": 1}
        assert not opens(browser)
        after = admin_client.get(f"/api/admin/users/{analyst.user_id}/sessions", headers=admin).json()
        assert after["active"] == 0
        assert {s["ended_reason"] for s in after["sessions"]} == {"ended by an administrator"}


# -- password change -------------------------------------------------------------------------------


def test_changing_the_password_ends_the_users_other_sessions_but_not_this_one(lab: Lab) -> None:
    analyst = lab.net["analyst"].username
    with lab.client() as api, lab.client() as browser:
        mine, other = token_of(api, analyst), token_of(api, analyst)
        signed_in_page(browser, analyst)
        change = "/api/auth/password"
        wrong = api.post(
            change,
            json={"current_password": "not-my-password", "new_password": NEW_PASSWORD},
            headers=bearer(mine),
        )
        assert wrong.status_code == 403 and wrong.json()["field"] == "current_password"
        weak = api.post(
            change, json={"current_password": PASSWORD, "new_password": "password1234"}, headers=bearer(mine)
        )
        assert weak.status_code == 422 and weak.json()["field"] == "new_password"
        assert me(api, other) == 200 and opens(browser)  # refused changes end nothing

        done = api.post(
            change, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=bearer(mine)
        )
        assert done.status_code == 200 and done.json() == {"ended": 2}
        assert me(api, mine) == 200
        assert me(api, other) == 401 and not opens(browser)
        assert (
            api.post("/api/auth/token", json={"username": analyst, "password": PASSWORD}).status_code == 403
        )
        assert me(api, token_of(api, analyst, NEW_PASSWORD)) == 200


def test_the_password_page_changes_the_password_and_signs_out_the_api_tokens(lab: Lab) -> None:
    reviewer = lab.net["reviewer"].username
    with lab.client() as api, lab.client() as browser:
        token = token_of(api, reviewer)
        signed_in_page(browser, reviewer)
        form = browser.get("/account/password")
        assert form.status_code == 200 and 'name="new_password"' in form.text
        fields = {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "csrf_token": csrf(browser, "/hs"),
        }
        differ = browser.post("/account/password", data=fields | {"confirm_password": "something-else"})
        assert differ.status_code == 422 and "differ" in differ.text
        weak = fields | {"new_password": "12345678", "confirm_password": "12345678"}
        assert browser.post("/account/password", data=weak).status_code == 422
        done = browser.post(
            "/account/password", data=fields | {"confirm_password": NEW_PASSWORD}, follow_redirects=False
        )
        assert done.status_code == 303
        assert "1 other sessions were signed out" in browser.get("/hs").text
        assert me(api, token) == 401 and opens(browser)


# -- throttling ------------------------------------------------------------------------------------


def _fail_until_locked(lab: Lab, attempt: Any, username: str) -> list[int]:
    """Ten wrong passwords, each once the backoff of the one before has passed (1, 2, 4, 8, 16 s)."""
    statuses = []
    for n in range(1, 11):
        statuses.append(attempt(username, "wrong-password-guess").status_code)
        if n >= 5 and n < 10:
            early = attempt(username, PASSWORD)  # the right password, too early: refused unchecked
            assert early.status_code == 429 and early.headers["retry-after"] == str(2 ** (n - 5))
            lab.clock.advance(seconds=2 ** (n - 5))
    return statuses


def _outcomes(lab: Lab, **who: str) -> list[str]:
    since = lab.clock.now - timedelta(hours=2)
    outcomes = ("failed", "locked", "succeeded")
    with lab.uow() as uow:
        return [e.outcome for e in uow.repo.sign_in_events(since, lab.clock.now, outcomes, **who)]


def test_the_api_locks_an_account_after_ten_failures_and_refuses_even_the_right_password(lab: Lab) -> None:
    username, address = lab.net["analyst"].username, an_address()
    with lab.client(address) as client:

        def attempt(user: str, password: str) -> Any:
            return client.post("/api/auth/token", json={"username": user, "password": password})

        assert _fail_until_locked(lab, attempt, username) == [403] * 10
        locked = attempt(username, PASSWORD)
        assert locked.status_code == 429 and locked.headers["retry-after"] == "900"
        assert "locked" in locked.json()["error"] and "15 minutes" in locked.json()["error"]
        lab.clock.advance(minutes=14)
        still = attempt(username, PASSWORD)
        assert still.status_code == 429 and still.headers["retry-after"] == "60"
        # From another address too: the account itself is locked.
        with lab.client() as elsewhere:
            other = elsewhere.post("/api/auth/token", json={"username": username, "password": PASSWORD})
            assert other.status_code == 429
        lab.clock.advance(minutes=1)
        assert attempt(username, PASSWORD).status_code == 200
        # A success starts the account afresh: one new failure is no reason to wait.
        assert attempt(username, "wrong-password-guess").status_code == 403
        assert attempt(username, PASSWORD).status_code == 200

    outcomes = _outcomes(lab, username=username)
    assert outcomes.count("failed") == 10 and outcomes.count("locked") == 1
    # The 8 attempts refused while the account waited wrote nothing: a flood cannot grow the audit chain.
    assert outcomes.count("succeeded") == 2 and len(outcomes) == 13
    counted = [o for o in outcomes if o in ("failed", "locked")]
    assert counted[9] == "locked"  # the tenth failure is the one that locked the account


def test_every_sign_in_event_is_in_the_audit_trail_with_who_acted(lab: Lab) -> None:
    username, address = lab.net["officer"].username, an_address()
    with lab.client(address) as client:
        for password in ("wrong-password-guess", PASSWORD):
            client.post("/api/auth/token", json={"username": username, "password": password})
    since = lab.clock.now - timedelta(minutes=1)
    with lab.uow() as uow:
        events = uow.repo.sign_in_events(since, lab.clock.now, ("failed", "succeeded"), username=username)
        trails = {e.outcome: uow.repo.audit_for("sign_in_events", str(e.id)) for e in events}
    assert trails["failed"][0].actor == f"anonymous from {address}"
    assert trails["failed"][0].changes["outcome"] == {"after": "failed"}
    assert trails["succeeded"][0].actor == username
    assert trails["succeeded"][0].changes["address"] == {"after": address}


def test_the_sign_in_page_locks_out_too_and_says_so(lab: Lab) -> None:
    username = lab.net["reviewer"].username
    with lab.client() as browser:

        def attempt(user: str, password: str) -> Any:
            return page_sign_in(browser, user, password)

        assert _fail_until_locked(lab, attempt, username) == [401] * 10
        locked = attempt(username, PASSWORD)
        assert locked.status_code == 429 and locked.headers["retry-after"] == "900"
        assert "Too many failed sign-ins. Try again in 15 minutes." in locked.text
        assert not opens(browser)
        # The pages and the API count together: the account is locked for the API as well.
        api = browser.post("/api/auth/token", json={"username": username, "password": PASSWORD})
        assert api.status_code == 429
        lab.clock.advance(minutes=15)
        assert attempt(username, PASSWORD).status_code == 303 and opens(browser)
    assert _outcomes(lab, username=username).count("locked") == 1


def test_one_address_guessing_many_accounts_is_held_back_then_locked_but_other_addresses_are_not(
    lab: Lab,
) -> None:
    settings: Settings = lab.app.state.settings
    backoff_after, lockout_after = (
        settings.sign_in_address_backoff_after,
        settings.sign_in_address_lockout_after,
    )
    address = an_address()
    right = {"username": lab.net["analyst"].username, "password": PASSWORD}
    with lab.client(address) as sprayer, lab.client() as colleague:

        def guess() -> Any:  # a new account each time: no account reaches its own limit
            return sprayer.post("/api/auth/token", json={"username": unique("nobody"), "password": "guess-1"})

        for _ in range(backoff_after):
            assert guess().status_code == 403
        held = sprayer.post("/api/auth/token", json=right)
        assert held.status_code == 429 and held.headers["retry-after"] == "1"
        assert colleague.post("/api/auth/token", json=right).status_code == 200
        lab.clock.advance(seconds=1)
        assert sprayer.post("/api/auth/token", json=right).status_code == 200  # the wait is over

        waits = []
        for _ in range(lockout_after - backoff_after):  # keep guessing, waiting out each backoff
            assert guess().status_code == 403
            refused = guess()
            assert refused.status_code == 429
            waits.append(int(refused.headers["retry-after"]))
            lab.clock.advance(seconds=waits[-1])
        assert waits[:7] == [2, 4, 8, 16, 32, 60, 60] and waits[-1] == 15 * 60
        assert "locked" in refused.json()["error"]
        assert sprayer.post("/api/auth/token", json=right).status_code == 200  # the lockout is over
        assert colleague.post("/api/auth/token", json=right).status_code == 200
    assert _outcomes(lab, address=address).count("locked") == 1


def test_the_backoff_doubles_from_the_fifth_failure_and_is_capped() -> None:
    policy = sign_in_throttle.SignInPolicy(backoff_max=timedelta(seconds=60), lockout_after=100)
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    waits = []
    for n in range(1, 14):
        failures = [start + timedelta(seconds=i) for i in range(n)]
        wait = sign_in_throttle.wait_after(failures, policy, policy.backoff_after, policy.lockout_after)
        waits.append(None if wait is None else (wait.until - failures[-1]).total_seconds())
    assert waits == [None, None, None, None, 1, 2, 4, 8, 16, 32, 60, 60, 60]


# -- password rules --------------------------------------------------------------------------------


def test_weak_passwords_are_refused_and_a_strong_one_is_accepted(lab: Lab) -> None:
    username = unique("analyst.lee").lower()
    with lab.client() as client:
        admin = bearer(token_of(client, lab.net["admin"].username))

        def add(password: str) -> Any:
            body = {
                "username": username,
                "full_name": "Lee Min-jun",
                "org_code": lab.net.central,
                "roles": ["analyst"],
                "password": password,
            }
            return client.post("/api/admin/users", json=body, headers=admin)

        for weak, says in (
            ("12345678", "at least 12 characters"),
            ("password", "at least 12 characters"),
            ("password1234", "too easy to guess"),
            ("qwertyuiopas", "too easy to guess"),
            (f"{username}-2026", "must not contain the username"),
            (username.upper() + "!", "must not contain the username"),
        ):
            refused = add(weak)
            assert refused.status_code == 422, (weak, refused.text)
            assert refused.json()["field"] == "password" and says in refused.json()["error"], weak
        assert add(NEW_PASSWORD).status_code == 201
        assert me(client, token_of(client, username, NEW_PASSWORD)) == 200


# -- the command line ------------------------------------------------------------------------------


def test_the_command_line_reads_passwords_from_stdin_or_a_prompt_never_from_its_arguments(
    lab: Lab, database: Database, tmp_path: Path
) -> None:
    runner = CliRunner()
    env = {"CUSTOMSLAB_DATABASE_URL": database.url, "CUSTOMSLAB_FILE_STORE": str(tmp_path / "files")}
    username = unique("cli.user").lower()
    add = ["user", "add", username, "--org", lab.net.central, "--role", "analyst"]

    gone = runner.invoke(cli.app, [*add, "--password", NEW_PASSWORD], env=env)
    assert gone.exit_code == 2 and "No such option" in gone.output

    weak = runner.invoke(cli.app, [*add, "--password-stdin"], input="password1234\n", env=env)
    assert weak.exit_code == 2 and "too easy to guess" in weak.output

    added = runner.invoke(cli.app, [*add, "--password-stdin"], input=NEW_PASSWORD + "\n", env=env)
    assert added.exit_code == 0, added.output
    with lab.client() as client:
        token = token_of(client, username, NEW_PASSWORD)
        listed = runner.invoke(cli.app, ["user", "sessions", username], env=env)
        assert listed.exit_code == 0 and "1 active sessions" in listed.output

        prompted = "soft-granite-harbour-77"
        typed = runner.invoke(
            cli.app, ["user", "set-password", username], input=f"{prompted}\n{prompted}\n", env=env
        )
        assert typed.exit_code == 0 and "1 sessions ended" in typed.output, typed.output
        assert prompted not in typed.output  # the prompt does not echo it
        assert me(client, token) == 401
        again = token_of(client, username, prompted)
        ended = runner.invoke(cli.app, ["user", "sessions", username, "--end"], env=env)
        assert ended.exit_code == 0 and "Ended 1 sessions" in ended.output
        assert me(client, again) == 401
    unknown = runner.invoke(cli.app, ["user", "sessions", "nobody-at-all"], env=env)
    assert unknown.exit_code == 2 and "There is no user 'nobody-at-all'." in unknown.output


def test_parallel_guesses_cannot_all_pass_the_check_before_the_first_failure_is_recorded(lab: Lab) -> None:
    """Twenty wrong passwords at the same instant, from twenty threads: the attempts on one username
    are serialised (an advisory lock on PostgreSQL, the single writer's lock on SQLite), so once five
    failures are recorded the rest wait (the clock stands still) and are refused unchecked. Without the
    lock each would see no failure yet and check its password."""
    import threading

    username = lab.net["reviewer"].username
    start = threading.Barrier(20)
    codes: list[int] = []

    def guess() -> None:
        with lab.client() as client:
            start.wait()
            answer = client.post("/api/auth/token", json={"username": username, "password": "wrong-guess-x"})
            codes.append(answer.status_code)

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    failures = [o for o in _outcomes(lab, username=username) if o in ("failed", "locked")]
    assert len(failures) == 5 and sorted(codes) == [403] * 5 + [429] * 15, (failures, codes)
