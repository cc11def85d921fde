"""Signing a petition: the supporter's path, its errors, and the counts."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from core.models import Action, Supporter
from tests.conftest import csrf_token, section_client, sign, text_of


def stored(app, model):
    with app.extensions["ecrire"].db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_case_page_shows_story_ask_count_and_form(fr):
    page = fr.get("/cases/sonia-dahmani")
    text = text_of(page)
    assert page.status_code == 200
    assert "Sonia Dahmani" in text and "Tunisie" in text
    assert "Ce que nous demandons" in text
    assert "France : 0 action" in text
    html = page.get_data(as_text=True)
    for field in ("name", "email", "country", "consent", "csrf_token"):
        assert f'name="{field}"' in html
    # The country defaults to the section's country, named in French.
    assert '<option selected value="FR">France</option>' in html


def test_signing_counts_and_thanks_with_share_links(app, fr):
    response = sign(fr)
    assert response.status_code == 303
    thanks = fr.get(response.headers["Location"])
    text = text_of(thanks)
    assert thanks.status_code == 200
    assert "Merci" in text and "Sonia Dahmani" in text
    assert "France : 1 action" in text
    html = thanks.get_data(as_text=True)
    assert "https://bsky.app/intent/compose?" in html and "https://wa.me/?" in html
    assert "fr.localhost" in html  # share links carry the section's own address
    # Suggests another case the supporter has not acted on.
    assert "Sai Zaw Thaike" in text
    assert stored(app, Action) == 1 and stored(app, Supporter) == 1


def test_same_email_signs_once_and_is_told_so(app, fr):
    sign(fr, email="Camille@Example.org ")
    again = sign(fr, email="camille@example.org", name="C. Martin")
    assert again.status_code == 303
    text = text_of(fr.get(again.headers["Location"]))
    assert "déjà" in text  # "You had already ..." in French
    assert "France : 1 action" in text
    assert stored(app, Action) == 1 and stored(app, Supporter) == 1
    # Another case is another signature.
    sign(fr, case_id="damisoa")
    assert stored(app, Action) == 2 and stored(app, Supporter) == 1


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"name": ""}, "name", "Veuillez indiquer votre nom."),
        ({"name": "x" * 121}, "name", "120"),
        ({"email": ""}, "email", "adresse e-mail"),
        ({"email": "camille@"}, "email", "adresse e-mail"),
        ({"email": "a" * 250 + "@example.org"}, "email", "adresse e-mail"),
        ({"country": "XX"}, "country", None),
        ({"country": None}, "country", None),
        ({"consent": None}, "consent", "cocher"),
    ],
    ids=["name-missing", "name-too-long", "email-missing", "email-invalid", "email-too-long", "country-unknown", "country-missing", "no-consent"],
)
def test_each_error_is_shown_next_to_its_field_in_french(app, fr, fields, field, message):
    response = sign(fr, **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    # The error sits inside the field's own block, tied to it for screen readers.
    block = re.search(rf'<div class="field[^"]*has-error">(?:(?!</div>).)*name="{field}"(?:(?!</div>).)*</div>', html, re.S)
    assert block, f"no error beside {field}"
    error = re.search(rf'<p class="field-error" id="{field}-error">([^<]+)</p>', block.group(0))
    assert error and f'aria-describedby="{field}-error"' in block.group(0)
    if message:
        assert message in error.group(1)
    assert "Veuillez corriger" in text_of(response)
    # What the supporter typed is kept.
    if field != "name":
        assert 'value="Camille Martin"' in html
    assert stored(app, Action) == 0


def test_errors_in_dutch_on_the_belgian_portal(app):
    be = section_client(app, "be.localhost", accept_language="nl")
    response = sign(be, name="", consent=None)
    assert response.status_code == 422
    text = text_of(response)
    assert "Vul je naam in." in text
    assert stored(app, Action) == 0


def test_missing_or_wrong_csrf_token_records_nothing(app, fr):
    fr.get("/cases/sonia-dahmani")
    data = {"name": "Camille", "email": "c@example.org", "country": "FR", "consent": "y"}
    missing = fr.post("/cases/sonia-dahmani/act/petition", data=data)
    assert missing.status_code == 400
    assert "Veuillez réessayer" in text_of(missing) or "réessayer" in text_of(missing)
    forged = fr.post("/cases/sonia-dahmani/act/petition", data={**data, "csrf_token": "forged"})
    assert forged.status_code == 400
    # A token from another supporter's session does not work either.
    other = section_client(app, "fr.localhost")
    stolen = csrf_token(other, "/cases/sonia-dahmani")
    assert fr.post("/cases/sonia-dahmani/act/petition", data={**data, "csrf_token": stolen}).status_code == 400
    assert stored(app, Action) == 0


def test_counts_after_signatures_in_two_sections(app):
    fr_clients = [section_client(app, "fr.localhost") for _ in range(3)]
    for n, client in enumerate(fr_clients):
        sign(client, email=f"fr{n}@example.org")
    be = section_client(app, "be.localhost", accept_language="fr")
    for n in range(2):
        sign(be, email=f"be{n}@example.org", country="BE")
    sign(be, case_id="damisoa", email="be0@example.org")

    fr_page = text_of(section_client(app, "fr.localhost").get("/cases/sonia-dahmani"))
    assert "France : 3 actions" in fr_page and "Dans le monde : 5 actions" in fr_page
    be_page = text_of(section_client(app, "be.localhost").get("/cases/sonia-dahmani"))
    assert "Belgique : 2 actions" in be_page and "Dans le monde : 5 actions" in be_page

    home = section_client(app, "be.localhost").get("/").get_data(as_text=True)
    assert '<dd class="count" data-count="section">3</dd>' in home
    assert '<dd class="count" data-count="world">6</dd>' in home
    counts = app.extensions["ecrire"].counts.get(app.extensions["ecrire"].db.session(), fresh=True)
    assert (counts.section("fr"), counts.section("be"), counts.world()) == (3, 3, 6)
    assert counts.case("be", "damisoa") == 1 and counts.case_world("sonia-dahmani") == 5


def test_user_written_text_is_escaped(app, fr):
    response = sign(fr, name="<script>alert(1)</script>", email="bad")
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.fixture
def section_settings(monkeypatch):
    """Give the French section some petition settings before the app starts."""
    import dataclasses

    import sections.fr

    def apply(settings):
        section = dataclasses.replace(sections.fr.SECTION, plugin_settings={"petition": settings})
        monkeypatch.setattr(sections.fr, "SECTION", section)

    return apply


def test_a_section_can_leave_out_the_name_and_make_the_country_optional(section_settings, make_app):
    section_settings({"name": "hidden", "country": "optional"})
    app = make_app()
    fr = section_client(app, "fr.localhost")
    html = petition_panel(fr.get("/cases/sonia-dahmani"))
    assert 'name="name"' not in html
    assert "Pays (facultatif)" in html
    response = sign(fr, name=None, country=None)
    assert response.status_code == 303
    with app.extensions["ecrire"].db.session() as session:
        supporter = session.scalars(select(Supporter)).one()
    # No name asked; the country select starts on the section's country.
    assert (supporter.name, supporter.country) == ("", "FR")
    # The Belgian section keeps the defaults.
    assert 'name="name"' in petition_panel(section_client(app, "be.localhost").get("/cases/sonia-dahmani"))


def test_a_required_field_stays_required(section_settings, make_app):
    section_settings({"country": "required"})
    fr = section_client(make_app(), "fr.localhost")
    assert sign(fr, name="").status_code == 422


def test_a_wrong_setting_is_named_and_leaves_the_rest_of_the_page(section_settings, make_app, caplog):
    section_settings({"country": "sometimes"})
    page = section_client(make_app(), "fr.localhost").get("/cases/sonia-dahmani")
    assert page.status_code == 200
    assert "Cette action n’est pas disponible pour le moment." in text_of(page)
    assert "petition setting 'country' must be required, optional or hidden" in caplog.text
    assert "'petition' failed to render" in caplog.text


def petition_panel(response) -> str:
    match = re.search(r'<details class="panel" id="act-petition".*?</details>', response.get_data(as_text=True), re.S)
    assert match, "no petition panel"
    return match.group(0)
