"""Solidarity messages: a card-sized message to the person at risk, read by
volunteers before it is counted and sent, and (where a section chooses it)
shown on a public wall. What the supporter and the moderator see."""
from __future__ import annotations

import dataclasses
import json
import re

import pytest

from core.models import Action, Delivery, Supporter
from core.testing import read_counts
from tests.conftest import csrf_token, rows, section_client, text_of

CASE = "damisoa"
WALL = f"/x/solidarity_message/{CASE}"
XSS = "<script>alert(1)</script>"
ESCAPED_XSS = "&lt;script&gt;alert(1)&lt;/script&gt;"


def send(client, case_id: str = CASE, **fields: str | None):
    """Write a message as a supporter would. Fields given replace the valid
    defaults (None leaves the field out)."""
    data: dict[str, str | None] = {"message": "Courage, nous pensons à vous.", "first_name": "Camille", "town": "Lyon"}
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    data["csrf_token"] = csrf_token(client, f"/cases/{case_id}")
    return client.post(f"/cases/{case_id}/act/solidarity", data=data)


counts = read_counts  # a fresh snapshot, not the pages' cache




def cli(app, *args: str):
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def waiting_ids(app, section: str = "fr") -> list[int]:
    return [int(line.split()[0][1:]) for line in cli(app, "moderation", "list", section).splitlines() if line.startswith("#")]


def panel(response) -> str:
    """The solidarity panel's HTML on a case page."""
    html = response.get_data(as_text=True)
    match = re.search(r'<details class="panel" id="act-solidarity".*?</details>', html, re.S)
    assert match, "no solidarity panel on the page"
    return match.group(0)


@pytest.fixture
def wall_app(make_app, monkeypatch):
    """The French section with the public wall switched on (the Belgian one
    keeps the default: off). The case-page excerpt is not cached."""
    import sections.fr

    section = dataclasses.replace(sections.fr.SECTION, plugin_settings={"solidarity_message": {"wall": True}})
    monkeypatch.setattr(sections.fr, "SECTION", section)
    return make_app(SOLIDARITY_WALL_CACHE_SECONDS=0)


@pytest.fixture
def no_wall_app(make_app, monkeypatch):
    """The French section with the wall switched off (the demo switches it on)."""
    import sections.fr

    monkeypatch.setattr(sections.fr, "SECTION", dataclasses.replace(sections.fr.SECTION, plugin_settings={}))
    return make_app(SOLIDARITY_WALL_CACHE_SECONDS=0)


# -- the panel -------------------------------------------------------------------


def test_panel_says_it_is_a_card_without_contact_details_read_by_volunteers(no_wall_app):
    fr = section_client(no_wall_app, "fr.localhost")
    page = fr.get(f"/cases/{CASE}")
    html = panel(page)
    text = re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))  # keeps no-break spaces
    assert "Envoyer un message de solidarité" in text
    assert "Votre message sera remis à Damisoa sous forme de carte." in text
    assert "N’écrivez ni votre adresse e-mail ni votre adresse postale\u00a0: elles ne seront pas transmises." in text
    assert "Chaque message est lu par un ou une bénévole avant d’être envoyé." in text
    assert "Au plus 500 caractères\u00a0: à peu près la taille d’une carte." in text
    # Without a wall, the first name is only said to go on the card.
    assert "Il est montré à la personne avec votre message." in text and "mur" not in text
    for field in ("message", "first_name", "town", "csrf_token"):
        assert f'name="{field}"' in html
    assert 'name="email"' not in html
    assert 'maxlength="500"' in html and 'aria-describedby="solidarity-message-hint"' in html
    assert '<label for="solidarity-town">Votre ville (facultatif)</label>' in html
    # Other panels have fields of their own (a town, a CSRF token): no id is repeated.
    page_html = page.get_data(as_text=True)
    for element_id in ("solidarity-message", "solidarity-first-name", "solidarity-town", "solidarity-message-hint"):
        assert page_html.count(f'id="{element_id}"') == 1
    assert 'id="csrf_token"' not in html


