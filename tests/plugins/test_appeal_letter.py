"""Appeal letter: what a supporter sees when they write to the authority a
case names, preview their letter, send it, or print it and post it
themselves; its errors in French and Dutch; what is stored, counted and
queued for delivery."""
from __future__ import annotations

import html
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from core.models import Action, Delivery, Supporter
from core.testing import read_counts
from tests.conftest import csrf_token, section_client, text_of

CASE = "sonia-dahmani"
SALUTATION = "Monsieur le Président,"
CLOSING = "Veuillez agréer, Monsieur le Président, l’expression de ma haute considération."
ASK = "Je vous demande de libérer Sonia Dahmani immédiatement et sans condition."
LETTER = f"{SALUTATION}\n\n{ASK}\n\n{CLOSING}"
ADDRESS = ["Présidence de la République", "Palais de Carthage", "2016 Carthage", "Tunisia"]
XSS = "<script>alert(1)</script>"

#: A case source with a prosecutor (texts in French only) and a case that
#: names no authority, to show the letter follows the case data.
OTHER_CASES = '''
from core.toolkit import Authority, CaseData, CaseText, hookimpl

TEXT = CaseText(title="Ayşe Test, poursuivie", summary="Résumé.", story="Histoire.",
                ask="Je vous demande d’abandonner toutes les poursuites contre Ayşe Test.")


@hookimpl
def ecrire_cases():
    yield CaseData(
        id="ayse-test", person="Ayşe Test", country="TR", year=2026, texts={"fr": TEXT}, position=10,
        authority=Authority(
            title={"fr": "Procureure générale d’Ankara"},
            salutation={"fr": "Madame la Procureure générale,"},
            closing={"fr": "Je vous prie d’agréer, Madame la Procureure générale, mes salutations respectueuses."},
            address=("Ankara Cumhuriyet Başsavcılığı", "06000 Ankara", "Türkiye"),
        ),
    )
    yield CaseData(id="no-authority", person="Nemo Test", country="TR", year=2026, texts={"fr": TEXT}, position=11)
'''


# -- helpers ---------------------------------------------------------------------


def portal(app):
    return app.extensions["ecrire"]


def rows(app, model, *where):
    with portal(app).db.session() as session:
        return list(session.scalars(select(model).where(*where)))


counts = read_counts  # a fresh snapshot, not the pages' cache


def cli(app, *args: str) -> None:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output


def letter_data(**fields):
    """A supporter's valid letter; fields given replace the defaults (None removes)."""
    data = {"letter": LETTER, "name": "Camille Martin", "town": "Lyon", "email": "camille@example.org", "consent": "y", "step": "send",
            "legal-letter-of_age": "adult"}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def post_letter(client, case_id: str = CASE, **fields):
    data = letter_data(**fields)
    data["csrf_token"] = csrf_token(client, f"/cases/{case_id}")
    return client.post(f"/cases/{case_id}/act/letter", data=data)


def post_pdf(client, case_id: str = CASE, **fields):
    data = letter_data(step="print", consent=None, **fields)
    data["csrf_token"] = csrf_token(client, f"/cases/{case_id}")
    return client.post(f"/x/appeal_letter/{case_id}/letter.pdf", data=data)


def post_posted(client, case_id: str = CASE, **fields):
    data = {"email": "camille@example.org", "posted": "y", "legal-letter-posted-of_age": "adult", **fields}
    data = {k: v for k, v in data.items() if v is not None}
    data["csrf_token"] = csrf_token(client, f"/cases/{case_id}")
    return client.post(f"/cases/{case_id}/act/letter-posted", data=data)


def model_letter(page) -> str:
    match = re.search(r'<textarea[^>]*name="letter"[^>]*>\r?\n?(.*?)</textarea>', page.get_data(as_text=True), re.S)
    assert match, "no letter on the page"
    return html.unescape(match.group(1))


def panel(page, action: str = "letter") -> str:
    match = re.search(rf'<details class="panel" id="act-{action}".*?</details>', page.get_data(as_text=True), re.S)
    assert match, f"no {action} panel"
    return match.group(0)


