"""The offline tally form: how many letters a group wrote on paper, and who
to ask if the section has a question. Messages come from this plugin's catalog."""
from __future__ import annotations

from typing import Any

from flask_babel import format_decimal
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, StopValidation
from wtforms.widgets import TextInput

from core.toolkit import PluginTranslations, SupporterEmailField, strip_whitespace

i18n = PluginTranslations(__file__)
_l = i18n.lazy_gettext

#: More than this in one report is checked with the section first.
MAX_LETTERS = 5000

KINDS = (
    SelectChoice("school", _l("School or class")),
    SelectChoice("local_group", _l("Local group")),
    SelectChoice("other", _l("Other group")),
)




class LetterCountField(IntegerField):
    """A whole number typed in figures. Spaces between thousands ("1 200")
    are accepted; anything else gets our own message rather than WTForms'.
    A text box with a numeric keypad rather than ``type=number``, whose
    value a scroll or a stray key silently changes."""

    widget = TextInput()

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        raw = "".join(str(valuelist[0]).split())  # also drops no-break spaces
        if not raw:
            self.data = None
            return
        try:
            self.data = int(raw)
        except ValueError:
            self.data = None
            raise ValueError(i18n.gettext("Please enter the number of letters in figures, for example 25.")) from None


def letters_in_range(form: FlaskForm, field: LetterCountField) -> None:
    """One message per problem, in the order a person would fix them."""
    if field.process_errors:
        raise StopValidation()  # the "in figures" message is already there
    if field.data is None:
        raise StopValidation(i18n.gettext("Please enter the number of letters your group wrote."))
    if field.data < 1:
        raise StopValidation(i18n.gettext("Please enter a number of letters of at least 1."))
    if field.data > MAX_LETTERS:
        raise StopValidation(
            i18n.gettext(
                "More than %(max)s letters in one report? Please contact the section so we can count them with you.",
                max=format_decimal(MAX_LETTERS),
            )
        )


class TallyForm(FlaskForm):
    letters = LetterCountField(
        _l("Number of letters written"),
        validators=[letters_in_range],
        render_kw={"inputmode": "numeric", "pattern": "[0-9]*", "autocomplete": "off", "maxlength": 12},
    )
    group = StringField(
        _l("Name of the group or school"),
        filters=[strip_whitespace],
        validators=[
            DataRequired(_l("Please enter the name of your group.")),
            Length(max=120, message=_l("Please use at most 120 characters.")),
        ],
        render_kw={"autocomplete": "organization", "maxlength": 120},
    )
    kind = SelectField(
        _l("Kind of group"),
        choices=[SelectChoice("", _l("Choose…")), *KINDS],
        validators=[DataRequired(_l("Please choose the kind of group."))],
        invalid_choice_message=_l("Please choose the kind of group."),
    )
    town = StringField(
        _l("Town"),
        filters=[strip_whitespace],
        validators=[
            DataRequired(_l("Please enter your town.")),
            Length(max=100, message=_l("Please use at most 100 characters.")),
        ],
        render_kw={"autocomplete": "address-level2", "maxlength": 100},
    )
    email = SupporterEmailField(
        _l("Contact email address"), required_message=_l("Please enter an email address where the section can reach you.")
    )
