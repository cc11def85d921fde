"""The webhook channel against a real HTTP server on 127.0.0.1 that verifies
signatures and deduplicates on the idempotency key, as a CRM should."""
from __future__ import annotations

import datetime as dt
import json
import socket
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

import plugins.webhook_channel as webhook
from core.models import Delivery, utcnow
from core.testing import run_worker_once, section_client, take_action
from core.toolkit import Delivered, DeliveryItem, Recipient, RetryLater, Undeliverable
from plugins.webhook_channel import sign, verify_signature

SECRET = "s3cret-for-fr"

CRMNOTES = textwrap.dedent(
    '''
    """A tiny action whose deliverable is routed to the webhook channel."""
    from flask_wtf import FlaskForm
    from wtforms import StringField
    from wtforms.validators import DataRequired
    from core.toolkit import ActionRecord, ActionType, DeliveryRequest, Recipient, Route, hookimpl

    class NoteForm(FlaskForm):
        note = StringField("Note", validators=[DataRequired()])

    class Note(ActionType):
        name = "crmnote"
        label = "Leave a note"
        form_class = NoteForm
        template = "crmnotes/note.html"
        once_per_supporter = False

        def record(self, form, context):
            return ActionRecord(supporter=None, payload={"note": form.note.data})

        def deliverables(self, action, context):
            return [DeliveryRequest(kind="crm_event", body={"note": action.payload["note"]})]

    @hookimpl
    def ecrire_action_types():
        return [Note()]

    @hookimpl
    def ecrire_letter_routing(section, case, action, request):
        if request.kind != "crm_event":
            return None
        return Route(recipient=Recipient(name="Section CRM"), channel="webhook")
    '''
)
NOTE_PANEL = '<form method="post" action="{{ submit_url }}">{{ form.csrf_token }}{{ form.note() }}<button>Send</button></form>'


# -- a receiving CRM -------------------------------------------------------------------


@dataclass
class Receiver:
    """What the server saw: every attempt, and the keys it accepted once."""

    secret: str
    #: Statuses to answer with (after verification), one per request, before answering 200.
    script: list[int] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def handle(self, headers: Any, raw: bytes) -> tuple[int, dict[str, Any]]:
        key = headers.get("X-Ecrire-Idempotency-Key", "")
        valid = verify_signature(self.secret, headers.get("X-Ecrire-Timestamp", ""), raw, headers.get("X-Ecrire-Signature", ""))
        with self.lock:
            self.attempts.append({"key": key, "valid": valid, "document": json.loads(raw), "headers": dict(headers)})
            if not valid:
                return 401, {"error": "bad signature"}
            if self.script:
                status = self.script.pop(0)
                return status, {"error": f"scripted {status}"}
            if key in self.accepted:  # a repeat: acknowledged, not acted on again
                return 200, {"id": self.accepted[key]["id"], "duplicate": True}
            self.accepted[key] = {"id": f"crm-{len(self.accepted) + 1}", "document": json.loads(raw)}
            return 200, {"id": self.accepted[key]["id"]}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(SECRET)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, answer = state.handle(self.headers, raw)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/w4r"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def crmnotes(outside_plugin):
    outside_plugin(
        "ecrire-crmnotes",
        {"crmnotes/__init__.py": CRMNOTES, "crmnotes/templates/crmnotes/note.html": NOTE_PANEL},
        {"crmnotes": "crmnotes"},
    )


def portal(make_app, url: str | None, secret: str = SECRET):
    hooks = {"fr": {"url": url, "secret": secret}} if url else {}
    return make_app(plugins={"fr": ["webhook_channel", "crmnotes"]}, ECRIRE_WEBHOOKS=hooks)


def leave_note(app, note: str) -> Delivery:
    response = take_action(section_client(app, "fr.localhost"), "sonia-dahmani", "crmnote", note=note)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    [row] = rows(app)
    assert (row.status, row.channel) == ("pending", "webhook")
    return row


def rows(app) -> list[Delivery]:
    with app.extensions["ecrire"].db.session() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def make_due(app) -> None:
    with app.extensions["ecrire"].db.writing() as session:
        for row in session.scalars(select(Delivery).where(Delivery.status == "pending")):
            row.next_attempt_at = utcnow()


def work(app):
    # run_worker_once calls the outbox without an app context; the CLI worker has one.
    with app.app_context():
        return run_worker_once(app)


# -- through the worker ------------------------------------------------------------------


