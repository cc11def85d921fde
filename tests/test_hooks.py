"""Template fragments, letter routing and delivery channels, through tiny
outside plugins installed by entry point."""
from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select

from core.models import Delivery
from core.web import template_hooks
from tests.conftest import csrf_token, section_client

FRAGMENTS = textwrap.dedent(
    '''
    from core.toolkit import Fragment, Markup, hookimpl

    @hookimpl
    def ecrire_template_fragment(place, context):
        if place == "case_after_story" and context.case is not None:
            return Fragment(Markup('<p class="late">second for %s</p>') % context.case.person, priority=20)
        if place == "footer":
            return "<b>plain text, escaped</b>"
    '''
)
EARLY = textwrap.dedent(
    '''
    from core.toolkit import Fragment, Markup, hookimpl

    @hookimpl
    def ecrire_template_fragment(place):
        if place == "case_after_story":
            return Fragment(Markup('<p class="early">first</p>'), priority=10)
    '''
)
BROKEN = textwrap.dedent(
    '''
    def ecrire_template_fragment(place, context):
        raise ValueError("this plugin is broken")
    '''
)


@pytest.fixture
def fragment_plugins(outside_plugin):
    # Install order is the reverse of the wanted order: priority must win.
    outside_plugin("aaa-late", {"late_fragments/__init__.py": FRAGMENTS}, {"late_fragments": "late_fragments"})
    outside_plugin("zzz-early", {"early_fragments/__init__.py": EARLY}, {"early_fragments": "early_fragments"})
    outside_plugin("broken-fragments", {"broken_fragments/__init__.py": BROKEN}, {"broken_fragments": "broken_fragments"})


def enable(app, section, *plugins):
    for plugin in plugins:
        result = app.test_cli_runner().invoke(args=["plugins", "enable", section, plugin])
        assert result.exit_code == 0, result.output


def test_template_fragments_ordered_by_priority_escaped_unless_markup(fragment_plugins, make_app, caplog):
    app = make_app()
    enable(app, "fr", "late_fragments", "early_fragments", "broken_fragments")
    page = section_client(app, "fr.localhost").get("/cases/damisoa")
    assert page.status_code == 200  # the broken plugin does not take the page down
    html = page.get_data(as_text=True)
    assert html.index('<p class="early">first</p>') < html.index('<p class="late">second for Damisoa</p>')
    assert "&lt;b&gt;plain text, escaped&lt;/b&gt;" in html
    assert "'broken_fragments' failed in ecrire_template_fragment" in caplog.text
    # Only where enabled.
    other = section_client(app, "be.localhost").get("/cases/damisoa").get_data(as_text=True)
    assert "early" not in other and "plain text" not in other


def test_unknown_template_place_is_an_error(app):
    portal = app.extensions["ecrire"]
    with pytest.raises(template_hooks.UnknownPlace):
        template_hooks.render(portal, portal.hooks("fr"), "sidebar", None)


def test_every_place_used_in_templates_is_declared():
    root = Path(__file__).resolve().parent.parent
    used = set()
    for template in root.glob("**/templates/**/*.html"):
        if ".venv" not in template.parts:
            used |= set(re.findall(r'hook\("([^"]+)"\)', template.read_text()))
    assert used, "no template hook found"
    assert used <= set(template_hooks.PLACES), used - set(template_hooks.PLACES)
    assert set(template_hooks.PLACES) <= used, "declared places no template offers"


