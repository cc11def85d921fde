"""Printed post channel: bundles of letters and cards as print-ready PDFs.

Routing names the channel ``"post"``, usually bundled (a weekly batch to an
embassy). Each bundle becomes one PDF in the batch's files folder, offered
for download in the admin and taken to a print shop:

* ``letter`` items (from the appeal letter): a cover sheet (section,
  recipient, case, count, batch, date, instructions for the print shop),
  then each letter from a fresh A4 page, with the recipient's address
  where a left-window DL/C5 envelope shows it and the section's letterhead
  (its name in its primary colour) on every page. Each letter is printed in
  the language it was written in.
* ``card`` items (approved solidarity messages): card-sized pages (A6
  landscape, 148 x 105 mm), a cover card with the count, then one card per
  message with its first name and town.

A single, unbundled item gets a one-letter (or one-card) PDF the same way.
Pages are drawn one after the other onto one canvas, never kept as a list of
flowables, so memory stays flat however large the batch. The file is written
under a temporary name and renamed, so a retry after a crash rewrites the
same ``<bundle key>.pdf`` instead of leaving a second or half-written one.
Cover sheets and cards are printed in the section's default language.

Settings (``plugin_settings["printed_post"]``):

``letterhead``
    Text printed at the top of every page instead of the section's name
    (for example the section's full legal name and postal address line).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date
from flask import has_app_context
from flask_babel import force_locale
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from core.toolkit import (
    LETTER_FONT,
    Delivered,
    DeliveryBatch,
    DeliveryChannel,
    DeliveryItem,
    DeliveryResult,
    Letterhead,
    PluginTranslations,
    PrintableLetter,
    Recipient,
    RetryLater,
    SectionDefinition,
    Undeliverable,
    draw_letter,
    draw_letterhead,
    hookimpl,
    letter_canvas,
    wrap_text,
)

i18n = PluginTranslations(__file__)
_ = i18n.gettext

PLUGIN = "printed_post"
#: A6 landscape, the size of a post card.
CARD = (148 * mm, 105 * mm)
KINDS = ("letter", "card")
#: Items per PDF file: bounds the memory a bundle takes to render.
FILE_SIZE = 250


# -- languages ---------------------------------------------------------------------


def _locale(language: str, fallback: str) -> str:
    try:
        Locale.parse(language)
        return language
    except (UnknownLocaleError, ValueError, TypeError):
        return fallback


@contextmanager
def _speaking(language: str) -> Iterator[None]:
    """The plugin's strings in ``language`` (the worker has an app context;
    without one, as in the benchmark, they stay in English)."""
    if has_app_context():
        with force_locale(language):
            yield
    else:
        yield


class _PlaceAndDate:
    """"Lyon, le 3 décembre 2026" in each letter's language: worked out once
    per language per batch, not once per letter."""

    def __init__(self, day: dt.date, fallback: str) -> None:
        self.day, self.fallback = day, fallback
        self.formats: dict[str, str] = {}

    def __call__(self, town: str, language: str) -> str:
        if language not in self.formats:
            locale = _locale(language or self.fallback, self.fallback)
            with _speaking(locale):
                pattern = _("%(town)s, %(date)s", town="\0", date=format_date(self.day, "long", locale=locale))
            self.formats[language] = pattern
        return self.formats[language].replace("\0", town) if town else self.formats[language].split("\0", 1)[-1].lstrip(", ")


# -- what is printed ----------------------------------------------------------------


def address_block(recipient: Recipient) -> list[str]:
    """Title, name, then the postal lines, each once."""
    lines = [recipient.title, recipient.name, *recipient.address]
    return list(dict.fromkeys(line.strip() for line in lines if line and line.strip()))


def letterhead(section: SectionDefinition, settings: Mapping[str, Any]) -> Letterhead:
    name = str(settings.get("letterhead") or section.display_name(section.default_language))
    return Letterhead(name=name, colour=section.branding.primary_colour)


def safe_name(key: str) -> str:
    """A bundle key as a file name: "bundle:fr:12" -> "bundle-fr-12"."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", key).strip("-.") or "batch"


