"""Moderated actions and plugin pages, through a tiny outside plugin."""
from __future__ import annotations

import textwrap

import pytest

from core.testing import read_counts
from tests.conftest import csrf_token, section_client, text_of

CARDS = textwrap.dedent(
    '''
    from flask import Blueprint, abort
    from flask_wtf import FlaskForm
    from wtforms import StringField
    from wtforms.validators import DataRequired
    from core.toolkit import (ActionRecord, ActionType, DeliveryRequest, Recipient, Route, approved_actions,
                              find_case, hookimpl, render_page)

    class CardForm(FlaskForm):
        message = StringField("Message", validators=[DataRequired()])

    class Card(ActionType):
        name = "card"
        label = "Send a card"
        form_class = CardForm
        template = "cards/panel.html"
        once_per_supporter = False
        moderated = True

        def record(self, form, context):
            return ActionRecord(supporter=None, payload={"message": form.message.data, "language": context.language})

        def deliverables(self, action, context):
            return [DeliveryRequest(kind="card", body={"message": action.payload["message"]})]

    wall = Blueprint("cards_wall", __name__)

    @wall.get("/<case_id>")
    def show(case_id):
        case = find_case(case_id)
        if case is None:
            abort(404)
        return render_page("cards/wall.html", case=case, messages=approved_actions(case_id, "card"))

    @hookimpl
    def ecrire_action_types():
        return [Card()]

    @hookimpl
    def ecrire_blueprints():
        return [wall]

    @hookimpl
    def ecrire_letter_routing(case):
        return Route(recipient=Recipient(name=case.person), channel="post")
    '''
)
PANEL = '<form method="post" action="{{ submit_url }}">{{ form.csrf_token }}{{ form.message() }}<button>Send</button></form>'
WALL = '{% extends "base.html" %}{% block main %}<ul>{% for m in messages %}<li>{{ m.message }}</li>{% endfor %}</ul>{% endblock %}'


@pytest.fixture
def cards_app(outside_plugin, make_app):
    outside_plugin(
        "ecrire-cards",
        {"cards/__init__.py": CARDS, "cards/templates/cards/panel.html": PANEL, "cards/templates/cards/wall.html": WALL},
        {"cards": "cards"},
    )
    app = make_app()
    assert app.test_cli_runner().invoke(args=["plugins", "enable", "fr", "cards"]).exit_code == 0
    return app


def send(client, message, case_id="damisoa"):
    token = csrf_token(client, f"/cases/{case_id}")
    assert client.post(f"/cases/{case_id}/act/card", data={"csrf_token": token, "message": message}).status_code == 303


counts = read_counts  # a fresh snapshot, not the pages' cache


def test_moderated_action_counts_only_once_approved(cards_app):
    fr = section_client(cards_app, "fr.localhost")
    send(fr, "<b>Courage</b>")
    send(fr, "spam spam")
    runner = cards_app.test_cli_runner()
    listing = runner.invoke(args=["moderation", "list", "fr"]).output
    assert "2 waiting" in listing and "<b>Courage</b>" in listing
    assert counts(cards_app).section("fr") == 0
    assert "<b>Courage</b>" not in fr.get("/x/cards/damisoa").get_data(as_text=True)

    first, second = [int(line.split()[0][1:]) for line in listing.splitlines() if line.startswith("#")]
    assert runner.invoke(args=["moderation", "approve", "fr", str(first)]).exit_code == 0
    result = runner.invoke(args=["moderation", "reject", "fr", str(second), "--reason", "spam"])
    assert result.exit_code == 0, result.output
    assert counts(cards_app).case("fr", "damisoa") == 1
    wall = fr.get("/x/cards/damisoa").get_data(as_text=True)
    assert "&lt;b&gt;Courage&lt;/b&gt;" in wall and "spam" not in wall
    # Decided once: a second decision is refused.
    again = runner.invoke(args=["moderation", "approve", "fr", str(first)])
    assert again.exit_code != 0 and "already approved" in again.output
    # Approval queued its delivery.
    from sqlalchemy import select

    from core.models import Delivery

    with cards_app.extensions["ecrire"].db.session() as session:
        [delivery] = session.scalars(select(Delivery)).all()
    assert (delivery.channel, delivery.body) == ("post", {"message": "<b>Courage</b>"})


def test_moderation_is_scoped_to_its_section(cards_app):
    send(section_client(cards_app, "fr.localhost"), "hello")
    runner = cards_app.test_cli_runner()
    assert "0 waiting" in runner.invoke(args=["moderation", "list", "be"]).output
    result = runner.invoke(args=["moderation", "approve", "be", "1"])
    assert result.exit_code != 0 and "no action #1 in section 'be'" in result.output


def test_plugin_pages_answer_only_where_the_plugin_is_enabled(cards_app):
    assert section_client(cards_app, "fr.localhost").get("/x/cards/damisoa").status_code == 200
    assert section_client(cards_app, "be.localhost").get("/x/cards/damisoa").status_code == 404
    assert section_client(cards_app, "fr.localhost").get("/x/cards/no-such-case").status_code == 404
    page = section_client(cards_app, "fr.localhost").get("/x/cards/damisoa")
    assert "Écrire pour les droits · France" in text_of(page)  # a full portal page


def test_counts_json_for_live_counters(app):
    from tests.conftest import sign

    fr = section_client(app, "fr.localhost")
    sign(fr)
    response = fr.get("/counts.json")
    assert response.status_code == 200
    assert response.cache_control.max_age == 15 and response.cache_control.public
    data = response.get_json()
    assert data["section"] == 1 and data["world"] == 1
    assert data["cases"]["sonia-dahmani"] == {"section": 1, "world": 1, "goal": 50000}
    assert section_client(app, "be.localhost").get("/counts.json").get_json()["section"] == 0