def test_panel_in_dutch_on_the_belgian_portal(app):
    be = section_client(app, "be.localhost", accept_language="nl")
    text = text_of(be.get(f"/cases/{CASE}"))
    assert "Stuur een solidariteitsboodschap" in text
    assert "Je boodschap gaat als kaart naar Damisoa." in text
    assert "Elke boodschap wordt door een vrijwilliger gelezen voordat ze wordt verstuurd." in text


# -- validation errors -------------------------------------------------------------

ERRORS = [
    ({"message": ""}, "message", "Veuillez écrire votre message.", "Schrijf je boodschap."),
    ({"message": "  "}, "message", "Veuillez écrire votre message.", "Schrijf je boodschap."),
    ({"message": "ok"}, "message", "Votre message est trop court\u00a0: écrivez au moins 3 caractères.",
     "Je boodschap is te kort: schrijf minstens 3 tekens."),
    ({"message": "x" * 501}, "message", "raccourcissez-le à 500 caractères (il en compte 501)", "kort ze in tot 500 tekens (nu 501)"),
    ({"message": "Courage ! Écrivez-moi : camille.martin@example.org"}, "message",
     "Veuillez retirer l’adresse e-mail de votre message\u00a0: elle ne serait pas envoyée.",
     "Haal het e-mailadres uit je boodschap: het zou niet worden verstuurd."),
    ({"message": "Courage ! camille (at) example (dot) org"}, "message", "retirer l’adresse e-mail", "Haal het e-mailadres"),
    ({"message": "Courage ! Appelez-moi au 06 12 34 56 78"}, "message",
     "Veuillez retirer le numéro de téléphone de votre message\u00a0: il ne serait pas envoyé.",
     "Haal het telefoonnummer uit je boodschap: het zou niet worden verstuurd."),
    ({"first_name": ""}, "first_name", "Veuillez indiquer votre prénom.", "Vul je voornaam in."),
    ({"first_name": None}, "first_name", "Veuillez indiquer votre prénom.", "Vul je voornaam in."),
    ({"first_name": "C" * 41}, "first_name", "Veuillez utiliser au plus 40 caractères.", "Gebruik maximaal 40 tekens."),
    ({"first_name": "camille@example.org"}, "first_name", "Veuillez indiquer seulement votre prénom, sans adresse e-mail.",
     "Vul alleen je voornaam in, zonder e-mailadres."),
    ({"town": "L" * 61}, "town", "Veuillez utiliser au plus 60 caractères.", "Gebruik maximaal 60 tekens."),
    ({"town": "Lyon, camille@example.org"}, "town", "Veuillez indiquer seulement votre ville, sans adresse e-mail.",
     "Vul alleen je woonplaats in, zonder e-mailadres."),
]
ERROR_IDS = [
    "message-missing", "message-blank", "message-too-short", "message-too-long", "message-email", "message-email-disguised",
    "message-phone", "first-name-empty", "first-name-missing", "first-name-too-long", "first-name-email", "town-too-long",
    "town-email",
]


#: Field name -> element id (prefixed: other panels on the page have fields too).
FIELD_IDS = {"message": "solidarity-message", "first_name": "solidarity-first-name", "town": "solidarity-town"}


def assert_error_beside(response, field: str, message: str) -> None:
    """The error sits inside the field's own block, tied to it for screen
    readers, and the field takes the focus (it is the only invalid one)."""
    assert response.status_code == 422
    html = panel(response)
    block = re.search(rf'<div class="field has-error">(?:(?!</div>).)*name="{field}"(?:(?!</div>).)*</div>', html, re.S)
    assert block, f"no error beside {field}"
    field_id = FIELD_IDS[field]
    error = re.search(rf'<p class="field-error" id="{field_id}-error">([^<]+)</p>', block.group(0))
    assert error, f"no error message for {field}"
    assert message in error.group(1).replace("&#39;", "'")
    describedby = re.search(r'aria-describedby="([^"]+)"', block.group(0))
    assert describedby and f"{field_id}-error" in describedby.group(1).split()
    assert 'aria-invalid="true"' in block.group(0) and " autofocus " in block.group(0)
    assert html.count("autofocus") == 1


