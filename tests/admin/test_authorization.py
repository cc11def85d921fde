"""The authorization matrix, generated from the URL map: every admin route,
every role. A new admin route is covered as soon as it is registered; one
without ``@requires`` or ``@public`` fails the first test.

The section is the portal's (chosen by host), so "a user of section A acting
on section B" is a ``be`` account on ``fr.localhost``, with URL parameters
filled with real ids of ``be`` rows where the name suggests one.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from sqlalchemy import inspect, text
from werkzeug.routing import Rule

from core.admin.access import CAPABILITIES
from core.models import Action, AdminUser, AuditEntry, Delivery, Supporter
from tests.admin.conftest import csrf_from, sign_in
from tests.conftest import section_client

PARAMETER = re.compile(r"<(?:(?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)(?:\([^>]*\))?:)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>")
#: Columns changed by signing in itself, left out of the "database unchanged" check.
VOLATILE = {"admin_users": {"last_sign_in_at", "password_hash"}, "sign_in_attempts": "*"}


@dataclass(frozen=True)
class Route:
    rule: Rule
    capability: str | None

    @property
    def methods(self) -> list[str]:
        return [m for m in ("GET", "POST") if m in (self.rule.methods or ())]

    @property
    def has_parameters(self) -> bool:
        return bool(self.rule.arguments)

    def __str__(self) -> str:
        return f"{self.rule.rule} ({self.rule.endpoint})"


def admin_rules(app) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint.startswith("admin.")), key=lambda r: r.rule)


def routes(app) -> list[Route]:
    return [Route(rule, app.view_functions[rule.endpoint].required_capability) for rule in admin_rules(app)]


@pytest.fixture
def world(admin_app):
    """Rows of the ``be`` section for URL parameters (an action waiting for
    moderation, a failed delivery, an audit entry), and ``be``'s plugins."""
    portal = admin_app.extensions["ecrire"]
    with portal.db.writing() as session:
        supporter = Supporter(section_code="be", email="jan@example.be", name="Jan", country="BE")
        session.add(supporter)
        session.flush()
        action = Action(section_code="be", case_id="sonia-dahmani", action_type="solidarity", supporter_id=supporter.id,
                        payload={"message": "Courage", "language": "fr"}, status="pending")
        session.add(action)
        session.flush()
        delivery = Delivery(key=f"test:{action.id}", action_id=action.id, section_code="be", case_id="sonia-dahmani",
                            kind="letter", channel="email", status="failed", last_error="refused", attempts=3,
                            files=["batch-1.pdf"])
        session.add(delivery)
        session.add(AuditEntry(user_email="be-admin@example.org", section_code="be", action="plugin.enable", detail={}))
        session.flush()
        be_admin = session.query(AdminUser).filter_by(email="be-admin@example.org").one()
        ids = {"action": action.id, "delivery": delivery.id, "supporter": supporter.id, "user": be_admin.id}
    be_only = sorted(portal.enabled("be") - portal.enabled("fr")) or sorted(portal.enabled("be"))
    ids["plugin"] = be_only[0]
    return ids


def fill(rule: Rule, ids: dict) -> str:
    """The rule's path with each parameter set to a ``be`` value its name
    points at (an int parameter gets an id, a path a file name)."""

    def value(match: re.Match) -> str:
        name, converter = match["name"].lower(), (match["converter"] or "string")
        numeric = converter == "int"
        if any(word in name for word in ("deliver", "batch", "bundle", "item")):
            return str(ids["delivery"])
        if any(word in name for word in ("action", "message")):
            return str(ids["action"])
        if "supporter" in name:
            return str(ids["supporter"])
        if any(word in name for word in ("user", "account", "admin")):
            return str(ids["user"])
        if numeric:
            return str(ids["action"])
        if "case" in name:
            return "sonia-dahmani"
        if converter == "path" or "file" in name:
            return "batch-1.pdf"
        if "plugin" in name or name == "name":
            return ids["plugin"]
        return "be"

    return PARAMETER.sub(value, rule.rule)


def snapshot(app) -> dict[str, str]:
    """A digest of every table's rows (except what signing in changes)."""
    engine = app.extensions["ecrire"].db.engine
    digests = {}
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            skip = VOLATILE.get(table, set())
            if skip == "*":
                continue
            columns = [c["name"] for c in inspect(engine).get_columns(table) if c["name"] not in skip]
            quoted = ", ".join(f'"{column}"' for column in columns)
            rows = connection.execute(text(f'SELECT {quoted} FROM "{table}"')).all()
            digests[table] = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
    return digests


