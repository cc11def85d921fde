"""The section admin in a real browser: sign in, switch a plugin on for one
section only, approve a message, download an export."""
from __future__ import annotations

import csv
import io
import threading

import pytest
from werkzeug.serving import make_server

from core.testing import section_client, take_action
from tests.admin.conftest import PASSWORD, create_accounts
from tests.conftest import screenshot

CASE = "sonia-dahmani"


@pytest.fixture
def admin_server(make_app):
    """The portal, with one account per role, on a real HTTP server; the
    offline tally is off in both demo sections to begin with."""
    app = make_app(plugins={"fr": {"offline_tally": False}, "be": {"offline_tally": False}}, ECRIRE_PLUGIN_STATE_SECONDS=0)
    create_accounts(app)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield app, f"localhost:{httpd.server_port}"
    httpd.shutdown()
    thread.join(5)


def test_an_admin_switches_on_a_plugin_approves_a_message_and_exports(browser, admin_server):
    app, server = admin_server
    fr, be = f"http://fr.{server}", f"http://be.{server}"
    context = browser.new_context(locale="fr-FR", accept_downloads=True)
    page = context.new_page()

    # Not signed in: the admin sends to its sign-in page.
    page.goto(f"{fr}/admin/")
    assert "/admin/sign-in" in page.url
    page.locator("input[name=email]").fill("fr-admin@example.org")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"{fr}/admin/")
    assert page.locator("svg[role=img]").count() == 1, "the dashboard's chart"
    screenshot(page, "admin-01-dashboard")

    # Switch the offline tally on for France only.
    page.goto(f"{fr}/admin/plugins")
    row = page.locator("tr", has=page.locator("input[name=plugin][value=offline_tally]"))
    row.locator("button[type=submit]").click()
    page.wait_for_load_state()
    screenshot(page, "admin-02-plugins")
    visitor = context.new_page()
    visitor.goto(f"{fr}/cases/{CASE}")
    assert visitor.locator("#act-offline-tally").count() == 1, "on in France"
    visitor.goto(f"{be}/cases/{CASE}")
    assert visitor.locator("#act-offline-tally").count() == 0, "still off in Belgium"

    # A supporter's message waits for moderation; the admin approves it.
    supporter = section_client(app, "fr.localhost")
    sent = take_action(supporter, CASE, "solidarity", message="Sonia, nous pensons à vous.", first_name="Zoé", town="Brest")
    assert sent.status_code == 303
    page.goto(f"{fr}/admin/moderation")
    assert "Sonia, nous pensons à vous." in page.locator("main").inner_text()
    screenshot(page, "admin-03-moderation")
    page.locator("form[id^=decide-] button[name=approve]").first.click()
    page.wait_for_load_state()
    assert "Sonia, nous pensons à vous." not in page.locator("main").inner_text(), "no longer waiting"
    visitor.goto(f"{fr}/x/solidarity_message/{CASE}")
    assert "Sonia, nous pensons à vous." in visitor.locator("main").inner_text(), "on the public wall"

    # Export the actions (with personal data: a section admin may).
    take_action(supporter, CASE, "petition", name="Ana Silva", email="ana@example.org", country="FR", consent="y")
    page.goto(f"{fr}/admin/exports")
    page.locator("input[name=personal]").check()
    with page.expect_download() as download_info:
        page.locator("main form button[type=submit]").click()
    download = download_info.value
    assert download.suggested_filename.startswith("actions-fr-") and download.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8-sig").read())))
    assert any("ana@example.org" in row for row in rows[1:]), "the signature, with its email"
    assert {row[rows[0].index("action_type")] for row in rows[1:]} >= {"petition", "solidarity"}
    page.goto(f"{fr}/admin/audit-log")
    log = page.locator("main").inner_text()
    assert "export.personal" in log and "plugin.enable" in log and "moderation.approve" in log
    screenshot(page, "admin-04-audit-log")
    context.close()
