"""The "call the embassy" action on a portal: the number and script where the
section has a number, a count when the supporter confirms, once per browser
session and case, and nothing where the plugin is off."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ecrire_call_embassy import CallForm, CallTheEmbassy, i18n
from flask import Flask, render_template
from flask_babel import force_locale

from core.toolkit import ActionContext, CaseText, CaseView

CASE = "sonia-dahmani"
PHONE = "+33 1 00 00 00 00"
#: Any form's CSRF token: it is the same for every form of a session.
CSRF = re.compile(r'name="(?:[a-z_]+-)?csrf_token" type="hidden" value="([^"]+)"')


def text(response) -> str:
    """The page's visible text, whitespace folded (no-break spaces too)."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.get_data(as_text=True), flags=re.DOTALL)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def panel(response) -> str | None:
    match = re.search(r'<details class="panel" id="act-call_embassy".*?</details>', response.get_data(as_text=True), re.DOTALL)
    return match.group(0) if match else None


def confirm(client, case_id: str = CASE, called: bool = True):
    token = CSRF.search(client.get(f"/cases/{case_id}").get_data(as_text=True)).group(1)
    data = {"call_embassy-csrf_token": token}
    if called:
        data["call_embassy-called"] = "y"
    return client.post(f"/cases/{case_id}/act/call_embassy", data=data)


def test_the_panel_shows_the_number_and_a_script_in_the_page_language(fr):
    page = fr.get(f"/cases/{CASE}")
    html = panel(page)
    assert html is not None
    assert f'href="tel:+33100000000">{PHONE}</a>' in html
    words = text(page)
    assert "Appeler l’ambassade" in words
    assert "Bonjour, je vous appelle au sujet de Sonia Dahmani." in words
    assert "Je vous demande de libérer Sonia Dahmani immédiatement et sans condition." in words
    assert "J’ai appelé l’ambassade" in words


def test_not_offered_where_the_section_has_no_number(fr):
    page = fr.get("/cases/damisoa")  # Madagascar: no number in the settings
    assert page.status_code == 200
    assert panel(page) is None


def test_not_offered_where_the_plugin_is_off(be):
    page = be.get(f"/cases/{CASE}")
    assert page.status_code == 200
    assert panel(page) is None
    token = CSRF.search(page.get_data(as_text=True)).group(1)
    answer = be.post(f"/cases/{CASE}/act/call_embassy", data={"call_embassy-csrf_token": token, "call_embassy-called": "y"})
    assert answer.status_code == 404


def test_confirming_counts_the_call_once_per_session(fr, new_client):
    response = confirm(fr)
    assert response.status_code == 303
    thanks = fr.get(response.headers["Location"])
    assert "France : 1 action" in text(thanks)
    # Back on the case page the panel thanks instead of asking again.
    page = fr.get(f"/cases/{CASE}")
    assert "Votre appel pour Sonia Dahmani a été compté. Merci !" in text(page)
    assert 'name="call_embassy-called"' not in panel(page)
    # A second confirmation from the same browser is refused and not counted.
    again = confirm(fr)
    assert again.status_code == 422
    assert "Votre appel a déjà été compté depuis ce navigateur. Merci !" in text(again)
    # Another browser is another supporter.
    other = confirm(new_client("fr.localhost"))
    assert other.status_code == 303
    assert "2 actions" in text(fr.get(other.headers["Location"]))


def test_without_the_checkbox_nothing_is_counted(fr):
    response = confirm(fr, called=False)
    assert response.status_code == 422
    assert "Cochez cette case une fois l’appel passé." in text(response)
    assert panel(fr.get(f"/cases/{CASE}")) is not None


def test_available_only_with_a_number():
    action = CallTheEmbassy()
    assert action.available_for(context({"phones": {"TN": PHONE}}))
    assert not action.available_for(context({"phones": {"KG": PHONE}}))
    assert not action.available_for(context({}))


def test_the_panel_says_when_there_is_no_number(app: Flask):
    case = context({}).case
    with app.test_request_context(), force_locale("fr"):
        form = CallForm(meta={"csrf": False})
        html = render_template(CallTheEmbassy.template, form=form, case=case, submit_url="/", **i18n.template_globals())
    assert "Nous n’avons pas encore de numéro pour l’ambassade de ce pays." in html
    assert "<form" not in html


def context(settings) -> ActionContext:
    import sections.fr

    text_fr = CaseText(title="t", summary="s", story="story", ask="Libérez-la.")
    case = CaseView(id=CASE, person="Sonia Dahmani", country="TN", year=dt.date.today().year, language="fr",
                    text=text_fr, goal=None, colour="#333333", hashtag=None, authority=None)
    return ActionContext(section=sections.fr.SECTION, case=case, language="fr", settings=settings)


def test_every_string_is_translated_in_french_and_english():
    from babel.messages.pofile import read_po

    translations = Path(i18n.directory)
    with (translations / "messages.pot").open("rb") as source:
        wanted = {message.id for message in read_po(source) if message.id}
    for language in ("fr", "en"):
        with (translations / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
            catalog = read_po(source)
        done = {message.id for message in catalog if message.id and message.string and not message.fuzzy}
        assert wanted <= done, f"{language}: untranslated {sorted(wanted - done)}"
