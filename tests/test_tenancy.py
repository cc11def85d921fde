"""Host name -> section -> language, and branding from the section plugin."""
from __future__ import annotations

import re

from tests.conftest import section_client, text_of


def lang_of(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


def test_french_section_serves_french_pages(fr):
    page = fr.get("/")
    assert page.status_code == 200
    assert lang_of(page) == "fr"
    assert "Écrire pour les droits · France" in text_of(page)
    assert "Sonia Dahmani" in text_of(page)
    # A one-language section shows no language switch.
    assert 'class="language-switch"' not in page.get_data(as_text=True)


def test_french_section_stays_french_whatever_the_browser_prefers(app):
    page = section_client(app, "fr.localhost", accept_language="nl-BE,nl;q=0.9,en;q=0.5").get("/")
    assert lang_of(page) == "fr"


def test_belgian_section_in_dutch_for_a_dutch_browser(app):
    page = section_client(app, "be.localhost:5000", accept_language="nl-BE,nl;q=0.9,fr;q=0.5").get("/cases/damisoa")
    assert page.status_code == 200
    assert lang_of(page) == "nl"
    assert "Write for Rights · België" in text_of(page)
    assert "Teken de petitie" in text_of(page)  # the petition plugin's own catalog
    assert "Wat we vragen" in text_of(page)  # the core's catalog


def test_belgian_section_defaults_to_french(app):
    page = section_client(app, "be.localhost").get("/")
    assert lang_of(page) == "fr"
    assert "Écrire pour les droits · Belgique" in text_of(page)


def test_language_switch_is_visible_and_remembered(app):
    be = section_client(app, "be.localhost", accept_language="fr")
    home = be.get("/")
    switch = re.search(r'<nav class="language-switch".*?</nav>', home.get_data(as_text=True), re.S).group(0)
    assert 'hreflang="nl"' in switch and "Nederlands" in switch
    assert 'aria-current="true">Français' in switch
    assert lang_of(be.get("/cases/damisoa?lang=nl")) == "nl"
    # Remembered for the next pages, whatever the browser says.
    assert lang_of(be.get("/")) == "nl"
    # A language the section does not have is ignored.
    assert lang_of(be.get("/?lang=de")) == "nl"


def test_unknown_host_gets_a_clear_404_not_another_portal(app):
    page = section_client(app, "elsewhere.example:5000").get("/")
    assert page.status_code == 404
    text = text_of(page)
    assert "No portal here" in text
    assert "Sonia Dahmani" not in text
    # It points to the portals that are served here.
    assert 'href="http://fr.localhost:5000/"' in page.get_data(as_text=True)
    assert section_client(app, "elsewhere.example").get("/cases/damisoa").status_code == 404


def test_host_names_can_be_configured_per_deployment(make_app):
    app = make_app(SECTION_HOSTS={"fr": ["petitions.example.fr"]})
    assert section_client(app, "petitions.example.fr").get("/").status_code == 200
    assert section_client(app, "fr.localhost").get("/").status_code == 404
    assert section_client(app, "be.localhost").get("/").status_code == 200


def test_branding_comes_from_the_section_plugin(fr, be):
    fr_css = fr.get("/section.css").get_data(as_text=True)
    be_css = be.get("/section.css").get_data(as_text=True)
    assert "--primary: #1a1a1a" in fr_css and "--primary: #0b3d5c" in be_css
    page = fr.get("/").get_data(as_text=True)
    logo = re.search(r'<img src="([^"]+)"', page).group(1)
    assert logo == "/plugin-static/section_fr/logo.svg"
    assert fr.get(logo).status_code == 200 and b"<svg" in fr.get(logo).data
    assert fr.get("/plugin-static/section_fr/../__init__.py").status_code == 404


def test_unknown_case_is_a_404_in_the_section(fr):
    page = fr.get("/cases/no-such-case")
    assert page.status_code == 404
    assert lang_of(page) == "fr"
    assert "Écrire pour les droits · France" in text_of(page)


def test_security_headers(fr):
    page = fr.get("/")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "Host" in page.headers["Vary"]
