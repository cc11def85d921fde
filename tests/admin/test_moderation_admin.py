"""The admin's moderation queue: what moderators and section admins see, and
what their decisions do on the portal."""
from __future__ import annotations

from sqlalchemy import select

from core.models import Action, AuditEntry, Delivery, Supporter
from core.testing import read_counts, section_client, take_action
from tests.admin.conftest import csrf_from, sign_in
from tests.conftest import rows, text_of

CASE = "damisoa"
QUEUE = "/admin/moderation"
WALL = f"/x/solidarity_message/{CASE}"


def write(app, message: str, first_name: str = "Camille", town: str = "Lyon", host: str = "fr.localhost") -> int:
    """Send a solidarity message as a supporter would; returns its action id."""
    response = take_action(section_client(app, host), CASE, "solidarity", message=message, first_name=first_name, town=town)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return max(a.id for a in rows(app, Action))


def decide(client, ids, button: str, reason: str | None = None, origin: str = "bulk"):
    token = csrf_from(client.get(QUEUE).get_data(as_text=True))
    data = {"csrf_token": token, "ids": [str(i) for i in ids], "origin": origin, button: "1"}
    if reason is not None:
        data["reason"] = reason
    return client.post(QUEUE, data=data)


def status_of(app, action_id: int) -> tuple[str, str | None]:
    with app.extensions["ecrire"].db.session() as session:
        action = session.get(Action, action_id)
        return action.status, action.note


def audit(app, verb: str) -> list[dict]:
    with app.extensions["ecrire"].db.session() as session:
        return [e.detail for e in session.scalars(select(AuditEntry).where(AuditEntry.action == verb))]