def test_500_three_times_then_200_is_delivered_once_with_one_key(crmnotes, receiver, make_app):
    app = portal(make_app, receiver.url)
    row = leave_note(app, "Courage, Sonia!")
    receiver.script = [500, 500, 500]
    for run in range(1, 5):
        report = work(app)
        assert report.handled == 1, f"run {run}: {report}"
        make_due(app)
    assert work(app).handled == 0

    assert len(receiver.attempts) == 4
    assert {a["key"] for a in receiver.attempts} == {row.key}
    assert all(a["valid"] for a in receiver.attempts)
    assert [a["document"]["attempt"] for a in receiver.attempts] == [1, 2, 3, 4]
    assert list(receiver.accepted) == [row.key]
    [done] = rows(app)
    assert (done.status, done.attempts, done.last_error) == ("done", 4, None)

    document = receiver.accepted[row.key]["document"]
    assert document["id"] == row.key
    assert (document["section"], document["case"], document["kind"]) == ("fr", "sonia-dahmani", "crm_event")
    assert document["recipient"]["name"] == "Section CRM"
    assert document["body"] == {"note": "Courage, Sonia!"}
    sent_at = dt.datetime.fromisoformat(document["sent_at"])
    assert abs((dt.datetime.now(dt.UTC) - sent_at).total_seconds()) < 60
    headers = receiver.attempts[-1]["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Ecrire-Idempotency-Key"] == row.key
    assert headers["X-Ecrire-Signature"].startswith("sha256=")


def test_a_repeat_after_a_lost_answer_is_deduplicated_by_the_receiver(crmnotes, receiver, make_app):
    app = portal(make_app, receiver.url)
    row = leave_note(app, "Twice?")
    assert work(app).delivered == 1
    # As if the worker died before marking it done: the same item goes again.
    with app.extensions["ecrire"].db.writing() as session:
        again = session.get(Delivery, row.id)
        again.status, again.next_attempt_at = "pending", utcnow()
    assert work(app).delivered == 1
    assert [a["key"] for a in receiver.attempts] == [row.key, row.key]
    assert len(receiver.accepted) == 1


def test_400_fails_at_once_without_retry(crmnotes, receiver, make_app):
    app = portal(make_app, receiver.url)
    leave_note(app, "Refused")
    receiver.script = [400]
    report = work(app)
    assert (report.delivered, report.retrying, report.failed) == (0, 0, 1)
    make_due(app)
    assert work(app).handled == 0
    [row] = rows(app)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "HTTP 400" in row.last_error
    assert len(receiver.attempts) == 1 and not receiver.accepted


def test_wrong_secret_is_rejected_by_the_receiver_and_fails(crmnotes, receiver, make_app):
    app = portal(make_app, receiver.url, secret="not-the-shared-secret")
    leave_note(app, "Forged?")
    assert work(app).failed == 1
    [attempt] = receiver.attempts
    assert attempt["valid"] is False and not receiver.accepted
    [row] = rows(app)
    assert row.status == "failed" and "HTTP 401" in row.last_error


def test_no_webhook_configured_for_the_section_is_undeliverable(crmnotes, make_app):
    app = portal(make_app, None)
    leave_note(app, "Nowhere")
    assert work(app).failed == 1
    [row] = rows(app)
    assert (row.status, row.last_error) == ("failed", "no webhook configured for section fr")


# -- the channel on its own -----------------------------------------------------------------


def item(attempt: int = 1) -> DeliveryItem:
    return DeliveryItem(1, "fr-42-0", "fr", "sonia-dahmani", "crm_event", Recipient("Section CRM"), {"note": "hi"}, attempt)


def deliver_with(app_factory, url: str) -> Any:
    app = app_factory(load_demo=False, ECRIRE_WEBHOOKS={"fr": {"url": url, "secret": SECRET}})
    with app.app_context():
        return webhook.Webhook().deliver(item())


def test_2xx_reference_carries_status_and_receiver_id(receiver, make_app):
    result = deliver_with(make_app, receiver.url)
    assert result == Delivered(reference="HTTP 200 id=crm-1")


def test_429_is_retried(receiver, make_app):
    receiver.script = [429]
    result = deliver_with(make_app, receiver.url)
    assert isinstance(result, RetryLater) and "429" in result.reason


def test_connection_refused_is_retried(make_app):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = deliver_with(make_app, f"http://127.0.0.1:{port}/")
    assert isinstance(result, RetryLater) and "unreachable" in result.reason


def test_timeout_is_retried(make_app, monkeypatch):
    monkeypatch.setattr(webhook, "TIMEOUT", 0.3)
    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        started = time.monotonic()
        result = deliver_with(make_app, f"http://127.0.0.1:{silent.getsockname()[1]}/")
    assert isinstance(result, RetryLater), result
    assert time.monotonic() - started < 5


