"""Offline tally: a school or local group reports how many letters it wrote
on paper. The report counts as that many actions, under its own action type;
one report per contact email and case."""
from __future__ import annotations

import html as htmllib
import re

import pytest

from core.models import Action, Supporter
from core.testing import read_counts
from tests.conftest import rows, section_client, sign, text_of

CASE = "sonia-dahmani"
XSS = "<script>alert(1)</script>"
ESCAPED_XSS = "&lt;script&gt;alert(1)&lt;/script&gt;"
CSRF = re.compile(r'name="(?:[a-z_]+-)?csrf_token" type="hidden" value="([^"]+)"')


def report(client, case_id: str = CASE, **fields: str | None):
    """Report a group's letters as its contact would. Fields given replace
    the valid defaults (None leaves the field out)."""
    data: dict[str, str | None] = {
        "letters": "25",
        "group": "École Jules-Ferry, CM2 B",
        "kind": "school",
        "town": "Lyon",
        "email": "cm2b@example.org",
    }
    data.update(fields)
    form = {f"tally-{k}": v for k, v in data.items() if v is not None}
    page = client.get(f"/cases/{case_id}")
    form["tally-csrf_token"] = CSRF.search(page.get_data(as_text=True)).group(1)
    return client.post(f"/cases/{case_id}/act/offline-tally", data=form)


counts = read_counts  # a fresh snapshot, not the pages' cache




def panel(response) -> str:
    html = response.get_data(as_text=True)
    match = re.search(r'<details class="panel" id="act-offline-tally".*?</details>', html, re.S)
    assert match, "no offline tally panel on the page"
    return match.group(0)


def error_beside(response, field: str) -> str:
    """The error message inside the field's own block, tied to it for screen readers."""
    html = panel(response)
    block = re.search(rf'<div class="field has-error">(?:(?!</div>).)*name="tally-{field}"(?:(?!</div>).)*</div>', html, re.S)
    assert block, f"no error beside {field}"
    assert re.search(rf'aria-describedby="tally-{field}-error[" ]', block.group(0))
    assert 'aria-invalid="true"' in block.group(0)
    error = re.search(rf'<p class="field-error" id="tally-{field}-error">([^<]+)</p>', block.group(0))
    assert error
    return htmllib.unescape(error.group(1))


# -- the panel --------------------------------------------------------------------


def test_panel_comes_after_the_individual_actions(fr):
    page = fr.get(f"/cases/{CASE}")
    order = re.findall(r'<details class="panel" id="act-([a-z-]+)"', page.get_data(as_text=True))
    assert order[-1] == "offline-tally" and order.index("petition") < order.index("offline-tally")
    text = text_of(page)
    assert "Déclarer des lettres écrites sur papier" in text
    for label in ("Nombre de lettres écrites", "Nom du groupe ou de l’école", "Type de groupe", "Ville ou commune",
                  "Adresse e-mail de contact", "Déclarer nos lettres"):
        assert label in text, label
    html = panel(page)
    assert '<option value="school">École ou classe</option>' in html
    assert '<option value="local_group">Groupe local</option>' in html
    assert '<option value="other">Autre groupe</option>' in html
    # The whole total, once: said before they type.
    assert "Déclarez une seule fois le total de votre groupe" in text
    assert "pour corriger un nombre, contactez la section" in text
    # A numeric keypad on phones, without type=number's silent changes.
    assert re.search(r'<input[^>]*id="tally-letters"[^>]*inputmode="numeric"[^>]*type="text"', html)
    # Ids are prefixed: the petition on the same page has its own "email".
    ids = re.findall(r'\bid="([^"]+)"', page.get_data(as_text=True))
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_panel_in_dutch(app):
    be = section_client(app, "be.localhost", accept_language="nl")
    text = text_of(be.get(f"/cases/{CASE}"))
    for label in ("Op papier geschreven brieven doorgeven", "Aantal geschreven brieven", "Naam van de groep of school", "Soort groep",
                  "Gemeente", "E-mailadres voor contact", "Onze brieven doorgeven", "School of klas"):
        assert label in text, label


# -- validation --------------------------------------------------------------------

