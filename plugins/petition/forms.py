"""The signature form. Every message goes through this plugin's own catalog."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length

from core.toolkit import CountryField, PluginTranslations

i18n = PluginTranslations(__file__)
_l = i18n.lazy_gettext


def _strip(value: str | None) -> str | None:
    """Phones' autocomplete often adds a trailing space."""
    return value.strip() if isinstance(value, str) else value


class SignatureForm(FlaskForm):
    name = StringField(
        _l("Full name"),
        filters=[_strip],
        validators=[DataRequired(_l("Please enter your name.")), Length(max=120, message=_l("Please use at most 120 characters."))],
        render_kw={"autocomplete": "name", "maxlength": 120},
    )
    email = EmailField(
        _l("Email address"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Please enter your email address.")),
            Length(max=254, message=_l("This email address is too long.")),
            Email(_l("This does not look like an email address. Please check it."), check_deliverability=False),
        ],
        render_kw={"autocomplete": "email", "inputmode": "email", "maxlength": 254},
    )
    country = CountryField(
        _l("Country"),
        validators=[InputRequired(_l("Please choose your country."))],
        invalid_message=_l("Please choose your country."),
        render_kw={"autocomplete": "country"},
    )
    consent = BooleanField(
        _l("I agree that my name and country will be handed over to the authorities with this petition."),
        validators=[DataRequired(_l("Please tick this box so we can hand over your signature."))],
    )

    def set_countries(self, language: str, default: str) -> None:
        self.country.localise(language, default)
