"""Sharing a case: a prepared post in the supporter's language, plain share
links with no tracking, a copy button for those with JavaScript, and a count
when the supporter says they posted (once per browser session and case)."""
from __future__ import annotations

import html as htmllib
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import func, select, update

from core.models import Action, Case, Supporter
from core.testing import read_counts
from tests.conftest import section_client, text_of

CASE = "sonia-dahmani"
HANDLE = "@presidence_tn"
XSS = "<script>alert(1)</script>"
#: Any form's CSRF token: it is the same for every form of a session.
CSRF = re.compile(r'name="(?:[a-z_]+-)?csrf_token" type="hidden" value="([^"]+)"')
NBSP = "\u00a0"

FR_POST = (
    f"Mon message aux autorités{NBSP}: «{NBSP}Je vous demande de libérer Sonia Dahmani immédiatement et sans condition.{NBSP}»\n"
    f"Agissez vous aussi pour Sonia Dahmani avec Écrire pour les droits, cela prend moins d’une minute{NBSP}:\n"
    "http://fr.localhost:5000/cases/sonia-dahmani\n"
    "#FreeSoniaDahmani"
)
NL_POST = (
    "Mijn boodschap aan de autoriteiten: ‘Ik vraag u met aandrang om Sonia Dahmani onmiddellijk en onvoorwaardelijk "
    "vrij te laten.’\n"
    "Kom ook in actie voor Sonia Dahmani met Write for Rights, het duurt nog geen minuut:\n"
    "http://be.localhost/cases/sonia-dahmani\n"
    "#FreeSoniaDahmani"
)


def panel(response) -> str:
    html = response.get_data(as_text=True)
    match = re.search(r'<details class="panel" id="act-share".*?</details>', html, re.S)
    assert match, "no share panel on the page"
    return match.group(0)


def post_text(response) -> str:
    match = re.search(r"<textarea[^>]*readonly[^>]*>(.*?)</textarea>", panel(response), re.S)
    assert match, "no prepared post"
    return htmllib.unescape(match.group(1))


def links(response) -> dict[str, tuple[str, str]]:
    """Network name -> (address, the <a> tag's attributes)."""
    found = re.findall(r'<li><a href="([^"]+)"([^>]*)>([^<]+)</a></li>', panel(response))
    return {name: (htmllib.unescape(href), attrs) for href, attrs, name in found}


def confirm(client, case_id: str = CASE, posted: bool = True):
    page = client.get(f"/cases/{case_id}")
    token = CSRF.search(page.get_data(as_text=True)).group(1)
    data = {"share-csrf_token": token}
    if posted:
        data["share-posted"] = "y"
    return client.post(f"/cases/{case_id}/act/share", data=data)


counts = read_counts  # a fresh snapshot, not the pages' cache


def stored(app, model) -> int:
    with app.extensions["ecrire"].db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def set_handle(app, handle: str | None, case_id: str = CASE) -> None:
    """The demo cases have no official's handle: give one, as a source could."""
    portal = app.extensions["ecrire"]
    with portal.db.writing() as session:
        session.execute(update(Case).where(Case.id == case_id).values(social_handle=handle))
    portal.catalogue.invalidate()


def error_beside_checkbox(response) -> str:
    html = panel(response)
    block = re.search(r'<div class="field check has-error">(?:(?!</div>).)*</div>', html, re.S)
    assert block, "no error beside the checkbox"
    assert 'name="share-posted"' in block.group(0)
    assert 'aria-describedby="share-posted-error"' in block.group(0) and 'aria-invalid="true"' in block.group(0)
    error = re.search(r'<p class="field-error" id="share-posted-error">([^<]+)</p>', block.group(0))
    assert error
    return htmllib.unescape(error.group(1))


# -- what the panel shows ---------------------------------------------------------


def test_panel_offers_a_prepared_post_in_french(fr):
    page = fr.get(f"/cases/{CASE}")
    assert page.status_code == 200
    assert post_text(page) == FR_POST
    text = text_of(page)
    assert "Partager sur les réseaux sociaux" in text
    assert "J’ai publié ce message (nous le comptons sur parole)" in text
    assert "Compter ma publication" in text
    html = panel(page)
    # Read-only and labelled, so it can be selected and copied without JavaScript.
    assert re.search(r'<label for="share-post-sonia-dahmani">Votre message</label>', html)
    # The copy button is added by a script file (CSP: no inline script), not rendered.
    assert "<button type=\"button\"" not in html
    assert '<script src="/plugin-static/share/copy.js" defer></script>' in html
    assert 'data-copy-label="Copier le message"' in html
    # No handle on this case: no stray "@".
    assert "@" not in FR_POST