FRENCH_ERRORS = [
    ({"letters": ""}, "letters", "Veuillez indiquer le nombre de lettres écrites par votre groupe."),
    ({"letters": None}, "letters", "Veuillez indiquer le nombre de lettres écrites par votre groupe."),
    ({"letters": "0"}, "letters", "Veuillez indiquer un nombre de lettres d’au moins 1."),
    ({"letters": "-12"}, "letters", "Veuillez indiquer un nombre de lettres d’au moins 1."),
    ({"letters": "5001"}, "letters", "Plus de 5\u202f000 lettres en une seule déclaration\u00a0? Veuillez contacter la section"),
    ({"letters": "99999999999999999999"}, "letters", "Veuillez contacter la section"),
    ({"letters": "douze"}, "letters", "Veuillez indiquer le nombre de lettres en chiffres, par exemple 25."),
    ({"letters": "2.5"}, "letters", "en chiffres"),
    ({"group": ""}, "group", "Veuillez indiquer le nom de votre groupe."),
    ({"group": "   "}, "group", "Veuillez indiquer le nom de votre groupe."),
    ({"group": "x" * 121}, "group", "Veuillez utiliser 120 caractères au maximum."),
    ({"kind": ""}, "kind", "Veuillez choisir le type de groupe."),
    ({"kind": "army"}, "kind", "Veuillez choisir le type de groupe."),
    ({"town": ""}, "town", "Veuillez indiquer votre ville ou commune."),
    ({"town": "x" * 101}, "town", "Veuillez utiliser 100 caractères au maximum."),
    ({"email": ""}, "email", "Veuillez indiquer une adresse e-mail où la section peut vous joindre."),
    ({"email": "cm2b@"}, "email", "Cela ne ressemble pas à une adresse e-mail. Veuillez la vérifier."),
    ({"email": "a" * 250 + "@example.org"}, "email", "Cette adresse e-mail est trop longue."),
]


@pytest.mark.parametrize("fields, field, message", FRENCH_ERRORS, ids=[
    "letters-empty", "letters-missing", "letters-zero", "letters-negative", "letters-too-many", "letters-huge",
    "letters-words", "letters-decimal", "group-missing", "group-blank", "group-too-long", "kind-missing",
    "kind-unknown", "town-missing", "town-too-long", "email-missing", "email-invalid", "email-too-long",
])
def test_each_error_is_shown_beside_its_field_in_french(app, fr, fields, field, message):
    response = report(fr, **fields)
    assert response.status_code == 422
    assert message in error_beside(response, field)
    assert "Veuillez corriger les champs signalés ci-dessous." in text_of(response)
    # Only that field is in error, and it takes the focus.
    assert panel(response).count('class="field-error"') == 1
    assert re.search(rf'<(?:input|select)[^>]*autofocus[^>]*name="tally-{field}"', panel(response))
    # What was typed is kept.
    if field != "town":
        assert 'value="Lyon"' in panel(response)
    assert rows(app, Action) == [] and counts(app).case("fr", CASE) == 0


DUTCH_ERRORS = [
    ({"letters": ""}, "letters", "Vul in hoeveel brieven je groep heeft geschreven."),
    ({"letters": "0"}, "letters", "Vul een aantal brieven van minstens 1 in."),
    ({"letters": "-3"}, "letters", "Vul een aantal brieven van minstens 1 in."),
    ({"letters": "5001"}, "letters", "Meer dan 5.000 brieven in één melding? Neem contact op met de afdeling"),
    ({"letters": "twaalf"}, "letters", "Vul het aantal brieven in cijfers in, bijvoorbeeld 25."),
    ({"group": ""}, "group", "Vul de naam van je groep in."),
    ({"kind": ""}, "kind", "Kies het soort groep."),
    ({"town": ""}, "town", "Vul je gemeente in."),
    ({"email": "cm2b@"}, "email", "Dit lijkt niet op een e-mailadres. Controleer het even."),
    ({"email": ""}, "email", "Vul een e-mailadres in waarop de afdeling je kan bereiken."),
]


@pytest.mark.parametrize("fields, field, message", DUTCH_ERRORS, ids=[
    "letters-missing", "letters-zero", "letters-negative", "letters-too-many", "letters-words", "group-missing",
    "kind-missing", "town-missing", "email-invalid", "email-missing",
])
def test_errors_in_dutch_on_the_belgian_portal(app, fields, field, message):
    be = section_client(app, "be.localhost", accept_language="nl")
    response = report(be, **fields)
    assert response.status_code == 422
    assert message in error_beside(response, field)
    assert "Verbeter de velden die hieronder zijn aangeduid." in text_of(response)
    assert rows(app, Action) == []


