"""A supporter's evening in a real Chromium on a phone: every action on the
French portal, the counters moving, then the Belgian portal in Dutch. Each
page is saved as a screenshot (listed at the end of the test run)."""
from __future__ import annotations

import re
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import screenshot

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def portal(make_app):
    app = make_app(SOLIDARITY_WALL_CACHE_SECONDS=0)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield app, httpd.server_port
    httpd.shutdown()
    thread.join(5)


def plain(text: str) -> str:
    return re.sub(r"[\u00a0\u202f]", " ", text)


def section_count(page) -> str:
    return plain(page.locator(".case-count .count-line").first.inner_text())


def test_every_action_on_the_french_portal(browser, portal):
    app, port = portal
    context = browser.new_context(locale="fr-FR", **PHONE)
    page = context.new_page()
    base = f"http://fr.localhost:{port}"
    case = f"{base}/cases/sonia-dahmani"

    page.goto(base + "/")
    screenshot(page, "fr-01-home")
    page.get_by_role("link", name="Agir pour Sonia Dahmani").click()
    page.wait_for_url(case)
    assert section_count(page) == "France : 0 action"
    screenshot(page, "fr-02-case")

    # 1. Petition.
    petition = page.locator("#act-petition")
    petition.get_by_label("Prénom et nom").fill("Camille Martin")
    petition.get_by_label("Adresse e-mail").fill("camille@example.org")
    petition.get_by_label("J’ai 15 ans ou plus").check()
    petition.get_by_label("J’accepte").check()
    petition.get_by_role("button", name="Signer").click()
    page.wait_for_url("**/thanks")
    screenshot(page, "fr-03-thanks-petition")
    assert "France : 1 action" in plain(page.locator("main").inner_text())

    # 2. Appeal letter: the model letter is there, preview, then send.
    page.goto(case)
    letter = page.locator("#act-letter")
    letter.locator("summary").click()  # open its panel
    assert letter.locator("textarea").input_value().startswith("Monsieur le Président")
    letter.locator('input[name="name"]').fill("Camille Martin")
    letter.locator('input[name="town"]').fill("Lyon")
    letter.locator('input[name="email"]').fill("camille@example.org")
    letter.get_by_label("J’ai 15 ans ou plus").check()
    letter.locator('input[name="consent"]').check()
    letter.get_by_role("button", name="Prévisualiser").click()
    page.wait_for_load_state()
    screenshot(page, "fr-04-letter-preview")
    assert "Camille Martin" in page.locator("main").inner_text()
    page.get_by_role("button", name="Envoyer la lettre").first.click()
    page.wait_for_url("**/thanks")
    screenshot(page, "fr-05-thanks-letter")
    assert "France : 2 actions" in plain(page.locator("main").inner_text())

    # 3. Solidarity message: received, counted once a moderator approves it.
    page.goto(case)
    message = page.locator("#act-solidarity")
    message.locator("summary").click()  # open its panel
    message.locator('textarea[name="message"]').fill("Sonia, nous pensons à vous. Courage !")
    message.locator('input[name="first_name"]').fill("Camille")
    message.locator('input[name="town"]').fill("Lyon")
    message.get_by_role("button", name="Envoyer mon message").click()
    page.wait_for_url("**/thanks")
    screenshot(page, "fr-06-thanks-message")
    assert "sera comptée une fois approuvée" in plain(page.locator("main").inner_text())
    assert "France : 2 actions" in plain(page.locator("main").inner_text())
    runner = app.test_cli_runner()
    waiting = runner.invoke(args=["moderation", "list", "fr"]).output
    [action_id] = re.findall(r"^#(\d+)", waiting, re.M)
    assert runner.invoke(args=["moderation", "approve", "fr", action_id]).exit_code == 0

    # The open case page catches up without a reload (live counters).
    page.goto(case)
    assert section_count(page) == "France : 3 actions"
    assert "Sonia, nous pensons à vous." in page.locator("main").inner_text()  # the wall excerpt
    other = browser.new_context(locale="fr-FR").new_page()
    other.goto(case)
    other.locator("#act-share summary").click()
    other.locator("#act-share").get_by_role("checkbox").check()
    other.locator("#act-share").get_by_role("button", name="Compter ma publication").click()
    other.wait_for_url("**/thanks")
    other.context.close()
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_function(
        "() => document.querySelector('.case-count .count-line [data-count]').textContent.trim() === '4'", timeout=10000
    )
    screenshot(page, "fr-07-case-after-message-and-share")

    # 4. Offline tally: a class reports 25 letters written on paper.
    tally = page.locator("#act-offline-tally")
    tally.locator("summary").click()  # open its panel
    tally.locator('input[name="tally-letters"]').fill("25")
    tally.locator('input[name="tally-group"]').fill("CM2 de l’école Jean-Moulin")
    tally.locator('select[name="tally-kind"]').select_option(index=1)
    tally.locator('input[name="tally-town"]').fill("Lyon")
    tally.locator('input[name="tally-email"]').fill("ecole@example.org")
    tally.get_by_role("button", name="Déclarer nos lettres").click()
    page.wait_for_url("**/thanks")
    screenshot(page, "fr-08-thanks-tally")
    assert "France : 29 actions" in plain(page.locator("main").inner_text())

    page.goto(base + "/")
    assert plain(page.locator('[data-count="section"]').first.inner_text()) == "29"
    screenshot(page, "fr-09-home-after")
    context.close()


def test_belgian_portal_in_dutch(browser, portal):
    _app, port = portal
    context = browser.new_context(locale="nl-BE", **PHONE)
    page = context.new_page()
    page.goto(f"http://be.localhost:{port}/")
    assert page.locator("html").get_attribute("lang") == "nl"
    screenshot(page, "be-01-home-nl")
    page.get_by_role("link", name="Kom in actie voor Damisoa").click()
    page.wait_for_url("**/cases/damisoa")
    for heading in ("Teken de petitie", "Wat we vragen"):
        assert page.get_by_role("heading", name=heading).first.is_visible()
    screenshot(page, "be-02-case-nl")
    page.goto(f"http://be.localhost:{port}/stories")
    screenshot(page, "be-03-stories-nl")
    context.close()
