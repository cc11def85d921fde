"""The Swiss (de, fr, it) and francophone Canadian sections: they load and
serve their languages, route letters to embassies in their capitals, and
carry their legal rules and privacy notices."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.models import Delivery
from core.testing import section_client, take_action
from sections.ca_fr import SECTION as CA_FR
from sections.ch import SECTION as CH
from tests.conftest import sign, text_of


@pytest.fixture
def app(make_app):
    return make_app()


def deliveries(app, section: str) -> list[Delivery]:
    with app.extensions["ecrire"].db.session() as session:
        return list(session.scalars(select(Delivery).where(Delivery.section_code == section).order_by(Delivery.id)))


def write_letter(client, case_id: str):
    response = take_action(
        client, case_id, "letter", letter="Sehr geehrter Herr Präsident,\n\nLassen Sie sie frei.", name="Lea Muster",
        town="Bern", email="lea@example.org", consent="y", step="send",
    )
    assert response.status_code == 303


# -- loading and languages ---------------------------------------------------


@pytest.mark.parametrize(
    "host, lang, ui_text, case_title",
    [
        ("ch.localhost", "de", "Die Fälle dieses Jahres", "Sonia Dahmani, inhaftiert, weil sie Unrecht anprangerte"),
        ("ch.localhost", "fr", "Écrire pour les droits · Suisse", "Sonia Dahmani, emprisonnée pour avoir dénoncé l’injustice"),
        ("ch.localhost", "it", "I casi di quest’anno", "Sonia Dahmani, in carcere per aver denunciato l’ingiustizia"),
        ("ca-fr.localhost", "fr", "Écrire pour les droits · Canada francophone", "Sonia Dahmani, emprisonnée pour avoir dénoncé l’injustice"),
    ],
)
def test_each_section_serves_its_home_page_in_each_language(app, host, lang, ui_text, case_title):
    page = section_client(app, host).get(f"/?lang={lang}")
    assert page.status_code == 200
    text = text_of(page)
    assert ui_text in text
    assert case_title in text
    assert f'lang="{lang}"' in page.get_data(as_text=True)


def test_the_swiss_portal_speaks_german_by_default_and_italian_on_request(app):
    assert "Die Fälle dieses Jahres" in text_of(section_client(app, "ch.localhost").get("/"))
    italian = section_client(app, "ch.localhost", accept_language="it-CH")
    page = italian.get("/cases/damisoa")
    assert page.status_code == 200
    text = text_of(page)
    assert "Damisoa, cacciato di casa dalla siccità e minacciato dalla fame" in text
    assert "Che cosa chiediamo" in text, "core UI in Italian"
    assert "Firma la petizione" in text, "petition plugin in Italian"


def test_the_swiss_success_stories_are_translated(app):
    client = section_client(app, "ch.localhost")
    assert "Bernardo Caal Xol è libero" in text_of(client.get("/stories?lang=it"))
    assert "Bernardo Caal Xol ist frei" in text_of(client.get("/stories?lang=de"))


def test_only_the_sections_languages_are_offered(app):
    assert "Die Fälle dieses Jahres" not in text_of(section_client(app, "ca-fr.localhost").get("/?lang=de"))
    assert tuple(CH.languages) == ("de", "fr", "it") and CH.default_language == "de"
    assert tuple(CA_FR.languages) == ("fr",)
    assert (CH.timezone, CH.country, tuple(CH.hosts)) == ("Europe/Zurich", "CH", ("ch.localhost",))
    assert (CA_FR.timezone, CA_FR.country, tuple(CA_FR.hosts)) == ("America/Toronto", "CA", ("ca-fr.localhost",))


@pytest.mark.parametrize("host", ["ch.localhost", "ca-fr.localhost"])
def test_each_section_has_its_logo(app, host):
    client = section_client(app, host)
    html = client.get("/").get_data(as_text=True)
    assert "logo.svg" in html
    [src] = {part.split('"')[0] for part in html.split('src="')[1:] if "logo.svg" in part.split('"')[0]}
    logo = client.get(src)
    assert logo.status_code == 200 and b"<svg" in logo.data


# -- routing -----------------------------------------------------------------


def test_swiss_letters_are_held_for_the_post_to_the_embassy_in_bern(app):
    write_letter(section_client(app, "ch.localhost"), "sai-zaw-thaike")
    [letter] = deliveries(app, "ch")
    assert (letter.kind, letter.status, letter.channel, letter.bundle) == ("letter", "held", "post", True)
    assert letter.recipient["name"] == "Botschaft der Republik der Union Myanmar"
    assert letter.recipient["address"][-1].endswith("Bern")


def test_francophone_canadian_letters_are_held_for_the_post_to_the_embassy_in_ottawa(app):
    write_letter(section_client(app, "ca-fr.localhost"), "damisoa")
    [letter] = deliveries(app, "ca_fr")
    assert (letter.kind, letter.status, letter.channel, letter.bundle) == ("letter", "held", "post", True)
    assert letter.recipient["name"] == "Ambassade de Madagascar au Canada"
    assert "Ottawa" in letter.recipient["address"][-1]


@pytest.mark.parametrize("host, section, town", [("ch.localhost", "ch", "Bern"), ("ca-fr.localhost", "ca_fr", "Ottawa")])
def test_signatures_wait_for_the_hand_over_at_the_embassy(app, host, section, town):
    assert sign(section_client(app, host), email="ana@example.org", name="Ana Rossi").status_code == 303
    [signature] = deliveries(app, section)
    assert (signature.kind, signature.status, signature.channel) == ("signature", "held", "handover")
    assert signature.next_attempt_at is None, "held until the section closes it on hand-over day"
    assert town in signature.recipient["address"][-1]
    assert "ana@example.org" not in str(signature.body)


@pytest.mark.parametrize("section", [CH, CA_FR])
def test_every_case_country_has_an_embassy_and_cards_go_to_a_relay(section):
    import importlib

    plan = importlib.import_module(f"sections.{section.code}.routing").PLAN
    assert set(plan.embassies) == {"TN", "MM", "KG", "EC", "MG"}
    assert plan.rules["letter"].to == "embassy" and plan.rules["signature"].channel == "handover"
    card = plan.rules["card"]
    assert card.channel == "post" and card.to.address, "cards go to the section's relay"


# -- legal rules and privacy ---------------------------------------------------


def test_swiss_legal_rules():
    legal = CH.legal
    assert legal.consent_age == 16, "section policy: the nFADP fixes no age"
    assert legal.double_opt_in is True and legal.newsletter, "section practice: the sign-up is confirmed by a link"
    assert legal.under_age == "parent"
    assert legal.retention_days == 2 * 365
    assert legal.controller == "Section suisse (données de démonstration)"
    assert set(legal.privacy_notice) == {"de", "fr", "it"}


def test_quebec_legal_rules():
    legal = CA_FR.legal
    assert legal.consent_age == 14, "Law 25: under 14 a parent consents"
    assert legal.double_opt_in is False
    assert legal.retention_days == 365
    assert "démonstration" in legal.controller
    assert set(legal.privacy_notice) == {"fr"}
    notice = legal.privacy_notice["fr"]
    assert "Responsable de la protection des renseignements personnels".lower() in notice.lower()
    assert "moins de 14 ans" in notice and "un an" in notice


@pytest.mark.parametrize(
    "host, lang, words",
    [
        ("ch.localhost", "de", "zwei Jahre nach dem Ende der Kampagne"),
        ("ch.localhost", "fr", "deux ans après la fin de la campagne"),
        ("ch.localhost", "it", "per due anni dopo la fine della campagna"),
        ("ca-fr.localhost", "fr", "un parent ou un tuteur doit consentir"),
    ],
)
def test_the_privacy_page_shows_the_notice_in_each_language(app, host, lang, words):
    page = section_client(app, host).get(f"/privacy?lang={lang}")
    assert page.status_code == 200
    text = text_of(page)
    assert words in text
    section = CH if host == "ch.localhost" else CA_FR
    assert section.legal.controller in text
