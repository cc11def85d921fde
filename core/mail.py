"""Sending the portal's own emails (privacy links and exports, address
checks) over the deployment's SMTP server.

The settings are the ones the email delivery channel uses: ``ECRIRE_SMTP_HOST``
(localhost), ``ECRIRE_SMTP_PORT`` (25), ``ECRIRE_SMTP_USER`` and
``ECRIRE_SMTP_PASSWORD`` (no login when unset), ``ECRIRE_SMTP_STARTTLS``,
``ECRIRE_SMTP_TIMEOUT`` (20 s), ``ECRIRE_MAIL_FROM`` and
``ECRIRE_MAIL_FROM_BY_SECTION`` (``{code: address}``).
"""
from __future__ import annotations

import json
import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from flask import current_app, has_app_context

DEFAULT_FROM = "ecrire@localhost"


def setting(name: str, default: Any = None) -> Any:
    """The Flask config first (when there is an app context), then the
    environment: the delivery worker may read settings outside a request."""
    if has_app_context():
        value = current_app.config.get(name)
        if value is not None:
            return value
    value = os.environ.get(name)
    return default if value in (None, "") else value


def flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 25
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 20.0
    mail_from: str = DEFAULT_FROM
    from_by_section: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def current(cls, overrides: Mapping[str, Any] | None = None) -> SmtpSettings:
        """The deployment's settings, with a section's ``smtp_host``,
        ``smtp_port``, ``smtp_user`` and ``smtp_password`` over them."""
        own = {k: v for k, v in (overrides or {}).items() if v not in (None, "")}
        by_section = setting("ECRIRE_MAIL_FROM_BY_SECTION", {})
        if isinstance(by_section, str):
            by_section = json.loads(by_section)
        return cls(
            host=str(own.get("smtp_host") or setting("ECRIRE_SMTP_HOST", "localhost")),
            port=int(own.get("smtp_port") or setting("ECRIRE_SMTP_PORT", 25)),
            user=own.get("smtp_user") or setting("ECRIRE_SMTP_USER"),
            password=own.get("smtp_password") or setting("ECRIRE_SMTP_PASSWORD"),
            starttls=flag(setting("ECRIRE_SMTP_STARTTLS", False)),
            timeout=float(setting("ECRIRE_SMTP_TIMEOUT", 20.0)),
            mail_from=str(setting("ECRIRE_MAIL_FROM", DEFAULT_FROM)),
            from_by_section=dict(by_section),
        )

    def sender(self, section_code: str) -> str:
        return self.from_by_section.get(section_code) or self.mail_from


def send(message: EmailMessage, recipient: str, settings: SmtpSettings) -> None:
    """Hand one message to the SMTP server (raises ``smtplib.SMTPException``
    or ``OSError`` when it cannot)."""
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        smtp.send_message(message, to_addrs=[recipient])


def send_to_supporter(section_code: str, to: str, subject: str, body: str, attachment: tuple[str, bytes, str] | None = None) -> None:
    """A plain-text email from the section to a supporter (who asked for it)."""
    settings = SmtpSettings.current()
    sender = settings.sender(section_code)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    if attachment is not None:
        filename, data, mimetype = attachment
        maintype, _, subtype = mimetype.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    send(message, to, settings)