def test_non_http_url_is_refused(make_app):
    result = deliver_with(make_app, "file:///etc/passwd")
    assert isinstance(result, Undeliverable)


def test_without_an_app_context_the_item_waits():
    result = webhook.Webhook().deliver(item())
    assert isinstance(result, RetryLater) and "app context" in result.reason


# -- what a receiver does --------------------------------------------------------------------


def test_verify_signature_accepts_genuine_and_rejects_tampered_or_replayed():
    body = json.dumps({"id": "fr-42-0", "body": {"note": "hi"}}).encode()
    sent = 1_800_000_000
    signature = sign(SECRET, sent, body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify_signature(SECRET, str(sent), body, signature, now=sent + 10)
    assert verify_signature(SECRET, sent, body.decode(), signature, now=sent + 299)
    # Tampered body, wrong secret, another timestamp, garbage.
    assert not verify_signature(SECRET, sent, body.replace(b"hi", b"ho"), signature, now=sent)
    assert not verify_signature("other", sent, body, signature, now=sent)
    assert not verify_signature(SECRET, sent + 1, body, signature, now=sent)
    assert not verify_signature(SECRET, "yesterday", body, signature, now=sent)
    assert not verify_signature(SECRET, sent, body, "", now=sent)
    # A captured request replayed more than five minutes later (or from the future).
    assert not verify_signature(SECRET, sent, body, signature, now=sent + 301)
    assert not verify_signature(SECRET, sent, body, signature, now=sent - 301)


def test_the_cli_worker_delivers_with_its_app_context(crmnotes, receiver, make_app):
    app = portal(make_app, receiver.url)
    row = leave_note(app, "Through flask deliveries run")
    result = app.test_cli_runner().invoke(args=["deliveries", "run", "--once"])
    assert result.exit_code == 0 and "delivered 1" in result.output, result.output
    assert list(receiver.accepted) == [row.key]


# -- per-section settings ------------------------------------------------------------------------


@pytest.fixture
def section_webhook_settings(monkeypatch):
    """The French section's own webhook settings, given before the app starts."""
    import dataclasses

    import sections.fr

    def apply(settings):
        section = sections.fr.SECTION
        plugin_settings = {**section.plugin_settings, "webhook_channel": settings}
        monkeypatch.setattr(sections.fr, "SECTION", dataclasses.replace(section, plugin_settings=plugin_settings))

    return apply


def test_a_section_sets_its_own_url_and_secret(crmnotes, receiver, make_app, section_webhook_settings, caplog):
    own_secret = "the-section-own-secret"
    receiver.secret = own_secret
    section_webhook_settings({"url": receiver.url, "secret": own_secret})
    # The deployment's config points elsewhere with another secret: the section's settings win.
    app = portal(make_app, "http://127.0.0.1:9/nowhere", secret="deployment-secret")
    row = leave_note(app, "Courage!")
    with caplog.at_level("DEBUG"):
        assert work(app).delivered == 1
    [attempt] = receiver.attempts
    assert attempt["valid"] and attempt["key"] == row.key
    assert rows(app)[0].reference == "HTTP 200 id=crm-1"
    assert own_secret not in caplog.text and "deployment-secret" not in caplog.text


def test_a_section_url_alone_keeps_the_deployment_secret(crmnotes, receiver, make_app, section_webhook_settings):
    section_webhook_settings({"url": receiver.url})
    app = portal(make_app, "http://127.0.0.1:9/nowhere")
    leave_note(app, "Courage!")
    assert work(app).delivered == 1
    assert [a["valid"] for a in receiver.attempts] == [True]


def test_section_settings_need_no_app_context(receiver):
    own = DeliveryItem(1, "fr-42-0", "fr", "sonia-dahmani", "crm_event", Recipient("Section CRM"), {"note": "hi"}, 1,
                       settings={"url": receiver.url, "secret": SECRET})
    assert webhook.Webhook().deliver(own) == Delivered(reference="HTTP 200 id=crm-1")


def test_a_wrong_section_secret_fails_without_showing_it(crmnotes, receiver, make_app, section_webhook_settings):
    section_webhook_settings({"url": receiver.url, "secret": "not-the-receivers-secret"})
    app = portal(make_app, None)
    leave_note(app, "Courage!")
    work(app)
    [row] = rows(app)
    assert row.status == "failed" and "401" in row.last_error
    assert "not-the-receivers-secret" not in row.last_error
