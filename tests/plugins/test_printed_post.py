"""Printed post: bundles of real letters and cards become one print-ready
PDF each, which opens, whose text can be extracted, and which a retry
rewrites rather than duplicates."""
from __future__ import annotations

import dataclasses

import textwrap
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import insert, select

from core.models import Delivery, utcnow
from core.testing import run_worker_once, section_client, take_action

#: Routing letters and cards to the printed post, bundled: it stands in for
#: a section's own routing, which this test must not depend on.
ROUTER = textwrap.dedent(
    '''
    from core.toolkit import Recipient, Route, hookimpl

    EMBASSY = Recipient("Ambassade de Tunisie", "Son Excellence l’Ambassadeur",
                        ("25 rue Barbet de Jouy", "75007 Paris"))

    @hookimpl(tryfirst=True)  # before the section's own routing, whatever it says
    def ecrire_letter_routing(section, case, action, request):
        if request.kind in ("letter", "card"):
            return Route(EMBASSY, channel="post", bundle=True)
    '''
)
ADDRESS = ("Son Excellence l’Ambassadeur", "Ambassade de Tunisie", "25 rue Barbet de Jouy", "75007 Paris")
MM = 72 / 25.4
#: The French demo section's name: its letterhead.
SECTION_NAME = "Écrire pour les droits · France"


@pytest.fixture
def app(outside_plugin, make_app, tmp_path):
    outside_plugin("ecrire-post-router", {"post_router/__init__.py": ROUTER}, {"post_router": "post_router"})
    return make_app(
        plugins={"fr": ["post_router", "printed_post"]},
        ECRIRE_DELIVERY_FILES=str(tmp_path / "files"),
    )


def files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "files" / "fr" / "post").glob("*"))


def write_letter(client, name: str, text: str) -> None:
    response = take_action(
        client, "sonia-dahmani", "letter",
        letter=text, name=name, town="Besançon", email=f"{name.split()[0].lower()}@example.org", consent="y", step="send",
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]


def bundle_and_deliver(app):
    result = app.test_cli_runner().invoke(args=["deliveries", "bundle", "--now"])
    assert result.exit_code == 0, result.output
    return run_worker_once(app)


def bundle_rows(app) -> list[Delivery]:
    with app.extensions["ecrire"].db.session() as session:
        return list(session.scalars(select(Delivery).where(Delivery.kind == "bundle").order_by(Delivery.id)))


def test_letters_become_one_pdf_with_a_cover_sheet(app, tmp_path):
    client = section_client(app, "fr.localhost")
    letters = {
        "Camille Martin": "Monsieur le Président,\n\nLibérez Sonia Dahmani, je vous prie.\n\nVeuillez agréer mes salutations.",
        "Zoé Lefèvre": "Monsieur le Président,\n\nLibérez Sonia Dahmani : Œuvre ñ ü ß.",
        "Jan de Vries": "Geachte heer President,\n\nLaat Sonia Dahmani vrij.",
    }
    for name, text in letters.items():
        write_letter(client, name, text)
    report = bundle_and_deliver(app)
    assert report.delivered == 1, report.errors
    [row] = bundle_rows(app)
    [pdf] = files(tmp_path)
    assert row.files == [pdf.name] and pdf.name == row.key.replace(":", "-") + ".pdf"
    assert row.reference.startswith("3 letters in 1 file(s), sha256 ") and len(row.reference.split()[-1]) == 64

    reader = PdfReader(pdf)
    assert len(reader.pages) == 1 + 3
    cover = reader.pages[0].extract_text()
    for expected in ("Lettres à poster", "Destinataire :", *ADDRESS, "Cas : Sonia Dahmani", "Nombre : 3 lettres",
                     f"Lot : {row.key}", "Pour l’imprimeur", SECTION_NAME):
        assert expected in cover, expected
    for page, (name, text) in zip(reader.pages[1:], letters.items()):
        width, height = (float(v) for v in page.mediabox.upper_right)
        assert (round(width), round(height)) == (595, 842)
        content = page.extract_text()
        assert "Libérez Sonia Dahmani" in content or "Laat Sonia Dahmani vrij." in content
        assert name in content and "Besançon" in content and SECTION_NAME in content  # signature, town, letterhead
        positions: dict[str, tuple[float, float]] = {}

        def visit(piece, cm, tm, font_dict, font_size, positions=positions):
            if piece.strip():
                positions.setdefault(piece.strip(), (tm[4] * cm[0] + tm[5] * cm[2] + cm[4], tm[4] * cm[1] + tm[5] * cm[3] + cm[5]))

        page.extract_text(visitor_text=visit)
        for line in ADDRESS:  # in the window of a DL/C5 envelope
            x, y = positions[line]
            assert 20 * MM <= x <= 105 * MM and 45 * MM <= height - y <= 90 * MM, (line, x / MM, (height - y) / MM)
    assert "Œuvre ñ ü ß" in reader.pages[2].extract_text()


def test_a_retry_rewrites_the_same_file(app, tmp_path):
    client = section_client(app, "fr.localhost")
    write_letter(client, "Camille Martin", "Monsieur le Président,\n\nLibérez Sonia Dahmani.")
    assert bundle_and_deliver(app).delivered == 1
    [first] = files(tmp_path)
    first.write_bytes(b"half a PDF")  # as if the worker died after writing, before marking it done
    with app.extensions["ecrire"].db.writing() as session:
        for row in session.scalars(select(Delivery)):
            row.status = "pending" if row.kind == "bundle" else "bundled"
            row.next_attempt_at = utcnow()
    assert run_worker_once(app).delivered == 1
    assert files(tmp_path) == [first], "the same file, no second PDF and no temporary left"
    reader = PdfReader(first)
    assert len(reader.pages) == 2 and "Libérez Sonia Dahmani." in reader.pages[1].extract_text()