@pytest.mark.parametrize("fields, field, french, dutch", ERRORS, ids=ERROR_IDS)
def test_each_error_is_shown_next_to_its_field_in_french(app, fr, fields, field, french, dutch):
    response = send(fr, **fields)
    assert_error_beside(response, field, french)
    assert "Veuillez corriger les champs signalés ci-dessous." in text_of(response)
    # What the supporter wrote is kept, so nothing has to be typed again.
    if field != "message":
        assert "Courage, nous pensons à vous.</textarea>" in panel(response)
    assert rows(app, Action) == []


@pytest.mark.parametrize("fields, field, french, dutch", ERRORS, ids=ERROR_IDS)
def test_each_error_is_shown_next_to_its_field_in_dutch(app, fields, field, french, dutch):
    be = section_client(app, "be.localhost", accept_language="nl")
    response = send(be, **fields)
    assert_error_beside(response, field, dutch)
    assert "Verbeter de velden die hieronder zijn aangeduid." in text_of(response)
    assert rows(app, Action) == []


def test_too_long_message_says_how_much_is_written_and_nothing_is_cut(app, fr):
    response = send(fr, message="x" * 520)
    html = panel(response)
    assert "x" * 520 + "</textarea>" in html  # kept whole, for the writer to shorten
    assert "il en compte 520" in html


def test_characters_left_are_shown_after_an_error(fr):
    html = panel(send(fr, message="Courage !", first_name=""))
    assert "Il reste 491 caractères." in html


def test_a_line_break_counts_as_one_character(app, fr):
    # Browsers send CRLF: 500 characters on screen must not be refused as 501.
    message = "a" * 250 + "\r\n" + "b" * 249
    assert send(fr, message=message).status_code == 303
    [action] = rows(app, Action)
    assert action.payload["message"] == "a" * 250 + "\n" + "b" * 249


def test_ordinary_messages_with_at_signs_and_years_are_accepted(app, fr):
    assert send(fr, message="Courage @Damisoa ! Depuis 2018 2019 2020, 10 000 000 personnes pensent à vous.").status_code == 303
    assert len(rows(app, Action)) == 1


# -- sending and moderating ---------------------------------------------------------


def test_a_sent_message_waits_for_a_moderator_and_is_not_counted(app, fr):
    response = send(fr, message="  Tenez bon, Damisoa.  ", first_name=" Camille ", town="")
    assert response.status_code == 303
    thanks = text_of(fr.get(response.headers["Location"]))
    assert "Votre message à Damisoa sera lu par un ou une bénévole avant d’être envoyé. Il sera compté une fois approuvé." in thanks
    assert "France : 0 action" in thanks
    assert counts(app).case("fr", CASE) == 0
    [action] = rows(app, Action)
    assert action.status == "pending" and action.supporter_id is None
    assert action.payload == {"message": "Tenez bon, Damisoa.", "first_name": "Camille", "town": "", "language": "fr"}
    assert rows(app, Supporter) == [] and rows(app, Delivery) == []
    listing = cli(app, "moderation", "list", "fr")
    assert "1 waiting" in listing
    assert "solidarity: first_name: Camille | message: Tenez bon, Damisoa. | town: " in listing


def test_the_same_person_may_send_several_messages(app, fr):
    send(fr)
    send(fr, message="Encore un mot de soutien.")
    assert len(waiting_ids(app)) == 2


def test_approval_counts_the_message_and_queues_one_card_without_email(app, fr):
    send(fr, message="Nous sommes avec vous.\nCourage !", first_name="Camille", town="Lyon")
    [action_id] = waiting_ids(app)
    assert cli(app, "moderation", "approve", "fr", str(action_id)).strip() == f"#{action_id} approved"
    assert counts(app).case("fr", CASE) == 1
    assert "France : 1 action" in text_of(fr.get(f"/cases/{CASE}"))
    card = {"message": "Nous sommes avec vous.\nCourage !", "first_name": "Camille", "town": "Lyon", "language": "fr"}
    [action] = rows(app, Action)
    [delivery] = rows(app, Delivery)
    assert action.status == "approved" and action.payload == card
    assert (delivery.kind, delivery.case_id, delivery.body) == ("card", CASE, card)
    assert "@" not in json.dumps(action.payload) + json.dumps(delivery.body)
    assert rows(app, Supporter) == []
    assert "0 waiting" in cli(app, "moderation", "list", "fr")