def test_panel_in_dutch_on_the_belgian_portal(app):
    be = section_client(app, "be.localhost", accept_language="nl")
    page = be.get(f"/cases/{CASE}")
    assert post_text(page) == NL_POST
    text = text_of(page)
    assert "Delen op sociale media" in text
    assert "Ik heb dit bericht gepost (we tellen het op je woord)" in text
    assert "Tel mijn bericht" in text
    assert 'data-copy-label="Bericht kopiëren"' in panel(page)


def test_the_officials_handle_is_addressed_when_the_case_has_one(app):
    set_handle(app, HANDLE)
    fr = section_client(app, "fr.localhost")
    post = post_text(fr.get(f"/cases/{CASE}"))
    assert post.startswith(f"Mon message à {HANDLE}{NBSP}: «{NBSP}Je vous demande de libérer Sonia Dahmani")
    assert "#FreeSoniaDahmani" in post
    be = section_client(app, "be.localhost", accept_language="nl")
    page = be.get(f"/cases/{CASE}")
    assert post_text(page).startswith(f"Mijn boodschap aan {HANDLE}: ‘Ik vraag u met aandrang")
    # The intents carry it too.
    bluesky = links(page)["Bluesky"][0]
    assert HANDLE in parse_qs(urlsplit(bluesky).query)["text"][0]
    # Another case without a handle is unchanged.
    assert "@" not in post_text(fr.get("/cases/damisoa"))


def test_a_handle_or_hashtag_with_markup_is_escaped(app):
    set_handle(app, XSS)
    page = section_client(app, "fr.localhost").get(f"/cases/{CASE}")
    html = page.get_data(as_text=True)
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in panel(page)


# -- share links --------------------------------------------------------------------

INTENTS = {
    # network: (host, path, the only query parameters allowed, the one carrying the whole post)
    "Bluesky": ("bsky.app", "/intent/compose", {"text"}, "text"),
    "X": ("x.com", "/intent/tweet", {"text"}, "text"),
    "WhatsApp": ("wa.me", "/", {"text"}, "text"),
    "Telegram": ("t.me", "/share/url", {"url", "text"}, None),
    "Facebook": ("www.facebook.com", "/sharer/sharer.php", {"u"}, None),
    "LinkedIn": ("www.linkedin.com", "/sharing/share-offsite/", {"url"}, None),
}


def test_links_are_plain_https_intents_without_tracking(fr):
    page = fr.get(f"/cases/{CASE}")
    found = links(page)
    assert set(found) == {*INTENTS, "Mastodon", "E-mail"}
    case_url = "http://fr.localhost:5000/cases/sonia-dahmani"
    for network, (host, path, allowed, carries_post) in INTENTS.items():
        href, attrs = found[network]
        parts = urlsplit(href)
        assert (parts.scheme, parts.netloc, parts.path) == ("https", host, path), network
        query = parse_qs(parts.query, strict_parsing=True)
        assert set(query) <= allowed, f"{network}: unexpected parameters {set(query) - allowed}"
        assert not re.search(r"utm_|fbclid|ref=|ref_src|campaign", href), network
        # Encoded, not raw: no space, newline or quote left in the address.
        assert not re.search(r"[\s\"'<>«»]", href), network
        if carries_post:
            assert query[carries_post] == [FR_POST], network
        for key in {"url", "u"} & set(query):
            assert query[key] == [case_url], network
        # New tab, no referrer, no access to this page.
        assert 'target="_blank"' in attrs and 'rel="noopener noreferrer"' in attrs, network
    telegram = parse_qs(urlsplit(found["Telegram"][0]).query)
    assert case_url not in telegram["text"][0]  # the link is already its own parameter
    # Email: the post in the body, a subject naming the person; opens the mail app, not a tab.
    mail, attrs = found["E-mail"]
    assert mail.startswith("mailto:?")
    mail_query = parse_qs(mail.removeprefix("mailto:?"))
    assert mail_query["body"] == [FR_POST]
    assert mail_query["subject"] == ["Agissez pour Sonia Dahmani avec Écrire pour les droits"]
    assert "target=" not in attrs
    # Mastodon has no single address: our own page, on the section's portal.
    assert found["Mastodon"][0] == "/x/share/sonia-dahmani/mastodon"


