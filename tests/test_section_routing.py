"""The demo sections' letter routing: who gets what, by which channel."""
from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from core.models import Delivery
from core.testing import section_client, take_action
from core.toolkit import AUTHORITY, EMBASSY, Authority, DeliveryRequest, Recipient, RoutingPlan, RoutingRule
from tests.conftest import sign


def deliveries(app, section: str) -> list[Delivery]:
    with app.extensions["ecrire"].db.session() as session:
        return list(session.scalars(select(Delivery).where(Delivery.section_code == section).order_by(Delivery.id)))


def write_letter(client, case_id: str = "sonia-dahmani"):
    response = take_action(
        client, case_id, "letter", letter="Madame, Monsieur,\n\nLibérez-la.", name="Camille Martin",
        town="Namur", email="camille@example.org", consent="y", step="send",
    )
    assert response.status_code == 303


@pytest.fixture
def app(make_app):
    return make_app()


def test_french_letters_go_to_the_authority_by_weekly_post(app):
    write_letter(section_client(app, "fr.localhost"))
    [letter] = deliveries(app, "fr")
    assert (letter.status, letter.channel, letter.bundle) == ("held", "post", True)
    assert letter.recipient["address"] == ["Présidence de la République", "Palais de Carthage", "2016 Carthage", "Tunisia"]
    assert letter.next_attempt_at is not None and letter.next_attempt_at.weekday() == 0, "closes on a Monday"


def test_belgian_letters_go_to_the_embassy_in_brussels(app):
    write_letter(section_client(app, "be.localhost"), "sai-zaw-thaike")
    [letter] = deliveries(app, "be")
    assert (letter.status, letter.channel) == ("held", "post")
    assert letter.recipient["name"] == "Ambassade du Myanmar en Belgique"
    assert letter.recipient["address"][-1] == "1030 Bruxelles"


@pytest.mark.parametrize("host, section, embassy_town", [("fr.localhost", "fr", "75007 Paris"), ("be.localhost", "be", "1150 Bruxelles")])
def test_signatures_wait_for_the_hand_over_at_the_embassy(app, host, section, embassy_town):
    assert sign(section_client(app, host), email="ana@example.org", name="Ana Łukasiewicz").status_code == 303
    [signature] = deliveries(app, section)
    assert (signature.kind, signature.status, signature.channel) == ("signature", "held", "handover")
    assert signature.next_attempt_at is None, "held until the section closes it on hand-over day"
    assert signature.body == {"name": "Ana Łukasiewicz", "country": "FR"}, "name and country only, never the email"
    assert signature.recipient["address"][-1] == embassy_town


def test_approved_cards_go_to_the_section_relay_by_weekly_post(app):
    from tests.plugins.test_solidarity_message import cli, send, waiting_ids

    assert send(section_client(app, "be.localhost", **{"Accept-Language": "nl"})).status_code == 303
    assert deliveries(app, "be") == [], "nothing leaves before a moderator approves"
    cli(app, "moderation", "approve", "be", *map(str, waiting_ids(app, "be")))
    [card] = deliveries(app, "be")
    assert (card.kind, card.status, card.channel) == ("card", "held", "post")
    assert card.recipient["address"][-1] == "1000 Bruxelles"


CASE = dataclasses.make_dataclass("Case", ["id", "country", "language", "authority"])


def test_a_plan_falls_back_between_authority_and_embassy_and_leaves_the_rest_unrouted():
    section = dataclasses.make_dataclass("Section", ["default_language"])("fr")
    embassy = Recipient("Ambassade", address=("1 rue X", "Paris"))
    plan = RoutingPlan(
        rules={
            "letter": RoutingRule(to=AUTHORITY, channel="post", email_channel="email"),
            "signature": RoutingRule(to=EMBASSY, channel="handover", bundle=True, bundle_every=None),
        },
        embassies={"TN": embassy},
    )
    with_email = Authority(title={"fr": "Président", "en": "President"}, address=("Carthage",), email="p@example.tn")
    tunisia = CASE("c1", "TN", "fr", with_email)
    route = plan.route(section, tunisia, DeliveryRequest("letter", {}))
    assert (route.channel, route.recipient.name, route.recipient.email) == ("email", "Président", "p@example.tn")
    assert plan.route(section, CASE("c2", "TN", "fr", None), DeliveryRequest("letter", {})).recipient == embassy
    assert plan.route(section, tunisia, DeliveryRequest("signature", {})).recipient == embassy
    assert plan.route(section, CASE("c3", "XX", "fr", None), DeliveryRequest("letter", {})) is None, "no one known"
    assert plan.route(section, tunisia, DeliveryRequest("card", {})) is None, "no rule for this kind"