def test_a_dutch_message_is_sent_in_dutch(app):
    be = section_client(app, "be.localhost", accept_language="nl")
    response = send(be, message="Hou vol, we denken aan je.", first_name="Lotte", town="Gent")
    thanks = text_of(be.get(response.headers["Location"]))
    assert "Je boodschap aan Damisoa wordt door een vrijwilliger gelezen voordat ze wordt verstuurd." in thanks
    [action_id] = waiting_ids(app, "be")
    cli(app, "moderation", "approve", "be", str(action_id))
    [delivery] = rows(app, Delivery)
    assert delivery.body == {"message": "Hou vol, we denken aan je.", "first_name": "Lotte", "town": "Gent", "language": "nl"}
    assert counts(app).case("be", CASE) == 1 and counts(app).case("fr", CASE) == 0


def test_rejection_with_a_reason_counts_and_sends_nothing(app, fr):
    send(fr, message="Un message hors sujet.")
    [action_id] = waiting_ids(app)
    without_reason = app.test_cli_runner().invoke(args=["moderation", "reject", "fr", str(action_id)])
    assert without_reason.exit_code != 0  # a reason is required
    cli(app, "moderation", "reject", "fr", str(action_id), "--reason", "hors sujet")
    [action] = rows(app, Action)
    assert (action.status, action.note) == ("rejected", "hors sujet")
    assert counts(app).case("fr", CASE) == 0 and rows(app, Delivery) == []
    assert "0 waiting" in cli(app, "moderation", "list", "fr")


# -- the public wall ----------------------------------------------------------------


def test_without_the_wall_setting_there_is_no_wall_and_no_excerpt(no_wall_app):
    app, fr = no_wall_app, section_client(no_wall_app, "fr.localhost")
    send(fr, message="Message approuvé sans mur.")
    cli(app, "moderation", "approve", "fr", *map(str, waiting_ids(app)))
    assert fr.get(WALL).status_code == 404
    page = fr.get(f"/cases/{CASE}").get_data(as_text=True)
    assert "Message approuvé sans mur." not in page and "/x/solidarity_message/" not in page


def test_wall_is_off_in_a_section_that_did_not_switch_it_on(wall_app):
    assert section_client(wall_app, "fr.localhost").get(WALL).status_code == 200
    assert section_client(wall_app, "be.localhost").get(WALL).status_code == 404


def test_wall_of_a_case_that_is_not_open_is_not_found(wall_app):
    fr = section_client(wall_app, "fr.localhost")
    assert fr.get("/x/solidarity_message/no-such-case").status_code == 404


def test_wall_answers_only_where_the_plugin_is_on(wall_app):
    cli(wall_app, "plugins", "disable", "fr", "solidarity_message")
    fr = section_client(wall_app, "fr.localhost")
    assert fr.get(WALL).status_code == 404
    assert 'id="act-solidarity"' not in fr.get(f"/cases/{CASE}").get_data(as_text=True)


def test_with_the_wall_the_first_name_hint_says_it_is_public(wall_app):
    text = text_of(section_client(wall_app, "fr.localhost").get(f"/cases/{CASE}"))
    assert "Il est montré à la personne avec votre message, ainsi que sur le mur public des messages de ce cas." in text


def test_empty_wall_says_so_in_the_page_language(wall_app):
    page = section_client(wall_app, "fr.localhost").get(WALL)
    text = text_of(page)
    assert page.status_code == 200
    assert "Messages à Damisoa" in text and "Aucun message n’a encore été publié." in text
    # A full portal page whose core strings stay in French.
    assert "Écrire pour les droits · France" in text and "Aller au contenu" in text and "Confidentialité" in text
    # Nothing approved yet: no excerpt on the case page.
    assert "solidarity-latest" not in section_client(wall_app, "fr.localhost").get(f"/cases/{CASE}").get_data(as_text=True)


