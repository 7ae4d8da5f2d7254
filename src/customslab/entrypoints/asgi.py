"""Application factories for `uvicorn --factory`, configured from CUSTOMSLAB_* variables, and the
several-process server of `customslab serve --workers N`, whose processes start from them."""

from __future__ import annotations

import contextlib
import os
import socket

import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr
from uvicorn.supervisors import Multiprocess

from customslab.config import Settings

#: What each server process of `serve --workers N` imports and calls (it reads the environment).
APP_FACTORY = "customslab.entrypoints.asgi:app"


def app() -> FastAPI:
    """The whole application: `uvicorn --factory customslab.entrypoints.asgi:app`."""
    from customslab.entrypoints.web.app import create_web_app

    return create_web_app(Settings())


def api_app() -> FastAPI:
    """The JSON API alone (used by the API benchmark)."""
    from customslab.entrypoints.api.app import create_app

    return create_app(Settings())


def settings_environment(settings: Settings) -> dict[str, str]:
    """The CUSTOMSLAB_* variables from which `Settings()` reads `settings` back in another process: the
    fields set from the environment or by command-line options (the others keep their defaults)."""
    env: dict[str, str] = {}
    for name in sorted(settings.model_fields_set):
        value = getattr(settings, name)
        if value is None:
            continue  # every optional setting defaults to None
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, bool):
            value = "true" if value else "false"
        env[f"CUSTOMSLAB_{name.upper()}"] = str(value)
    return env


class TcpConfig(uvicorn.Config):
    """uvicorn's configuration, binding the shared listening socket as a TCP socket proper."""

    def bind_socket(self) -> socket.socket:
        # uvicorn binds the socket that its worker processes share with `socket.socket(family)`, so its
        # `proto` is 0 rather than IPPROTO_TCP. The sockets accepted from it inherit that, and asyncio sets
        # TCP_NODELAY only on sockets that say IPPROTO_TCP: Nagle's algorithm then holds each response's
        # body (written after its headers) until the client ACKs the headers, which a Linux client delays
        # by 40 ms. Every keep-alive request took ~44 ms with `--workers 2` against ~1.3 ms with one
        # process, whose socket asyncio binds itself (uvicorn issue Kludex/uvicorn#3149). Re-wrap it as TCP.
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto != socket.IPPROTO_TCP:
            return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        return sock


def serve_processes(settings: Settings) -> None:
    """Serve with `settings.workers` processes on one socket; each builds the application from the
    environment, to which `settings` is written first (the processes are spawned, not forked)."""
    os.environ.update(settings_environment(settings))
    config = TcpConfig(
        APP_FACTORY,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="info",
    )
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C: the supervisor has stopped its processes
        Multiprocess(config, sockets=[config.bind_socket()]).run()
