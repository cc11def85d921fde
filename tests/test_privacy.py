"""Supporters' rights (access, erasure) and retention."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from core import privacy
from core.models import Action, Delivery, PrivacyRequest, Supporter
from core.testing import read_counts, section_client
from tests.admin.conftest import create_accounts, sign_in
from tests.conftest import csrf_token, sign, text_of


@pytest.fixture
def app(make_app, smtp_sink):
    return make_app(ECRIRE_SMTP_HOST=smtp_sink.host, ECRIRE_SMTP_PORT=smtp_sink.port, ECRIRE_MAIL_FROM="contact@fr.example")


def ask(client, kind: str, email: str):
    data = {"csrf_token": csrf_token(client, "/privacy/request"), "kind": kind, "email": email}
    return client.post("/privacy/request", data=data)


def link_in(message) -> str:
    body = message.get_body(("plain",)).get_content()
    return re.search(r"https?://\S+/privacy/confirm/\S+", body).group(0).split("fr.localhost", 1)[1]


def supporter(app, email: str) -> Supporter | None:
    with app.extensions["ecrire"].db.session() as session:
        return session.scalar(select(Supporter).where(Supporter.email == email))


def test_the_privacy_page_leads_to_the_request_form(app):
    fr = section_client(app, "fr.localhost")
    page = fr.get("/privacy").get_data(as_text=True)
    assert 'href="/privacy/request"' in page
    form = fr.get("/privacy/request")
    assert form.status_code == 200 and "M’envoyer le lien" in text_of(form), "in the page language"


def test_a_request_form_error_shows_next_to_its_field(app, smtp_sink):
    fr = section_client(app, "fr.localhost")
    response = ask(fr, "access", "not-an-address")
    assert response.status_code == 400
    assert 'id="email-error"' in response.get_data(as_text=True)
    assert smtp_sink.messages == []


def test_access_sends_everything_stored_by_email_after_the_link_is_confirmed(app, smtp_sink):
    fr = section_client(app, "fr.localhost")
    assert sign(fr, email="ana@example.org", name="Ana Silva").status_code == 303
    response = ask(fr, "access", "Ana@Example.org ")
    assert response.status_code == 200 and "7" in text_of(response)
    [link_mail] = smtp_sink.messages
    assert link_mail.rcpt_tos == ("ana@example.org",)
    link = link_in(link_mail.message)
    page = fr.get(link)
    assert page.status_code == 200 and "<form" in page.get_data(as_text=True), "a button, not an action on GET"
    assert len(smtp_sink.messages) == 1, "opening the link alone does nothing"
    done = fr.post(link, data={"csrf_token": csrf_token(fr, link)})
    assert done.status_code == 200
    export_mail = smtp_sink.messages[-1].message
    [attachment] = list(export_mail.iter_attachments())
    data = json.loads(attachment.get_content())
    assert data["supporter"]["email"] == "ana@example.org" and data["supporter"]["name"] == "Ana Silva"
    assert [a["type"] for a in data["actions"]] == ["petition"]
    assert fr.post(link, data={"csrf_token": csrf_token(fr, "/privacy/request")}).status_code == 410, "once only"


def test_an_unknown_address_gets_the_same_answer_and_an_honest_email(app, smtp_sink):
    fr = section_client(app, "fr.localhost")
    assert ask(fr, "access", "nobody@example.org").status_code == 200
    link = link_in(smtp_sink.messages[0].message)
    fr.post(link, data={"csrf_token": csrf_token(fr, link)})
    answer = smtp_sink.messages[-1].message
    assert list(answer.iter_attachments()) == []
    assert "aucune donnée" in answer.get_body(("plain",)).get_content()


def test_erasure_keeps_the_counts_and_cancels_what_was_not_sent(app, smtp_sink):
    fr = section_client(app, "fr.localhost")
    sign(fr, email="ana@example.org", name="Ana Silva")
    before = read_counts(app).case("fr", "sonia-dahmani")
    ask(fr, "erasure", "ana@example.org")
    link = link_in(smtp_sink.messages[0].message)
    fr.post(link, data={"csrf_token": csrf_token(fr, link)})
    assert supporter(app, "ana@example.org") is None
    with app.extensions["ecrire"].db.session() as session:
        erased = session.scalar(select(Supporter).where(Supporter.erased_at.is_not(None)))
        assert erased.name == "" and "@" not in erased.email
        [signature] = session.scalars(select(Delivery)).all()
        assert signature.status == "cancelled" and signature.body == {}, "the hand-over list will not carry her name"
        [request] = session.scalars(select(PrivacyRequest)).all()
        assert request.status == "done" and request.email == privacy.ERASED
    assert read_counts(app).case("fr", "sonia-dahmani") == before, "counts are kept"
    again = sign(fr, email="ana@example.org", name="Ana Silva")
    assert again.status_code == 303, "she may act again, as a new supporter"


def test_retention_purge_erases_supporters_past_the_period(app):
    fr = section_client(app, "fr.localhost")
    sign(fr, email="old@example.org", name="Old Supporter")
    portal = app.extensions["ecrire"]
    with portal.db.writing() as session:  # acted during the 2022 campaign
        for action in session.scalars(select(Action)):
            action.created_at = dt.datetime(2022, 12, 1, tzinfo=dt.timezone.utc)
    sign(fr, "sai-zaw-thaike", email="new@example.org", name="New Supporter")
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["privacy", "purge", "--dry-run", "--section", "fr"])
    assert "fr: would erase 1 supporter(s), 0 unconfirmed action(s)" in dry.output
    assert supporter(app, "old@example.org") is not None
    real = runner.invoke(args=["privacy", "purge", "--section", "fr"])
    assert "fr: erased 1 supporter(s), 0 unconfirmed action(s)" in real.output
    assert supporter(app, "old@example.org") is None and supporter(app, "new@example.org") is not None


def test_the_campaign_end_counts_from_the_close_after_the_action():
    from sections.be import SECTION as BE

    when = dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc)
    assert privacy.campaign_end_after(BE, when) == dt.date(2027, 1, 15)
    assert privacy.campaign_end_after(BE, dt.datetime(2027, 1, 10, tzinfo=dt.timezone.utc)) == dt.date(2027, 1, 15)


def test_section_admins_see_requests_and_deadlines_moderators_do_not(app, smtp_sink):
    create_accounts(app)
    fr = section_client(app, "fr.localhost")
    ask(fr, "erasure", "ana@example.org")
    admin = sign_in(app, "fr.localhost", "fr-admin@example.org")
    page = admin.get("/admin/privacy-requests")
    assert page.status_code == 200 and "ana@example.org" in page.get_data(as_text=True)
    moderator = sign_in(app, "fr.localhost", "fr-moderator@example.org")
    assert moderator.get("/admin/privacy-requests").status_code == 403
    other = sign_in(app, "be.localhost", "be-admin@example.org")
    assert "ana@example.org" not in other.get("/admin/privacy-requests").get_data(as_text=True)


def test_a_bundle_whose_every_item_was_erased_sends_nothing(app, smtp_sink, tmp_path):
    fr = section_client(app, "fr.localhost")
    sign(fr, email="ana@example.org", name="Ana Silva")
    portal = app.extensions["ecrire"]
    from core import bundles
    from core.testing import run_worker_once

    assert len(bundles.close_bundles(portal, force=True, section_code="fr")) == 1, "the hand-over bundle"
    with portal.db.writing() as session:
        privacy.erase(session, portal, "fr", "ana@example.org")
    assert run_worker_once(app).delivered == 1
    with portal.db.session() as session:
        [bundle] = session.scalars(select(Delivery).where(Delivery.kind == "bundle")).all()
        [signature] = session.scalars(select(Delivery).where(Delivery.kind == "signature")).all()
    assert bundle.status == "done" and bundle.files is None and "cancelled" in bundle.reference
    assert signature.status == "cancelled" and signature.body == {}