def hidden_fields(page) -> dict[str, str]:
    """What the preview page carries along to send or print the letter."""
    form = re.search(r'<form[^>]* action="/cases/[^"]+/act/letter".*?</form>', page.get_data(as_text=True), re.S)
    assert form, "no letter form on the preview"
    return {name: html.unescape(value) for name, value in re.findall(r'<input[^>]*type="hidden" name="([\w-]+)" value="([^"]*)"', form.group(0))} | {
        name: html.unescape(value) for name, value in re.findall(r'<input id="[^"]*" name="([\w-]+)" type="hidden" value="([^"]*)"', form.group(0))
    }


def error_beside(response, name: str, field_id: str) -> str:
    """The error message shown inside the field's own block, tied to it."""
    page = response.get_data(as_text=True)
    block = re.search(rf'<div class="field[^"]*has-error">(?:(?!</div>).)*name="{name}"(?:(?!</div>).)*</div>', page, re.S)
    assert block, f"no error beside {name}"
    error = re.search(rf'<p class="field-error" id="{field_id}-error">([^<]+)</p>', block.group(0))
    assert error, f"no error message for {name}"
    assert re.search(rf'aria-describedby="[^"]*{field_id}-error', block.group(0)) and 'aria-invalid="true"' in block.group(0)
    return html.unescape(error.group(1))


def pdf_text(response) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)


@pytest.fixture
def other_cases(outside_plugin):
    outside_plugin("ecrire-other-cases", {"other_cases/__init__.py": OTHER_CASES}, {"other_cases": "other_cases"})


# -- the panel and its model letter ------------------------------------------------


def test_case_page_offers_a_model_letter_to_the_authority(fr):
    page = fr.get(f"/cases/{CASE}")
    text = text_of(page)
    assert "Écrire une lettre" in text
    assert "Votre lettre est adressée à : Président de la République tunisienne" in text
    letter = model_letter(page)
    # Salutation and closing come from the case, the body from its ask.
    assert letter.startswith(SALUTATION + "\n\nJe vous écris au sujet de Sonia Dahmani. " + ASK)
    assert letter.endswith("\n\n" + CLOSING)
    assert len(letter) < 3000
    block = panel(page)
    for name in ("letter", "name", "town", "email", "initials_only", "consent", "csrf_token"):
        assert f'name="{name}"' in block
    assert 'name="step" value="preview"' in block and 'name="step" value="send"' in block
    assert 'maxlength="3000"' in block
    assert "Modifiez-la comme vous le souhaitez. Texte simple uniquement, 3 000 caractères au maximum." in text
    # Writer safety: said on the page, next to the box.
    assert (
        "Si vous avez des liens avec ce pays (Tunisie), vous pouvez signer seulement avec vos initiales et votre ville ; "
        "les autorités ne verront pas votre nom complet." in text
    )
    assert 'aria-describedby="letter-initials-hint"' in block
    # Its small stylesheet is linked, never inlined (the CSP forbids it).
    assert '<link rel="stylesheet" href="/plugin-static/appeal_letter/appeal_letter.css">' in page.get_data(as_text=True)
    assert fr.get("/plugin-static/appeal_letter/appeal_letter.css").mimetype == "text/css"
    # "I posted it myself" has its own small panel.
    assert "J’ai posté ma lettre moi-même" in text_of(page)
    assert 'name="posted"' in panel(page, "letter-posted")


def test_model_letter_in_dutch_on_the_belgian_portal(app):
    be = section_client(app, "be.localhost", accept_language="nl")
    page = be.get("/cases/sai-zaw-thaike")
    text = text_of(page)
    assert "Een brief schrijven" in text
    assert "Je brief gaat naar: Hoofd van de militaire autoriteiten van Myanmar" in text
    letter = model_letter(page)
    assert letter.startswith("Geachte heer opperbevelhebber,\n\nIk schrijf u over Sai Zaw Thaike. Ik vraag u met aandrang")
    assert letter.endswith("\n\nHoogachtend,")
    assert "Heb je banden met Myanmar" in text
    assert 'lang="nl"' in panel(page)


