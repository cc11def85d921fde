"""The Cases page of the admin: hiding a case, its goal and its recipient
in one section, applied by the portal and the outbox."""
from __future__ import annotations

from sqlalchemy import select

from core.models import AuditEntry, CaseOverride, Delivery
from core.testing import section_client, take_action
from tests.admin.conftest import post_form, sign_in
from tests.conftest import text_of

CASE = "sonia-dahmani"


def audit(app, action: str) -> list[AuditEntry]:
    with app.extensions["ecrire"].db.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_hiding_a_case_hides_it_in_that_section_only(admin_app):
    fr, be = section_client(admin_app, "fr.localhost"), section_client(admin_app, "be.localhost")
    assert f'/cases/{CASE}"' in fr.get("/").get_data(as_text=True)
    client = sign_in(admin_app, "fr.localhost", "fr-admin@example.org")
    listing = client.get("/admin/cases")
    assert listing.status_code == 200 and "Sonia Dahmani" in text_of(listing)
    assert post_form(client, f"/admin/cases/{CASE}/visibility", {"hidden": "1"}, page="/admin/cases").status_code == 302
    assert f'/cases/{CASE}"' not in fr.get("/").get_data(as_text=True)
    assert fr.get(f"/cases/{CASE}").status_code == 404
    assert be.get(f"/cases/{CASE}").status_code == 200
    assert f'/cases/{CASE}"' in be.get("/").get_data(as_text=True)
    listing = text_of(client.get("/admin/cases"))
    assert "Hidden" in listing and "Show Sonia Dahmani" in listing, "the admin still lists it, marked"
    [entry] = audit(admin_app, "case.hide")
    assert (entry.section_code, entry.detail) == ("fr", {"case": CASE})
    post_form(client, f"/admin/cases/{CASE}/visibility", {"hidden": "0"}, page="/admin/cases")
    assert fr.get(f"/cases/{CASE}").status_code == 200
    assert audit(admin_app, "case.show")


def test_goal_override_shows_on_the_case_page(admin_app):
    fr, be = section_client(admin_app, "fr.localhost"), section_client(admin_app, "be.localhost")
    client = sign_in(admin_app, "fr.localhost", "fr-admin@example.org")
    bad = post_form(client, f"/admin/cases/{CASE}", {"goal": "-3"})
    assert bad.status_code == 400 and 'class="field-error"' in bad.get_data(as_text=True)
    assert post_form(client, f"/admin/cases/{CASE}", {"goal": "4321"}).status_code == 302
    assert 'max="4321"' in fr.get(f"/cases/{CASE}").get_data(as_text=True)
    assert 'max="4321"' not in be.get(f"/cases/{CASE}").get_data(as_text=True)
    [entry] = audit(admin_app, "case.goal")
    assert entry.detail == {"case": CASE, "goal": 4321}
    post_form(client, f"/admin/cases/{CASE}", {"goal": ""})
    assert 'max="4321"' not in fr.get(f"/cases/{CASE}").get_data(as_text=True)


def write_letter(client, name: str):
    response = take_action(
        client, CASE, "letter",
        letter="Madame, Monsieur,\n\nLibérez Sonia Dahmani.", name=name, town="Lyon",
        email=f"{name}@example.org", consent="y", step="send",
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]


def letters(app) -> list[Delivery]:
    with app.extensions["ecrire"].db.session() as session:
        return list(session.scalars(select(Delivery).where(Delivery.kind == "letter", Delivery.section_code == "fr").order_by(Delivery.id)))


def test_routing_override_changes_where_the_next_letter_goes(admin_app):
    channels = sorted(admin_app.extensions["ecrire"].channels_for("fr"))
    assert channels
    channel = channels[-1]
    fr = section_client(admin_app, "fr.localhost")
    write_letter(fr, "before")
    [first] = letters(admin_app)
    client = sign_in(admin_app, "fr.localhost", "fr-admin@example.org")
    missing = post_form(client, f"/admin/cases/{CASE}", {"recipient_name": "Ambassade de Tunisie", "channel": "nope"})
    assert missing.status_code == 400
    response = post_form(client, f"/admin/cases/{CASE}", {
        "recipient_name": "Ambassade de Tunisie", "recipient_title": "Son Excellence",
        "recipient_address": "25 rue Barbet-de-Jouy\n75007 Paris", "recipient_email": "amb@example.org",
        "channel": channel,
    })
    assert response.status_code == 302
    assert "Ambassade de Tunisie" in text_of(client.get(f"/admin/cases/{CASE}"))
    write_letter(fr, "after")
    second = letters(admin_app)[-1]
    assert second.recipient == {
        "name": "Ambassade de Tunisie", "title": "Son Excellence",
        "address": ["25 rue Barbet-de-Jouy", "75007 Paris"], "email": "amb@example.org",
    }
    assert second.channel == channel
    assert first.recipient != second.recipient
    [entry] = audit(admin_app, "case.routing")
    assert entry.detail == {"case": CASE, "recipient": "Ambassade de Tunisie", "channel": channel}
    # Reset: the routing plan answers again.
    post_form(client, f"/admin/cases/{CASE}", {"reset_routing": "y"})
    write_letter(fr, "reset")
    assert letters(admin_app)[-1].recipient == first.recipient
    assert letters(admin_app)[-1].channel == first.channel


def test_overrides_are_scoped_to_the_section(admin_app):
    be_admin = sign_in(admin_app, "be.localhost", "be-admin@example.org")
    post_form(be_admin, f"/admin/cases/{CASE}/visibility", {"hidden": "1"}, page="/admin/cases")
    with admin_app.extensions["ecrire"].db.session() as session:
        rows = list(session.scalars(select(CaseOverride)))
    assert [(r.section_code, r.case_id, r.hidden) for r in rows] == [("be", CASE, True)]
    assert section_client(admin_app, "fr.localhost").get(f"/cases/{CASE}").status_code == 200
    be_on_fr = sign_in(admin_app, "fr.localhost", "be-admin@example.org")
    assert be_on_fr.get("/admin/cases").status_code == 403
    assert be_admin.get("/admin/cases/no-such-case").status_code == 404


def test_a_message_written_before_its_case_was_hidden_can_still_be_approved(admin_app):
    from core import moderation
    from core.testing import read_counts

    fr = section_client(admin_app, "fr.localhost")
    sent = take_action(fr, CASE, "solidarity", message="Courage, Sonia.", first_name="Zoé", town="Brest")
    assert sent.status_code == 303
    client = sign_in(admin_app, "fr.localhost", "fr-admin@example.org")
    post_form(client, f"/admin/cases/{CASE}/visibility", {"hidden": "1"}, page="/admin/cases")
    portal = admin_app.extensions["ecrire"]
    [waiting] = moderation.pending(portal, "fr")
    moderation.approve(portal, "fr", waiting.id)  # hiding stops new actions, not those already written
    assert read_counts(admin_app).case("fr", CASE) == 1
    with portal.db.session() as session:
        assert [d.kind for d in session.scalars(select(Delivery))] == ["card"], "its card is queued"
