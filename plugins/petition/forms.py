"""The signature form. Every message goes through this plugin's own catalog."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from core.toolkit import CountryField, PluginTranslations, SupporterEmailField, strip_whitespace

i18n = PluginTranslations(__file__)
_l = i18n.lazy_gettext



#: Fields a section may make optional or leave out.
CONFIGURABLE = ("name", "country")


class SignatureForm(FlaskForm):
    name = StringField(
        _l("Full name"),
        filters=[strip_whitespace],
        validators=[DataRequired(_l("Please enter your name.")), Length(max=120, message=_l("Please use at most 120 characters."))],
        render_kw={"autocomplete": "name", "maxlength": 120},
    )
    email = SupporterEmailField()
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

    def ask(self, name: str, mode: str) -> None:
        """Apply a section's choice for a field: required, optional or hidden."""
        if mode == "hidden":
            delattr(self, name)
        elif mode == "optional":
            field = self[name]
            field.validators = [Optional(), *(v for v in field.validators if not isinstance(v, (DataRequired, InputRequired)))]
            field.flags.required = False
        elif mode != "required":
            raise ValueError(f"petition setting {name!r} must be required, optional or hidden, not {mode!r}")

    def set_countries(self, language: str, default: str) -> None:
        self.country.localise(language, default)


def _mode_field(label):
    return SelectField(
        label,
        choices=[SelectChoice("required", _l("Required")), SelectChoice("optional", _l("Optional")), SelectChoice("hidden", _l("Not asked"))],
        default="required",
    )


class PetitionSettingsForm(FlaskForm):
    """What a section admin chooses: which of the name and country a
    signature asks for (the email address is always required)."""

    name = _mode_field(_l("Full name of the signer"))
    country = _mode_field(_l("Country of the signer"))
