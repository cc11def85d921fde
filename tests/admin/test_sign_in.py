"""Signing in to the admin and the ``flask admins`` commands."""
from __future__ import annotations

import time

from sqlalchemy import select

from core.models import AdminUser
from tests.admin.conftest import PASSWORD, create_accounts, csrf_from, sign_in
from tests.conftest import section_client, text_of

MISMATCH = "This email address and password do not match an account."

#: The tests read the admin in English.
ENGLISH = {"Accept-Language": "en"}


def _attempt(client, email: str, password: str, path: str = "/admin/sign-in"):
    token = csrf_from(client.get("/admin/sign-in").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, "email": email, "password": password})


def test_a_wrong_password_or_unknown_address_get_the_same_message(admin_app):
    client = section_client(admin_app, "fr.localhost", **ENGLISH)
    started = time.perf_counter()
    wrong = _attempt(client, "fr-admin@example.org", "not the password at all")
    wrong_time = time.perf_counter() - started
    started = time.perf_counter()
    unknown = _attempt(client, "nobody@example.org", "not the password at all")
    unknown_time = time.perf_counter() - started
    for response in (wrong, unknown):
        assert response.status_code == 401
        html = response.get_data(as_text=True)
        assert MISMATCH in html and 'role="alert"' in html and '<form method="post"' in html
    # Both verify an argon2 hash: same order of magnitude (not asserted strictly).
    assert unknown_time > wrong_time / 5


def test_the_sixth_failure_in_15_minutes_is_refused_even_with_the_right_password(admin_app):
    client = section_client(admin_app, "fr.localhost", **ENGLISH)
    for _ in range(5):
        assert _attempt(client, "fr-admin@example.org", "wrong password here").status_code == 401
    response = _attempt(client, "fr-admin@example.org", PASSWORD)
    assert response.status_code == 429
    assert "try again" in text_of(response)
    assert "_user_id" not in (client.get_cookie("session").value if client.get_cookie("session") else "")
    # The limit is per address: another account from the same client still signs in.
    assert _attempt(client, "be-admin@example.org", PASSWORD).status_code == 302


def test_a_success_resets_the_count_for_the_address(admin_app):
    client = section_client(admin_app, "fr.localhost", **ENGLISH)
    for _ in range(4):
        assert _attempt(client, "fr-admin@example.org", "wrong password here").status_code == 401
    assert _attempt(client, "fr-admin@example.org", PASSWORD).status_code == 302
    client = section_client(admin_app, "fr.localhost", **ENGLISH)
    for _ in range(4):
        assert _attempt(client, "fr-admin@example.org", "wrong password here").status_code == 401
    assert _attempt(client, "fr-admin@example.org", PASSWORD).status_code == 302


def test_next_only_leads_inside_the_admin(admin_app):
    client = section_client(admin_app, "fr.localhost", **ENGLISH)
    response = _attempt(client, "fr-admin@example.org", PASSWORD, "/admin/sign-in?next=/admin/exports")
    assert response.headers["Location"].endswith("/admin/exports")
    for target in ("https://evil.example/admin/", "//evil.example/admin/", "/cases/sonia-dahmani"):
        client = section_client(admin_app, "fr.localhost", **ENGLISH)
        response = _attempt(client, "fr-admin@example.org", PASSWORD, f"/admin/sign-in?next={target}")
        assert response.status_code == 302
        assert response.headers["Location"] in ("/admin/", "http://fr.localhost/admin/"), target


def test_the_admin_asks_for_sign_in_and_comes_back(admin_app):
    client = section_client(admin_app, "fr.localhost", **ENGLISH)
    response = client.get("/admin/exports")
    assert response.status_code == 302 and "/admin/sign-in?next=" in response.headers["Location"]


def test_the_session_cookie_is_httponly_samesite_lax_and_secure_in_production(make_app, monkeypatch):
    """Secure is switched on by ECRIRE_SECURE_COOKIES=1 (a deployment behind
    HTTPS); a local http:// run leaves it off so the cookie still works."""
    monkeypatch.setenv("ECRIRE_SECURE_COOKIES", "1")
    app = make_app()
    create_accounts(app)
    client = section_client(app, "fr.localhost", **ENGLISH)
    response = _attempt(client, "fr-admin@example.org", PASSWORD)
    assert response.status_code == 302
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
    assert "httponly" in attributes and "secure" in attributes
    assert attributes["samesite"].lower() == "samesite=lax"


def test_sign_out_needs_a_post_with_csrf(admin_app):
    client = sign_in(admin_app, "fr.localhost", "fr-admin@example.org")
    assert client.get("/admin/sign-out").status_code == 405
    assert client.post("/admin/sign-out").status_code == 400
    assert client.get("/admin/exports").status_code == 200  # still signed in
    token = csrf_from(client.get("/admin/exports").get_data(as_text=True))
    response = client.post("/admin/sign-out", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/sign-in")
    assert client.get("/admin/exports").status_code == 302


def test_admins_create_refuses_short_passwords_unknown_sections_and_roles(make_app):
    app = make_app()
    runner = app.test_cli_runner()
    short = runner.invoke(args=["admins", "create", "a@example.org", "--global", "--password", "short"])
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    section = runner.invoke(args=["admins", "create", "a@example.org", "--section", "xx", "--password", PASSWORD])
    assert section.exit_code != 0 and "no section 'xx'" in section.output
    role = runner.invoke(args=["admins", "create", "a@example.org", "--section", "fr:owner", "--password", PASSWORD])
    assert role.exit_code != 0 and "no role 'owner'" in role.output
    neither = runner.invoke(args=["admins", "create", "a@example.org", "--password", PASSWORD])
    assert neither.exit_code != 0 and "--global or at least one --section" in neither.output
    with app.extensions["ecrire"].db.session() as session:
        assert session.scalar(select(AdminUser)) is None
    ok = runner.invoke(args=["admins", "create", "A@Example.org ", "--section", "fr:moderator", "--password", PASSWORD])
    assert ok.exit_code == 0 and "created a@example.org: moderator of fr" in ok.output
    again = runner.invoke(args=["admins", "create", "a@example.org", "--global", "--password", PASSWORD])
    assert again.exit_code != 0 and "already exists" in again.output


def test_admins_list_shows_every_account_and_role(admin_app):
    output = admin_app.test_cli_runner().invoke(args=["admins", "list"]).output
    lines = {line.split()[0]: line for line in output.splitlines()}
    assert lines["global@example.org"].split()[1] == "global"
    assert lines["be-moderator@example.org"].split()[1] == "be:moderator"
    assert set(lines) == {"global@example.org", "fr-admin@example.org", "fr-moderator@example.org", "be-admin@example.org", "be-moderator@example.org"}


def test_only_an_argon2id_hash_is_stored(admin_app):
    with admin_app.extensions["ecrire"].db.session() as session:
        stored = session.scalar(select(AdminUser.password_hash).where(AdminUser.email == "fr-admin@example.org"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
