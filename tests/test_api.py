"""The JSON API under /api/v1: answers match the OpenAPI document served at
/api/v1/openapi.json, errors are JSON, and schemathesis finds no 500."""
from __future__ import annotations

import json
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks as st_checks

from core.api import OPENAPI_FILE
from core.testing import read_counts, section_client
from tests.conftest import sign as sign_petition

FR = "fr.localhost"
MEMBERS = {"member-a": "key-a"}
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
]


@pytest.fixture
def api_app(make_app):
    return make_app(plugins={"fr": ["federation_hub", "federation_member"]}, ECRIRE_FEDERATION_MEMBERS=MEMBERS)


def _schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers={"Host": FR})


def test_openapi_document_is_served_and_describes_every_api_route(api_app):
    client = section_client(api_app, FR)
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    assert document == json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    routes = {
        rule.rule.replace("<", "{").replace(">", "}")
        for rule in api_app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
    }
    documented = set(document["paths"])
    assert routes == documented, f"undocumented: {routes - documented}; not routes: {documented - routes}"
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert "200" in operation["responses"], (path, method)
            assert "schema" in operation["responses"]["200"]["content"]["application/json"], (path, method)


def test_cases_and_counts_match_the_document(api_app):
    client = section_client(api_app, FR)
    assert sign_petition(client).status_code == 303
    schema = _schema(api_app)
    listing = client.get("/api/v1/cases")
    assert listing.status_code == 200
    body = listing.get_json()
    assert body["section"] == "fr" and body["cases"]
    assert all(set(case["texts"]) <= {"fr"} for case in body["cases"])
    case_id = body["cases"][0]["id"]
    one = client.get(f"/api/v1/cases/{case_id}")
    counts = client.get("/api/v1/counts")
    for path, response in [("/api/v1/cases", listing), ("/api/v1/cases/{case_id}", one), ("/api/v1/counts", counts)]:
        operation = schema[path]["GET"]
        operation.validate_response(response)
    data = counts.get_json()
    stored = read_counts(api_app)
    assert data["section_total"] == stored.section("fr") >= 1
    assert sum(sum(c["by_action_type"].values()) for c in data["cases"].values()) == data["section_total"]


def test_errors_are_json_never_html(api_app):
    client = section_client(api_app, FR)
    for method, path in [("GET", "/api/v1/cases/nobody"), ("GET", "/api/v1/nothing"), ("DELETE", "/api/v1/cases"),
                         ("POST", "/api/v1/federation/reports"), ("GET", "/api/v1/federation/feed")]:
        response = client.open(path, method=method)
        assert response.status_code in (400, 401, 403, 404, 405), (method, path, response.status_code)
        assert response.mimetype == "application/json", (method, path)
        assert response.get_json()["error"]["status"] == response.status_code
    other = section_client(api_app, "unknown.example").get("/api/v1/cases")
    assert other.status_code == 404 and other.mimetype == "application/json"


def test_no_personal_data_in_the_api(api_app):
    client = section_client(api_app, FR)
    assert sign_petition(client, name="Zoé Secretname", email="zoe.secret@example.org").status_code == 303
    for path in ("/api/v1/cases", "/api/v1/counts"):
        text = client.get(path).get_data(as_text=True)
        assert "Secretname" not in text and "zoe.secret" not in text


def test_schemathesis_finds_no_server_error(api_app):
    schema = _schema(api_app)
    started = time.monotonic()
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6, [op.label for op in operations]  # schemathesis leaves out the schema's own URL
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            case.call_and_validate(headers={"Host": FR}, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then fail once
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    assert time.monotonic() - started < 90
