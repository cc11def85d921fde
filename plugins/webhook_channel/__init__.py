"""Webhook delivery channel: POST each item, signed, to the section's CRM.

This is how a section feeds its CRM. The section chooses what flows there:
the document carries only what the outbox item carries (its recipient and the
body the action type put in it), nothing else about the supporter.

Settings: a section's own ``plugin_settings["webhook_channel"]`` (``"url"``
and ``"secret"``, given to the channel as ``item.settings``) win; otherwise
the app config is read when an item is delivered::

    ECRIRE_WEBHOOKS = {"fr": {"url": "https://crm.example.org/w4r", "secret": "..."}}

Reading the config needs an app context (``flask deliveries run`` has one);
a section whose own settings give both needs none. The secret is never
logged nor put in a delivery error.

The request
-----------
``POST url`` with a JSON document::

    {"id": <idempotency key>, "section": "fr", "case": "...", "kind": "letter",
     "recipient": {"name", "title", "address", "email"}, "body": {...},
     "attempt": 1, "sent_at": "2026-11-24T23:00:00+00:00"}

and the headers ``Content-Type: application/json``, ``X-Ecrire-Timestamp``
(unix seconds), ``X-Ecrire-Idempotency-Key`` (the same on every attempt) and
``X-Ecrire-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>``.

How a receiver verifies it
--------------------------
1. Take the raw request body *as received* (before any JSON parsing) and the
   two headers, and call :func:`verify_signature` (or do the same: HMAC the
   bytes ``f"{timestamp}.".encode() + body`` with the shared secret and
   compare with ``hmac.compare_digest``, never ``==``).
2. Reject a timestamp more than 5 minutes away from your clock: a captured
   request cannot be replayed later.
3. Deduplicate on ``X-Ecrire-Idempotency-Key``: an item is sent again after a
   time-out or a worker crash, so store the keys you accepted and answer a
   repeat with 2xx without acting on it again.

Answers: 2xx means accepted (optionally with a JSON ``{"id": ...}`` kept as
the delivery reference); 5xx and 429 are retried with back-off; any other
4xx (and 3xx: redirects are not followed, configure the final URL) marks
the item failed at once.
"""
from __future__ import annotations

import datetime as dt
import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_app_context
from flask_wtf import FlaskForm
from wtforms import PasswordField, URLField
from wtforms.validators import URL, Length, Optional

from core.toolkit import (  # sign/verify_signature: receivers import them from here too
    SIGNATURE_PREFIX,
    Delivered,
    PluginTranslations,
    DeliveryChannel,
    DeliveryItem,
    DeliveryResult,
    RetryLater,
    Undeliverable,
    hookimpl,
    sign,
    verify_signature,
)

i18n = PluginTranslations(__file__)

#: Seconds before a request is abandoned (and retried later).
TIMEOUT = 10.0
#: Most of a response body read to find its ``id``.
_MAX_RESPONSE = 64 * 1024


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """urllib turns a redirected POST into a GET without the body and could
    report it delivered: make a redirect an error instead."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _settings(section_code: str, own: Mapping[str, Any] | None = None) -> Mapping[str, Any] | None:
    """The section's ``url`` and ``secret``: its own settings over the
    deployment's ``ECRIRE_WEBHOOKS``; None when neither is reachable."""
    merged: dict[str, Any] = {}
    if has_app_context():
        hooks: Mapping[str, Mapping[str, Any]] = current_app.config.get("ECRIRE_WEBHOOKS") or {}
        merged.update(hooks.get(section_code) or {})
    merged.update({k: v for k, v in (own or {}).items() if k in ("url", "secret") and v not in (None, "")})
    if not merged and not has_app_context():
        return None
    return merged


def _reference(status: int, raw: bytes) -> str:
    """``HTTP 200`` plus the receiver's id for the item when it gives one."""
    try:
        answer = json.loads(raw) if raw else None
    except ValueError:
        answer = None
    if isinstance(answer, dict) and answer.get("id") not in (None, ""):
        return f"HTTP {status} id={answer['id']}"
    return f"HTTP {status}"


class Webhook(DeliveryChannel):
    """POST each item as signed JSON to the URL configured for its section."""

    name = "webhook"

    def document(self, item: DeliveryItem, sent_at: dt.datetime) -> dict[str, Any]:
        recipient = item.recipient
        return {
            "id": item.key,
            "section": item.section_code,
            "case": item.case_id,
            "kind": item.kind,
            "recipient": {
                "name": recipient.name,
                "title": recipient.title,
                "address": list(recipient.address),
                "email": recipient.email,
            },
            "body": dict(item.body),
            "attempt": item.attempt,
            "sent_at": sent_at.isoformat(timespec="seconds"),
        }

    def deliver(self, item: DeliveryItem) -> DeliveryResult:
        settings = _settings(item.section_code, item.settings)
        if settings is None:
            return RetryLater("the webhook channel reads ECRIRE_WEBHOOKS and needs an app context")
        url = (settings or {}).get("url")
        if not url:
            return Undeliverable(f"no webhook configured for section {item.section_code}")
        if urlsplit(url).scheme not in ("http", "https"):
            return Undeliverable(f"webhook URL for section {item.section_code} is not http(s)")
        secret = (settings or {}).get("secret")
        if not secret:
            return Undeliverable(f"no webhook secret configured for section {item.section_code}")

        timestamp = int(time.time())
        sent_at = dt.datetime.fromtimestamp(timestamp, dt.UTC)
        body = json.dumps(self.document(item, sent_at), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Ecrire-Timestamp": str(timestamp),
                "X-Ecrire-Idempotency-Key": item.key,
                "X-Ecrire-Signature": sign(secret, timestamp, body),
            },
        )
        try:
            with _opener.open(request, timeout=TIMEOUT) as response:
                return Delivered(reference=_reference(response.status, response.read(_MAX_RESPONSE)))
        except urllib.error.HTTPError as exc:
            if exc.code >= 500 or exc.code == 429:
                return RetryLater(f"webhook answered HTTP {exc.code}")
            return Undeliverable(f"webhook refused the item: HTTP {exc.code}")
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:  # refused, reset, time-out, garbled
            reason = getattr(exc, "reason", None) or exc
            return RetryLater(f"webhook unreachable: {reason}")


@hookimpl
def ecrire_delivery_channels() -> list[DeliveryChannel]:
    return [Webhook()]


class WebhookSettingsForm(FlaskForm):
    """Where a section's CRM receives its items; the secret signs them and
    is never shown back."""

    url = URLField(i18n.lazy_gettext("Address of the receiver (https://…)"), validators=[Optional(), URL(require_tld=False)])
    secret = PasswordField(i18n.lazy_gettext("Signing secret"), validators=[Optional(), Length(min=16, max=200)])


@hookimpl
def ecrire_settings_form():
    return WebhookSettingsForm

