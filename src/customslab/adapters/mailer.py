"""Sending e-mail through an SMTP server, with the standard library's smtplib and email.message."""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Sequence
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from customslab.services.notification_ports import OutgoingMail

#: Headers up to RFC 5322's hard limit on one line: folded at 78 characters, a subject a little longer
#: than that is folded right after "Subject:", which some readers show with a leading space.
HEADERS_UNFOLDED = policy.SMTP.clone(max_line_length=998)
#: Failures of one message that leave the connection usable for the next: the server refused it, it
#: needs SMTPUTF8 the server lacks, or the email library could not build it (ValueError, UnicodeError).
ONE_MESSAGE_FAILED = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPDataError,
    smtplib.SMTPNotSupportedError,
    ValueError,
    UnicodeError,
)
#: Control characters, CR and LF among them: in a subject they would end the header or be refused.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(text: str) -> str:
    """The text on one line: each control character becomes a space."""
    return CONTROL.sub(" ", text)


class SmtpMailer:
    """One connection per batch: STARTTLS when asked (certificate checked), then login when a user is set."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        user: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout: float = 15.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password = user, password
        self.starttls, self.timeout = starttls, timeout

    def message(self, mail: OutgoingMail) -> EmailMessage:
        msg = EmailMessage(policy=HEADERS_UNFOLDED)
        msg["From"] = self.sender
        msg["To"] = mail.to
        msg["Subject"] = one_line(mail.subject)
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        # RFC 3834: an automatic message, so that out-of-office replies are not sent back.
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(mail.body)
        return msg

    def send(self, mails: Sequence[OutgoingMail]) -> list[str | None]:
        """Per mail: None once the server took it, or why not (every remaining one, when the connection
        fails)."""
        outcomes: list[str | None] = []
        if not mails:
            return outcomes
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                for mail in mails:
                    # Built and sent on its own: a bad one costs only itself, and those already sent
                    # keep their outcome, so the caller stamps them and never sends them twice.
                    try:
                        smtp.send_message(self.message(mail))
                        outcomes.append(None)
                    except ONE_MESSAGE_FAILED as exc:
                        outcomes.append(f"not sent: {type(exc).__name__}: {exc}")
        except (OSError, smtplib.SMTPException) as exc:
            outcomes += [f"{type(exc).__name__}: {exc}"] * (len(mails) - len(outcomes))
        return outcomes
