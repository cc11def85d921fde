"""The email channel against real SMTP servers on 127.0.0.1: what arrives
(headers, UTF-8 body), an outage (items wait, then arrive exactly once),
the per-recipient rate limit, and permanent failures."""
from __future__ import annotations

import datetime as dt
import textwrap
from collections import Counter

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from core.models import Delivery, utcnow
from core.testing import SmtpSink, run_worker_once, section_client, take_action
from plugins.email_channel import RATE_LIMITER, message_id

CASE = "sonia-dahmani"
SECTION_FROM = "Amnesty France <ecrire@amnesty.example.fr>"
SUPPORTER = "camille.supporter@example.org"
AUTHORITY = "presidence@gov.example.tn"

#: An action whose letter is routed by email to the address the test gives
#: (empty: a recipient without an email address).
MAILER = textwrap.dedent(
    '''
    from flask_wtf import FlaskForm
    from wtforms import StringField, TextAreaField
    from core.toolkit import (ActionRecord, ActionType, DeliveryRequest, Recipient, Route,
                              SupporterDetails, hookimpl)

    class MailForm(FlaskForm):
        text = TextAreaField("Letter")
        signature = StringField("Signature")
        town = StringField("Town")
        language = StringField("Language")
        email = StringField("Your email")
        to = StringField("Authority email")

    class MailLetter(ActionType):
        name = "mail_letter"
        label = "Email a letter"
        form_class = MailForm
        template = "mailer/panel.html"
        once_per_supporter = False

        def record(self, form, context):
            return ActionRecord(
                supporter=SupporterDetails(email=form.email.data, name=form.signature.data),
                payload={k: form[k].data for k in ("text", "signature", "town", "language", "to")},
            )

        def deliverables(self, action, context):
            p = action.payload
            body = {k: p[k] for k in ("text", "signature", "town", "language")}
            body.update(authority_title="Monsieur le Président", person=context.case.person)
            return [DeliveryRequest(kind="letter", body=body)]

    @hookimpl
    def ecrire_action_types():
        return [MailLetter()]

    # tryfirst: the section's own routing also answers for letters.
    @hookimpl(tryfirst=True)
    def ecrire_letter_routing(section, case, action, request):
        if action.action_type != "mail_letter":
            return None
        to = action.payload.get("to") or None
        return Route(recipient=Recipient(name="Présidence de la République", email=to), channel="email")
    '''
)
PANEL = (
    '<form method="post" action="{{ submit_url }}">{{ form.csrf_token }}'
    "{{ form.text() }}{{ form.signature() }}{{ form.town() }}{{ form.language() }}{{ form.email() }}{{ form.to() }}"
    "<button>Send</button></form>"
)
LETTER = "Monsieur le Président,\n\nJe vous demande de libérer Sonia Dahmani — immédiatement.\n\nVeuillez agréer…"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    RATE_LIMITER.reset()
    yield
    RATE_LIMITER.reset()


@pytest.fixture
def mailer(outside_plugin):
    outside_plugin(
        "ecrire-mailer",
        {"mailer/__init__.py": MAILER, "mailer/templates/mailer/panel.html": PANEL},
        {"mailer": "mailer"},
    )


def mail_app(make_app, port: int, **config):
    return make_app(
        plugins={"fr": ["email_channel", "mailer"]},
        ECRIRE_SMTP_HOST="127.0.0.1",
        ECRIRE_SMTP_PORT=port,
        ECRIRE_MAIL_FROM="noreply@ecrire.example",
        ECRIRE_MAIL_FROM_BY_SECTION={"fr": SECTION_FROM},
        ECRIRE_SMTP_TIMEOUT=5,
        **config,
    )


def send_letters(app, count: int, to: str = AUTHORITY, text: str = LETTER) -> None:
    client = section_client(app, "fr.localhost")
    for n in range(count):
        response = take_action(
            client, CASE, "mail_letter",
            text=f"{text}\n(n° {n})", signature="Camille D.", town="Besançon", language="fr",
            email=SUPPORTER, to=to,
        )
        assert response.status_code == 303, response.get_data(as_text=True)[:500]


def worker(app):
    """The worker as ``flask deliveries run --once`` runs it: in an app context."""
    with app.app_context():
        return run_worker_once(app)


def rows(app) -> list[Delivery]:
    with app.extensions["ecrire"].db.session() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def make_due(app) -> None:
    with app.extensions["ecrire"].db.writing() as session:
        session.execute(
            update(Delivery).where(Delivery.status == "pending").values(next_attempt_at=utcnow() - dt.timedelta(seconds=1))
        )


