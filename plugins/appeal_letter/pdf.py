"""The printable letter: A4, the authority's address where a windowed
envelope shows it, then the letter exactly as the supporter wrote it.

The fonts ship with the plugin (DejaVu Sans, see fonts/LICENSE.txt), so
accents print on a server without font packages.
"""
from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, KeepTogether, PageTemplate, Paragraph, Spacer

from plugins.appeal_letter.letter import paragraphs

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "AppealLetterSans"
_font_lock = threading.Lock()

#: A left-window envelope (DL/C5, DIN 5008 type B): the window starts 20 mm
#: from the left edge and 45 mm from the top, and is 85 x 45 mm.
WINDOW_LEFT, WINDOW_TOP, WINDOW_WIDTH, WINDOW_HEIGHT = 20 * mm, 45 * mm, 85 * mm, 45 * mm
MARGIN_LEFT, MARGIN_RIGHT = 25 * mm, 20 * mm
FIRST_PAGE_TOP, LATER_PAGE_TOP, MARGIN_BOTTOM = 100 * mm, 25 * mm, 20 * mm


@dataclass(frozen=True)
class PrintableLetter:
    """Everything printed, already chosen: nothing here is interpreted."""

    address: Sequence[str]
    sender: str
    place_and_date: str
    text: str
    signature: str
    town: str
    title: str
    language: str


def _fonts() -> None:
    """Registered once per process, on first use: start-up stays fast."""
    with _font_lock:
        if FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(FONT, str(FONTS / "DejaVuSans.ttf")))


def _text(value: str) -> str:
    """Supporter text as Paragraph content: escaped, so "<b>" or a
    "<script>" prints as typed instead of being read as mark-up."""
    return escape(value)


def _lines(lines: Sequence[str]) -> str:
    return "<br/>".join(_text(line) for line in lines)


def render(letter: PrintableLetter) -> bytes:
    _fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=11, leading=15, spaceAfter=9)
    address = ParagraphStyle("address", fontName=FONT, fontSize=10.5, leading=13.5)
    sender = ParagraphStyle("sender", fontName=FONT, fontSize=7.5, leading=9)
    date = ParagraphStyle("date", parent=body, alignment=TA_RIGHT, spaceAfter=18)
    width, height = A4

    def first_page(canvas: Canvas, _doc: BaseDocTemplate) -> None:
        # The window: a one-line return address, then the addressee.
        frame_width = WINDOW_WIDTH - 5 * mm
        top = height - WINDOW_TOP - 4 * mm
        back = Paragraph(_text(letter.sender), sender)
        _w, back_height = back.wrap(frame_width, WINDOW_HEIGHT)
        back.drawOn(canvas, WINDOW_LEFT + 5 * mm, top - back_height)
        to = Paragraph(_lines(letter.address), address)
        _w, to_height = to.wrap(frame_width, WINDOW_HEIGHT)
        to.drawOn(canvas, WINDOW_LEFT + 5 * mm, top - back_height - 3 * mm - to_height)

    content_width = width - MARGIN_LEFT - MARGIN_RIGHT
    unpadded = {"leftPadding": 0, "rightPadding": 0, "topPadding": 0, "bottomPadding": 0}  # text lines up with the address
    first = Frame(MARGIN_LEFT, MARGIN_BOTTOM, content_width, height - FIRST_PAGE_TOP - MARGIN_BOTTOM, id="first", **unpadded)
    later = Frame(MARGIN_LEFT, MARGIN_BOTTOM, content_width, height - LATER_PAGE_TOP - MARGIN_BOTTOM, id="later", **unpadded)
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        title=letter.title,
        subject=letter.title,
        author="",
        creator="Écrire",
        lang=letter.language,
        pageTemplates=[
            PageTemplate(id="first", frames=[first], onPage=first_page, autoNextPageTemplate="later"),
            PageTemplate(id="later", frames=[later]),
        ],
    )
    story: list = [Paragraph(_text(letter.place_and_date), date)]
    for paragraph in paragraphs(letter.text):
        story.append(Paragraph(_lines(paragraph), body))
    story.append(Spacer(1, 12 * mm))  # room to sign by hand
    story.append(KeepTogether([Paragraph(_lines([letter.signature, letter.town]), body)]))
    doc.build(story)
    return buffer.getvalue()
