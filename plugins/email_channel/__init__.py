"""Email delivery channel: one plain-text email per outbox item, over SMTP.

Routing names the channel ``"email"`` and gives a recipient with an email
address. Each item becomes one UTF-8 email from the section's address, with
the section as Reply-To (never the supporter: their address stays with the
section) and a Message-ID derived from the item's stable key, so a resend
after a worker crash carries the same Message-ID and the receiving side can
deduplicate it.

Settings are read at delivery time, from the Flask config when the worker
runs in an app context (``flask deliveries run`` does), else from
environment variables of the same name:

``ECRIRE_SMTP_HOST`` (localhost), ``ECRIRE_SMTP_PORT`` (25),
``ECRIRE_SMTP_USER``/``ECRIRE_SMTP_PASSWORD`` (no login when unset),
``ECRIRE_SMTP_STARTTLS`` (off), ``ECRIRE_SMTP_TIMEOUT`` (20 s),
``ECRIRE_MAIL_FROM`` (``ecrire@localhost``),
``ECRIRE_MAIL_FROM_BY_SECTION`` (``{code: address}``, a dict in the config
or JSON in the environment), ``ECRIRE_MAIL_PER_RECIPIENT_PER_MINUTE`` (30).

A section overrides these in its ``plugin_settings["email_channel"]``
(``item.settings`` / ``batch.settings``): ``"from"``, ``"reply_to"``,
``"smtp_host"`` and ``"smtp_port"``; without them the settings above apply.

Digests: a route with ``bundle=True`` to this channel sends ONE email per
closed bundle of letters (or cards) to the recipient, instead of flooding
an authority's inbox: a short intro, then each letter with its signature and
town, separated by a rule. Its Message-ID derives from the bundle's key, so
a retry after a crash carries the same one; it counts as one send for the
per-recipient rate limit.
"""
from __future__ import annotations

import dataclasses
import hashlib
import smtplib
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

from flask_babel import force_locale
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, PasswordField, StringField
from wtforms.validators import Email, Length, NumberRange, Optional

from core.toolkit import (
    Delivered,
    SmtpSettings,
    config_setting,
    send_mail,
    DeliveryBatch,
    DeliveryChannel,
    DeliveryItem,
    DeliveryResult,
    PluginTranslations,
    Recipient,
    RetryLater,
    Undeliverable,
    hookimpl,
)

i18n = PluginTranslations(__file__)

DEFAULT_FROM = "ecrire@localhost"
#: Kinds a digest can carry.
DIGEST_KINDS = ("letter", "card")
#: Between two letters of a digest.
RULE = "\n" + "-" * 60 + "\n"

#: Subject lines per language; "{who}" is the case's person (or its id).
LETTER_SUBJECTS: Mapping[str, str] = {
    "en": "Appeal for {who}",
    "fr": "Appel en faveur de {who}",
    "nl": "Oproep voor {who}",
    "de": "Appell für {who}",
    "es": "Llamamiento en favor de {who}",
    "pt": "Apelo em favor de {who}",
    "it": "Appello per {who}",
}
CARD_SUBJECTS: Mapping[str, str] = {
    "en": "A message of solidarity for {who}",
    "fr": "Un message de solidarité pour {who}",
    "nl": "Een solidariteitsboodschap voor {who}",
    "de": "Eine Solidaritätsbotschaft für {who}",
    "es": "Un mensaje de solidaridad para {who}",
    "pt": "Uma mensagem de solidariedade para {who}",
    "it": "Un messaggio di solidarietà per {who}",
}


# -- settings -------------------------------------------------------------------


@dataclass(frozen=True)
class MailSettings(SmtpSettings):
    """The deployment's SMTP settings (shared with the portal's own mail),
    plus what only letters need."""

    per_recipient_per_minute: int = 30
    #: The section's own sender and reply address (its plugin settings):
    #: they win over the deployment-wide ones.
    section_from: str | None = None
    reply_to: str | None = None

    @classmethod
    def current(cls, section: Mapping[str, Any] | None = None) -> MailSettings:
        """The deployment's settings, with the section's ``from``,
        ``reply_to``, ``smtp_host`` and ``smtp_port`` over them."""
        own = {k: v for k, v in (section or {}).items() if v not in (None, "")}
        return cls(
            **dataclasses.asdict(SmtpSettings.current(own)),
            per_recipient_per_minute=int(config_setting("ECRIRE_MAIL_PER_RECIPIENT_PER_MINUTE", 30)),
            section_from=own.get("sender") or own.get("from"),
            reply_to=own.get("reply_to"),
        )

    def sender(self, section_code: str) -> str:
        return self.section_from or self.from_by_section.get(section_code) or self.mail_from

    def reply_address(self, section_code: str) -> str:
        """The section's address: replies never go to a supporter."""
        return self.reply_to or self.sender(section_code)