POSTCARDS = textwrap.dedent(
    '''
    """A solidarity card action, a channel that files cards in a folder, and routing."""
    import json, os
    from pathlib import Path
    from flask_wtf import FlaskForm
    from wtforms import TextAreaField
    from wtforms.validators import DataRequired
    from core.toolkit import (ActionRecord, ActionType, Delivered, DeliveryChannel, DeliveryRequest, Recipient,
                              RetryLater, Route, Undeliverable, hookimpl)

    class CardForm(FlaskForm):
        message = TextAreaField("Message", validators=[DataRequired()])

    class Card(ActionType):
        name = "card"
        label = "Send a card"
        form_class = CardForm
        template = "postcards/card.html"
        once_per_supporter = False

        def record(self, form, context):
            return ActionRecord(supporter=None, payload={"message": form.message.data})

        def deliverables(self, action, context):
            return [DeliveryRequest(kind="postcard", body={"message": action.payload["message"]})]

    class Folder(DeliveryChannel):
        name = "folder"

        def deliver(self, item):
            mode = os.environ.get("POSTCARD_MODE", "ok")
            if mode == "down":
                return RetryLater("printer offline")
            if mode == "bad":
                return Undeliverable("no such address")
            path = Path(os.environ["POSTCARD_DIR"]) / f"{item.key}.json"
            path.write_text(json.dumps({"to": item.recipient.name, "body": item.body, "attempt": item.attempt}))
            return Delivered(reference=str(path))

    @hookimpl
    def ecrire_action_types():
        return [Card()]

    @hookimpl
    def ecrire_delivery_channels():
        return [Folder()]

    @hookimpl
    def ecrire_letter_routing(section, case, action, request):
        if case.id == "damisoa":
            return None  # nobody routes these: they must show up as unrouted
        return Route(recipient=Recipient(name=f"Embassy for {case.country} in {section.country}"), channel="folder")
    '''
)
CARD_PANEL = '<form method="post" action="{{ submit_url }}">{{ form.csrf_token }}{{ form.message() }}<button>Send</button></form>'


@pytest.fixture
def postcards(outside_plugin, tmp_path, monkeypatch):
    outside_plugin(
        "ecrire-postcards",
        {"postcards/__init__.py": POSTCARDS, "postcards/templates/postcards/card.html": CARD_PANEL},
        {"postcards": "postcards"},
    )
    folder = tmp_path / "cards"
    folder.mkdir()
    monkeypatch.setenv("POSTCARD_DIR", str(folder))
    return folder


def send_card(client, case_id, message):
    token = csrf_token(client, f"/cases/{case_id}")
    response = client.post(f"/cases/{case_id}/act/card", data={"csrf_token": token, "message": message})
    assert response.status_code == 303
    return response


def deliveries(app):
    with app.extensions["ecrire"].db.session() as session:
        return {d.id: d for d in session.scalars(select(Delivery).order_by(Delivery.id))}


def run_worker(app):
    result = app.test_cli_runner().invoke(args=["deliveries", "run", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def test_routed_item_is_delivered_once_by_the_worker(postcards, make_app):
    app = make_app()
    enable(app, "be", "postcards")
    send_card(section_client(app, "be.localhost"), "sonia-dahmani", "Courage, Sonia!")
    [row] = deliveries(app).values()
    assert (row.status, row.channel, row.recipient["name"]) == ("pending", "folder", "Embassy for TN in BE")
    assert "delivered 1" in run_worker(app)
    [card] = postcards.iterdir()
    assert json.loads(card.read_text())["body"] == {"message": "Courage, Sonia!"}
    assert deliveries(app)[row.id].status == "done"
    assert "delivered 0" in run_worker(app)
    assert len(list(postcards.iterdir())) == 1


def test_unrouted_item_is_kept_not_dropped(postcards, make_app):
    app = make_app()
    enable(app, "be", "postcards")
    send_card(section_client(app, "be.localhost"), "damisoa", "Thinking of you")
    [row] = deliveries(app).values()
    assert (row.status, row.channel) == ("unrouted", None)
    assert row.body == {"message": "Thinking of you"}


def test_temporary_failure_is_retried_later_and_permanent_one_is_not(postcards, make_app, monkeypatch):
    app = make_app()
    enable(app, "be", "postcards")
    client = section_client(app, "be.localhost")
    send_card(client, "sonia-dahmani", "one")
    monkeypatch.setenv("POSTCARD_MODE", "down")
    output = run_worker(app)
    assert "retrying 1" in output
    [row] = deliveries(app).values()
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "printer offline")
    assert row.next_attempt_at is not None
    # Not due yet: a second run leaves it alone.
    assert "retrying 0" in run_worker(app)

    send_card(client, "sai-zaw-thaike", "two")
    monkeypatch.setenv("POSTCARD_MODE", "bad")
    assert "failed 1" in run_worker(app)
    rows = deliveries(app)
    failed = [r for r in rows.values() if r.status == "failed"]
    assert [r.last_error for r in failed] == ["no such address"]