def test_salutation_and_closing_follow_the_case_data(other_cases, make_app):
    app = make_app()
    cli(app, "plugins", "enable", "be", "other_cases")
    # The case is only in French: a Dutch reader gets a consistent French letter.
    be = section_client(app, "be.localhost", accept_language="nl")
    page = be.get("/cases/ayse-test")
    letter = model_letter(page)
    assert letter.startswith("Madame la Procureure générale,\n\nJe vous écris au sujet de Ayşe Test. Je vous demande d’abandonner")
    assert letter.endswith("Je vous prie d’agréer, Madame la Procureure générale, mes salutations respectueuses.")
    assert 'lang="fr"' in panel(page)
    assert "Procureure générale d’Ankara" in text_of(page)
    # A case that names no authority offers no letter, and no PDF.
    bare = be.get("/cases/no-authority")
    assert bare.status_code == 200 and 'id="act-letter"' not in bare.get_data(as_text=True)
    assert 'id="act-letter-posted"' not in bare.get_data(as_text=True)
    token = csrf_token(be, "/cases/no-authority")
    assert be.post("/cases/no-authority/act/letter", data={**letter_data(), "csrf_token": token}).status_code == 404
    assert be.post("/x/appeal_letter/no-authority/letter.pdf", data={**letter_data(), "csrf_token": token}).status_code == 404


# -- errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, name, field_id, message",
    [
        ({"letter": ""}, "letter", "letter-text", "Veuillez écrire votre lettre."),
        ({"letter": "  \r\n  "}, "letter", "letter-text", "Veuillez écrire votre lettre."),
        ({"letter": "x" * 3001}, "letter", "letter-text", "Votre lettre compte 3 001 caractères : veuillez la raccourcir à 3 000 au maximum."),
        ({"letter": LETTER + "\n<b>Libérez-la</b>"}, "letter", "letter-text", "texte simple : pas de balises HTML"),
        ({"letter": LETTER + "\nMerci.</p>"}, "letter", "letter-text", "pas de balises HTML"),
        ({"letter": "<!-- rien -->" + LETTER}, "letter", "letter-text", "pas de balises HTML"),
        ({"name": ""}, "name", "letter-name", "Veuillez indiquer votre nom."),
        ({"name": "x" * 121}, "name", "letter-name", "Veuillez utiliser 120 caractères au maximum."),
        ({"town": " "}, "town", "letter-town", "Veuillez indiquer votre ville."),
        ({"town": "x" * 101}, "town", "letter-town", "Veuillez utiliser 100 caractères au maximum."),
        ({"email": ""}, "email", "letter-email", "Veuillez indiquer votre adresse e-mail."),
        ({"email": "camille@"}, "email", "letter-email", "Cela ne ressemble pas à une adresse e-mail."),
        ({"email": "a" * 250 + "@example.org"}, "email", "letter-email", "adresse e-mail"),
        ({"consent": None}, "consent", "letter-consent", "Veuillez cocher cette case pour que nous puissions envoyer votre lettre."),
    ],
    ids=[
        "letter-missing", "letter-blank", "letter-too-long", "markup-tag", "markup-closing-tag", "markup-comment",
        "name-missing", "name-too-long", "town-missing", "town-too-long",
        "email-missing", "email-invalid", "email-too-long", "no-consent",
    ],
)
def test_each_error_is_shown_next_to_its_field_in_french(app, fr, fields, name, field_id, message):
    response = post_letter(fr, **fields)
    assert response.status_code == 422
    assert message in " ".join(error_beside(response, name, field_id).split())
    assert "Veuillez corriger les champs signalés ci-dessous." in text_of(response)
    # What the supporter wrote is kept.
    if name != "letter":
        assert model_letter(response) == LETTER
    if name != "town":
        assert 'value="Lyon"' in response.get_data(as_text=True)
    assert rows(app, Action) == [] and rows(app, Delivery) == []


