"""Printable letters: one A4 layout shared by every plugin that prints one.

A supporter's own print-out (appeal_letter) and a print shop's batch
(printed_post) use the same page: the addressee where a left-window
DL/C5 envelope shows it, the letter exactly as written, room to sign. The
letters are drawn straight onto a reportlab canvas, page by page, so a batch
appends thousands of them to one open canvas without building a story of
flowables that holds them all at once.

The font ships with the core (DejaVu Sans, see ``fonts/LICENSE.txt``), so
accents print on a server without font packages. Plugins import these
names from :mod:`core.toolkit`.
"""
from __future__ import annotations

import io
import re
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

FONTS = Path(__file__).resolve().parent / "fonts"
#: The font every printable letter uses (registered on first use).
LETTER_FONT = "EcrireSans"
_font_lock = threading.Lock()

#: A left-window envelope (DL/C5, DIN 5008 type B): the window starts 20 mm
#: from the left edge and 45 mm from the top, and is 85 x 45 mm.
WINDOW_LEFT, WINDOW_TOP, WINDOW_WIDTH, WINDOW_HEIGHT = 20 * mm, 45 * mm, 85 * mm, 45 * mm
MARGIN_LEFT, MARGIN_RIGHT = 25 * mm, 20 * mm
FIRST_PAGE_TOP, LATER_PAGE_TOP, MARGIN_BOTTOM = 100 * mm, 25 * mm, 20 * mm
#: Body text, address and return-address line: (size, leading) in points.
BODY, ADDRESS, SENDER = (11.0, 15.0), (10.5, 13.5), (7.5, 9.0)
PARAGRAPH_GAP, DATE_GAP, SIGNING_ROOM = 9.0, 18.0, 12 * mm


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


@dataclass(frozen=True)
class Letterhead:
    """What tops each page of a section's letters: its name, in its colour."""

    name: str
    colour: str = "#111111"


def register_letter_fonts() -> None:
    """Registered once per process, on first use: start-up stays fast."""
    with _font_lock:
        if LETTER_FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(LETTER_FONT, str(FONTS / "DejaVuSans.ttf")))


class _CompactCanvas(Canvas):
    """A canvas that compresses each page's content as soon as the page is
    closed. reportlab keeps every page's text in memory until ``save``;
    compressed, a letter's page takes about 1.5 KB instead of about 10, so a
    batch of thousands stays small (the file is byte-for-byte as large)."""

    def showPage(self) -> None:
        super().showPage()
        page = self._doc.Pages.pages[-1]
        stream = getattr(page, "stream", None)
        if page.Contents or not stream or not self._pageCompression:
            return
        # A stream whose dictionary already names its filter is written as
        # is (PDFStream.format applies no filter again).
        data = stream.encode("utf8") if isinstance(stream, str) else stream
        contents = pdfdoc.PDFStream(pdfdoc.PDFDictionary({"Filter": pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])}), zlib.compress(data))
        contents.__Comment__ = "page stream"
        page.Contents, page.stream = contents, None


def letter_canvas(
    target: str | Path | IO[bytes], *, title: str, language: str, pagesize: tuple[float, float] = A4
) -> Canvas:
    """An open canvas for one or many letters; the caller saves it."""
    register_letter_fonts()
    canvas = _CompactCanvas(
        str(target) if isinstance(target, Path) else target, pagesize=pagesize, lang=language, pageCompression=1
    )
    canvas.setTitle(title)
    canvas.setSubject(title)
    canvas.setAuthor("")
    canvas.setCreator("Écrire")
    return canvas


def paragraphs(text: str) -> list[list[str]]:
    """Blank lines separate paragraphs, single line breaks are kept: the
    letter is printed as written."""
    blocks = [block for block in text.replace("\r\n", "\n").split("\n\n") if block.strip()]
    return [block.strip("\n").split("\n") for block in blocks]


#: Glyph widths of the letter font per 1,000 points, filled as characters
#: are met: measuring words through this is several times faster than
#: reportlab's simpleSplit, which measures each line again and again.
_widths: dict[str, float] = {}


def _measure(text: str) -> float:
    """Width at 1,000 points (TrueType text has no kerning in reportlab)."""
    widths, total = _widths, 0.0
    for char in text:
        width = widths.get(char)
        if width is None:
            width = widths[char] = pdfmetrics.stringWidth(char, LETTER_FONT, 1000)
        total += width
    return total


def wrap_text(text: str, size: float, width: float) -> list[str]:
    """One written line as printed lines no wider than ``width``, broken at
    spaces; a word longer than the line is cut rather than running off the
    paper."""
    register_letter_fonts()
    limit = width * 1000 / size
    space = _measure(" ")
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    for word in text.split():
        needed = _measure(word)
        if needed > limit:
            if current:
                lines.append(" ".join(current))
            piece, used = "", 0.0
            for char in word:
                if piece and used + _widths[char] > limit:
                    lines.append(piece)
                    piece, used = "", 0.0
                piece, used = piece + char, used + _widths[char]
            current = [piece]
        elif current and used + space + needed > limit:
            lines.append(" ".join(current))
            current, used = [word], needed
        else:
            used += (space if current else 0.0) + needed
            current.append(word)
    if current:
        lines.append(" ".join(current))
    return lines or [""]


