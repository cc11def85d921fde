"""A section's legal rules, enforced by the core on actions that collect
personal data: the age question, consent records, address checks, a
parent's agreement, the newsletter with double opt-in."""
from __future__ import annotations

import dataclasses
import re

import pytest
from sqlalchemy import select

from core.models import Action, ConsentRecord, Supporter
from core.testing import read_counts, section_client
from tests.admin.conftest import create_accounts, sign_in
from tests.conftest import csrf_token, sign, text_of

CASE = "sonia-dahmani"


def with_rules(monkeypatch, **rules):
    """The French section with these legal rules."""
    import sections.fr

    section = sections.fr.SECTION
    monkeypatch.setattr(sections.fr, "SECTION", dataclasses.replace(section, legal=dataclasses.replace(section.legal, **rules)))


def rows(app, model):
    with app.extensions["ecrire"].db.session() as session:
        return list(session.scalars(select(model).order_by(model.id)))


def link_in(message) -> str:
    body = message.get_body(("plain",)).get_content()
    return re.search(r"https?://\S+(/confirm/\S+)", body).group(1)


def confirm(client, link: str):
    page = client.get(link)
    assert page.status_code == 200 and "<form" in page.get_data(as_text=True)
    return client.post(link, data={"csrf_token": csrf_token(client, link)})


def test_the_age_question_is_asked_and_nothing_is_pre_selected(make_app):
    fr = section_client(make_app(), "fr.localhost")
    page = fr.get(f"/cases/{CASE}").get_data(as_text=True)
    assert "J’ai 15 ans ou plus" in page or "15" in text_of(fr.get(f"/cases/{CASE}"))
    radios = re.findall(r'<input[^>]*name="legal-petition-of_age"[^>]*>', page)
    assert radios and not any("checked" in r for r in radios)


def test_without_an_answer_the_error_shows_next_to_the_question(make_app):
    app = make_app()
    fr = section_client(app, "fr.localhost")
    response = sign(fr, **{"legal-of_age": None})
    assert response.status_code == 422
    assert 'id="legal-petition-of_age-error"' in response.get_data(as_text=True)
    assert rows(app, Action) == []


def test_an_adult_signature_keeps_proof_of_each_consent(make_app):
    app = make_app()
    fr = section_client(app, "fr.localhost", **{"User-Agent": "TestBrowser/1.0"})
    assert sign(fr, email="ana@example.org").status_code == 303
    [action] = rows(app, Action)
    records = {r.purpose: r for r in rows(app, ConsentRecord)}
    assert set(records) >= {"action", "age"}
    assert records["action"].given and records["action"].action_id == action.id
    assert records["action"].wording and records["action"].wording_version
    assert records["age"].given and "15" in records["age"].wording
    assert records["action"].request["user_agent"] == "TestBrowser/1.0" and records["action"].request["path"].endswith("/act/petition")


def test_under_the_consent_age_the_action_counts_anonymously(make_app):
    app = make_app()
    fr = section_client(app, "fr.localhost")
    response = sign(fr, email="kid@example.org", name="Kid Name", **{"legal-of_age": "minor"})
    assert response.status_code == 303
    [action] = rows(app, Action)
    assert action.supporter_id is None and "Kid" not in str(action.payload)
    assert rows(app, Supporter) == [], "no name, no email kept"
    assert read_counts(app).case("fr", CASE) == 1
    assert "15" in text_of(fr.get(response.headers["Location"]))


def test_under_age_with_a_parent_rule_waits_for_the_parents_agreement(make_app, monkeypatch, smtp_sink):
    with_rules(monkeypatch, consent_age=14, under_age="parent")
    app = make_app(ECRIRE_SMTP_HOST=smtp_sink.host, ECRIRE_SMTP_PORT=smtp_sink.port)
    fr = section_client(app, "fr.localhost")
    missing = sign(fr, email="kid@example.org", **{"legal-of_age": "minor"})
    assert missing.status_code == 422 and 'id="legal-petition-parent_email-error"' in missing.get_data(as_text=True)
    sent = sign(fr, email="kid@example.org", **{"legal-of_age": "minor", "legal-parent_email": "parent@example.org"})
    assert sent.status_code == 303
    [action] = rows(app, Action)
    assert action.status == "unverified" and read_counts(app).case("fr", CASE) == 0
    [mail] = smtp_sink.messages
    assert mail.rcpt_tos == ("parent@example.org",)
    confirm(section_client(app, "fr.localhost"), link_in(mail.message))
    [action] = rows(app, Action)
    assert action.status == "recorded" and read_counts(app).case("fr", CASE) == 1
    assert "parent-confirmed" in {r.purpose for r in rows(app, ConsentRecord)}


def test_a_section_that_checks_addresses_counts_only_confirmed_actions(make_app, monkeypatch, smtp_sink):
    with_rules(monkeypatch, verify_email=True)
    app = make_app(ECRIRE_SMTP_HOST=smtp_sink.host, ECRIRE_SMTP_PORT=smtp_sink.port)
    fr = section_client(app, "fr.localhost")
    response = sign(fr, email="ana@example.org")
    assert "confirmer votre adresse" in text_of(fr.get(response.headers["Location"]))
    assert read_counts(app).case("fr", CASE) == 0
    create_accounts(app)
    dashboard = sign_in(app, "fr.localhost", "fr-admin@example.org").get("/admin/")
    assert 'id="unconfirmed"' in dashboard.get_data(as_text=True), "counted apart on the dashboard"
    link = link_in(smtp_sink.messages[0].message)
    assert confirm(section_client(app, "fr.localhost"), link).status_code == 200
    assert read_counts(app).case("fr", CASE) == 1
    again = section_client(app, "fr.localhost")
    assert again.post(link, data={"csrf_token": csrf_token(again, link)}).status_code == 410, "once only"
    assert read_counts(app).case("fr", CASE) == 1