@pytest.mark.parametrize(
    "fields, name, field_id, message",
    [
        ({"letter": ""}, "letter", "letter-text", "Schrijf je brief."),
        ({"letter": "y" * 3001}, "letter", "letter-text", "Je brief telt 3.001 tekens: maak hem korter, tot hoogstens 3.000."),
        ({"letter": "<i>Beste</i>"}, "letter", "letter-text", "Schrijf gewone tekst: geen HTML-tags (tekst tussen < en >)."),
        ({"name": ""}, "name", "letter-name", "Vul je naam in."),
        ({"name": "x" * 121}, "name", "letter-name", "Gebruik hoogstens 120 tekens."),
        ({"town": ""}, "town", "letter-town", "Vul je woonplaats in."),
        ({"town": "x" * 101}, "town", "letter-town", "Gebruik hoogstens 100 tekens."),
        ({"email": ""}, "email", "letter-email", "Vul je e-mailadres in."),
        ({"email": "camille.example.org"}, "email", "letter-email", "Dit lijkt niet op een e-mailadres. Controleer het even."),
        ({"email": "b" * 250 + "@example.org"}, "email", "letter-email", "Dit e-mailadres is te lang."),
        ({"consent": None}, "consent", "letter-consent", "Vink dit vakje aan, dan kunnen we je brief versturen."),
    ],
    ids=[
        "letter-missing", "letter-too-long", "markup", "name-missing", "name-too-long", "town-missing", "town-too-long",
        "email-missing", "email-invalid", "email-too-long", "no-consent",
    ],
)
def test_each_error_in_dutch_on_the_belgian_portal(app, fields, name, field_id, message):
    be = section_client(app, "be.localhost", accept_language="nl")
    response = post_letter(be, **fields)
    assert response.status_code == 422
    assert error_beside(response, name, field_id) == message
    assert "Verbeter de velden die hieronder zijn aangeduid." in text_of(response)
    assert rows(app, Action) == []


def test_length_cap_counts_each_line_break_once(app, fr):
    # Browsers send CRLF: 3,000 characters typed stay 3,000 characters.
    lines = ["x" * 99] * 30
    letter = "\r\n".join(lines)
    assert len(letter.replace("\r\n", "\n")) == 2999 and len(letter) > 3000
    assert post_letter(fr, letter=letter).status_code == 303
    assert rows(app, Action)[0].payload["letter"] == "\n".join(lines)


def test_a_less_than_sign_is_not_markup(app, fr):
    letter = LETTER + "\n\nMoins de 3 mois <3 et x < y."
    assert post_letter(fr, letter=letter).status_code == 303
    assert rows(app, Action)[0].payload["letter"].endswith("<3 et x < y.")


# -- preview, edit, send ----------------------------------------------------------------


def test_preview_shows_the_letter_as_it_will_be_sent_and_records_nothing(app, fr):
    letter = LETTER.replace(ASK, ASK + "\nŒuvre Şebnem ñ ü & <3")
    response = post_letter(fr, step="preview", consent=None, letter=letter)
    assert response.status_code == 200
    text = text_of(response)
    assert "Relisez votre lettre" in text
    assert "Voici votre lettre exactement telle qu’elle sera envoyée." in text
    assert "Président de la République tunisienne Présidence de la République Palais de Carthage 2016 Carthage Tunisia" in text
    page = response.get_data(as_text=True)
    # Paragraphs and line breaks kept, the text escaped.
    assert f"<p>{html.escape(ASK, quote=False)}<br>Œuvre Şebnem ñ ü &amp; &lt;3</p>" in page
    assert f"<p>{SALUTATION}</p>" in page
    assert '<p class="letter-signature">Camille Martin<br>Lyon</p>' in page
    # The page keeps the portal's own header and footer in French.
    assert "Aller au contenu" in text and "Confidentialité" in text
    # Everything is carried along to send it.
    carried = hidden_fields(response)
    assert carried["letter"] == letter and carried["name"] == "Camille Martin" and carried["town"] == "Lyon"
    assert carried["email"] == "camille@example.org" and carried["csrf_token"]
    assert 'name="step" value="send"' in page and 'name="step" value="edit"' in page
    assert 'formaction="/x/appeal_letter/sonia-dahmani/letter.pdf"' in page
    assert rows(app, Action) == [] and rows(app, Delivery) == [] and counts(app).section("fr") == 0