def test_no_external_scripts_images_or_styles_on_the_page(fr):
    html = fr.get(f"/cases/{CASE}").get_data(as_text=True)
    sources = re.findall(r"<(?:img|script|iframe|audio|video|source|embed)\b[^>]*\bsrc=\"([^\"]*)\"", html)
    sources += re.findall(r"<link\b[^>]*\bhref=\"([^\"]*)\"", html)
    assert "/plugin-static/share/copy.js" in sources
    assert all(src.startswith("/") and not src.startswith("//") for src in sources), sources
    # Every script is a file of the portal's own (the CSP forbids inline ones anyway).
    assert all(re.search(r"\bsrc=", tag) for tag in re.findall(r"<script\b[^>]*>", html))
    assert "<iframe" not in html
    script = fr.get("/plugin-static/share/copy.js")
    assert script.status_code == 200 and "javascript" in script.mimetype
    assert "fetch(" not in script.get_data(as_text=True)  # copying only: it reports nothing


# -- counting on the supporter's word ------------------------------------------------


def test_confirming_counts_once_and_anonymously(app, fr):
    response = confirm(fr)
    assert response.status_code == 303
    thanks = fr.get(response.headers["Location"])
    text = text_of(thanks)
    assert "Merci" in text and "Partager sur les réseaux sociaux" in text
    assert "France : 1 action" in text
    snapshot = counts(app)
    assert snapshot.by_action_type("fr") == {"share": 1}
    assert snapshot.case("fr", CASE) == 1
    # No email asked, no supporter stored.
    assert stored(app, Supporter) == 0
    with app.extensions["ecrire"].db.session() as session:
        action = session.scalars(select(Action)).one()
    assert (action.action_type, action.supporter_id, action.payload) == ("share", None, {"language": "fr"})
    # Back on the case page the panel says so instead of asking again.
    page = fr.get(f"/cases/{CASE}")
    assert "Votre publication pour Sonia Dahmani a été comptée." in text_of(page)
    assert 'name="share-posted"' not in panel(page)
    assert post_text(page) == FR_POST  # the post is still there to share again


def test_a_second_confirmation_in_the_same_session_is_refused(app, fr):
    confirm(fr)
    again = confirm(fr)
    assert again.status_code == 422
    assert error_beside_checkbox(again) == "Votre publication pour ce cas a déjà été comptée depuis ce navigateur. Merci\u00a0!"
    assert counts(app).by_action_type("fr") == {"share": 1}
    # Another case is another post; another browser is another supporter.
    assert confirm(fr, case_id="damisoa").status_code == 303
    assert confirm(section_client(app, "fr.localhost")).status_code == 303
    snapshot = counts(app)
    assert snapshot.case("fr", CASE) == 2 and snapshot.case("fr", "damisoa") == 1


def test_a_second_confirmation_is_refused_in_dutch(app):
    be = section_client(app, "be.localhost", accept_language="nl")
    assert confirm(be).status_code == 303
    again = confirm(be)
    assert again.status_code == 422
    assert error_beside_checkbox(again) == "Je bericht voor deze zaak is vanuit deze browser al geteld. Bedankt!"
    assert counts(app).case("be", CASE) == 1


def test_without_the_checkbox_nothing_is_counted_and_the_error_is_beside_it(app, fr):
    response = confirm(fr, posted=False)
    assert response.status_code == 422
    assert error_beside_checkbox(response) == "Veuillez cocher cette case une fois le message publié."
    assert "Veuillez corriger le champ signalé ci-dessous." in text_of(response)
    # The box takes the focus, so the supporter lands on it.
    assert re.search(r'<input[^>]*autofocus[^>]*name="share-posted"', panel(response))
    assert stored(app, Action) == 0


def test_without_the_checkbox_in_dutch(app):
    be = section_client(app, "be.localhost", accept_language="nl")
    response = confirm(be, posted=False)
    assert response.status_code == 422
    assert error_beside_checkbox(response) == "Vink dit vakje aan zodra je het bericht hebt gepost."
    assert "Verbeter het veld dat hieronder is aangeduid." in text_of(response)
    assert stored(app, Action) == 0


def test_confirmation_without_csrf_token_is_refused(app, fr):
    fr.get(f"/cases/{CASE}")
    assert fr.post(f"/cases/{CASE}/act/share", data={"share-posted": "y"}).status_code == 400
    assert stored(app, Action) == 0