def _cover(
    canvas: Canvas, batch: DeliveryBatch, head: Letterhead, count: int, day: dt.date, language: str, part: tuple[int, int]
) -> None:
    """The first page, for whoever prints and posts the batch; not posted."""
    width, height = canvas._pagesize
    cards = batch.kind == "card"
    left = 12 * mm if cards else 25 * mm
    room = width - 2 * left
    size, leading = (8.5, 11.0) if cards else (11.0, 16.0)
    with _speaking(language):
        title = _("Solidarity cards") if cards else _("Letters for the post")
        counted = (
            i18n.ngettext("%(num)d card", "%(num)d cards", count)
            if cards
            else i18n.ngettext("%(num)d letter", "%(num)d letters", count)
        )
        to = [_("Recipient:"), *("    " + line for line in address_block(batch.recipient))]
        lines = [
            *to,
            _("Case: %(person)s", person=batch.case.person if batch.case else batch.case_id or "—"),
            _("Number: %(count)s", count=counted),
            _("Batch: %(key)s", key=batch.key)
            + ("" if part[1] == 1 else " — " + _("file %(number)d of %(total)d", number=part[0], total=part[1])),
            _("Date: %(date)s", date=format_date(day, "long", locale=language)),
            "",
            _("For the print shop: print single-sided on card stock, 148 x 105 mm, one card per page; this cover card is not posted.")
            if cards
            else _(
                "For the print shop: print single-sided on A4 paper, each letter from its first page on, "
                "folded so its address shows in the window of a DL/C5 envelope; this cover sheet is not posted."
            ),
        ]
    if cards:
        canvas.setFont(LETTER_FONT, 10)
        canvas.drawString(left, height - 10 * mm, head.name)
        y = height - 18 * mm
    else:
        draw_letterhead(canvas, head)
        y = height - 40 * mm
    canvas.setFont(LETTER_FONT, size * 1.5)
    canvas.drawString(left, y, title)
    y -= leading * 1.8
    canvas.setFont(LETTER_FONT, size)
    for line in lines:
        for part in wrap_text(line, size, room):
            canvas.drawString(left, y, part)
            y -= leading
    canvas.showPage()


def _letters(batch: DeliveryBatch, head: Letterhead, day: dt.date) -> Iterable[PrintableLetter]:
    """Built one at a time as the canvas asks for them."""
    address = address_block(batch.recipient)
    dated = _PlaceAndDate(day, batch.section.default_language)
    for item in batch.items:
        body = item.body
        language = str(body.get("language") or batch.section.default_language)
        title = str(body.get("authority_title") or batch.recipient.title or batch.recipient.name)
        town = str(body.get("town") or "")
        yield PrintableLetter(
            address=address,
            sender=head.name,
            place_and_date=dated(town, language),
            text=str(body.get("text") or ""),
            signature=str(body.get("signature") or ""),
            town=town,
            title=title,
            language=language,
        )


def _card(canvas: Canvas, body: Mapping[str, Any], head: Letterhead) -> None:
    width, height = canvas._pagesize
    left, room = 12 * mm, width - 24 * mm
    canvas.setFont(LETTER_FONT, 7)
    canvas.drawString(left, height - 9 * mm, head.name)
    written = str(body.get("message") or "").replace("\r\n", "\n").split("\n")
    top, bottom = height - 16 * mm, 22 * mm
    for size in (13.0, 11.0, 9.5, 8.0, 7.0):  # the largest size the message fits in (500 characters at most)
        lines = [part for line in written for part in wrap_text(line, size, room)]
        if len(lines) * size * 1.3 <= top - bottom:
            break
    leading = size * 1.3
    canvas.setFont(LETTER_FONT, size)
    y = top - size
    for line in lines:
        if y < bottom - leading:
            break
        canvas.drawString(left, y, line)
        y -= leading
    who = ", ".join(part for part in (str(body.get("first_name") or ""), str(body.get("town") or "")) if part.strip())
    if who:
        canvas.setFont(LETTER_FONT, 10)
        canvas.drawRightString(width - left, 12 * mm, f"— {who}")
    canvas.showPage()