def test_sending_from_the_preview_records_counts_and_queues_the_letter(app, fr):
    page = fr.get(f"/cases/{CASE}")
    letter = model_letter(page).replace("immédiatement", "immédiatement, je vous en prie,")
    preview = post_letter(fr, step="preview", consent=None, letter=letter.replace("\n", "\r\n"))
    carried = hidden_fields(preview)
    sent = fr.post(f"/cases/{CASE}/act/letter", data={**carried, "consent": "y", "step": "send"})
    assert sent.status_code == 303
    thanks = text_of(fr.get(sent.headers["Location"]))
    assert "Merci" in thanks and "Écrire une lettre" in thanks and "France : 1 action" in thanks

    [action] = rows(app, Action)
    assert action.action_type == "letter" and action.case_id == CASE
    assert action.payload == {
        "letter": letter, "signature": "Camille Martin", "town": "Lyon", "initials_only": False, "language": "fr",
    }
    assert counts(app).case("fr", CASE) == 1
    # The French section posts letters to the authority in a weekly batch: it waits, held, in the outbox.
    [item] = rows(app, Delivery)
    assert item.status == "held" and item.kind == "letter" and item.channel == "post" and item.action_id == action.id
    assert item.recipient["address"][:2] == ["Présidence de la République", "Palais de Carthage"]
    assert item.body == {
        "text": letter, "signature": "Camille Martin", "town": "Lyon", "language": "fr",
        "authority_title": "Président de la République tunisienne",
    }


def test_consent_is_asked_again_on_the_preview_before_sending(app, fr):
    preview = post_letter(fr, step="preview", consent=None)
    refused = fr.post(f"/cases/{CASE}/act/letter", data={**hidden_fields(preview), "step": "send"})
    assert refused.status_code == 422
    assert "Veuillez cocher cette case" in error_beside(refused, "consent", "letter-consent")
    assert rows(app, Action) == []


def test_edit_from_the_preview_gives_the_letter_back_with_its_values(app, fr):
    preview = post_letter(fr, step="preview", letter=LETTER + "\n\nP.-S. : merci.", town="Saint-Étienne")
    edit = fr.post(f"/cases/{CASE}/act/letter", data={**hidden_fields(preview), "step": "edit"})
    assert edit.status_code == 200
    assert "Modifier votre lettre" in text_of(edit)
    assert model_letter(edit) == LETTER + "\n\nP.-S. : merci."
    page = edit.get_data(as_text=True)
    assert 'value="Saint-Étienne"' in page and 'value="Camille Martin"' in page
    assert 'action="/cases/sonia-dahmani/act/letter"' in page and 'name="step" value="preview"' in page
    assert rows(app, Action) == []


def test_same_email_counts_once_and_queues_one_letter(app, fr):
    assert post_letter(fr, email="Camille@Example.org ").status_code == 303
    again = post_letter(fr, email="camille@example.org", letter=LETTER + "\n\nEncore.")
    assert again.status_code == 303
    assert "déjà" in text_of(fr.get(again.headers["Location"]))
    assert len(rows(app, Action)) == 1 and len(rows(app, Delivery)) == 1
    assert counts(app).case("fr", CASE) == 1
    # Another case is another letter.
    assert post_letter(fr, case_id="damisoa", letter="Monsieur le Président,\n\nLibérez-les.").status_code == 303
    assert len(rows(app, Delivery)) == 2 and counts(app).section("fr") == 2


def test_initials_only_keeps_the_full_name_out_of_the_letter(app, fr):
    preview = post_letter(fr, step="preview", name="Jean-Pierre  Dupont", initials_only="y")
    text = text_of(preview)
    assert "Vous signez avec vos initiales : les autorités ne verront pas votre nom complet." in text
    assert '<p class="letter-signature">J.-P. D.<br>Lyon</p>' in preview.get_data(as_text=True)
    assert "Dupont" not in text
    carried = hidden_fields(preview)
    assert carried["initials_only"] == "y"
    sent = fr.post(f"/cases/{CASE}/act/letter", data={**carried, "consent": "y", "step": "send"})
    assert sent.status_code == 303
    [action] = rows(app, Action)
    assert action.payload["signature"] == "J.-P. D." and action.payload["initials_only"] is True
    [item] = rows(app, Delivery)
    assert item.body["signature"] == "J.-P. D." and item.body["town"] == "Lyon"
    assert "Dupont" not in repr(item.body) and "Jean" not in repr(item.body) and "Dupont" not in repr(action.payload)
    # The full name stays with the section only, as for a petition.
    assert [s.name for s in rows(app, Supporter)] == ["Jean-Pierre Dupont"]