# -- rate limit -------------------------------------------------------------------


class RecipientRateLimiter:
    """At most N sends per recipient in any 60-second window, in process
    memory: an authority's inbox is not flooded by one worker. (Several
    worker processes each have their own window.)"""

    WINDOW = 60.0

    def __init__(self) -> None:
        self._sent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def acquire(self, recipient: str, limit: int) -> float | None:
        """Reserve a slot; returns its stamp (to release on failure) or None."""
        now = time.monotonic()
        key = recipient.lower()
        with self._lock:
            stamps = self._sent.setdefault(key, deque())
            while stamps and stamps[0] <= now - self.WINDOW:
                stamps.popleft()
            if len(stamps) >= limit:
                return None
            stamps.append(now)
            return now

    def release(self, recipient: str, stamp: float) -> None:
        """Give a slot back: the email was not sent."""
        with self._lock:
            stamps = self._sent.get(recipient.lower())
            if stamps and stamp in stamps:
                stamps.remove(stamp)

    def reset(self) -> None:
        with self._lock:
            self._sent.clear()


#: Shared by every channel instance of the process (one per section).
RATE_LIMITER = RecipientRateLimiter()


# -- the message --------------------------------------------------------------------


def message_id(key: str, sender: str) -> str:
    """The same for every attempt at one item: receivers dedupe on it."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@{domain}>"


def _language(item: DeliveryItem) -> str:
    return str(item.body.get("language") or "en").split("-")[0].lower()


def subject(item: DeliveryItem) -> str:
    who = str(item.body.get("person") or item.case_id or "")
    table = CARD_SUBJECTS if item.kind == "card" else LETTER_SUBJECTS
    template = table.get(_language(item)) or table["en"]
    return template.format(who=who).strip()


def _clean(value: Any) -> str:
    """A textarea submits CRLF; the email policy adds its own line ends."""
    return str(value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _lines(*parts: Any) -> str:
    return "\n".join(_clean(p) for p in parts if _clean(p))


def text_body(item: DeliveryItem) -> str:
    body = item.body
    if item.kind == "card":
        return f"{_clean(body.get('message'))}\n\n{_lines(body.get('first_name'), body.get('town'))}\n"
    text = _clean(body.get("text"))
    return f"{text}\n\n{_lines(body.get('signature'), body.get('town'))}\n"


def build_message(item: DeliveryItem, settings: MailSettings) -> EmailMessage:
    sender = settings.sender(item.section_code)
    recipient = item.recipient
    message = EmailMessage()
    message["Message-ID"] = message_id(item.key, sender)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["From"] = sender
    message["Reply-To"] = settings.reply_address(item.section_code)
    message["To"] = _to(recipient)
    message["Subject"] = subject(item)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text_body(item), charset="utf-8")
    return message


def _to(recipient: Recipient) -> Address | str:
    name, address = recipient.name, recipient.email or ""
    return Address(display_name=name, addr_spec=address) if name else address


# -- digests -------------------------------------------------------------------------


def _person(batch: DeliveryBatch) -> str:
    if batch.case is not None:
        return batch.case.person
    first = batch.items[0].body.get("person") if batch.items else None
    return str(first or batch.case_id or "")


def digest_subject(batch: DeliveryBatch, language: str) -> str:
    count, person = len(batch.items), _person(batch)
    section = batch.section.display_name(language)
    with force_locale(language):
        if batch.kind == "card":
            return i18n.ngettext(
                "%(num)d message of solidarity from supporters in %(section)s for %(person)s",
                "%(num)d messages of solidarity from supporters in %(section)s for %(person)s",
                count, section=section, person=person,
            )
        return i18n.ngettext(
            "%(num)d letter from supporters in %(section)s about %(person)s",
            "%(num)d letters from supporters in %(section)s about %(person)s",
            count, section=section, person=person,
        )


def digest_body(batch: DeliveryBatch, language: str) -> str:
    """A short intro, then each letter as written, signed, between rules."""
    count, person = len(batch.items), _person(batch)
    section = batch.section.display_name(language)
    with force_locale(language):
        if batch.kind == "card":
            intro = i18n.ngettext(
                "Supporters of %(section)s wrote the following message of solidarity for %(person)s.",
                "Supporters of %(section)s wrote the following %(num)d messages of solidarity for %(person)s.",
                count, section=section, person=person,
            )
        else:
            intro = i18n.ngettext(
                "Supporters of %(section)s wrote the following letter about %(person)s.",
                "Supporters of %(section)s wrote the following %(num)d letters about %(person)s.",
                count, section=section, person=person,
            )
        reply = i18n.gettext("Replies to this email reach %(section)s.", section=section)
    letters = RULE.join(text_body(item).strip("\n") + "\n" for item in batch.items)
    return f"{intro}\n{reply}\n{RULE}{letters}"


def build_digest(batch: DeliveryBatch, settings: MailSettings) -> EmailMessage:
    code = batch.section.code
    language = batch.section.default_language
    sender = settings.sender(code)
    message = EmailMessage()
    message["Message-ID"] = message_id(batch.key, sender)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["From"] = sender
    message["Reply-To"] = settings.reply_address(code)
    message["To"] = _to(batch.recipient)
    message["Subject"] = digest_subject(batch, language)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(digest_body(batch, language), charset="utf-8")
    return message


# -- sending -------------------------------------------------------------------------


def _send(message: EmailMessage, recipient: str, settings: MailSettings) -> None:
    send_mail(message, recipient, settings)


def _classify(exc: Exception) -> DeliveryResult:
    """SMTP's answer as a delivery result: 5xx about the recipient or the
    content is permanent; everything else (down, time-out, 4xx, a sender or
    login problem an operator can fix) is retried."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = list(exc.recipients.values())
        reason = "; ".join(f"{code} {msg.decode('utf-8', 'replace') if isinstance(msg, bytes) else msg}" for code, msg in answers)
        if answers and all(code >= 500 for code, _ in answers):
            return Undeliverable(f"recipient refused: {reason}")
        return RetryLater(f"recipient refused for now: {reason}")
    if isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500:
        return Undeliverable(f"message refused: {exc.smtp_code} {exc.smtp_error!r}")
    if isinstance(exc, smtplib.SMTPResponseException):
        return RetryLater(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}")
    return RetryLater(f"SMTP unavailable: {type(exc).__name__}: {exc}")