def test_a_letter_arrives_with_section_headers_and_utf8_body(mailer, make_app, smtp_sink):
    app = mail_app(make_app, smtp_sink.port)
    send_letters(app, 1)
    [row] = rows(app)
    assert (row.status, row.channel) == ("pending", "email")

    report = worker(app)
    assert (report.delivered, report.retrying, report.failed) == (1, 0, 0)
    [received] = smtp_sink.messages
    msg = received.message
    assert received.rcpt_tos == (AUTHORITY,)
    assert received.mail_from == "ecrire@amnesty.example.fr"
    assert msg["Message-ID"] == message_id(row.key, SECTION_FROM)
    assert msg["Message-ID"].endswith("@amnesty.example.fr>")
    assert msg["From"] == SECTION_FROM
    assert msg["Reply-To"] == SECTION_FROM
    assert AUTHORITY in msg["To"] and "Présidence" in msg["To"]
    assert msg["Subject"] == "Appel en faveur de Sonia Dahmani"
    assert msg["Date"]
    assert msg.get_content_charset() == "utf-8"
    body = msg.get_content().replace("\r\n", "\n")  # CRLF on the wire
    assert body.startswith("Monsieur le Président,")
    assert "libérer Sonia Dahmani — immédiatement" in body
    assert body.rstrip().endswith("Camille D.\nBesançon")
    # The supporter's address is nowhere in what the authority receives.
    assert SUPPORTER not in msg.as_string()
    assert rows(app)[0].status == "done"


def test_a_resend_after_a_crash_carries_the_same_message_id(mailer, make_app, smtp_sink):
    app = mail_app(make_app, smtp_sink.port)
    send_letters(app, 1)
    worker(app)
    # A worker killed after sending, before marking done: the item is sent again.
    with app.extensions["ecrire"].db.writing() as session:
        session.execute(update(Delivery).values(status="pending", next_attempt_at=utcnow()))
    worker(app)
    first, second = smtp_sink.messages
    assert first.message["Message-ID"] == second.message["Message-ID"]  # the receiver can dedupe


def test_outage_keeps_items_then_each_arrives_exactly_once(mailer, make_app, smtp_sink):
    app = mail_app(make_app, smtp_sink.port)
    send_letters(app, 2)
    assert worker(app).delivered == 2

    smtp_sink.stop()  # the server goes away: connections are refused
    send_letters(app, 5)
    report = worker(app)
    assert (report.delivered, report.retrying, report.failed) == (0, 5, 0)
    waiting = [r for r in rows(app) if r.status == "pending"]
    assert len(waiting) == 5
    assert all(r.attempts == 1 and "SMTP unavailable" in (r.last_error or "") for r in waiting)
    assert all(r.next_attempt_at is not None for r in waiting)

    make_due(app)  # still down on the second try
    assert worker(app).retrying == 5
    assert {r.attempts for r in rows(app) if r.status == "pending"} == {2}

    with SmtpSink() as restarted:  # back up (on a new port, as after a move)
        app.config["ECRIRE_SMTP_PORT"] = restarted.port
        assert worker(app).handled == 0  # not due yet: back-off is respected
        make_due(app)
        report = worker(app)
        assert (report.delivered, report.retrying, report.failed) == (5, 0, 0)
        received = smtp_sink.messages + restarted.messages

    ids = Counter(m.message["Message-ID"] for m in received)
    expected = {message_id(r.key, SECTION_FROM) for r in rows(app)}
    assert set(ids) == expected and len(expected) == 7
    assert set(ids.values()) == {1}
    assert all(r.status == "done" and r.last_error is None for r in rows(app))


def test_rate_limit_per_recipient_defers_the_excess(mailer, make_app, smtp_sink):
    app = mail_app(make_app, smtp_sink.port, ECRIRE_MAIL_PER_RECIPIENT_PER_MINUTE=3)
    send_letters(app, 4)
    send_letters(app, 1, to="other@gov.example.tn")
    report = worker(app)
    assert (report.delivered, report.retrying) == (4, 1)
    assert Counter(m.rcpt_tos[0] for m in smtp_sink.messages) == {AUTHORITY: 3, "other@gov.example.tn": 1}
    [deferred] = [r for r in rows(app) if r.status == "pending"]
    assert deferred.last_error == f"rate limit for {AUTHORITY}"


def test_no_email_address_is_undeliverable(mailer, make_app, smtp_sink):
    app = mail_app(make_app, smtp_sink.port)
    send_letters(app, 1, to="")
    report = worker(app)
    assert (report.delivered, report.failed) == (0, 1)
    [row] = rows(app)
    assert (row.status, row.last_error) == ("failed", "no email address for this recipient")
    assert smtp_sink.messages == []


