"""The letter itself: who it is addressed to, the model text, the signature.

Salutation, closing, title and address come from the case data, never from
here, so a new case (a minister, a prosecutor) needs no code change.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask_babel import force_locale, format_date

from core.toolkit import ActionContext, Authority, CaseView, country_name

from plugins.appeal_letter.forms import i18n


def pick(texts: Mapping[str, str], languages: Iterable[str]) -> str:
    """The text in the first language that has one, else any text: a case
    source may not have translated everything."""
    for language in languages:
        if texts.get(language):
            return texts[language]
    return next((text for text in texts.values() if text), "")


@dataclass(frozen=True)
class Addressee:
    """What the supporter sees of the authority, in the letter's language."""

    title: str
    address: Sequence[str]
    salutation: str
    closing: str
    #: The language the model letter is written in (the case text's).
    language: str
    #: The case's country, named in the page language (for the safety hint).
    country: str

    @property
    def address_block(self) -> list[str]:
        """Title first, then the postal lines, without repeating the title."""
        lines = [line for line in self.address if line.strip()]
        return [self.title, *lines] if self.title and self.title not in lines else lines


def letter_languages(context: ActionContext) -> list[str]:
    """The case text's language first (the ask is written in it), then the
    page's, then the section's default, then English."""
    return list(dict.fromkeys([context.case.language, context.language, context.section.default_language, "en"]))


def addressee(context: ActionContext) -> Addressee:
    authority: Authority | None = context.case.authority
    if authority is None:  # available_for keeps the action off such cases
        raise LookupError(f"case {context.case.id!r} names no authority")
    languages = letter_languages(context)
    return Addressee(
        title=pick(authority.title, languages),
        address=tuple(authority.address),
        salutation=pick(authority.salutation, languages),
        closing=pick(authority.closing, languages),
        language=context.case.language,
        country=country_name(context.case.country, context.language),
    )


def model_letter(case: CaseView, to: Addressee) -> str:
    """Salutation, a short framing, the case's ask (already an appeal in the
    first person), a closing line: a letter worth sending unchanged."""
    with force_locale(to.language):
        opening = i18n.gettext("I am writing to you about %(person)s.", person=case.person)
        follow_up = i18n.gettext("I will follow the situation of %(person)s closely.", person=case.person)
    body = f"{opening} {case.text.ask.strip()}"
    parts = [to.salutation, body, follow_up, to.closing]
    return "\n\n".join(part.strip() for part in parts if part and part.strip())


def initials(name: str) -> str:
    """"Camille Martin" -> "C. M."; "Jean-Pierre Dupont" -> "J.-P. D.".
    Only the first letter of each part is kept, so nothing else of the name
    reaches the authorities."""
    parts = []
    for word in name.split():
        pieces = []
        for piece in word.split("-"):
            letter = next((c for c in piece if c.isalpha()), "")
            if letter:
                pieces.append(f"{letter.upper()}.")
        if pieces:
            parts.append("-".join(pieces))
    return " ".join(parts)


def signature(name: str, initials_only: bool) -> str:
    name = " ".join(name.split())
    return (initials(name) or "…") if initials_only else name


def paragraphs(text: str) -> list[list[str]]:
    """Blank lines separate paragraphs, single line breaks are kept: the
    letter is shown and printed as written."""
    blocks = [block for block in text.replace("\r\n", "\n").split("\n\n") if block.strip()]
    return [block.strip("\n").split("\n") for block in blocks]


def place_and_date(context: ActionContext, town: str, language: str) -> str:
    """"Lyon, 3 décembre 2026": today in the section's time zone, written
    out in the letter's language."""
    today = dt.datetime.now(ZoneInfo(context.section.timezone)).date()
    with force_locale(language):
        return i18n.gettext("%(town)s, %(date)s", town=town, date=format_date(today, "long"))