#: Forged form fields: ids and names of the other section.
def forged(ids: dict) -> dict[str, str]:
    return {
        "id": str(ids["action"]), "ids": str(ids["action"]), "action_id": str(ids["action"]),
        "delivery_id": str(ids["delivery"]), "section": "be", "section_code": "be", "plugin": ids["plugin"],
        "enabled": "y", "personal": "y", "reason": "forged", "decision": "approve", "role": "admin", "active": "0",
    }


def request(client, method: str, path: str, data: dict | None = None):
    if method == "GET":
        return client.get(path)
    token = csrf_from(client.get("/admin/sign-in").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **(data or {})})


# -- the tests -------------------------------------------------------------------


def test_every_admin_view_states_who_may_open_it(admin_app):
    rules = admin_rules(admin_app)
    assert len(rules) >= 3, "the admin has no routes"
    missing = [r.endpoint for r in rules if not hasattr(admin_app.view_functions[r.endpoint], "required_capability")]
    assert missing == [], f"admin views without @requires or @public: {missing}"


def test_not_signed_in_goes_to_the_sign_in_page(admin_app, world):
    client = section_client(admin_app, "fr.localhost")
    before = snapshot(admin_app)
    wrong = []
    for route in routes(admin_app):
        for method in route.methods:
            response = request(client, method, fill(route.rule, world), forged(world))
            if route.capability is None:
                ok = response.status_code < 500
            else:
                ok = response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/admin/sign-in"
            if not ok:
                wrong.append(f"{method} {route}: {response.status_code}")
    assert wrong == []
    assert snapshot(admin_app) == before


@pytest.mark.parametrize("email", ["be-admin@example.org", "be-moderator@example.org"])
def test_a_user_of_another_section_gets_nothing(admin_app, world, email):
    client = sign_in(admin_app, "fr.localhost", email)
    before = snapshot(admin_app)
    wrong = []
    checked = 0
    for route in routes(admin_app):
        if route.capability is None:
            continue  # sign-in and sign-out: open to anyone by design
        for method in route.methods:
            response = request(client, method, fill(route.rule, world), forged(world))
            checked += 1
            if response.status_code not in (403, 404):
                wrong.append(f"{method} {route}: {response.status_code}")
            elif b"jan@example.be" in response.get_data() or b"Courage" in response.get_data():
                wrong.append(f"{method} {route}: shows be's data")
    assert checked > 0
    assert wrong == []
    assert snapshot(admin_app) == before


@pytest.mark.parametrize("email, role", [("fr-moderator@example.org", "moderator"), ("fr-admin@example.org", "admin")])
def test_a_role_gets_403_beyond_its_capabilities(admin_app, world, email, role):
    client = sign_in(admin_app, "fr.localhost", email)
    before = snapshot(admin_app)
    wrong = []
    for route in routes(admin_app):
        if route.capability is None or route.capability in CAPABILITIES[role]:
            continue
        for method in route.methods:
            response = request(client, method, fill(route.rule, world), forged(world))
            if response.status_code != 403:
                wrong.append(f"{method} {route}: {response.status_code}")
    assert wrong == []
    assert snapshot(admin_app) == before


@pytest.mark.parametrize("email, role", [("global@example.org", None), ("fr-admin@example.org", "admin"), ("fr-moderator@example.org", "moderator")])
def test_pages_open_to_a_role_answer(admin_app, email, role):
    """Every page without parameters that the role may open answers 200
    (or redirects within the admin, as the moderator's landing page does)."""
    client = sign_in(admin_app, "fr.localhost", email)
    wrong = []
    for route in routes(admin_app):
        if "GET" not in route.methods or route.has_parameters or route.capability is None:
            continue
        if role is not None and route.capability not in CAPABILITIES[role]:
            continue
        response = client.get(route.rule.rule)
        redirected_inside = response.status_code == 302 and urlsplit(response.headers["Location"]).path.startswith("/admin/")
        if response.status_code != 200 and not (role == "moderator" and redirected_inside):
            wrong.append(f"GET {route}: {response.status_code}")
    assert wrong == []


def test_an_id_of_the_other_section_is_not_found_even_for_a_global_admin_on_this_host(admin_app, world):
    """A global admin on fr.localhost works on fr: a be row named by id is
    404 there, for every route naming a delivery, an action or a supporter."""
    client = sign_in(admin_app, "fr.localhost", "global@example.org")
    before = snapshot(admin_app)
    wrong = []
    for route in routes(admin_app):
        names = " ".join(route.rule.arguments).lower()
        if not any(word in names for word in ("deliver", "batch", "bundle", "action", "message", "supporter", "item")):
            continue
        for method in route.methods:
            response = request(client, method, fill(route.rule, world), forged(world))
            if response.status_code != 404:
                wrong.append(f"{method} {route}: {response.status_code}")
    assert wrong == []
    assert snapshot(admin_app) == before