def test_moderator_sees_the_message_and_approves_it_onto_the_wall(admin_app):
    action_id = write(admin_app, "Tenez bon, <b>Damisoa</b>.\nNous sommes là.")
    moderator = sign_in(admin_app, "fr.localhost", "fr-moderator@example.org")
    assert moderator.get("/admin/").headers["Location"].endswith(QUEUE)  # no dashboard for moderators
    page = moderator.get(QUEUE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Tenez bon, &lt;b&gt;Damisoa&lt;/b&gt;.<br>Nous sommes là." in html  # escaped, line breaks kept
    text = text_of(page)
    assert "1 message waits for a decision." in text and "Camille" in text and "Lyon" in text
    assert "Damisoa" in text  # the case
    assert read_counts(admin_app).case("fr", CASE) == 0

    response = decide(moderator, [action_id], "approve", origin=str(action_id))
    assert response.status_code == 302
    assert "1 message approved." in text_of(moderator.get(response.headers["Location"]))
    assert status_of(admin_app, action_id) == ("approved", None)
    assert read_counts(admin_app).case("fr", CASE) == 1
    assert "Nous sommes là." in section_client(admin_app, "fr.localhost").get(WALL).get_data(as_text=True)
    assert [d.kind for d in rows(admin_app, Delivery)] == ["card"]  # queued as before
    assert audit(admin_app, "moderation.approve") == [{"ids": [action_id]}]
    assert "Nothing waits for a decision." in text_of(moderator.get(QUEUE))


def test_rejecting_needs_a_reason_shown_next_to_its_field(admin_app):
    action_id = write(admin_app, "Un message hors sujet.")
    moderator = sign_in(admin_app, "fr.localhost", "fr-moderator@example.org")
    response = decide(moderator, [action_id], "reject", reason="  ", origin=str(action_id))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    error = f'<p class="field-error" id="reason-{action_id}-error">Please say why the message is rejected.</p>'
    assert error in html
    assert f'id="reason-{action_id}" rows="2" maxlength="1000" aria-invalid="true"' in html
    assert status_of(admin_app, action_id) == ("pending", None)
    assert audit(admin_app, "moderation.reject") == []

    response = decide(moderator, [action_id], "reject", reason="hors sujet", origin=str(action_id))
    assert response.status_code == 302
    assert status_of(admin_app, action_id) == ("rejected", "hors sujet")
    assert read_counts(admin_app).case("fr", CASE) == 0 and rows(admin_app, Delivery) == []
    assert audit(admin_app, "moderation.reject") == [{"ids": [action_id], "reason": "hors sujet"}]
    assert "Un message hors sujet." not in section_client(admin_app, "fr.localhost").get(WALL).get_data(as_text=True)


def test_bulk_decisions_on_the_checked_messages(admin_app):
    spam = [write(admin_app, f"Achetez maintenant {n}") for n in range(2)]
    kind = [write(admin_app, f"Courage numéro {n}") for n in range(3)]
    moderator = sign_in(admin_app, "fr.localhost", "fr-moderator@example.org")
    assert "5 messages wait for a decision." in text_of(moderator.get(QUEUE))

    # The bulk reason is required too, and its error is next to the bulk field.
    refused = decide(moderator, spam, "reject", reason="")
    assert refused.status_code == 400
    assert '<p class="field-error" id="reason-bulk-error">' in refused.get_data(as_text=True)
    nothing_checked = decide(moderator, [], "approve")
    assert nothing_checked.status_code == 400 and "Check at least one message." in text_of(nothing_checked)

    assert decide(moderator, spam, "reject", reason="publicité").status_code == 302
    response = decide(moderator, kind, "approve")
    assert "3 messages approved." in text_of(moderator.get(response.headers["Location"]))
    assert [status_of(admin_app, i) for i in spam] == [("rejected", "publicité")] * 2
    assert [status_of(admin_app, i)[0] for i in kind] == ["approved"] * 3
    assert read_counts(admin_app).case("fr", CASE) == 3
    assert audit(admin_app, "moderation.approve") == [{"ids": kind}]
    # Decided already: asking again changes nothing and says so.
    again = decide(moderator, kind[:1], "reject", reason="oups")
    assert "1 message was already decided by someone else." in text_of(moderator.get(again.headers["Location"]))
    assert status_of(admin_app, kind[0]) == ("approved", None)


def add_pending_with_supporter(app, email: str, name: str) -> int:
    """A pending action whose action type stored the writer (the solidarity
    message itself is anonymous, so the row is written directly)."""
    with app.extensions["ecrire"].db.writing() as session:
        supporter = Supporter(section_code="fr", email=email, name=name, country="FR")
        session.add(supporter)
        session.flush()
        action = Action(section_code="fr", case_id=CASE, action_type="solidarity", supporter_id=supporter.id,
                        payload={"message": "Signé de ma main.", "first_name": "Rosalie", "town": "Nantes", "language": "fr"},
                        status="pending")
        session.add(action)
        session.flush()
        return action.id


def test_writer_details_are_for_section_admins_not_moderators(admin_app):
    add_pending_with_supporter(admin_app, "rosalie.dupont@example.org", "Rosalie Dupont")
    moderator_page = sign_in(admin_app, "fr.localhost", "fr-moderator@example.org").get(QUEUE)
    admin_page = sign_in(admin_app, "fr.localhost", "fr-admin@example.org").get(QUEUE)
    for page in (moderator_page, admin_page):  # what goes on the card, everyone sees
        assert "Signé de ma main." in text_of(page) and "Rosalie" in text_of(page) and "Nantes" in text_of(page)
    assert "rosalie.dupont@example.org" not in moderator_page.get_data(as_text=True)
    assert "Rosalie Dupont" not in moderator_page.get_data(as_text=True)
    assert "Writer's details" not in text_of(moderator_page)
    assert "rosalie.dupont@example.org" in admin_page.get_data(as_text=True)
    assert "Rosalie Dupont" in text_of(admin_page)


def test_another_sections_action_cannot_be_decided_by_id(admin_app):
    fr_action = write(admin_app, "Pour la France seulement.")
    be_moderator = sign_in(admin_app, "be.localhost", "be-moderator@example.org")
    assert "Pour la France seulement." not in be_moderator.get(QUEUE).get_data(as_text=True)
    assert decide(be_moderator, [fr_action], "approve", origin=str(fr_action)).status_code == 404
    assert decide(be_moderator, [fr_action], "reject", reason="non").status_code == 404
    # Mixed with one of its own: nothing at all is decided.
    be_action = write(admin_app, "Voor België.", host="be.localhost")
    assert decide(be_moderator, [be_action, fr_action], "approve").status_code == 404
    assert status_of(admin_app, fr_action) == ("pending", None)
    assert status_of(admin_app, be_action) == ("pending", None)
    assert read_counts(admin_app).world() == 0
    # The fr moderator cannot open the Belgian queue either.
    fr_moderator = sign_in(admin_app, "fr.localhost", "fr-moderator@example.org")
    assert section_client(admin_app, "be.localhost").get(QUEUE).status_code in (302, 401)
    assert fr_moderator.get(QUEUE).status_code == 200
