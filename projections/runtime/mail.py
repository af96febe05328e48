"""E-mail out: messages composed with the standard library's ``email`` package (plain text and
HTML), sent over SMTP (``smtp://``, ``smtp+starttls://``, ``smtps://``) or printed in the
server's log (``console:``)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol
from urllib.parse import unquote, urlsplit

import structlog

LOGGER = "counterpart.mail"
SMTP_TIMEOUT = 30.0
SCHEMES = ("smtp", "smtp+starttls", "smtps", "console")


class MailConfigError(ValueError):
    """``COUNTERPART_SMTP_URL`` is not one of the forms the service understands."""


@dataclass(frozen=True)
class Mail:
    """One e-mail to one person: subject, plain text and HTML."""

    to: str
    subject: str
    text: str
    html: str


def compose(mail: Mail, sender: str) -> EmailMessage:
    """The MIME message: ``multipart/alternative`` with the plain text first, then HTML."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


class Mailer(Protocol):
    """Sends composed messages."""

    def send(self, message: EmailMessage) -> None:
        """Send one message (raises on failure)."""
        ...


@dataclass(frozen=True)
class SmtpMailer:
    """An SMTP server: plain, upgraded with STARTTLS, or TLS from the first byte."""

    host: str
    port: int
    mode: str  # "smtp", "smtp+starttls" or "smtps"
    user: str | None = None
    password: str | None = None

    def send(self, message: EmailMessage) -> None:
        """Connect, say hello, authenticate if configured, send, quit."""
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if self.mode == "smtps":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=SMTP_TIMEOUT, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT)
        with client:
            client.ehlo()
            if self.mode == "smtp+starttls":
                client.starttls(context=context)
                client.ehlo()
            if self.user:
                client.login(self.user, self.password or "")
            client.send_message(message)


class ConsoleMailer:
    """Prints each message in the server's log instead of sending it (``console:``)."""

    def __init__(self, write: Callable[[str], None] | None = None) -> None:
        self._write = write

    def send(self, message: EmailMessage) -> None:
        """Log the message's headers and plain text."""
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        if self._write is not None:
            self._write(f"To: {message['To']}\nSubject: {message['Subject']}\n\n{text}")
            return
        structlog.get_logger(LOGGER).info(
            "mail_console", to=message["To"], subject=message["Subject"], text=text
        )


def mailer_from(url: str | None) -> Mailer | None:
    """The mailer of a ``COUNTERPART_SMTP_URL`` (None: no e-mail is sent)."""
    if not url:
        return None
    if url.strip() == "console:":
        return ConsoleMailer()
    parts = urlsplit(url.strip())
    if parts.scheme not in SCHEMES or parts.scheme == "console" or not parts.hostname:
        msg = (
            "COUNTERPART_SMTP_URL must be smtp://host:port, smtp+starttls://user:password@host:port,"
            f" smtps://user:password@host:port or console:, not {url!r}"
        )
        raise MailConfigError(msg)
    try:
        port = parts.port
    except ValueError:
        msg = f"COUNTERPART_SMTP_URL has an invalid port: {url!r}"
        raise MailConfigError(msg) from None
    default = 465 if parts.scheme == "smtps" else 587 if parts.scheme == "smtp+starttls" else 25
    return SmtpMailer(
        host=parts.hostname,
        port=port or default,
        mode=parts.scheme,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )
