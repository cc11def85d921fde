"""The Plugins page of the admin: switching plugins per section, their
settings (secrets never shown back), broken plugins, and section limits."""
from __future__ import annotations

import re

from sqlalchemy import select

from core.models import AuditEntry, PluginSettingsRow
from core.testing import section_client
from tests.admin.conftest import create_accounts, csrf_from, post_form, sign_in
from tests.conftest import text_of

KEYED = '''"""Greets supporters with a key from the admin."""
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Optional

from core.toolkit import hookimpl, section_settings


class Settings(FlaskForm):
    greeting = StringField("Greeting", validators=[DataRequired("Please enter a greeting.")])
    api_key = PasswordField("API key", validators=[Optional()])


@hookimpl
def ecrire_settings_form():
    return Settings


@hookimpl
def ecrire_template_fragment(place):
    if place != "footer":
        return None
    settings = section_settings("keyed")
    key = "key accepted" if settings.get("api_key") == "s3cret-value-42" else "no key"
    return f"{settings.get('greeting', 'no greeting')} / {key}"
'''

BROKEN = '''"""Has settings, but its form cannot be built."""
from core.toolkit import hookimpl


@hookimpl
def ecrire_settings_form(section):
    raise RuntimeError("settings are broken")
'''


def audit(app, action: str) -> list[AuditEntry]:
    with app.extensions["ecrire"].db.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_plugins_page_lists_what_this_section_can_use(admin_app):
    client = sign_in(admin_app, "fr.localhost", "fr-admin@example.org")
    page = client.get("/admin/plugins")
    assert page.status_code == 200
    text = text_of(page)
    assert "petition" in text and "ecrire_action_types" in text
    assert "section_fr" in text and "Always on" in text
    assert "section_be" not in text, "another section's own plugin is not listed"
    assert 'id="plugin-webhook_channel"' in page.get_data(as_text=True)


def test_disabling_share_in_fr_takes_effect_on_the_next_request(admin_app):
    fr, be = section_client(admin_app, "fr.localhost"), section_client(admin_app, "be.localhost")
    assert 'id="share-post-sonia-dahmani"' in fr.get("/cases/sonia-dahmani").get_data(as_text=True)
    client = sign_in(admin_app, "fr.localhost", "fr-admin@example.org")
    response = post_form(client, "/admin/plugins", {"plugin": "share", "enabled": "0"})
    assert response.status_code == 302
    assert "share is now off" in text_of(client.get("/admin/plugins"))
    assert 'id="share-post-sonia-dahmani"' not in fr.get("/cases/sonia-dahmani").get_data(as_text=True)
    assert 'id="share-post-sonia-dahmani"' in be.get("/cases/sonia-dahmani").get_data(as_text=True)
    [entry] = audit(admin_app, "plugin.disable")
    assert (entry.section_code, entry.detail, entry.user_email) == ("fr", {"plugin": "share"}, "fr-admin@example.org")
    post_form(client, "/admin/plugins", {"plugin": "share", "enabled": "1"})
    assert 'id="share-post-sonia-dahmani"' in fr.get("/cases/sonia-dahmani").get_data(as_text=True)
    assert audit(admin_app, "plugin.enable")


def test_be_admin_cannot_touch_fr_plugins(admin_app):
    client = sign_in(admin_app, "be.localhost", "be-admin@example.org")
    # On the fr host a be admin has no rights at all.
    signed_on_fr = sign_in(admin_app, "fr.localhost", "be-admin@example.org")
    assert signed_on_fr.get("/admin/plugins").status_code == 403
    token = csrf_from(client.get("/admin/plugins").get_data(as_text=True))
    assert signed_on_fr.post("/admin/plugins", data={"csrf_token": token, "plugin": "share", "enabled": "0"}).status_code in {400, 403}
    # A forged form on be's host naming fr's section plugin is refused.
    for forged in ("section_fr", "section_ch", "no_such_plugin"):
        response = client.post("/admin/plugins", data={"csrf_token": token, "plugin": forged, "enabled": "0"})
        assert response.status_code == 404, forged
        assert client.get(f"/admin/plugins/{forged}/settings").status_code == 404
    # be's own section plugin cannot be switched off either.
    assert client.post("/admin/plugins", data={"csrf_token": token, "plugin": "section_be", "enabled": "0"}).status_code == 400
    assert not audit(admin_app, "plugin.disable")
    assert "share" in admin_app.extensions["ecrire"].enabled("fr")
    # A moderator may not manage plugins.
    moderator = sign_in(admin_app, "fr.localhost", "fr-moderator@example.org")
    assert moderator.get("/admin/plugins").status_code == 403


def test_petition_settings_change_the_signature_form(admin_app):
    client = sign_in(admin_app, "fr.localhost", "fr-admin@example.org")
    page = client.get("/admin/plugins/petition/settings")
    assert page.status_code == 200 and "Full name of the signer" in text_of(page)
    bad = post_form(client, "/admin/plugins/petition/settings", {"name": "sometimes", "country": "required"})
    assert bad.status_code == 400 and 'class="field-error"' in bad.get_data(as_text=True)
    assert post_form(client, "/admin/plugins/petition/settings", {"name": "hidden", "country": "optional"}).status_code == 302
    fr, be = section_client(admin_app, "fr.localhost"), section_client(admin_app, "be.localhost")
    fr_page = fr.get("/cases/sonia-dahmani").get_data(as_text=True)
    petition = re.search(r'action="/cases/sonia-dahmani/act/petition".*?</form>', fr_page, re.S).group(0)
    assert 'name="name"' not in petition, "the name is no longer asked in fr"
    assert 'name="country"' in petition
    be_page = be.get("/cases/sonia-dahmani").get_data(as_text=True)
    assert 'name="name"' in re.search(r'action="/cases/sonia-dahmani/act/petition".*?</form>', be_page, re.S).group(0)
    [entry] = audit(admin_app, "plugin.settings")
    assert entry.detail == {"plugin": "petition", "changed": ["country", "name"]}


