"""E-mail out: SMTP in production, the log in development (``notify.email_backend``).

The console backend logs that a message would leave, its kind, its length and the recipient's
masked address, never its text: a subject already names a report.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

from settings import NotifySettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    kind: str  # new_report | forwarded | digest: for the log


class Mailer(Protocol):
    def send(self, mail: Mail) -> None: ...


def masked(address: str) -> str:
    name, _, domain = address.partition("@")
    return f"{name[:1]}***@{domain}"


class ConsoleMailer:
    def send(self, mail: Mail) -> None:
        log.info(
            "e-mail (%s) to %s: %d characters (console backend: not sent)",
            mail.kind,
            masked(mail.to),
            len(mail.body),
        )


@dataclass(frozen=True)
class SmtpMailer:
    settings: NotifySettings

    def message(self, mail: Mail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        domain = self.settings.sender.rpartition("@")[2].rstrip(">") or None
        message["Message-ID"] = make_msgid(domain=domain)
        message.set_content(mail.body)
        return message

    def send(self, mail: Mail) -> None:
        """Raises ``smtplib.SMTPException`` or ``OSError`` when the server refuses or is away
        (the job then fails, and says so in the worker's log)."""
        s = self.settings
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if s.smtp_security == "tls":
            client = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout, context=context
            )
        else:
            client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
        with client:
            if s.smtp_security == "starttls":
                client.starttls(context=context)
            if s.smtp_username:
                client.login(s.smtp_username, s.smtp_password)
            client.send_message(self.message(mail))
        log.info("e-mail (%s) to %s sent", mail.kind, masked(mail.to))


def mailer_for(settings: NotifySettings) -> Mailer:
    if settings.email_backend == "smtp":
        return SmtpMailer(settings)
    return ConsoleMailer()
