"""The newcomer's path in a real headless Chromium: open the French portal,
sign a petition, see the count; open the Belgian portal in Dutch."""
from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium")
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing: `make test` installs it as root")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server(make_app):
    """The portal on a real HTTP server on 127.0.0.1 (a free port)."""
    app = make_app()
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"localhost:{httpd.server_port}"
    httpd.shutdown()
    thread.join(5)


def test_sign_a_petition_in_french_on_a_phone(browser, server, tmp_path):
    context = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"http://fr.{server}/")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_role("link", name="Agir pour Sonia Dahmani").click()
    page.wait_for_url("**/cases/sonia-dahmani")

    # Sending too early: the errors appear next to the fields, in French.
    page.get_by_role("button", name="Signer").click()
    assert page.locator("#name-error").inner_text() == "Veuillez indiquer votre nom."
    assert "cocher cette case" in page.locator("#consent-error").inner_text()

    page.get_by_label("Prénom et nom").fill("Camille Martin")
    page.get_by_label("Adresse e-mail").fill("camille@example.org")
    page.get_by_label("J’accepte").check()
    page.get_by_role("button", name="Signer").click()
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