def test_newsletter_is_separate_unticked_and_double_opt_in_keeps_the_request(make_app, monkeypatch, smtp_sink):
    with_rules(monkeypatch, newsletter=True, double_opt_in=True)
    app = make_app(ECRIRE_SMTP_HOST=smtp_sink.host, ECRIRE_SMTP_PORT=smtp_sink.port)
    fr = section_client(app, "fr.localhost")
    page = fr.get(f"/cases/{CASE}").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="legal-petition-newsletter"[^>]*>', page).group(0)
    assert "checked" not in box
    sign(fr, email="ana@example.org", **{"legal-newsletter": "y"})
    assert read_counts(app).case("fr", CASE) == 1, "the signature counts at once"
    records = {r.purpose: r for r in rows(app, ConsentRecord)}
    assert records["newsletter-request"].given and records["newsletter-request"].request["path"]
    confirm(section_client(app, "fr.localhost"), link_in(smtp_sink.messages[0].message))
    assert "newsletter-confirmed" in {r.purpose for r in rows(app, ConsentRecord)}
    sign(section_client(app, "fr.localhost"), email="bob@example.org")
    assert {r.purpose: r.given for r in rows(app, ConsentRecord) if r.supporter_id != records["action"].supporter_id}["newsletter"] is False


def test_actions_never_confirmed_are_erased_after_the_sections_delay(make_app, monkeypatch, smtp_sink):
    with_rules(monkeypatch, verify_email=True, unverified_days=7)
    app = make_app(ECRIRE_SMTP_HOST=smtp_sink.host, ECRIRE_SMTP_PORT=smtp_sink.port)
    sign(section_client(app, "fr.localhost"), email="late@example.org", name="Late Person")
    portal = app.extensions["ecrire"]
    import datetime as dt

    with portal.db.writing() as session:
        for action in session.scalars(select(Action)):
            action.created_at -= dt.timedelta(days=8)
    output = app.test_cli_runner().invoke(args=["privacy", "purge", "--section", "fr"]).output
    assert "1 unconfirmed action(s)" in output
    [action] = rows(app, Action)
    assert action.status == "expired" and read_counts(app).case("fr", CASE) == 0
    assert [s.email for s in rows(app, Supporter) if "@" in s.email] == [], "nothing personal left"
    link = link_in(smtp_sink.messages[0].message)
    late = section_client(app, "fr.localhost")
    assert late.post(link, data={"csrf_token": csrf_token(late, link)}).status_code == 410, "too late to confirm"


@pytest.mark.parametrize(
    "host, age, question",
    [("fr.localhost", 15, "legal-petition-of_age"), ("be.localhost", 13, "legal-petition-of_age"),
     ("ch.localhost", 16, "legal-petition-of_age"), ("ca-fr.localhost", 14, "legal-petition-birth_year")],
)
def test_each_shipped_section_asks_its_own_age_question(make_app, host, age, question):
    page = section_client(make_app(), host).get(f"/cases/{CASE}").get_data(as_text=True)
    assert f'name="{question}"' in page
    if question.endswith("of_age"):
        assert re.search(rf"\b{age}\b", text_of_html(page)), f"the age {age} is stated"


def text_of_html(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_in_quebec_a_child_under_14_needs_a_parent(make_app, smtp_sink):
    import datetime as dt

    app = make_app(ECRIRE_SMTP_HOST=smtp_sink.host, ECRIRE_SMTP_PORT=smtp_sink.port)
    ca = section_client(app, "ca-fr.localhost")
    twelve = str(dt.date.today().year - 12)
    refused = sign(ca, email="kid@example.org", **{"legal-of_age": None, "legal-birth_year": twelve})
    assert refused.status_code == 422 and 'id="legal-petition-parent_email-error"' in refused.get_data(as_text=True)
    held = sign(ca, email="kid@example.org",
                **{"legal-of_age": None, "legal-birth_year": twelve, "legal-parent_email": "parent@example.org"})
    assert held.status_code == 303 and smtp_sink.messages[0].rcpt_tos == ("parent@example.org",)
    adult = sign(section_client(app, "ca-fr.localhost"), email="adult@example.org",
                 **{"legal-of_age": None, "legal-birth_year": str(dt.date.today().year - 40)})
    assert adult.status_code == 303 and read_counts(app).case("ca_fr", CASE) == 1, "only the adult counts yet"


def test_in_switzerland_the_newsletter_needs_a_confirmed_link(make_app, smtp_sink):
    app = make_app(ECRIRE_SMTP_HOST=smtp_sink.host, ECRIRE_SMTP_PORT=smtp_sink.port)
    ch = section_client(app, "ch.localhost")
    assert sign(ch, email="urs@example.org", **{"legal-newsletter": "y"}).status_code == 303
    [mail] = smtp_sink.messages
    assert mail.rcpt_tos == ("urs@example.org",) and "/confirm/" in mail.message.get_body(("plain",)).get_content()