def test_approved_messages_become_cards(app, tmp_path):
    client = section_client(app, "fr.localhost")
    for message, first_name in (("Courage, nous pensons à vous !", "Camille"), ("Tenez bon.\nÀ bientôt libre.", "Éloïse")):
        response = take_action(client, "damisoa", "solidarity", message=message, first_name=first_name, town="Lyon")
        assert response.status_code == 303
    waiting = app.test_cli_runner().invoke(args=["moderation", "list", "fr"]).output
    ids = [line.split()[0][1:] for line in waiting.splitlines() if line.startswith("#")]
    assert len(ids) == 2
    assert app.test_cli_runner().invoke(args=["moderation", "approve", "fr", *ids]).exit_code == 0
    assert bundle_and_deliver(app).delivered == 1
    [row] = bundle_rows(app)
    assert row.reference.startswith("2 cards in 1 file(s), sha256 ")
    reader = PdfReader(files(tmp_path)[0])
    assert len(reader.pages) == 3
    for page in reader.pages:
        width, height = (float(v) for v in page.mediabox.upper_right)
        assert (round(width / MM), round(height / MM)) == (148, 105)
    assert "Cartes de solidarité" in reader.pages[0].extract_text() and "2 cartes" in reader.pages[0].extract_text()
    texts = [page.extract_text() for page in reader.pages[1:]]
    assert "Courage, nous pensons à vous !" in texts[0] and "Camille, Lyon" in texts[0]
    assert "À bientôt libre." in texts[1] and "Éloïse, Lyon" in texts[1]


LETTER_TEXT = (
    "Monsieur le Président de la République,\n\n"
    "Je vous écris au sujet de Sonia Dahmani, avocate et chroniqueuse, emprisonnée pour avoir exprimé son opinion. "
    "Libérez-la immédiatement et sans condition, et veillez à ce qu’elle soit traitée avec humanité.\n\n"
    "Veuillez agréer, Monsieur le Président, l’expression de ma haute considération."
)


def add_held_letters(app, count: int) -> None:
    """Held letters routed to the post, inserted directly as a large batch."""
    now = utcnow()
    recipient = {"name": "Ambassade de Tunisie", "title": "Son Excellence l’Ambassadeur", "address": ["25 rue Barbet de Jouy", "75007 Paris"]}
    rows = [
        {"key": f"letter-{i:05d}", "section_code": "fr", "case_id": "sonia-dahmani", "kind": "letter", "channel": "post",
         "bundle": True, "recipient": recipient, "status": "held", "attempts": 0, "next_attempt_at": now,
         "created_at": now, "updated_at": now,
         "body": {"text": LETTER_TEXT, "signature": f"Personne {i}", "town": "Besançon", "language": "fr",
                  "authority_title": "Président de la République tunisienne"}}
        for i in range(count)
    ]
    with app.extensions["ecrire"].db.writing() as session:
        session.execute(insert(Delivery), rows)


def test_a_thousand_letters_render_and_open(app, tmp_path):
    add_held_letters(app, 1000)
    assert bundle_and_deliver(app).delivered == 1
    [row] = bundle_rows(app)
    assert row.body["count"] == 1000 and row.reference.startswith("1000 letters in 4 file(s)")
    stem = row.key.replace(":", "-")
    assert row.files == [f"{stem}-{n:02d}-of-04.pdf" for n in range(1, 5)]
    readers = [PdfReader(path) for path in files(tmp_path)]
    assert [len(reader.pages) for reader in readers] == [251] * 4, "files of 250 letters, each with its cover"
    assert "4 of 4" in readers[-1].pages[0].extract_text() or "4 sur 4" in readers[-1].pages[0].extract_text()
    last = readers[-1].pages[-1].extract_text()
    assert "Libérez-la immédiatement" in last and "Personne 999" in last and "75007 Paris" in last


def test_unknown_kinds_are_refused_and_single_items_printed(app, tmp_path):
    from core.toolkit import DeliveryBatch, DeliveryItem, Recipient, Undeliverable
    from plugins.printed_post import PrintedPost

    portal = app.extensions["ecrire"]
    section = portal.registry.sections["fr"]
    item = DeliveryItem(7, "letter:fr:7", "fr", "sonia-dahmani", "letter", Recipient("Ambassade", address=("Rue 1",)),
                        {"text": "Libérez-la.", "signature": "C. M.", "town": "Lyon", "language": "fr"}, 1)
    odd = DeliveryBatch(1, "bundle:fr:1", section, None, None, "petition", Recipient("X"), [item], 1, tmp_path / "odd")
    headed = DeliveryBatch(2, "bundle:fr:2", section, None, None, "letter", Recipient("X"), [item], 1, tmp_path / "own",
                           settings={"letterhead": "Section française, 76 bd de la Villette, Paris"})
    assert PrintedPost().deliver_batch(headed).files == ["bundle-fr-2.pdf"]
    assert "Section française, 76 bd de la Villette, Paris" in PdfReader(tmp_path / "own" / "bundle-fr-2.pdf").pages[1].extract_text()
    result = PrintedPost().deliver_batch(odd)
    assert isinstance(result, Undeliverable) and "petition" in result.reason
    with app.app_context():
        single = PrintedPost().deliver(dataclasses.replace(item, section=section, files_dir=tmp_path / "files" / "fr" / "post"))
    assert single.files == ["letter-fr-7.pdf"] and single.reference.startswith("1 letters")
    reader = PdfReader(tmp_path / "files" / "fr" / "post" / "letter-fr-7.pdf")
    assert len(reader.pages) == 2 and "Libérez-la." in reader.pages[1].extract_text()
