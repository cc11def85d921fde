"""The Accounts page: global admins create accounts, give and take roles,
deactivate accounts; every change is in the audit log."""
from __future__ import annotations

import re

from sqlalchemy import select

from core.models import AdminUser, AuditEntry
from tests.admin.conftest import PASSWORD, csrf_from, post_form, sign_in
from tests.conftest import section_client, text_of

NEW_PASSWORD = "a long enough passphrase"


def _account(app, email: str) -> AdminUser | None:
    with app.extensions["ecrire"].db.session() as session:
        return session.scalar(select(AdminUser).where(AdminUser.email == email))


def _audit(app) -> list[tuple[str, str | None, dict]]:
    with app.extensions["ecrire"].db.session() as session:
        return [(e.action, e.section_code, e.detail) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def _create(client, **fields):
    data = {"email": "new@example.org", "name": "Noa", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD, **fields}
    return post_form(client, "/admin/accounts/new", data)


def test_lists_accounts_roles_and_the_sections_served(admin_app):
    client = sign_in(admin_app, "fr.localhost", "global@example.org")
    page = text_of(client.get("/admin/accounts"))
    assert "fr-moderator@example.org" in page and "Moderator (fr)" in page
    assert "global@example.org" in page and "Global admin" in page
    assert "be.localhost" in page and "fr, nl" in page


def test_only_global_admins_see_accounts(admin_app):
    for email in ("fr-admin@example.org", "fr-moderator@example.org"):
        client = sign_in(admin_app, "fr.localhost", email)
        assert client.get("/admin/accounts").status_code == 403
        assert post_form(client, "/admin/accounts/new", {"email": "x@example.org"}, page="/admin/sign-in").status_code == 403
    assert _account(admin_app, "x@example.org") is None


def test_create_an_account_with_a_role_and_sign_in_with_it(admin_app):
    client = sign_in(admin_app, "fr.localhost", "global@example.org")
    response = _create(client, role_be="moderator")
    assert response.status_code == 302
    account = _account(admin_app, "new@example.org")
    assert account.name == "Noa" and not account.is_global
    assert [(g.section_code, g.role) for g in account.grants] == [("be", "moderator")]
    assert account.password_hash.startswith("$argon2id$")
    assert ("account.create", None, {"email": "new@example.org", "is_global": False, "roles": "be:moderator"}) in _audit(admin_app)
    moderator = sign_in(admin_app, "be.localhost", "new@example.org", NEW_PASSWORD)
    assert moderator.get("/admin/exports").status_code == 403


def test_create_refuses_short_or_different_passwords_duplicates_and_no_role(admin_app):
    client = sign_in(admin_app, "fr.localhost", "global@example.org")
    response = _create(client, password="short", confirm="short", role_fr="admin")
    assert response.status_code == 400 and 'id="password-error"' in response.get_data(as_text=True)
    response = _create(client, confirm="another long passphrase", role_fr="admin")
    assert response.status_code == 400 and "The two passwords differ." in text_of(response)
    response = _create(client)
    assert response.status_code == 400 and "Choose global admin or at least one role in a section." in text_of(response)
    response = _create(client, email="FR-admin@example.org", role_fr="admin")
    assert response.status_code == 400 and "already exists" in text_of(response)
    assert _account(admin_app, "new@example.org") is None


def test_grant_change_and_revoke_a_role(admin_app):
    client = sign_in(admin_app, "fr.localhost", "global@example.org")
    user_id = _account(admin_app, "fr-moderator@example.org").id
    page = f"/admin/accounts/{user_id}"
    assert post_form(client, f"{page}/grant", {"section": "be", "role": "admin"}, page=page).status_code == 302
    assert post_form(client, f"{page}/grant", {"section": "fr", "role": "admin"}, page=page).status_code == 302
    roles = sorted((g.section_code, g.role) for g in _account(admin_app, "fr-moderator@example.org").grants)
    assert roles == [("be", "admin"), ("fr", "admin")]
    assert post_form(client, f"{page}/revoke", {"section": "be"}, page=page).status_code == 302
    assert [(g.section_code, g.role) for g in _account(admin_app, "fr-moderator@example.org").grants] == [("fr", "admin")]
    verbs = [(verb, section) for verb, section, _ in _audit(admin_app) if verb.startswith("account.")]
    assert verbs == [("account.grant", "be"), ("account.grant", "fr"), ("account.revoke", "be")]
    assert "Section admin" in text_of(client.get(page))


def test_a_deactivated_accounts_session_stops_on_the_next_request(admin_app):
    victim = sign_in(admin_app, "fr.localhost", "fr-admin@example.org")
    assert victim.get("/admin/exports").status_code == 200
    client = sign_in(admin_app, "fr.localhost", "global@example.org")
    user_id = _account(admin_app, "fr-admin@example.org").id
    page = f"/admin/accounts/{user_id}"
    assert post_form(client, f"{page}/active", {"active": "0"}, page=page).status_code == 302
    assert "Deactivated" in text_of(client.get(page))
    response = victim.get("/admin/exports")
    assert response.status_code == 302 and "/admin/sign-in" in response.headers["Location"]
    again = section_client(admin_app, "fr.localhost")
    token = csrf_from(again.get("/admin/sign-in").get_data(as_text=True))
    refused = again.post("/admin/sign-in", data={"csrf_token": token, "email": "fr-admin@example.org", "password": PASSWORD})
    assert refused.status_code == 401
    assert ("account.deactivate", None, {"email": "fr-admin@example.org"}) in _audit(admin_app)
    assert post_form(client, f"{page}/active", {"active": "1"}, page=page).status_code == 302
    assert sign_in(admin_app, "fr.localhost", "fr-admin@example.org").get("/admin/exports").status_code == 200


def test_a_global_admin_cannot_deactivate_themselves(admin_app):
    client = sign_in(admin_app, "fr.localhost", "global@example.org")
    page = f"/admin/accounts/{_account(admin_app, 'global@example.org').id}"
    response = post_form(client, f"{page}/active", {"active": "0"}, page=page)
    assert response.status_code == 302
    assert "You cannot deactivate your own account." in text_of(client.get(page))
    assert _account(admin_app, "global@example.org").active


def test_an_unknown_account_is_not_found(admin_app):
    client = sign_in(admin_app, "fr.localhost", "global@example.org")
    assert client.get("/admin/accounts/999").status_code == 404


def test_audit_log_shows_the_sections_entries_and_install_wide_ones_to_global_admins(admin_app):
    client = sign_in(admin_app, "fr.localhost", "global@example.org")
    assert _create(client, email="made@example.org", role_fr="moderator").status_code == 302
    user_id = _account(admin_app, "made@example.org").id
    page = f"/admin/accounts/{user_id}"
    post_form(client, f"{page}/grant", {"section": "be", "role": "admin"}, page=page)
    post_form(client, f"{page}/grant", {"section": "fr", "role": "admin"}, page=page)
    log = text_of(client.get("/admin/audit-log"))
    assert "account.create" in log and "install-wide" in log and "account.grant" in log
    assert "role: admin" in log and " be " not in log  # the be grant is be's entry
    section_admin = sign_in(admin_app, "fr.localhost", "fr-admin@example.org")
    log = text_of(section_admin.get("/admin/audit-log"))
    assert "account.grant" in log and "account.create" not in log
    be_log = text_of(sign_in(admin_app, "be.localhost", "be-admin@example.org").get("/admin/audit-log"))
    assert be_log.count("account.grant") >= 1 and "account.create" not in be_log


def test_audit_log_pages_by_50_and_filters_by_action(admin_app):
    from core.models import AuditEntry as Entry

    with admin_app.extensions["ecrire"].db.writing() as session:
        session.add_all(Entry(user_email="x@example.org", section_code="fr", action="plugin.enable", detail={"n": n}) for n in range(60))
        session.add(Entry(user_email="x@example.org", section_code="fr", action="case.hide", detail={"n": "hidden"}))
        session.add(Entry(user_email="x@example.org", section_code="be", action="case.hide", detail={"n": "be-only"}))
    client = sign_in(admin_app, "fr.localhost", "fr-admin@example.org")
    first = client.get("/admin/audit-log").get_data(as_text=True)
    assert first.count("<tr>") == 51  # header + 50
    assert re.search(r"n: hidden", first)  # newest first
    assert 'rel="next"' in first
    second = client.get("/admin/audit-log?page=2").get_data(as_text=True)
    assert second.count("<tr>") == 1 + 11 and 'rel="next"' not in second and 'rel="prev"' in second
    filtered = text_of(client.get("/admin/audit-log?action=case.hide"))
    assert "n: hidden" in filtered and "be-only" not in filtered and "plugin.enable" not in filtered.split("All actions")[1].split("Filter")[1]