def test_wall_shows_approved_messages_escaped_newest_first_and_never_rejected_ones(wall_app):
    fr = section_client(wall_app, "fr.localhost")
    send(fr, message=f"{XSS} Courage", first_name=XSS, town="Lyon")
    send(fr, message="Un message refusé.", first_name="Refus")
    send(fr, message="Deuxième message\nsur deux lignes.", first_name="Noé", town="")
    send(fr, message="En attente.", first_name="Attente")
    xss_id, rejected_id, second_id, _pending = waiting_ids(wall_app)

    # The moderator reads exactly what was written, as plain text.
    listing = cli(wall_app, "moderation", "list", "fr")
    assert f"first_name: {XSS} | message: {XSS} Courage | town: Lyon" in listing

    cli(wall_app, "moderation", "approve", "fr", str(xss_id), str(second_id))
    cli(wall_app, "moderation", "reject", "fr", str(rejected_id), "--reason", "test")

    html = fr.get(WALL).get_data(as_text=True)
    assert XSS not in html and "<script>alert" not in html
    assert f"<p>{ESCAPED_XSS} Courage</p>" in html and f"— {ESCAPED_XSS}, Lyon" in html
    assert "<p>Deuxième message<br>sur deux lignes.</p>" in html and "— Noé</footer>" in html
    assert html.index("Deuxième message") < html.index("Courage</p>")  # newest first
    assert "Un message refusé." not in html and "En attente." not in html
    assert 'lang="fr"' in html

    case_page = fr.get(f"/cases/{CASE}").get_data(as_text=True)
    excerpt = re.search(r'<section class="solidarity-latest".*?</section>', case_page, re.S).group(0)
    assert XSS not in case_page and "<script>alert" not in case_page
    assert f"{ESCAPED_XSS} Courage" in excerpt and "Deuxième message" in excerpt
    assert "Un message refusé." not in excerpt and "En attente." not in excerpt
    assert f'href="{WALL}"' in excerpt and "Voir tous les messages à Damisoa" in excerpt
    assert counts(wall_app).case("fr", CASE) == 2


def test_case_page_excerpt_shows_the_three_newest(wall_app):
    fr = section_client(wall_app, "fr.localhost")
    for n in range(1, 6):
        send(fr, message=f"Message numéro {n}.", first_name=f"Auteur{n}")
    cli(wall_app, "moderation", "approve", "fr", *map(str, waiting_ids(wall_app)))
    page = fr.get(f"/cases/{CASE}").get_data(as_text=True)
    excerpt = re.search(r'<section class="solidarity-latest".*?</section>', page, re.S).group(0)
    assert re.findall(r"Message numéro (\d)\.", excerpt) == ["5", "4", "3"]
    assert re.findall(r"Message numéro (\d)\.", fr.get(WALL).get_data(as_text=True)) == ["5", "4", "3", "2", "1"]


def test_case_page_excerpt_is_cached_briefly_but_the_wall_is_live(make_app, monkeypatch):
    import sections.fr

    section = dataclasses.replace(sections.fr.SECTION, plugin_settings={"solidarity_message": {"wall": True}})
    monkeypatch.setattr(sections.fr, "SECTION", section)
    app = make_app(SOLIDARITY_WALL_CACHE_SECONDS=300)
    fr = section_client(app, "fr.localhost")
    send(fr, message="Arrivé après la mise en cache.")
    cli(app, "moderation", "approve", "fr", *map(str, waiting_ids(app)))
    # The case page was read (and the excerpt cached, empty) while sending.
    assert "Arrivé après la mise en cache." not in fr.get(f"/cases/{CASE}").get_data(as_text=True)
    assert "Arrivé après la mise en cache." in fr.get(WALL).get_data(as_text=True)
