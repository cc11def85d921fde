"""Form fields every action plugin needs the same way, with their messages
in the core's catalog (so each plugin does not translate them again)."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import EmailField
from wtforms.validators import DataRequired, Email, Length


def strip_whitespace(value: str | None) -> str | None:
    """A filter: phones' autocomplete often adds a trailing space."""
    return value.strip() if isinstance(value, str) else value


class SupporterEmailField(EmailField):
    """A supporter's email address: required, trimmed, at most 254
    characters, checked for shape (not deliverability). It is how a repeat
    is recognised, so every action that asks for one uses the same rules.
    ``label`` and ``required_message`` may be the plugin's own wording."""

    def __init__(self, label: Any = None, required_message: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("filters", [strip_whitespace])
        kwargs.setdefault(
            "render_kw", {"autocomplete": "email", "inputmode": "email", "maxlength": 254}
        )
        super().__init__(
            label or _l("Email address"),
            validators=[
                DataRequired(required_message or _l("Please enter your email address.")),
                Length(max=254, message=_l("This email address is too long.")),
                Email(_l("This does not look like an email address. Please check it."), check_deliverability=False),
            ],
            **kwargs,
        )