def render_batch(batch: DeliveryBatch, path: Path, *, today: dt.date | None = None, part: tuple[int, int] = (1, 1)) -> int:
    """Write the batch's PDF to ``path``; returns its page count. ``part``
    (number, of how many) is shown on the cover when a bundle is split."""
    language = _locale(batch.section.default_language, "en")
    head = letterhead(batch.section, batch.settings)
    day = today or dt.date.today()
    cards = batch.kind == "card"
    with _speaking(language):
        title = _("Solidarity cards: %(key)s", key=batch.key) if cards else _("Letters for the post: %(key)s", key=batch.key)
    canvas = letter_canvas(path, title=title, language=language, pagesize=CARD if cards else A4)
    _cover(canvas, batch, head, len(batch.items), day, language, part)
    if cards:
        for item in batch.items:
            _card(canvas, item.body, head)
    else:
        for letter in _letters(batch, head, day):
            draw_letter(canvas, letter, head)
    pages = canvas.getPageNumber() - 1
    canvas.save()
    return pages


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_file(batch: DeliveryBatch, name: str, part: tuple[int, int]) -> str:
    """Render to a temporary file beside the target, then rename it over
    the target: a retry replaces the file, a crash leaves no half a PDF.
    Returns the file's sha256."""
    handle, temporary = tempfile.mkstemp(dir=batch.files_dir, prefix=f".{name}.", suffix=".tmp")
    os.close(handle)
    try:
        render_batch(batch, Path(temporary), part=part)
        digest = _sha256(Path(temporary))
        os.replace(temporary, batch.files_dir / name)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return digest


def write_batch(batch: DeliveryBatch) -> DeliveryResult:
    """One PDF per ``FILE_SIZE`` items: reportlab holds a whole file in
    memory until it is saved, so files of bounded size keep the memory flat
    however large the bundle (and a print shop prefers them)."""
    if batch.kind not in KINDS:
        return Undeliverable(f"printed post prints letters and cards, not {batch.kind!r} items")
    if not batch.items:
        return Undeliverable("an empty bundle: nothing to print")
    batch.files_dir.mkdir(parents=True, exist_ok=True)
    chunks = [batch.items[start : start + FILE_SIZE] for start in range(0, len(batch.items), FILE_SIZE)]
    stem = safe_name(batch.key)
    files, digests = [], []
    for number, chunk in enumerate(chunks, 1):
        name = f"{stem}.pdf" if len(chunks) == 1 else f"{stem}-{number:02d}-of-{len(chunks):02d}.pdf"
        digests.append(_write_file(dataclasses.replace(batch, items=chunk), name, (number, len(chunks))))
        files.append(name)
    noun = "cards" if batch.kind == "card" else "letters"
    digest = digests[0] if len(digests) == 1 else hashlib.sha256("".join(digests).encode()).hexdigest()
    return Delivered(reference=f"{len(batch.items)} {noun} in {len(files)} file(s), sha256 {digest}", files=files)


# -- single items -------------------------------------------------------------------------


class PrintedPost(DeliveryChannel):
    name = "post"
    batch_size = 1000

    def deliver_batch(self, batch: DeliveryBatch) -> DeliveryResult:
        return write_batch(batch)

    def deliver(self, item: DeliveryItem) -> DeliveryResult:
        if item.section is None or item.files_dir is None:
            return RetryLater("printed post needs the worker's section and folder for an item")
        return write_batch(
            DeliveryBatch(
                id=item.id,
                key=item.key,
                section=item.section,
                case_id=item.case_id,
                case=None,
                kind=item.kind,
                recipient=item.recipient,
                items=[item],
                attempt=item.attempt,
                files_dir=item.files_dir,
                settings=item.settings,
            )
        )


@hookimpl
def ecrire_delivery_channels() -> Sequence[DeliveryChannel]:
    return [PrintedPost()]


class PrintedPostSettingsForm(FlaskForm):
    letterhead = StringField(
        i18n.lazy_gettext("Letterhead (empty: the section's name)"), validators=[Optional(), Length(max=120)]
    )


@hookimpl
def ecrire_settings_form():
    return PrintedPostSettingsForm

