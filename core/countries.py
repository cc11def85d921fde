"""Country names in the page language, from the CLDR data Babel ships."""
from __future__ import annotations

import functools
import unicodedata
from typing import Any

from babel import Locale
from flask_babel import gettext
from markupsafe import Markup, escape
from wtforms import SelectField
from wtforms.validators import ValidationError
from wtforms.widgets import html_params


def _sort_key(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", name.casefold()) if not unicodedata.combining(c))


@functools.lru_cache(maxsize=64)
def country_choices(language: str) -> tuple[tuple[str, str], ...]:
    """(ISO code, name) pairs for a country select, sorted for readers of
    ``language``. Regions (``001``), the EU and unknown (``ZZ``) are left out."""
    names = Locale.parse(language).territories
    pairs = [
        (code, name)
        for code, name in names.items()
        if len(code) == 2 and code.isalpha() and code not in {"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"}
    ]
    return tuple(sorted(pairs, key=lambda p: _sort_key(p[1])))


def country_name(code: str, language: str) -> str:
    return Locale.parse(language).territories.get(code, code)


@functools.lru_cache(maxsize=64)
def _codes(language: str) -> frozenset[str]:
    return frozenset(code for code, _name in country_choices(language))


@functools.lru_cache(maxsize=64)
def _options_html(language: str) -> str:
    return "".join(f'<option value="{code}">{escape(name)}</option>' for code, name in country_choices(language))


class CountrySelect:
    """Renders the ~250 options from a per-language cache: building them
    through WTForms' generic widget on every page view cost more than the
    rest of the case page."""

    def __call__(self, field: CountryField, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        if field.flags.required:
            kwargs.setdefault("required", True)
        options = _options_html(field.language)
        if field.data:
            needle = f'<option value="{escape(field.data)}">'
            options = options.replace(needle, f'<option selected value="{escape(field.data)}">', 1)
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


class CountryField(SelectField):
    """A country select in the page language, validated by a set lookup.

    Call :meth:`localise` before validating or rendering (an action type's
    ``make_form`` does it)."""

    widget = CountrySelect()

    def __init__(self, label: Any = None, validators: Any = None, invalid_message: Any = None, **kwargs: Any) -> None:
        super().__init__(label, validators, choices=[], **kwargs)
        self.language = "en"
        self.invalid_message = invalid_message

    def localise(self, language: str, default: str | None = None) -> None:
        self.language = language
        self.choices = list(country_choices(language))
        if not self.data and default:
            self.data = default

    def pre_validate(self, form: Any) -> None:
        # An empty value is left to the field's own InputRequired message.
        if self.data and self.data not in _codes(self.language):
            raise ValidationError(self.invalid_message or gettext("Please choose a country from the list."))
