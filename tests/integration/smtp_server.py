"""A small SMTP server for the tests, on a free local port: a real SMTP conversation over a socket.

aiosmtpd is not installed here, so this speaks the subset of RFC 5321 that smtplib uses to send (EHLO or
HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT), and keeps each message it accepts. With
`refuse_recipients`, it answers every RCPT with 550, as a server that does not know the address would.
"""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import TracebackType


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class SmtpRecorder:
    refuse_recipients: bool = False
    received: list[Received] = field(default_factory=list)
    conversations: int = 0
    arrived: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> SmtpRecorder:
        recorder = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                recorder.conversations += 1
                _converse(recorder, self.rfile, self.wfile)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def _converse(recorder: SmtpRecorder, rfile: object, wfile: object) -> None:
    read = rfile.readline  # type: ignore[attr-defined]
    write = wfile.write  # type: ignore[attr-defined]
    write(b"220 test.local ESMTP ready\r\n")
    sender, recipients = "", list[str]()
    while line := read():
        command = line.decode("ascii", "replace").rstrip("\r\n")
        verb = command[:4].upper()
        if verb == "EHLO":
            write(b"250-test.local\r\n250 8BITMIME\r\n")
        elif verb == "HELO":
            write(b"250 test.local\r\n")
        elif verb == "MAIL":
            sender, recipients = command.partition(":")[2].strip(), []
            write(b"250 OK\r\n")
        elif verb == "RCPT":
            if recorder.refuse_recipients:
                write(b"550 5.1.1 No such user here\r\n")
            else:
                recipients.append(command.partition(":")[2].strip().strip("<>"))
                write(b"250 OK\r\n")
        elif verb == "DATA":
            if not recipients:
                write(b"503 5.5.1 No valid recipients\r\n")
                continue
            write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
            lines = []
            while (chunk := read()) not in (b".\r\n", b""):
                lines.append(chunk[1:] if chunk.startswith(b"..") else chunk)
            recorder.received.append(Received(sender, recipients, b"".join(lines)))
            recorder.arrived.set()
            write(b"250 OK queued\r\n")
        elif verb in ("RSET", "NOOP"):
            if verb == "RSET":
                sender, recipients = "", []
            write(b"250 OK\r\n")
        elif verb == "QUIT":
            write(b"221 Bye\r\n")
            return
        else:
            write(b"502 5.5.2 Command not implemented\r\n")
