"""The solidarity message form: a card-sized message, a first name and a
town. Every message goes through this plugin's own catalog."""
from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from core.toolkit import PluginTranslations

i18n = PluginTranslations(__file__)
_l = i18n.lazy_gettext

#: About what fits on a postcard.
MESSAGE_MIN = 3
MESSAGE_MAX = 500
FIRST_NAME_MAX = 40
TOWN_MAX = 60

#: An email address, also written the ways people dodge filters
#: ("camille (at) example (dot) org").
_AT = r"(?:\s*@\s*|\s*[\[({]\s*(?:at|arobase|apenstaartje|@)\s*[\])}]\s*)"
_DOT = r"(?:\.|\s*[\[({]\s*(?:dot|point|punt|punkt)\s*[\])}]\s*)"
EMAIL = re.compile(rf"[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}[a-z]{{2,}}\b", re.IGNORECASE)
#: A phone number: "+33 6 12 34 56 78", "0470 12 34 56", "06.12.34.56.78".
#: It must start with + or 0 so that a run of years ("2018 2019") is not one.
PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}|0)(?:[\s./-]?\d){8,}(?!\w)")


def clean_text(value: Any) -> Any:
    """Trim, and count a line break as one character whatever the browser
    sent (forms submit CRLF, which would make the limit unfair)."""
    if not isinstance(value, str):
        return value
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def contains_email(text: str | None) -> bool:
    return bool(text and EMAIL.search(text))


def contains_phone(text: str | None) -> bool:
    return bool(text and PHONE.search(text))


class NoContactDetails:
    """Refuse a writer's email address (and, in the message, a phone number):
    the card must never carry them, so the writer is asked to remove them
    rather than have them silently cut."""

    def __init__(self, email_message: Any, phone_message: Any = None) -> None:
        self.email_message = email_message
        self.phone_message = phone_message

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if contains_email(field.data):
            raise ValidationError(self.email_message)
        if self.phone_message is not None and contains_phone(field.data):
            raise ValidationError(self.phone_message)


class SolidarityForm(FlaskForm):
    #: For the panel's "characters left" hint.
    message_max = MESSAGE_MAX

    message = TextAreaField(
        _l("Your message"),
        id="solidarity-message",  # other panels on the page have their own fields
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please write your message.")),
            Length(min=MESSAGE_MIN, message=_l("Your message is too short: please write at least 3 characters.")),
            Length(
                max=MESSAGE_MAX,
                message=_l("Your message is too long for a card: please shorten it to 500 characters (it has %(length)d)."),
            ),
            NoContactDetails(
                _l("Please remove the email address from your message: it would not be sent."),
                _l("Please remove the phone number from your message: it would not be sent."),
            ),
        ],
        render_kw={"maxlength": MESSAGE_MAX, "rows": 6},
    )
    first_name = StringField(
        _l("Your first name"),
        id="solidarity-first-name",
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please enter your first name.")),
            Length(max=FIRST_NAME_MAX, message=_l("Please use at most 40 characters.")),
            NoContactDetails(_l("Please enter only your first name, without an email address.")),
        ],
        render_kw={"autocomplete": "given-name", "maxlength": FIRST_NAME_MAX},
    )
    town = StringField(
        _l("Your town (optional)"),
        id="solidarity-town",
        filters=[clean_text],
        validators=[
            Length(max=TOWN_MAX, message=_l("Please use at most 60 characters.")),
            NoContactDetails(_l("Please enter only your town, without an email address.")),
        ],
        render_kw={"autocomplete": "address-level2", "maxlength": TOWN_MAX},
    )

    def explain_first_name(self, wall: bool) -> None:
        """Say where the first name will be seen: on the card, and on the
        public wall where the section has one."""
        if wall:
            self.first_name.description = _l(
                "It is shown to the person with your message, and on this case’s public wall of messages."
            )
        else:
            self.first_name.description = _l("It is shown to the person with your message.")


class SolidaritySettingsForm(FlaskForm):
    """What a section admin chooses for solidarity messages."""

    wall = BooleanField(
        _l("Show approved messages on a public wall per case"),
        description=_l("The wall shows the first name, town and message of approved messages, never more."),
    )