class PickyServer:
    """Refuses some recipients: 550 (no such mailbox) or 451 (try later)."""

    def __init__(self) -> None:
        self.accepted: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 no such mailbox"
        if address.startswith("busy@"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.accepted.extend(envelope.rcpt_tos)
        return "250 Message accepted"


def test_smtp_answers_5xx_fails_and_4xx_retries(mailer, make_app):
    handler = PickyServer()
    probe = SmtpSink().start()  # borrow a free port, then put the picky server on it
    port = probe.port
    probe.stop()
    controller = Controller(handler, hostname="127.0.0.1", port=port, server_hostname="picky")
    controller.start()
    try:
        app = mail_app(make_app, port)
        send_letters(app, 1, to="nobody@gov.example.tn")
        send_letters(app, 1, to="busy@gov.example.tn")
        send_letters(app, 1)
        report = worker(app)
    finally:
        controller.stop()
    assert (report.delivered, report.retrying, report.failed) == (1, 1, 1)
    by_to = {r.recipient["email"]: r for r in rows(app)}
    assert by_to["nobody@gov.example.tn"].status == "failed"
    assert "550" in by_to["nobody@gov.example.tn"].last_error
    assert by_to["busy@gov.example.tn"].status == "pending"
    assert "451" in by_to["busy@gov.example.tn"].last_error
    assert handler.accepted == [AUTHORITY]


def test_settings_come_from_the_environment_outside_an_app_context(mailer, make_app, smtp_sink, monkeypatch):
    app = make_app(plugins={"fr": ["email_channel", "mailer"]})
    monkeypatch.setenv("ECRIRE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ECRIRE_SMTP_PORT", str(smtp_sink.port))
    monkeypatch.setenv("ECRIRE_MAIL_FROM_BY_SECTION", '{"fr": "fr@amnesty.example.fr"}')
    send_letters(app, 1)
    assert run_worker_once(app).delivered == 1  # no app context pushed
    [received] = smtp_sink.messages
    assert received.message["From"] == received.message["Reply-To"] == "fr@amnesty.example.fr"


def test_a_card_reads_as_a_card_and_english_is_the_fallback():
    from core.toolkit import DeliveryItem, Recipient
    from plugins.email_channel import MailSettings, build_message

    card = DeliveryItem(
        id=1, key="card-1", section_code="be", case_id="sonia-dahmani", kind="card",
        recipient=Recipient(name="Sonia", email="wall@example.org"),
        body={"message": "Courage,\r\nSonia !", "first_name": "Zoë", "town": "Liège", "language": "xx"}, attempt=1,
    )
    msg = build_message(card, MailSettings(mail_from="be@amnesty.example.be"))
    assert msg["Subject"] == "A message of solidarity for sonia-dahmani"
    assert msg["Reply-To"] == "be@amnesty.example.be"
    assert msg.get_content() == "Courage,\nSonia !\n\nZoë\nLiège\n"


# -- digests: one email per bundle ---------------------------------------------------

DIGEST_MAILER = MAILER.replace('channel="email")', 'channel="email", bundle=True)')
assert DIGEST_MAILER != MAILER


@pytest.fixture
def digest_mailer(outside_plugin):
    """The same action, its letters routed to email in weekly bundles."""
    outside_plugin(
        "ecrire-mailer",
        {"mailer/__init__.py": DIGEST_MAILER, "mailer/templates/mailer/panel.html": PANEL},
        {"mailer": "mailer"},
    )


def close_bundles(app) -> None:
    result = app.test_cli_runner().invoke(args=["deliveries", "bundle", "--now"])
    assert result.exit_code == 0, result.output


def bundle_rows(app) -> list[Delivery]:
    return [r for r in rows(app) if r.kind == "bundle"]


def letter_rows(app) -> list[Delivery]:
    return [r for r in rows(app) if r.kind == "letter"]


def test_three_bundled_letters_arrive_as_one_digest(digest_mailer, make_app, smtp_sink):
    app = mail_app(make_app, smtp_sink.port)
    send_letters(app, 3)
    assert {r.status for r in letter_rows(app)} == {"held"}
    assert worker(app).handled == 0 and smtp_sink.messages == [], "the weekly window is still open"
    close_bundles(app)
    assert worker(app).delivered == 1

    [received] = smtp_sink.messages
    [bundle] = bundle_rows(app)
    msg = received.message
    assert received.rcpt_tos == (AUTHORITY,)
    assert msg["Message-ID"] == message_id(bundle.key, SECTION_FROM) == bundle.reference
    assert msg["From"] == msg["Reply-To"] == SECTION_FROM
    assert AUTHORITY in msg["To"]
    assert msg["Subject"] == "3 lettres de sympathisants de Écrire pour les droits · France au sujet de Sonia Dahmani"
    body = msg.get_content().replace("\r\n", "\n")
    assert body.startswith("Des sympathisants de Écrire pour les droits · France ont écrit les 3 lettres suivantes")
    for n in range(3):
        assert f"libérer Sonia Dahmani — immédiatement.\n\nVeuillez agréer…\n(n° {n})\n\nCamille D.\nBesançon" in body
    assert body.index("(n° 0)") < body.index("(n° 1)") < body.index("(n° 2)"), "in the order written"
    assert body.count("-" * 60) == 3, "a rule after the intro and between letters"
    assert SUPPORTER not in msg.as_string()
    assert {r.status for r in letter_rows(app)} == {"done"}

    # A worker killed after sending, before marking: the same Message-ID again.
    with app.extensions["ecrire"].db.writing() as session:
        session.execute(update(Delivery).where(Delivery.id == bundle.id).values(status="pending", next_attempt_at=utcnow()))
        session.execute(update(Delivery).where(Delivery.batch_id == bundle.id).values(status="bundled"))
    assert worker(app).delivered == 1
    first, second = smtp_sink.messages
    assert first.message["Message-ID"] == second.message["Message-ID"]


def test_a_digest_waits_out_an_outage_and_arrives_exactly_once(digest_mailer, make_app, smtp_sink):
    app = mail_app(make_app, smtp_sink.port)
    send_letters(app, 3)
    smtp_sink.stop()
    close_bundles(app)
    report = worker(app)
    assert (report.delivered, report.retrying) == (0, 1)
    [bundle] = bundle_rows(app)
    assert bundle.status == "pending" and "SMTP unavailable" in bundle.last_error
    assert {r.status for r in letter_rows(app)} == {"bundled"}
    with SmtpSink() as restarted:
        app.config["ECRIRE_SMTP_PORT"] = restarted.port
        make_due(app)
        assert worker(app).delivered == 1
        make_due(app)
        assert worker(app).handled == 0
        received = list(restarted.messages)
    assert len(received) == 1 and smtp_sink.messages == []
    assert received[0].message["Message-ID"] == message_id(bundle.key, SECTION_FROM)
    assert received[0].message.get_content().count("Camille D.") == 3
    assert {r.status for r in letter_rows(app)} == {"done"}


def test_a_digest_needs_an_email_address(digest_mailer, make_app, smtp_sink):
    app = mail_app(make_app, smtp_sink.port)
    send_letters(app, 2, to="")
    close_bundles(app)
    assert worker(app).failed == 1
    assert bundle_rows(app)[0].last_error == "no email address for this recipient"
    assert {r.status for r in letter_rows(app)} == {"failed"} and smtp_sink.messages == []


@pytest.fixture
def section_mail_settings(monkeypatch):
    """The French section's own email settings, given before the app starts."""
    import dataclasses

    import sections.fr

    def apply(settings):
        section = sections.fr.SECTION
        plugin_settings = {**section.plugin_settings, "email_channel": settings}
        monkeypatch.setattr(sections.fr, "SECTION", dataclasses.replace(section, plugin_settings=plugin_settings))

    return apply


def test_a_section_sets_its_own_sender_reply_to_and_smtp_server(digest_mailer, make_app, smtp_sink, section_mail_settings):
    own_from = "Écrire France <lettres@section.example.fr>"
    section_mail_settings({"from": own_from, "reply_to": "contact@section.example.fr", "smtp_host": "127.0.0.1", "smtp_port": smtp_sink.port})
    # The deployment-wide port points nowhere: only the section's setting reaches the sink.
    with SmtpSink() as elsewhere:
        port = elsewhere.port
    app = mail_app(make_app, port)
    send_letters(app, 2)
    close_bundles(app)
    assert worker(app).delivered == 1
    [received] = smtp_sink.messages
    msg = received.message
    assert msg["From"] == own_from and received.mail_from == "lettres@section.example.fr"
    assert msg["Reply-To"] == "contact@section.example.fr"
    assert msg["Message-ID"] == message_id(bundle_rows(app)[0].key, own_from)
    assert msg["Subject"].startswith("2 lettres ")


def test_single_items_read_the_section_settings_too():
    from core.toolkit import DeliveryItem, Recipient
    from plugins.email_channel import MailSettings, build_message

    letter = DeliveryItem(
        id=1, key="fr:1:0", section_code="fr", case_id="sonia-dahmani", kind="letter",
        recipient=Recipient(name="Présidence", email=AUTHORITY),
        body={"text": "Libérez-la.", "signature": "Camille", "town": "Lyon", "language": "fr"}, attempt=1,
        settings={"from": "fr@section.example.fr", "reply_to": "contact@section.example.fr", "smtp_port": "2525"},
    )
    settings = MailSettings.current(letter.settings)
    msg = build_message(letter, settings)
    assert (msg["From"], msg["Reply-To"], settings.port) == ("fr@section.example.fr", "contact@section.example.fr", 2525)
    # Without section settings, the deployment's apply, as before.
    plain = MailSettings.current({})
    assert plain.section_from is None and plain.reply_address("fr") == plain.sender("fr")
