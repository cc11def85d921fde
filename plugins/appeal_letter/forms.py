"""The letter form and the "I posted it myself" form. Every message goes
through this plugin's own catalog."""
from __future__ import annotations

import re
from typing import Any

from flask_babel import format_number
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from core.toolkit import PluginTranslations, SupporterEmailField

i18n = PluginTranslations(__file__)
_l = i18n.lazy_gettext

#: Longest letter accepted: a page and a half, still readable in a minute.
LETTER_MAX = 3000
NAME_MAX = 120
TOWN_MAX = 100

#: An HTML tag, comment or processing instruction: "<b>", "</p>", "<!--", "<?".
MARKUP = re.compile(r"<[A-Za-z/!?]")

#: Which button sent the form.
PREVIEW, SEND, EDIT = "preview", "send", "edit"




def _fold(value: str | None) -> str | None:
    """One space between words, as the name and town will be printed."""
    return " ".join(value.split()) if isinstance(value, str) else value


def _plain_lines(value: str | None) -> str | None:
    """Browsers send line breaks as CRLF: count each as one character, and
    drop spaces that end lines or the whole text."""
    if not isinstance(value, str):
        return value
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def no_markup(form: Any, field: Any) -> None:
    """Letters are posted as plain text: a tag would be printed literally,
    or worse, interpreted by whatever displays it next."""
    if field.data and MARKUP.search(field.data):
        raise ValidationError(i18n.gettext("Please write plain text only: no HTML tags (text between < and >)."))


def letter_length(form: Any, field: Any) -> None:
    """Says how long the letter is, since a phone keyboard gives no hint."""
    if field.data and len(field.data) > LETTER_MAX:
        raise ValidationError(
            i18n.gettext(
                "Your letter has %(length)s characters: please shorten it to %(max)s at most.",
                length=format_number(len(field.data)),
                max=format_number(LETTER_MAX),
            )
        )


def consent_when_sending(form: Any, field: Any) -> None:
    """Consent is asked when the letter goes out in the supporter's name,
    not to preview it or print it."""
    if form.step.data == SEND and not field.data:
        raise ValidationError(i18n.gettext("Please tick this box so we can send your letter."))


def _email_field(field_id: str) -> EmailField:
    # The same rules as the petition: the address is how a repeat is recognised.
    return SupporterEmailField(id=field_id)


class LetterForm(FlaskForm):
    """The supporter's letter, as it will be sent or printed."""

    letter = TextAreaField(
        _l("Your letter"),
        id="letter-text",
        filters=[_plain_lines],
        validators=[
            DataRequired(_l("Please write your letter.")),
            letter_length,
            no_markup,
        ],
        render_kw={"rows": 14, "maxlength": LETTER_MAX},
    )
    name = StringField(
        _l("Full name"),
        id="letter-name",
        filters=[_fold],
        validators=[DataRequired(_l("Please enter your name.")), Length(max=NAME_MAX, message=_l("Please use at most 120 characters."))],
        render_kw={"autocomplete": "name", "maxlength": NAME_MAX},
    )
    town = StringField(
        _l("Town"),
        id="letter-town",
        filters=[_fold],
        validators=[DataRequired(_l("Please enter your town.")), Length(max=TOWN_MAX, message=_l("Please use at most 100 characters."))],
        render_kw={"autocomplete": "address-level2", "maxlength": TOWN_MAX},
    )
    email = _email_field("letter-email")
    initials_only = BooleanField(_l("Sign with my initials only"), id="letter-initials")
    consent = BooleanField(
        _l("I agree that this letter is sent to the authorities in my name."),
        id="letter-consent",
        validators=[consent_when_sending],
    )
    #: Set by the button pressed: preview, send or edit. Never rendered.
    step = HiddenField(validators=[Optional()])

    def set_letter_language(self, language: str) -> None:
        """The textarea says which language the model letter is in, for
        screen readers and spell checkers."""
        self.letter.render_kw = {**(self.letter.render_kw or {}), "lang": language}


class PostedForm(FlaskForm):
    """"I posted my letter myself": counted once per email address."""

    email = _email_field("posted-email")
    posted = BooleanField(
        _l("I have printed my letter and posted it to the authorities."),
        id="posted-confirm",
        validators=[DataRequired(_l("Please tick this box once you have posted your letter."))],
    )