# -- printing it and posting it yourself --------------------------------------------------


def test_download_a_printable_pdf_with_accents_and_the_address(app, fr):
    letter = LETTER.replace(ASK, ASK + "\nŒuvre Şebnem ñ ü")
    response = post_pdf(fr, letter=letter, town="Besançon")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="letter-sonia-dahmani.pdf"'
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(response.data))
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842)  # A4
    text = pdf_text(response)
    for expected in (SALUTATION, "Œuvre Şebnem ñ ü", "Président de la République tunisienne", *ADDRESS, "Camille Martin", "Besançon, le "):
        assert expected in text, expected
    assert "Veuillez agréer, Monsieur le Président," in text
    # The address shows through a left-window envelope (20 mm from the left, 45-90 mm from the top).
    positions: dict[str, tuple[float, float]] = {}

    def visit(text_piece, cm, tm, font_dict, font_size):
        if text_piece.strip():  # where the text matrix puts it on the page
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            positions.setdefault(text_piece.strip(), (x, y))

    reader.pages[0].extract_text(visitor_text=visit)
    mm = 72 / 25.4
    for line in ("Président de la République tunisienne", *ADDRESS):
        x, y = positions[line]
        assert 20 * mm <= x <= 105 * mm and 45 * mm <= height - y <= 90 * mm, (line, x / mm, (height - y) / mm)
    # Nothing is stored or counted by printing.
    assert rows(app, Action) == [] and counts(app).section("fr") == 0


def test_pdf_from_the_preview_page_and_in_dutch(app):
    be = section_client(app, "be.localhost", accept_language="nl")
    page = be.get(f"/cases/{CASE}")
    letter = model_letter(page)
    preview = post_letter(be, step="preview", letter=letter, consent=None, town="Gent")
    response = be.post(f"/x/appeal_letter/{CASE}/letter.pdf", data={**hidden_fields(preview), "step": "print"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response)
    assert "Geachte heer President," in text and "Hoogachtend," in text and "Gent, " in text
    assert "Ik schrijf u over Sonia Dahmani." in text


def test_pdf_with_errors_shows_the_letter_form_again(app, fr):
    response = post_pdf(fr, letter="<b>Bonjour</b>", name="")
    assert response.status_code == 422
    assert "Modifier votre lettre" in text_of(response)
    assert "pas de balises HTML" in error_beside(response, "letter", "letter-text")
    assert error_beside(response, "name", "letter-name") == "Veuillez indiquer votre nom."
    assert "Aller au contenu" in text_of(response)  # the portal's own chrome stays French


def test_pdf_needs_the_form_token_and_is_never_a_bookmark(app, fr):
    fr.get(f"/cases/{CASE}")
    assert fr.post(f"/x/appeal_letter/{CASE}/letter.pdf", data=letter_data()).status_code == 400
    link = fr.get(f"/x/appeal_letter/{CASE}/letter.pdf")
    assert link.status_code == 302 and link.headers["Location"].endswith(f"/cases/{CASE}#act-letter")
    assert fr.get("/x/appeal_letter/no-such-case/letter.pdf").status_code == 404


def test_pdf_is_not_served_where_the_plugin_is_off(app):
    be = section_client(app, "be.localhost")
    assert post_pdf(be).status_code == 200
    cli(app, "plugins", "disable", "be", "appeal_letter")
    token = csrf_token(be, f"/cases/{CASE}")  # from the petition form, still there
    assert be.post(f"/x/appeal_letter/{CASE}/letter.pdf", data={**letter_data(), "csrf_token": token}).status_code == 404
    page = be.get(f"/cases/{CASE}").get_data(as_text=True)
    assert 'id="act-letter"' not in page and 'id="act-letter-posted"' not in page
    assert be.post(f"/cases/{CASE}/act/letter", data={**letter_data(), "csrf_token": token}).status_code == 404
    # France is not affected.
    assert post_pdf(section_client(app, "fr.localhost")).status_code == 200


def test_i_posted_it_myself_is_counted_once(app, fr):
    response = post_posted(fr)
    assert response.status_code == 303
    thanks = text_of(fr.get(response.headers["Location"]))
    assert "J’ai posté ma lettre moi-même" in thanks and "France : 1 action" in thanks
    again = post_posted(fr, email=" CAMILLE@example.org")
    assert "déjà" in text_of(fr.get(again.headers["Location"]))
    [action] = rows(app, Action)
    assert action.action_type == "letter-posted" and action.payload == {"language": "fr"}
    assert rows(app, Delivery) == []  # posted by the supporter: nothing to deliver
    # A letter sent online by the same person is another letter.
    post_letter(fr)
    assert counts(app).by_action_type("fr") == {"letter": 1, "letter-posted": 1}
    assert counts(app).case("fr", CASE) == 2


def test_i_posted_it_myself_from_the_preview_page(app, fr):
    preview = post_letter(fr, step="preview", consent=None)
    form = re.search(r'<form[^>]* action="/cases/sonia-dahmani/act/letter-posted".*?</form>', preview.get_data(as_text=True), re.S)
    assert form and 'value="camille@example.org"' in form.group(0)  # the address given for the letter
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form.group(0)).group(1)
    done = fr.post(f"/cases/{CASE}/act/letter-posted", data={"csrf_token": token, "email": "camille@example.org", "posted": "y",
                                                            "legal-letter-posted-of_age": "adult"})
    assert done.status_code == 303 and counts(app).by_action_type("fr") == {"letter-posted": 1}