_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def _colour(value: str) -> colors.Color:
    """A section's CSS colour; black when reportlab cannot read it."""
    try:
        return colors.HexColor(value) if _HEX.match(value) else colors.toColor(value)
    except (ValueError, TypeError, AttributeError):
        return colors.black


def draw_letterhead(canvas: Canvas, letterhead: Letterhead | None) -> None:
    """The section's name under a rule in its primary colour, above the
    envelope window so it never shows through it."""
    if letterhead is None:
        return
    width, height = canvas._pagesize
    colour = _colour(letterhead.colour)
    canvas.saveState()
    canvas.setFillColor(colour)
    canvas.rect(MARGIN_LEFT, height - 13 * mm, width - MARGIN_LEFT - MARGIN_RIGHT, 1.2 * mm, stroke=0, fill=1)
    canvas.setFont(LETTER_FONT, 12)
    canvas.drawString(MARGIN_LEFT, height - 19 * mm, letterhead.name)
    canvas.restoreState()


class _Pen:
    """Writes lines down the page, turning to a new page (with its
    letterhead) when the next line would cross the bottom margin."""

    def __init__(self, canvas: Canvas, letterhead: Letterhead | None, top: float) -> None:
        self.canvas, self.letterhead = canvas, letterhead
        self.width, self.height = canvas._pagesize
        self.y = self.height - top

    def room_for(self, height: float) -> None:
        if self.y - height < MARGIN_BOTTOM:
            self.canvas.showPage()
            draw_letterhead(self.canvas, self.letterhead)
            self.y = self.height - LATER_PAGE_TOP

    def lines(self, lines: Sequence[str], style: tuple[float, float], keep_together: bool = False) -> None:
        size, leading = style
        self.canvas.setFont(LETTER_FONT, size)
        if keep_together:
            self.room_for(leading * len(lines))
        for line in lines:
            self.room_for(leading)
            self.y -= leading
            self.canvas.setFont(LETTER_FONT, size)  # a new page starts with the default font
            self.canvas.drawString(MARGIN_LEFT, self.y + leading - size, line)


def _window(canvas: Canvas, letter: PrintableLetter) -> None:
    """A one-line return address, then the addressee, inside the window."""
    _width, height = canvas._pagesize
    left, room = WINDOW_LEFT + 5 * mm, WINDOW_WIDTH - 5 * mm
    y = height - WINDOW_TOP - 4 * mm
    bottom = height - WINDOW_TOP - WINDOW_HEIGHT
    sender = wrap_text(letter.sender, SENDER[0], room) if letter.sender else []
    canvas.setFont(LETTER_FONT, SENDER[0])
    for line in sender[:2]:
        y -= SENDER[1]
        canvas.drawString(left, y + SENDER[1] - SENDER[0], line)
    y -= 3 * mm if sender else 0
    canvas.setFont(LETTER_FONT, ADDRESS[0])
    for written in letter.address:
        for line in wrap_text(written, ADDRESS[0], room):
            if y - ADDRESS[1] < bottom:  # hidden by the envelope anyway
                return
            y -= ADDRESS[1]
            canvas.drawString(left, y + ADDRESS[1] - ADDRESS[0], line)


def draw_letter(canvas: Canvas, letter: PrintableLetter, letterhead: Letterhead | None = None) -> int:
    """Draw one letter from a fresh page onwards and close its last page, so
    the next letter (or the end of the document) follows; returns the pages
    it took. The canvas keeps no reference to the letter afterwards."""
    start = canvas.getPageNumber()
    width, _height = canvas._pagesize
    content = width - MARGIN_LEFT - MARGIN_RIGHT
    draw_letterhead(canvas, letterhead)
    _window(canvas, letter)
    pen = _Pen(canvas, letterhead, FIRST_PAGE_TOP)
    if letter.place_and_date:
        canvas.setFont(LETTER_FONT, BODY[0])
        pen.y -= BODY[1]
        canvas.drawRightString(width - MARGIN_RIGHT, pen.y + BODY[1] - BODY[0], letter.place_and_date)
        pen.y -= DATE_GAP
    for paragraph in paragraphs(letter.text):
        pen.lines([part for line in paragraph for part in wrap_text(line, BODY[0], content)], BODY)
        pen.y -= PARAGRAPH_GAP
    pen.y -= SIGNING_ROOM  # room to sign by hand
    closing = [line for line in (letter.signature, letter.town) if line]
    pen.lines([part for line in closing for part in wrap_text(line, BODY[0], content)], BODY, keep_together=True)
    canvas.showPage()
    return canvas.getPageNumber() - start


def render_letter(letter: PrintableLetter, letterhead: Letterhead | None = None) -> bytes:
    """One letter as a complete PDF document."""
    buffer = io.BytesIO()
    canvas = letter_canvas(buffer, title=letter.title, language=letter.language)
    draw_letter(canvas, letter, letterhead)
    canvas.save()
    return buffer.getvalue()