def test_several_errors_at_once(app, fr):
    response = report(fr, letters="0", group="", email="nope")
    assert response.status_code == 422
    for field in ("letters", "group", "email"):
        error_beside(response, field)
    # Focus goes to the first one only.
    assert panel(response).count("autofocus") == 1
    assert re.search(r'<input[^>]*autofocus[^>]*name="tally-letters"', panel(response))


# -- counting ------------------------------------------------------------------------


def test_a_report_adds_its_letters_to_the_case_and_to_its_own_counter(app, fr):
    sign(fr)  # one petition signature, counted on its own line
    response = report(fr, letters="25")
    assert response.status_code == 303
    thanks = text_of(fr.get(response.headers["Location"]))
    assert "Merci" in thanks and "Déclarer des lettres écrites sur papier" in thanks
    assert "France : 26 actions" in thanks
    snapshot = counts(app)
    assert snapshot.by_action_type("fr") == {"petition": 1, "offline-tally": 25}
    assert snapshot.case("fr", CASE) == 26 and snapshot.section("fr") == 26 and snapshot.world() == 26
    assert "France : 26 actions" in text_of(fr.get(f"/cases/{CASE}"))
    tally = [a for a in rows(app, Action) if a.action_type == "offline-tally"]
    assert len(tally) == 1 and tally[0].count == 25
    assert tally[0].payload == {"letters": 25, "group": "École Jules-Ferry, CM2 B", "town": "Lyon", "kind": "school",
                                "language": "fr"}
    # The contact is a supporter of the section, named after the group.
    contacts = {s.email: s.name for s in rows(app, Supporter)}
    assert contacts["cm2b@example.org"] == "École Jules-Ferry, CM2 B"


def test_limits_and_spaces_between_thousands(app, fr):
    assert report(fr, letters="5000", email="a@example.org").status_code == 303
    assert report(fr, letters=" 1 200 ", email="b@example.org").status_code == 303
    assert report(fr, letters="1", email="c@example.org", kind="local_group").status_code == 303
    assert counts(app).by_action_type("fr") == {"offline-tally": 6201}


def test_in_dutch_counts_in_the_belgian_section(app):
    be = section_client(app, "be.localhost", accept_language="nl")
    assert report(be, letters="40", town="Gent", kind="other").status_code == 303
    snapshot = counts(app)
    assert snapshot.by_action_type("be") == {"offline-tally": 40}
    assert snapshot.by_action_type("fr") == {}
    assert rows(app, Action)[0].payload["language"] == "nl"


def test_the_same_email_reporting_again_is_not_counted_twice(app, fr):
    assert report(fr, letters="25").status_code == 303
    again = report(fr, letters="30", email=" CM2B@Example.org ", group="CM2 B")
    assert again.status_code == 303
    text = text_of(fr.get(again.headers["Location"]))
    assert "déjà" in text
    assert "France : 25 actions" in text
    assert counts(app).by_action_type("fr") == {"offline-tally": 25}
    assert len(rows(app, Action)) == 1
    # Another email is another group; another case is another report.
    assert report(fr, letters="10", email="cm1@example.org").status_code == 303
    assert report(fr, case_id="damisoa", letters="7").status_code == 303
    snapshot = counts(app)
    assert snapshot.case("fr", CASE) == 35 and snapshot.case("fr", "damisoa") == 7


def test_group_name_with_markup_is_escaped_everywhere(app, fr):
    # Shown back in the form after an error...
    response = report(fr, group=XSS, town=XSS, email="nope")
    html = response.get_data(as_text=True)
    assert XSS not in html and ESCAPED_XSS in panel(response)
    # ... and never shown raw once recorded.
    ok = report(fr, group=XSS, town=XSS)
    assert ok.status_code == 303
    for page in (fr.get(ok.headers["Location"]), fr.get(f"/cases/{CASE}"), fr.get("/")):
        assert XSS not in page.get_data(as_text=True)
    assert rows(app, Action)[0].payload["group"] == XSS  # stored as typed, escaped on output


def test_report_without_csrf_token_is_refused(app, fr):
    fr.get(f"/cases/{CASE}")
    data = {"tally-letters": "25", "tally-group": "G", "tally-kind": "school", "tally-town": "Lyon",
            "tally-email": "g@example.org"}
    assert fr.post(f"/cases/{CASE}/act/offline-tally", data=data).status_code == 400
    assert rows(app, Action) == []