class EmailChannel(DeliveryChannel):
    """One email per item to ``item.recipient.email``. Keeps no per-item state."""

    name = "email"

    def __init__(self, limiter: RecipientRateLimiter = RATE_LIMITER) -> None:
        self.limiter = limiter

    def deliver(self, item: DeliveryItem) -> DeliveryResult:
        recipient = (item.recipient.email or "").strip()
        if not recipient:
            return Undeliverable("no email address for this recipient")
        settings = MailSettings.current(item.settings)
        return self._submit(build_message(item, settings), recipient, settings)

    def deliver_batch(self, batch: DeliveryBatch) -> DeliveryResult:
        """One digest email for the whole bundle."""
        if batch.kind not in DIGEST_KINDS:
            return Undeliverable(f"the email channel sends digests of letters and cards, not {batch.kind!r}")
        recipient = (batch.recipient.email or "").strip()
        if not recipient:
            return Undeliverable("no email address for this recipient")
        if not batch.items:
            return Delivered(reference="empty bundle")
        settings = MailSettings.current(batch.settings)
        return self._submit(build_digest(batch, settings), recipient, settings)

    def _submit(self, message: EmailMessage, recipient: str, settings: MailSettings) -> DeliveryResult:
        stamp = self.limiter.acquire(recipient, settings.per_recipient_per_minute)
        if stamp is None:
            return RetryLater(f"rate limit for {recipient}")
        try:
            _send(message, recipient, settings)
        except (smtplib.SMTPException, OSError) as exc:
            self.limiter.release(recipient, stamp)
            return _classify(exc)
        return Delivered(reference=str(message["Message-ID"]))


@hookimpl
def ecrire_delivery_channels() -> list[DeliveryChannel]:
    return [EmailChannel()]


class EmailSettingsForm(FlaskForm):
    """A section's own sender and SMTP server; empty fields keep the
    deployment's. The password is a secret: never shown back."""

    sender = EmailField(i18n.lazy_gettext("Sender address"), validators=[Optional(), Email()])
    reply_to = EmailField(i18n.lazy_gettext("Reply-to address (the section's, never a supporter's)"), validators=[Optional(), Email()])
    smtp_host = StringField(i18n.lazy_gettext("SMTP server"), validators=[Optional(), Length(max=253)])
    smtp_port = IntegerField(i18n.lazy_gettext("SMTP port"), validators=[Optional(), NumberRange(min=1, max=65535)])
    smtp_user = StringField(i18n.lazy_gettext("SMTP user name"), validators=[Optional(), Length(max=200)])
    smtp_password = PasswordField(i18n.lazy_gettext("SMTP password"), validators=[Optional()])


@hookimpl
def ecrire_settings_form():
    return EmailSettingsForm

