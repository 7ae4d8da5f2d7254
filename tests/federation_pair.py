"""Two real customslab deployments on loopback: a member administration without a laboratory (Bhutan, on
SQLite) and the Japanese Regional Customs Laboratory (on PostgreSQL), each a `customslab serve` process
of its own with its own database, file store and federation key, set up only with the commands the README
shows: `init --directory`, `user add`, `federation key`, `federation partner add`.

The federation test and the federation benchmark both use it. A server can be stopped and started again
(the process is killed and a new one serves the same database), which is how the tests take the RCL down.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from typer.testing import CliRunner

from customslab.entrypoints.cli import app as cli

ADMIN_PASSWORD = "plain-vivid-harbour-lantern"
PASSWORD = "harbour-ledger-violin-seven"
T = TypeVar("T")

MEMBER_DIRECTORY = """
home: {code: BTC, name: Bhutan Customs, country: BT, has_laboratories: false}
partners:
  - {code: JPC, name: Japan Customs, country: JP}
organisations:
  - {code: BT-FP, name: Bhutan Customs focal point, kind: member}
  - {code: BT-PLG, name: Phuentsholing Customs Office, kind: customs_office}
  - code: RCL-JP
    name: Central Customs Laboratory Japan
    kind: rcl
    administration: JPC
    rcl_region: Asia/Pacific
administrator:
  {username: admin.bt, full_name: Dorji Wangmo, org: BT-FP, password_env: CUSTOMSLAB_ADMIN_PASSWORD}
"""

RCL_DIRECTORY = """
home: {code: JPC, name: Japan Customs, country: JP, has_laboratories: true}
partners:
  - {code: BTC, name: Bhutan Customs, country: BT, has_laboratories: false}
organisations:
  - {code: RCL-JP, name: Central Customs Laboratory Japan, kind: rcl, rcl_region: Asia/Pacific}
  - {code: BT-FP, name: Bhutan Customs focal point, kind: member, administration: BTC}
  - {code: BT-PLG, name: Phuentsholing Customs Office, kind: customs_office, administration: BTC}
administrator:
  {username: admin.jp, full_name: Sato Haruto, org: RCL-JP, password_env: CUSTOMSLAB_ADMIN_PASSWORD}
"""

#: (username, organisation, role, full name) of each side.
MEMBER_USERS = [
    ("officer.bt", "BT-PLG", "requester", "Karma Dorji"),
    ("focal.bt", "BT-FP", "focal_point", "Pema Choden"),
]
RCL_USERS = [
    ("manager.jp", "RCL-JP", "lab_manager", "Suzuki Aoi"),
    ("analyst.jp", "RCL-JP", "analyst", "Tanaka Ren"),
    ("reviewer.jp", "RCL-JP", "reviewer", "Ito Mei"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def eventually(check: Callable[[], T | None], timeout: float = 60.0, every: float = 0.1) -> T:
    """Poll `check` until it returns something truthy; fail with the last value after `timeout` s."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"not reached within {timeout} s (last: {last!r})")


@dataclass
class Server:
    """One deployment: its settings (as CUSTOMSLAB_* variables), its port and, while it runs, its process."""

    name: str
    root: Path
    database_url: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            "CUSTOMSLAB_MODE": "dev",
            "CUSTOMSLAB_DATABASE_URL": self.database_url,
            "CUSTOMSLAB_FILE_STORE": str(self.root / "files"),
            "CUSTOMSLAB_FEDERATION_KEY_DIR": str(self.root / "keys"),
            "CUSTOMSLAB_AUDIT_KEY_FILE": str(self.root / "audit-key.pem"),
            "CUSTOMSLAB_PUBLIC_URL": self.base,
            "CUSTOMSLAB_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "CUSTOMSLAB_WORKER_IN_PROCESS": "true",
            "CUSTOMSLAB_WORKER_POLL_SECONDS": "0.2",
            "CUSTOMSLAB_FEDERATION_RETRY_BASE_SECONDS": "0.2",
            "CUSTOMSLAB_FEDERATION_RETRY_CAP_SECONDS": "2",
            "CUSTOMSLAB_FEDERATION_TIMEOUT_SECONDS": "10",
            **self.extra_env,
        }

    def cli(self, *args: str, given: str | None = None) -> str:
        """Run a `customslab` command against this deployment (in this process, as the tests do)."""
        result = CliRunner().invoke(cli, list(args), env=self.env, input=given)
        assert result.exit_code == 0, f"customslab {' '.join(args)} on {self.name}: {result.output}"
        return str(result.output)

    def start(self) -> None:
        """Serve the deployment in a process of its own and wait until it answers."""
        assert self.process is None, f"{self.name} is already running"
        exe = shutil.which("customslab", path=str(Path(sys.executable).parent)) or "customslab"
        log = (self.root / "server.log").open("ab")
        self.process = subprocess.Popen(
            [exe, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        eventually(self._answers, timeout=60, every=0.2)

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited: {(self.root / 'server.log').read_text()[-3000:]}")
        try:
            return httpx.get(f"{self.base}/api/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        """Kill the server (SIGKILL: a crash, not a polite shutdown); its database stays."""
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def client(self, username: str, password: str = PASSWORD) -> httpx.Client:
        token = httpx.post(f"{self.base}/api/auth/token", json={"username": username, "password": password})
        assert token.status_code == 200, token.text
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        return httpx.Client(base_url=self.base, headers=bearer, timeout=30)

    def admin(self) -> httpx.Client:
        return self.client(f"admin.{'bt' if self.name == 'member' else 'jp'}", ADMIN_PASSWORD)


def _set_up(server: Server, directory: str, users: list[tuple[str, str, str, str]]) -> dict[str, Any]:
    (server.root / "directory.yaml").write_text(directory)
    server.cli("init", "--directory", str(server.root / "directory.yaml"))
    for username, org, role, name in users:
        server.cli(
            *("user", "add", username, "--org", org, "--role", role, "--full-name", name),
            "--password-stdin",
            given=PASSWORD,
        )
    return dict(json.loads(server.cli("federation", "key", "--json")))


def connect(member: Server, rcl: Server) -> None:
    """Set both deployments up and make each the other's partner, as the README's commands do."""
    member_key = _set_up(member, MEMBER_DIRECTORY, MEMBER_USERS)
    rcl_key = _set_up(rcl, RCL_DIRECTORY, RCL_USERS)
    member.cli(
        "federation", "partner", "add", "JPC", "--url", rcl.base, "--public-key", rcl_key["public_key"]
    )
    rcl.cli(
        "federation", "partner", "add", "BTC", "--url", member.base, "--public-key", member_key["public_key"]
    )


@contextmanager
def federation_pair(root: Path, member_url: str, rcl_url: str) -> Iterator[tuple[Server, Server]]:
    """The member and the RCL deployments, connected and serving; both are stopped at the end."""
    member = Server("member", root / "member", member_url)
    rcl = Server("rcl", root / "rcl", rcl_url)
    for s in (member, rcl):
        s.root.mkdir(parents=True, exist_ok=True)
    connect(member, rcl)
    try:
        member.start()
        rcl.start()
        yield member, rcl
    finally:
        member.stop()
        rcl.stop()
