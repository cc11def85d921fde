"""The newcomer's path in a real headless Chromium: open the French portal,
sign a petition, see the count; open the Belgian portal in Dutch. The
``browser`` and ``server`` fixtures live in conftest.py (shared with the
accessibility tests)."""
from __future__ import annotations


def test_sign_a_petition_in_french_on_a_phone(browser, server, tmp_path):
    context = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"http://fr.{server}/")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_role("link", name="Agir pour Sonia Dahmani").click()
    page.wait_for_url("**/cases/sonia-dahmani")

    # Other actions' panels have fields with the same labels: use the petition's.
    petition = page.get_by_role("group", name="Signer la pétition")

    # Sending too early: the errors appear next to the fields, in French.
    petition.get_by_role("button", name="Signer").click()
    assert page.locator("#name-error").inner_text() == "Veuillez indiquer votre nom."
    assert "cocher cette case" in page.locator("#consent-error").inner_text()

    petition.get_by_label("Prénom et nom").fill("Camille Martin")
    petition.get_by_label("Adresse e-mail").fill("camille@example.org")
    petition.get_by_label("J’ai 15 ans ou plus").check()
    petition.get_by_label("J’accepte").check()
    petition.get_by_role("button", name="Signer").click()
    page.wait_for_url("**/thanks")
    assert "Merci" in page.get_by_role("heading", level=1).inner_text()
    assert "France : 1 action" in page.locator("main").inner_text().replace("\u00a0", " ").replace("\u202f", " ")
    page.screenshot(path=str(tmp_path / "thanks-fr.png"), full_page=True)
    context.close()


def test_belgian_portal_in_dutch_with_a_language_switch(browser, server):
    context = browser.new_context(locale="nl-BE")
    page = context.new_page()
    page.goto(f"http://be.{server}/cases/damisoa")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.get_by_role("heading", name="Teken de petitie").is_visible()
    page.get_by_role("navigation", name="Taal").get_by_role("link", name="Français").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", name="Signer la pétition").is_visible()
    context.close()