def test_solidarity_wall_is_switched_by_its_setting(admin_app):
    fr = section_client(admin_app, "fr.localhost")
    assert fr.get("/x/solidarity_message/sonia-dahmani").status_code == 200  # on in fr's definition
    client = sign_in(admin_app, "fr.localhost", "fr-admin@example.org")
    assert 'checked' in client.get("/admin/plugins/solidarity_message/settings").get_data(as_text=True)
    assert post_form(client, "/admin/plugins/solidarity_message/settings", {}).status_code == 302  # unticked
    assert fr.get("/x/solidarity_message/sonia-dahmani").status_code == 404


def test_outside_plugin_settings_with_a_secret(outside_plugin, make_app):
    outside_plugin("ecrire-keyed", {"keyed/__init__.py": KEYED}, {"keyed": "keyed"}, version="2.3.4")
    outside_plugin("ecrire-broken-settings", {"broken_settings/__init__.py": BROKEN}, {"broken_settings": "broken_settings"})
    app = make_app(plugins={"fr": ["keyed", "broken_settings"]})
    create_accounts(app)
    client = sign_in(app, "fr.localhost", "fr-admin@example.org")
    listing = text_of(client.get("/admin/plugins"))
    assert "Greets supporters with a key from the admin." in listing and "ecrire-keyed 2.3.4" in listing

    page = client.get("/admin/plugins/keyed/settings")
    assert page.status_code == 200 and "API key" in text_of(page)
    missing = post_form(client, "/admin/plugins/keyed/settings", {"greeting": "", "api_key": "s3cret-value-42"})
    assert missing.status_code == 400 and "Please enter a greeting." in text_of(missing)
    assert "s3cret-value-42" not in missing.get_data(as_text=True)

    assert post_form(client, "/admin/plugins/keyed/settings", {"greeting": "Bonjour", "api_key": "s3cret-value-42"}).status_code == 302
    with app.extensions["ecrire"].db.session() as session:
        row = session.get(PluginSettingsRow, ("fr", "keyed"))
        assert row.values == {"greeting": "Bonjour", "api_key": "s3cret-value-42"}
        assert row.updated_by == "fr-admin@example.org"
    fr = section_client(app, "fr.localhost")
    assert "Bonjour / key accepted" in text_of(fr.get("/"))
    assert "no greeting / no key" in text_of(section_client(app, "be.localhost").get("/")) or "keyed" not in app.extensions["ecrire"].enabled("be")

    page = client.get("/admin/plugins/keyed/settings").get_data(as_text=True)
    assert "s3cret-value-42" not in page and "leave empty to keep" in page
    # Empty keeps the secret; only the greeting changed.
    assert post_form(client, "/admin/plugins/keyed/settings", {"greeting": "Salut", "api_key": ""}).status_code == 302
    assert "Salut / key accepted" in text_of(fr.get("/"))
    entries = audit(app, "plugin.settings")
    assert [e.detail["changed"] for e in entries] == [["api_key", "greeting"], ["greeting"]]
    assert all("s3cret" not in str(e.detail) for e in entries)
    # Clearing removes it.
    post_form(client, "/admin/plugins/keyed/settings", {"greeting": "Salut", "api_key": "", "clear-api_key": "1"})
    assert "Salut / no key" in text_of(fr.get("/"))

    broken = client.get("/admin/plugins/broken_settings/settings")
    assert broken.status_code == 200
    html = broken.get_data(as_text=True)
    assert 'class="plugin-error"' in html and "broken_settings" in text_of(broken)
    assert client.get("/admin/plugins").status_code == 200


def test_a_sections_own_mail_settings_reach_the_email_channel_and_its_password_stays_hidden(admin_app):
    from plugins.email_channel import MailSettings

    client = sign_in(admin_app, "fr.localhost", "fr-admin@example.org")
    saved = post_form(client, "/admin/plugins/email_channel/settings", {
        "sender": "lettres@fr.example", "reply_to": "contact@fr.example", "smtp_host": "smtp.fr.example",
        "smtp_port": "587", "smtp_user": "fr-letters", "smtp_password": "s3cret-smtp-password",
    })
    assert saved.status_code == 302
    page = client.get("/admin/plugins/email_channel/settings").get_data(as_text=True)
    assert "s3cret-smtp-password" not in page and "lettres@fr.example" in page
    portal = admin_app.extensions["ecrire"]
    with admin_app.app_context():
        fr = MailSettings.current(portal.channel_settings("fr", "email"))
        be = MailSettings.current(portal.channel_settings("be", "email"))
    assert (fr.sender("fr"), fr.reply_address("fr"), fr.host, fr.port) == ("lettres@fr.example", "contact@fr.example", "smtp.fr.example", 587)
    assert (fr.user, fr.password) == ("fr-letters", "s3cret-smtp-password")
    assert be.host != "smtp.fr.example" and be.password is None, "Belgium keeps the deployment's settings"
    [entry] = audit(admin_app, "plugin.settings")
    assert "s3cret" not in str(entry.detail)
