"""The postcard printer: a card becomes a one-page PDF named after the
item's key; a retry overwrites it; a full disk is retried; a letter is refused."""
from __future__ import annotations

from pathlib import Path

import ecrire_postcard_printer
import pytest
from ecrire_postcard_printer import PostcardPrinter, ecrire_delivery_channels, file_name
from pypdf import PdfReader

from core.toolkit import Delivered, DeliveryItem, Recipient, RetryLater, Undeliverable

MESSAGE = "Nous pensons à vous chaque jour. Tenez bon, Sonia : vous n’êtes pas seule !"


def item(kind: str = "card", key: str = "fr:42:card", attempt: int = 1, **body: str) -> DeliveryItem:
    card = {"message": MESSAGE, "first_name": "Camille", "town": "Lyon", "language": "fr", **body}
    return DeliveryItem(id=42, key=key, section_code="fr", case_id="sonia-dahmani", kind=kind,
                        recipient=Recipient(name="Sonia Dahmani"), body=card, attempt=attempt)


def text_of(path: Path) -> str:
    reader = PdfReader(str(path))
    assert len(reader.pages) == 1
    return " ".join(reader.pages[0].extract_text().split())


def test_a_card_is_printed_to_one_page(tmp_path: Path):
    result = PostcardPrinter(tmp_path).deliver(item())
    assert isinstance(result, Delivered)
    path = Path(result.reference)
    assert path.parent == tmp_path and path.name == "fr_42_card.pdf"
    words = text_of(path)
    assert "Nous pensons à vous chaque jour." in words and "Tenez bon" in words
    assert "Camille, Lyon" in words


def test_a_retry_overwrites_the_same_card(tmp_path: Path):
    printer = PostcardPrinter(tmp_path)
    first = printer.deliver(item(attempt=1))
    second = printer.deliver(item(attempt=2, message="Courage, Sonia."))
    assert first == second
    assert [p.name for p in tmp_path.iterdir()] == ["fr_42_card.pdf"]
    assert "Courage, Sonia." in text_of(Path(second.reference))


def test_an_unwritable_folder_is_retried_later(tmp_path: Path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    result = PostcardPrinter(blocker / "cards").deliver(item())
    assert isinstance(result, RetryLater)
    assert "cannot write" in result.reason


@pytest.mark.parametrize("kind", ["letter", "signatures"])
def test_anything_but_a_card_is_undeliverable(tmp_path: Path, kind: str):
    assert isinstance(PostcardPrinter(tmp_path).deliver(item(kind=kind)), Undeliverable)
    assert list(tmp_path.iterdir()) == []


def test_the_folder_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ECRIRE_POSTCARD_DIR", str(tmp_path / "cards"))
    [channel] = ecrire_delivery_channels()
    assert channel.name == "postcard-printer"
    result = channel.deliver(item(key="be:7:card"))
    assert result == Delivered(reference=str(tmp_path / "cards" / "be_7_card.pdf"))


def test_keys_become_safe_file_names():
    assert file_name("fr:1:card") == "fr_1_card.pdf"
    assert "/" not in file_name("../../etc/passwd")


def test_without_dejavu_the_card_is_printed_in_helvetica(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(ecrire_postcard_printer, "FONT_CANDIDATES", ())
    assert ecrire_postcard_printer.card_font() == "Helvetica"
    result = PostcardPrinter(tmp_path).deliver(item(message="Courage, Sonia. À bientôt !"))
    assert "Courage, Sonia. À bientôt !" in text_of(Path(result.reference))
