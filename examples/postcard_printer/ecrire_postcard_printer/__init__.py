"""Postcard printer: a delivery channel that writes each solidarity card as a
one-page PDF in a folder, for a print shop or a volunteer's printer.

The folder is the environment's ``ECRIRE_POSTCARD_DIR``, else the app's
``POSTCARD_DIR`` setting, else ``postcards/`` in the instance folder. (Not a
per-section setting: ``ecrire_delivery_channels`` is not told the section.)
Route cards to it with ``Route(recipient=..., channel="postcard-printer")``."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context
from reportlab.lib.pagesizes import A6, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from core.toolkit import (
    Delivered,
    DeliveryChannel,
    DeliveryItem,
    DeliveryResult,
    RetryLater,
    Undeliverable,
    hookimpl,
)

#: Where Debian (fonts-dejavu-core) and most distributions put DejaVu Sans:
#: it covers the accents and scripts supporters write in.
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
)
PAGE = landscape(A6)
MARGIN = 10 * mm


def card_font() -> str:
    """DejaVu Sans when the system has it; otherwise reportlab's built-in
    Helvetica, which only covers Latin-1 (other characters print as boxes)."""
    for path in FONT_CANDIDATES:
        if path.is_file():
            if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont("DejaVuSans", str(path)))
            return "DejaVuSans"
    return "Helvetica"


def file_name(key: str) -> str:
    """The item's key, made safe as a file name: the same key always gives
    the same file, so a retry overwrites the card instead of adding one."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", key).strip(".") + ".pdf"


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}".strip()
            if line and pdfmetrics.stringWidth(candidate, font, size) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


def write_card(path: Path, body: Mapping[str, Any]) -> None:
    """One landscape A6 page: the message, then who wrote it and from where.
    Written to a temporary file and renamed, so a reader never sees half a card."""
    font = card_font()
    canvas = Canvas(str(path.with_suffix(".tmp")), pagesize=PAGE, pageCompression=0)
    canvas.setTitle("Solidarity card")
    width, height = PAGE
    y = height - MARGIN - 12
    canvas.setFont(font, 12)
    for line in wrap(str(body.get("message", "")), font, 12, width - 2 * MARGIN):
        canvas.drawString(MARGIN, y, line)
        y -= 15
    signature = ", ".join(part for part in (str(body.get("first_name") or ""), str(body.get("town") or "")) if part)
    if signature:
        canvas.setFont(font, 11)
        canvas.drawRightString(width - MARGIN, max(y - 10, MARGIN), f"— {signature}")
    canvas.showPage()
    canvas.save()
    os.replace(path.with_suffix(".tmp"), path)


def configured_folder() -> Path:
    """Read at each delivery, so a deployment can move the folder without a restart."""
    folder = os.environ.get("ECRIRE_POSTCARD_DIR")
    if not folder and has_app_context():
        folder = current_app.config.get("POSTCARD_DIR") or os.path.join(current_app.instance_path, "postcards")
    return Path(folder or "postcards")


class PostcardPrinter(DeliveryChannel):
    name = "postcard-printer"

    def __init__(self, folder: Path | None = None) -> None:
        #: A fixed folder (tests, scripts); None reads the configuration.
        self.folder = folder

    def deliver(self, item: DeliveryItem) -> DeliveryResult:
        if item.kind != "card" or not str(item.body.get("message") or "").strip():
            return Undeliverable(reason=f"the postcard printer prints solidarity cards, not {item.kind!r} items")
        folder = self.folder or configured_folder()
        path = folder / file_name(item.key)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_card(path, item.body)
        except OSError as exc:  # a full disk, an unmounted share: try again later
            return RetryLater(reason=f"cannot write {path}: {exc}")
        return Delivered(reference=str(path))


@hookimpl
def ecrire_delivery_channels() -> list[DeliveryChannel]:
    return [PostcardPrinter()]
