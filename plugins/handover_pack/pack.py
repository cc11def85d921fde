"""Building one hand-over pack: the PDF, the CSV and the manifest.

Kept apart from the channel so the files can be rendered (and benchmarked)
without an outbox. Nothing here knows an email address: a signature is a
name and a country code, and an address-looking name is masked.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from babel import UnknownLocaleError
from babel.dates import format_date
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from core.toolkit import LETTER_FONT, register_letter_fonts

PDF_NAME, CSV_NAME = "petition.pdf", "signatures.csv"
#: Signatures per table: one table per chunk keeps reportlab from measuring
#: and splitting one huge table, so time and memory grow linearly.
CHUNK = 150
COLUMNS = 3
#: An email address typed into the name field must not be handed over.
_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"]+@[^\s@<>()\[\],;:\"]+")


@dataclass(frozen=True)
class Signature:
    name: str
    country: str  # ISO code, as stored


def clean_name(value: Any) -> str:
    """One line, no email address."""
    return _EMAIL.sub("…", " ".join(str(value or "").split()))


@dataclass(frozen=True)
class Texts:
    """Every printed string, already translated into the section's language."""

    language: str
    title: str
    ask_heading: str
    ask: str
    to_heading: str
    recipient: Sequence[str]
    handed_over_by: str
    total: str
    date: str
    list_heading: str
    page_label: Callable[[int, int], str]


def today_in(timezone: str) -> dt.date:
    try:
        return dt.datetime.now(ZoneInfo(timezone)).date()
    except (KeyError, ValueError):  # an unknown zone name: the date still prints
        return dt.datetime.now(dt.UTC).date()


def long_date(day: dt.date, language: str) -> str:
    try:
        return format_date(day, "long", locale=language)
    except (UnknownLocaleError, ValueError):  # an unknown locale: ISO date
        return day.isoformat()


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _numbered_canvas(page_label: Callable[[int, int], str]) -> type[Canvas]:
    """A canvas that knows the page count when it writes "page X of Y": it
    keeps each page's state and draws the footers at save time."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                width, _height = self._pagesize
                self.setFont(LETTER_FONT, 8)
                self.drawCentredString(width / 2, 10 * mm, page_label(self._pageNumber, total))
                super().showPage()
            super().save()

    return NumberedCanvas


def render_pdf(texts: Texts, signatures: Sequence[Signature], country_label: Callable[[str], str]) -> bytes:
    """The petition as handed over. Deterministic for the same input and
    date (reportlab's invariant mode): a retry yields the same bytes."""
    register_letter_fonts()
    body = ParagraphStyle("body", fontName=LETTER_FONT, fontSize=10.5, leading=14, spaceAfter=6)
    title = ParagraphStyle("title", parent=body, fontSize=18, leading=23, spaceAfter=10)
    heading = ParagraphStyle("heading", parent=body, fontSize=12.5, leading=16, spaceBefore=8, spaceAfter=4)
    cell = ParagraphStyle("cell", fontName=LETTER_FONT, fontSize=7.5, leading=9)
    width, height = A4
    margin = 18 * mm
    frame = Frame(margin, 16 * mm, width - 2 * margin, height - margin - 16 * mm, id="page")
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        title=texts.title,
        subject=texts.title,
        author="",
        creator="Écrire",
        lang=texts.language,
        invariant=1,
        pageTemplates=[PageTemplate(id="page", frames=[frame])],
    )
    story: list[Any] = [Paragraph(escape(texts.title), title)]
    if texts.ask:
        story.append(Paragraph(escape(texts.ask_heading), heading))
        for block in (b for b in texts.ask.replace("\r\n", "\n").split("\n\n") if b.strip()):
            story.append(Paragraph("<br/>".join(escape(line) for line in block.strip().split("\n")), body))
    story.append(Paragraph(escape(texts.to_heading), heading))
    story.append(Paragraph("<br/>".join(escape(line) for line in texts.recipient if line), body))
    for line in (texts.handed_over_by, texts.total, texts.date):
        story.append(Paragraph(escape(line), body))
    story.append(Paragraph(escape(texts.list_heading), heading))
    column = (width - 2 * margin) / COLUMNS
    style = TableStyle(
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ("RIGHTPADDING", (0, 0), (-1, -1), 4),
            ("TOPPADDING", (0, 0), (-1, -1), 1),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
        ]
    )
    number = 0
    for chunk in _chunks(signatures, CHUNK):
        rows: list[list[Any]] = []
        for row in _chunks(chunk, COLUMNS):
            cells: list[Any] = []
            for signature in row:
                number += 1
                country = country_label(signature.country) if signature.country else ""
                label = " — ".join(part for part in (signature.name, country) if part)
                cells.append(Paragraph(f"{number}. {escape(label)}", cell))
            cells.extend([""] * (COLUMNS - len(cells)))
            rows.append(cells)
        story.append(Table(rows, colWidths=[column] * COLUMNS, style=style, repeatRows=0))
    if not signatures:
        story.append(Spacer(1, 4 * mm))
    doc.build(story, canvasmaker=_numbered_canvas(texts.page_label))
    return buffer.getvalue()


def _spreadsheet_safe(value: str) -> str:
    """A cell starting with = + - @ runs as a formula in a spreadsheet."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def render_csv(signatures: Sequence[Signature]) -> bytes:
    """name,country (ISO code); UTF-8 with a BOM so spreadsheets read accents."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["name", "country"])
    for signature in signatures:
        writer.writerow([_spreadsheet_safe(signature.name), signature.country])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")