# -- Mastodon: the supporter's own server ----------------------------------------------


def test_mastodon_page_asks_for_the_server_and_links_to_its_share_page(app, fr):
    page = fr.get("/x/share/sonia-dahmani/mastodon")
    assert page.status_code == 200
    text = text_of(page)
    assert "Partager sur Mastodon" in text and "Votre serveur Mastodon" in text
    assert "Aller au contenu" in text  # the portal's own header keeps its translation
    assert "https://" not in page.get_data(as_text=True).split("<main", 1)[1].split("</main>")[0]
    for typed in ("mastodon.social", " https://Mastodon.Social/@camille ", "@camille@mastodon.social"):
        answer = fr.get("/x/share/sonia-dahmani/mastodon", query_string={"server": typed})
        match = re.search(r'<a class="button" href="([^"]+)" target="_blank" rel="noopener noreferrer">([^<]+)</a>',
                          answer.get_data(as_text=True))
        assert match, typed
        href = htmllib.unescape(match.group(1))
        assert href.startswith("https://mastodon.social/share?text=")
        assert unquote(href.split("text=", 1)[1]) == FR_POST
        assert match.group(2) == "Ouvrir ma publication sur mastodon.social"
    assert stored(app, Action) == 0  # a link, not an action


@pytest.mark.parametrize(
    "server, message_fr, message_nl",
    [
        ("", "Veuillez indiquer le nom de votre serveur Mastodon", "Vul de naam van je Mastodon-server in"),
        ("not a server", "Cela ne ressemble pas à un nom de serveur.", "Dit lijkt niet op een servernaam."),
        (XSS, "Cela ne ressemble pas à un nom de serveur.", "Dit lijkt niet op een servernaam."),
    ],
    ids=["missing", "invalid", "markup"],
)
def test_mastodon_server_errors_beside_the_field(app, server, message_fr, message_nl):
    for client, message in (
        (section_client(app, "fr.localhost"), message_fr),
        (section_client(app, "be.localhost", accept_language="nl"), message_nl),
    ):
        page = client.get("/x/share/sonia-dahmani/mastodon", query_string={"server": server})
        html = page.get_data(as_text=True)
        block = re.search(r'<div class="field has-error">(?:(?!</div>).)*</div>', html, re.S)
        assert block and 'name="server"' in block.group(0) and 'aria-describedby="server-error"' in block.group(0)
        assert message in htmllib.unescape(block.group(0))
        assert 'class="button" href="https://' not in html
        assert "<script>alert" not in html


def test_mastodon_page_for_an_unknown_case_is_not_found(fr):
    assert fr.get("/x/share/nobody/mastodon").status_code == 404


# -- in a real browser -------------------------------------------------------------------


def test_copy_button_exists_only_with_javascript_and_copies_the_post(browser, server):
    """Headless Chromium on a phone: the script adds the button (no CSP
    complaint), a tap copies the prepared post; without JavaScript there is
    no dead button, and the text can still be selected."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=f"http://fr.{server}")
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text)
            if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico") else None)
    page.goto(f"http://fr.{server}/cases/{CASE}")
    share = page.locator("#act-share")
    share.locator("summary").click()  # each action is a collapsed panel but the first
    button = share.get_by_role("button", name="Copier le message")
    button.tap()
    status = share.locator("[role=status]")
    status.wait_for(state="visible")
    assert status.inner_text() == "Copié. Collez-le maintenant dans votre publication."
    posted = page.evaluate("navigator.clipboard.readText()")
    assert posted == FR_POST.replace("fr.localhost:5000", f"fr.{server}")
    assert not console, console  # no CSP violation, no script error
    context.close()

    without_js = browser.new_context(locale="fr-FR", java_script_enabled=False)
    page = without_js.new_page()
    page.goto(f"http://fr.{server}/cases/{CASE}")
    share = page.locator("#act-share")
    share.locator("summary").click()
    assert share.get_by_role("button", name="Copier le message").count() == 0
    assert share.get_by_label("Votre message").input_value().startswith("Mon message aux autorités")
    # Counting works without JavaScript too.
    share.get_by_label("J’ai publié ce message (nous le comptons sur parole)").check()
    share.get_by_role("button", name="Compter ma publication").click()
    page.wait_for_url("**/thanks")
    assert "France : 1 action" in page.locator("main").inner_text().replace("\u00a0", " ").replace("\u202f", " ")
    without_js.close()
