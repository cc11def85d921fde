"""The testing kit (``core.testing``) used as a plugin author would: fixtures
by name, helpers imported, an outside plugin found by entry point."""
from __future__ import annotations

import smtplib
import subprocess
import sys
import textwrap
from email.message import EmailMessage

import pytest

from core.testing import read_counts, run_worker_once, section_client, take_action

CASE = "sonia-dahmani"

MAILBAG = textwrap.dedent(
    '''
    """Cards to the authorities, mailed through SMTP by the delivery worker."""
    import os
    import smtplib
    from email.message import EmailMessage

    from flask_wtf import FlaskForm
    from wtforms import TextAreaField
    from wtforms.validators import DataRequired

    from core.toolkit import (ActionRecord, ActionType, Delivered, DeliveryChannel, DeliveryRequest, Recipient,
                              Route, hookimpl)

    class CardForm(FlaskForm):
        message = TextAreaField("Message", validators=[DataRequired()])

    class Card(ActionType):
        name = "card"
        label = "Send a card"
        form_class = CardForm
        template = "mailbag/card.html"
        once_per_supporter = False

        def make_form(self, context, formdata=None):
            return CardForm(formdata=formdata, prefix="card")

        def record(self, form, context):
            return ActionRecord(supporter=None, payload={"message": form.message.data})

        def deliverables(self, action, context):
            return [DeliveryRequest(kind="card", body={"message": action.payload["message"]})]

    class Mail(DeliveryChannel):
        name = "mail"

        def deliver(self, item):
            message = EmailMessage()
            message["From"] = "portal@example.org"
            message["To"] = item.recipient.email
            message["Subject"] = f"A card for {item.case_id}"
            message["X-Ecrire-Key"] = item.key
            message.set_content(item.body["message"])
            with smtplib.SMTP(os.environ["MAILBAG_HOST"], int(os.environ["MAILBAG_PORT"]), timeout=10) as smtp:
                smtp.send_message(message)
            return Delivered(reference=item.key)

    @hookimpl
    def ecrire_action_types():
        return [Card()]

    @hookimpl
    def ecrire_delivery_channels():
        return [Mail()]

    @hookimpl(tryfirst=True)  # before the demo sections' own routing of cards
    def ecrire_letter_routing(section, case, action, request):
        if request.kind == "card":
            return Route(recipient=Recipient(name="Embassy", email=f"embassy-{case.country.lower()}@example.org"), channel="mail")
    '''
)
CARD_PANEL = '<form method="post" action="{{ submit_url }}">{{ form.csrf_token }}{{ form.message() }}<button>Send</button></form>'


@pytest.fixture
def mailbag(outside_plugin, smtp_sink, monkeypatch):
    """The mailbag plugin installed, its channel pointed at the SMTP sink."""
    outside_plugin(
        "ecrire-mailbag",
        {"mailbag/__init__.py": MAILBAG, "mailbag/templates/mailbag/card.html": CARD_PANEL},
        {"mailbag": "mailbag"},
    )
    monkeypatch.setenv("MAILBAG_HOST", smtp_sink.host)
    monkeypatch.setenv("MAILBAG_PORT", str(smtp_sink.port))
    return smtp_sink


def actions_on(client, case_id: str = CASE) -> str:
    return client.get(f"/cases/{case_id}").get_data(as_text=True)


def test_plugins_enabled_in_one_section_only_besides_the_defaults(mailbag, make_app):
    app = make_app(plugins={"fr": ["mailbag"], "be": {"share": False}})
    fr, be = section_client(app, "fr.localhost"), section_client(app, "be.localhost")
    assert "/act/card" in actions_on(fr) and "/act/petition" in actions_on(fr)
    assert "/act/card" not in actions_on(be)
    assert "/act/share" in actions_on(fr) and "/act/share" not in actions_on(be)


def test_take_action_on_a_petition_then_read_the_counts(make_app):
    app = make_app()
    fr = section_client(app, "fr.localhost", accept_language="fr")
    response = take_action(fr, CASE, "petition", name="Camille Martin", email="camille@example.org", country="FR", consent="y")
    assert response.status_code == 303, response.status_code
    counts = read_counts(app)
    assert (counts.case("fr", CASE), counts.section("fr"), counts.section("be"), counts.world()) == (1, 1, 0, 1)
    assert counts.by_action_type("fr") == {"petition": 1}


def test_take_action_fills_a_prefixed_form(make_app):
    app = make_app()
    be = section_client(app, "be.localhost", accept_language="nl")
    response = take_action(
        be, CASE, "offline-tally", letters=25, group="Basisschool De Linde", kind="school", town="Gent", email="linde@example.org"
    )
    assert response.status_code == 303, response.status_code
    assert read_counts(app).by_action_type("be") == {"offline-tally": 25}
    # A field left out (None) is not sent: the form says so and nothing is counted.
    again = take_action(be, CASE, "offline-tally", letters=None, group="X", kind="school", town="Gent", email="x@example.org")
    assert again.status_code == 422 and read_counts(app).world() == 25


def test_take_action_names_the_forms_it_found_when_the_action_is_missing(app):
    with pytest.raises(AssertionError, match=r"no form for the action 'card'.*petition"):
        take_action(section_client(app, "fr.localhost"), CASE, "card", message="hello")


def test_smtp_sink_receives_a_real_email(smtp_sink):
    message = EmailMessage()
    message["From"] = "portal@example.org"
    message["To"] = "camille@example.org"
    message["Subject"] = "Merci d’avoir écrit"
    message.set_content("Votre lettre compte.")
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as smtp:
        smtp.send_message(message)
    [received] = smtp_sink.messages
    assert (received.mail_from, received.rcpt_tos) == ("portal@example.org", ("camille@example.org",))
    assert received.message["Subject"] == "Merci d’avoir écrit"
    assert received.message.get_content().strip() == "Votre lettre compte."


def test_run_worker_once_delivers_an_item_through_smtp(mailbag, make_app):
    app = make_app(plugins={"be": ["mailbag"]})
    be = section_client(app, "be.localhost")
    assert take_action(be, CASE, "card", message="Courage, Sonia !").status_code == 303
    assert mailbag.messages == []  # queued, not sent while the supporter waits
    report = run_worker_once(app)
    assert (report.delivered, report.retrying, report.failed, report.errors) == (1, 0, 0, [])
    [received] = mailbag.messages
    assert received.rcpt_tos == ("embassy-tn@example.org",)
    assert received.message["X-Ecrire-Key"].startswith("be:")
    assert received.message.get_content().strip() == "Courage, Sonia !"
    assert run_worker_once(app).delivered == 0 and len(mailbag.messages) == 1
    assert read_counts(app).by_action_type("be") == {"card": 1}


AUTHOR_TEST = textwrap.dedent(
    '''
    from core.testing import read_counts, section_client, take_action

    def test_sign(make_app):
        app = make_app(TESTING=True)
        client = section_client(app, "fr.localhost")
        response = take_action(client, "sonia-dahmani", "petition", name="A B", email="a@example.org", country="FR", consent="y")
        assert response.status_code == 303
        assert read_counts(app).world() == 1

    def test_sink(smtp_sink):
        assert smtp_sink.port and smtp_sink.messages == []
    '''
)


def test_an_author_gets_the_fixtures_from_the_installed_entry_point(tmp_path):
    """A project outside this repository, with no conftest: pytest loads the
    kit through the ``pytest11`` entry point."""
    (tmp_path / "test_author.py").write_text(AUTHOR_TEST)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
