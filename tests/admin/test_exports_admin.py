"""The Exports page: a section admin downloads the section's actions as CSV."""
from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import select

from core.exports import safe_cell
from core.models import AuditEntry
from tests.admin.conftest import post_form, sign_in
from tests.conftest import section_client, sign


def _rows(response) -> list[dict[str, str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode()), "no UTF-8 BOM"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def _audit(app, verb: str) -> list[AuditEntry]:
    with app.extensions["ecrire"].db.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == verb)))


def _signatures(app) -> None:
    fr = section_client(app, "fr.localhost")
    assert sign(fr, name="=HYPERLINK(\"http://evil\")", email="camille@example.org").status_code == 303
    assert sign(fr, "sai-zaw-thaike", name="Lou", email="lou@example.org").status_code == 303
    be = section_client(app, "be.localhost")
    assert sign(be, name="Jan", email="jan@example.be", country="BE").status_code == 303


def test_the_form_offers_cases_action_types_and_personal_data(admin_app):
    client = sign_in(admin_app, "fr.localhost", "fr-admin@example.org")
    html = client.get("/admin/exports").get_data(as_text=True)
    assert '<label for="case_id">' in html and 'value="sonia-dahmani"' in html
    assert 'value="petition"' in html
    assert 'name="personal"' in html


def test_export_without_personal_data_is_the_sections_actions_only(admin_app):
    _signatures(admin_app)
    client = sign_in(admin_app, "fr.localhost", "fr-admin@example.org")
    response = post_form(client, "/admin/exports")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert response.headers["Content-Disposition"] == f'attachment; filename="actions-fr-{today}.csv"'
    rows = _rows(response)
    assert [row["case_id"] for row in rows] == ["sonia-dahmani", "sai-zaw-thaike"]
    assert list(rows[0]) == ["action_id", "created_at", "case_id", "action_type", "count", "status", "language"]
    assert rows[0]["action_type"] == "petition" and rows[0]["count"] == "1" and rows[0]["language"] == "fr"
    assert dt.datetime.fromisoformat(rows[0]["created_at"]).utcoffset() == dt.timedelta(0)
    assert "example" not in response.get_data(as_text=True)
    assert _audit(admin_app, "export.personal") == []


def test_filters_by_case_action_type_and_dates(admin_app):
    _signatures(admin_app)
    client = sign_in(admin_app, "fr.localhost", "fr-admin@example.org")
    assert [r["case_id"] for r in _rows(post_form(client, "/admin/exports", {"case_id": "sai-zaw-thaike"}))] == ["sai-zaw-thaike"]
    assert _rows(post_form(client, "/admin/exports", {"action_type": "letter"})) == []
    yesterday = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)
    assert _rows(post_form(client, "/admin/exports", {"until": yesterday.isoformat()})) == []
    assert len(_rows(post_form(client, "/admin/exports", {"since": yesterday.isoformat()}))) == 2


def test_a_case_of_no_choice_or_reversed_dates_shows_the_form_again(admin_app):
    client = sign_in(admin_app, "fr.localhost", "fr-admin@example.org")
    response = post_form(client, "/admin/exports", {"case_id": "not-a-case"})
    assert response.status_code == 400 and 'id="case_id-error"' in response.get_data(as_text=True)
    response = post_form(client, "/admin/exports", {"since": "2026-02-02", "until": "2026-02-01"})
    assert response.status_code == 400 and "The end date is before the start date." in response.get_data(as_text=True)


def test_personal_export_has_supporters_safe_cells_and_is_audited(admin_app):
    _signatures(admin_app)
    client = sign_in(admin_app, "fr.localhost", "fr-admin@example.org")
    response = post_form(client, "/admin/exports", {"personal": "y", "case_id": "sonia-dahmani"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('-personal.csv"')
    (row,) = _rows(response)
    assert row["email"] == "camille@example.org" and row["country"] == "FR"
    assert row["name"] == "'=HYPERLINK(\"http://evil\")"  # a spreadsheet shows it as text
    assert "jan@example.be" not in response.get_data(as_text=True)
    (entry,) = _audit(admin_app, "export.personal")
    assert entry.user_email == "fr-admin@example.org" and entry.section_code == "fr"
    assert entry.detail["case_id"] == "sonia-dahmani" and entry.detail["action_type"] is None


def test_moderators_and_other_sections_cannot_export(admin_app):
    _signatures(admin_app)
    moderator = sign_in(admin_app, "fr.localhost", "fr-moderator@example.org")
    assert moderator.get("/admin/exports").status_code == 403
    token_page = "/admin/sign-in"
    assert post_form(moderator, "/admin/exports", {"personal": "y"}, page=token_page).status_code == 403
    other = sign_in(admin_app, "fr.localhost", "be-admin@example.org")
    response = post_form(other, "/admin/exports", {"personal": "y"}, page=token_page)
    assert response.status_code == 403 and b"camille@example.org" not in response.get_data()
    assert _audit(admin_app, "export.personal") == []


def test_the_be_export_on_the_be_portal_holds_be_rows_only(admin_app):
    _signatures(admin_app)
    client = sign_in(admin_app, "be.localhost", "be-admin@example.org")
    rows = _rows(post_form(client, "/admin/exports", {"personal": "y"}))
    assert [row["email"] for row in rows] == ["jan@example.be"]


def test_cells_that_spreadsheets_would_run_are_quoted():
    assert [safe_cell(v) for v in ("=1+1", "+33", "-2", "@SUM(A1)", "Ana", 5)] == ["'=1+1", "'+33", "'-2", "'@SUM(A1)", "Ana", 5]
