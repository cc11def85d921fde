"""Admin fixtures: an app with one account per role, and signing in."""
from __future__ import annotations

import re

import pytest

from core.testing import section_client

PASSWORD = "correct horse battery staple"

#: email -> the `flask admins create` options giving its roles.
ACCOUNTS = {
    "global@example.org": ["--global"],
    "fr-admin@example.org": ["--section", "fr:admin"],
    "fr-moderator@example.org": ["--section", "fr:moderator"],
    "be-admin@example.org": ["--section", "be:admin"],
    "be-moderator@example.org": ["--section", "be:moderator"],
}


def create_accounts(app) -> None:
    runner = app.test_cli_runner()
    for email, options in ACCOUNTS.items():
        result = runner.invoke(args=["admins", "create", email, *options, "--password", PASSWORD])
        assert result.exit_code == 0, result.output


@pytest.fixture
def admin_app(make_app):
    """The demo app with an account for each role (see ``ACCOUNTS``)."""
    app = make_app()
    create_accounts(app)
    return app


def csrf_from(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(app, host: str, email: str, password: str = PASSWORD):
    """A client of ``host`` signed in as ``email`` (asserts it worked), whose
    browser prefers English (the admin is in French and English everywhere)."""
    client = section_client(app, host, **{"Accept-Language": "en"})
    page = client.get("/admin/sign-in")
    response = client.post(
        "/admin/sign-in", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "email": email, "password": password}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return client


def post_form(client, path: str, data: dict | None = None, page: str | None = None):
    """POST to ``path`` with the CSRF token read from ``page`` (default: the
    same path), as a browser submitting the form would."""
    html = client.get(page or path).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_from(html), **(data or {})})