@pytest.mark.parametrize(
    "language, fields, name, field_id, message",
    [
        ("fr", {"email": ""}, "email", "posted-email", "Veuillez indiquer votre adresse e-mail."),
        ("fr", {"email": "camille@"}, "email", "posted-email", "Cela ne ressemble pas à une adresse e-mail. Veuillez la vérifier."),
        ("fr", {"posted": None}, "posted", "posted-confirm", "Veuillez cocher cette case une fois votre lettre postée."),
        ("nl", {"email": ""}, "email", "posted-email", "Vul je e-mailadres in."),
        ("nl", {"posted": None}, "posted", "posted-confirm", "Vink dit vakje aan zodra je je brief gepost hebt."),
    ],
    ids=["fr-email-missing", "fr-email-invalid", "fr-not-ticked", "nl-email-missing", "nl-not-ticked"],
)
def test_i_posted_it_myself_errors(app, language, fields, name, field_id, message):
    client = section_client(app, "be.localhost", accept_language=language)
    response = post_posted(client, **fields)
    assert response.status_code == 422
    assert error_beside(response, name, field_id) == message
    assert rows(app, Action) == []


# -- user-written text is never mark-up -----------------------------------------------------


def test_script_in_the_name_is_shown_as_text_everywhere(app, fr):
    preview = post_letter(fr, step="preview", name=XSS)
    page = preview.get_data(as_text=True)
    assert XSS not in page
    assert '<p class="letter-signature">&lt;script&gt;alert(1)&lt;/script&gt;<br>Lyon</p>' in page
    assert hidden_fields(preview)["name"] == XSS
    edit = fr.post(f"/cases/{CASE}/act/letter", data={**hidden_fields(preview), "step": "edit"})
    assert XSS not in edit.get_data(as_text=True) and "&lt;script&gt;" in edit.get_data(as_text=True)
    invalid = post_letter(fr, name=XSS, email="bad")
    assert XSS not in invalid.get_data(as_text=True) and "&lt;script&gt;alert(1)&lt;/script&gt;" in invalid.get_data(as_text=True)
    # In the PDF it prints as typed, not as mark-up.
    assert XSS in pdf_text(post_pdf(fr, name=XSS))
    # Stored and queued as written; the thanks page does not show it.
    sent = post_letter(fr, name=XSS)
    assert XSS not in fr.get(sent.headers["Location"]).get_data(as_text=True)
    assert rows(app, Delivery)[0].body["signature"] == XSS
