"""`customslab serve --workers N`: several processes on one port, over one PostgreSQL, without Nagle's stall.

The stall (every keep-alive request ~40 ms slower with two processes than with one) came from the
shared listening socket being bound with proto 0, so that asyncio left TCP_NODELAY off on the sockets
accepted from it (see `asgi.TcpConfig`). These tests count the option on the accepted sockets, not
the time.
"""

from __future__ import annotations

import asyncio
import ctypes
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.config import Settings
from customslab.entrypoints.asgi import TcpConfig, settings_environment
from customslab.entrypoints.cli import app as cli
from tests.factories import PASSWORD, make_network

ROOT = Path(__file__).resolve().parents[2]
SYS_PIDFD_GETFD = 438  # the same number on every Linux architecture


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _nodelay(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_a_connection_accepted_on_the_shared_socket_has_tcp_nodelay() -> None:
    listener = TcpConfig(
        "customslab.entrypoints.asgi:app", factory=True, host="127.0.0.1", port=0
    ).bind_socket()
    seen: list[int] = []

    class Record(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            seen.append(_nodelay(transport.get_extra_info("socket")))
            transport.close()

    async def accept_one() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Record, sock=listener)
        port = listener.getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.01)
        writer.close()
        server.close()

    asyncio.run(accept_one())
    assert listener.proto == socket.IPPROTO_TCP
    assert seen == [1]


def test_the_settings_reach_a_server_process_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CUSTOMSLAB_"):
            monkeypatch.delenv(name)
    settings = Settings(
        mode="dev",
        database_url="postgresql+psycopg://u:p@db/lab",
        file_store=Path("/srv/files"),
        workers=3,
        port=8123,
        worker_in_process=False,
        smtp_host="mail.example",
        smtp_from="lab@example.org",
        smtp_password="s3cret",  # type: ignore[arg-type]
        federation_retry_base_seconds=2.5,
    )
    for name, value in settings_environment(settings).items():
        monkeypatch.setenv(name, value)
    assert Settings().model_dump() == settings.model_dump()
    assert Settings().smtp_password.get_secret_value() == "s3cret"  # type: ignore[union-attr]


def test_serve_refuses_several_processes_on_sqlite(tmp_path: Path) -> None:
    env = {"CUSTOMSLAB_MODE": "test", "CUSTOMSLAB_FILE_STORE": str(tmp_path / "files")}
    url = f"sqlite:///{tmp_path / 'one.sqlite3'}"
    result = CliRunner().invoke(cli, ["serve", "--workers", "2"], env={**env, "CUSTOMSLAB_DATABASE_URL": url})
    assert result.exit_code == 2
    assert "needs PostgreSQL" in result.output


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["serve", "--workers", "0"], {}, "--workers"),
        (["serve", "--workers", "33"], {}, "--workers"),
        (["serve"], {"CUSTOMSLAB_WORKERS": "0"}, "workers"),
        (["serve"], {"CUSTOMSLAB_WORKERS": "many"}, "workers"),
    ],
)
def test_serve_refuses_an_impossible_number_of_processes(
    args: list[str], env: dict[str, str], says: str, tmp_path: Path
) -> None:
    env = {"CUSTOMSLAB_MODE": "test", "CUSTOMSLAB_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", **env}
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 2
    assert says in result.output
    assert not (tmp_path / "x.sqlite3").exists()  # refused before anything was done


def _server_socket_inode(server_port: int, client_port: int) -> int:
    """The inode of the server's end of the local TCP connection between the two ports."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(a.split(":")[1], 16) for a in fields[1:3])
        if (local, remote) == (server_port, client_port):
            return int(fields[9])
    raise AssertionError(f"no connection {server_port} -> {client_port} in /proc/net/tcp")


def _holder(inode: int, pids: set[int]) -> tuple[int, int]:
    """The process among `pids` holding the socket `inode`, and its file descriptor there."""
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid, int(fd.name)
            except OSError:
                continue
    raise AssertionError(f"no server process holds socket {inode}")


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").iterdir():
            children = (task / "children").read_text().split()
            todo.extend(int(c) for c in children)
            found.update(int(c) for c in children)
    return found


def _their_nodelay(pid: int, fd: int) -> int:
    """TCP_NODELAY of socket `fd` in process `pid`, read through a copy (pidfd_getfd, Linux 5.6)."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        copy = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
        if copy < 0:
            raise AssertionError(f"pidfd_getfd failed: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(pidfd)
    with socket.socket(fileno=copy) as sock:
        return _nodelay(sock)


@pytest.fixture
def two_workers(pg_url: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, str]]:
    """`customslab serve --workers 2` on the test PostgreSQL: the process, its port, and a user's token."""
    db = Database(pg_url)
    net = make_network(lambda: SqlAlchemyUnitOfWork(db, LocalFileStore(tmp_path / "files")))
    db.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "CUSTOMSLAB_MODE": "test",
        "CUSTOMSLAB_DATABASE_URL": pg_url,
        "CUSTOMSLAB_FILE_STORE": str(tmp_path / "files"),
    }
    log = (tmp_path / "serve.log").open("wb")
    command = "from customslab.entrypoints.cli import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", command, "serve", "--workers", "2", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        token = ""
        deadline = time.monotonic() + 60
        while not token:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                body = json.dumps({"username": net["analyst"].username, "password": PASSWORD})
                conn.request("POST", "/api/auth/token", body, {"Content-Type": "application/json"})
                answer = conn.getresponse()
                assert answer.status == 200, answer.read()
                token = json.loads(answer.read())["access_token"]
                conn.close()
            except ConnectionRefusedError:
                time.sleep(0.2)
        yield proc, port, token
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


@pytest.mark.postgres
def test_serve_with_two_workers_answers_from_both_processes_with_tcp_nodelay(
    two_workers: tuple[subprocess.Popen[bytes], int, str],
) -> None:
    proc, port, token = two_workers
    workers: dict[int, list[int]] = {}  # process → TCP_NODELAY of each connection it accepted
    connections = []
    # A new connection goes to whichever process accepts it first: open them until both have some.
    for _ in range(200):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.connect()
        connections.append(conn)
        for _ in range(3):  # keep-alive: the stall hit the requests after a connection's first
            # The token comes from one process's sign-in; the other honours it too (rule 15: sessions
            # live in the database).
            conn.request("GET", "/api/auth/me", headers={"Authorization": f"Bearer {token}"})
            answer = conn.getresponse()
            assert answer.status == 200, answer.read()
            answer.read()
        inode = _server_socket_inode(port, conn.sock.getsockname()[1])
        pid, fd = _holder(inode, _descendants(proc.pid))
        workers.setdefault(pid, []).append(_their_nodelay(pid, fd))
        if len(workers) == 2 and min(len(v) for v in workers.values()) >= 2:
            break
    for conn in connections:
        conn.close()
    assert len(workers) == 2, workers
    assert proc.pid not in workers  # the supervisor only watches its processes
    assert all(flag == 1 for flags in workers.values() for flag in flags), workers
