"""The share panel's forms: the confirmation that is counted, and the
Mastodon server question. Every message goes through this plugin's catalog."""
from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, StringField
from wtforms.validators import DataRequired, ValidationError

from core.toolkit import PluginTranslations

i18n = PluginTranslations(__file__)
_l = i18n.lazy_gettext

#: A host name as people type it for their Mastodon server (no scheme, no path).
_HOST = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class ConfirmPostForm(FlaskForm):
    """Counted on the supporter's word: we cannot (and do not try to) see
    what they post."""

    posted = BooleanField(
        _l("I posted this message (we count it on your word)"),
        validators=[DataRequired(_l("Please tick this box once you have posted the message."))],
    )

    # Set by the action's ``make_form`` for the panel: whether this browser
    # already had a post counted for this case, the prepared post
    # (``message.Post``) and the share links.
    already_counted: bool = False
    post: Any = None
    links: list[tuple[str, str, bool]] = []

    def validate_posted(self, field: BooleanField) -> None:
        if self.already_counted:
            raise ValidationError(i18n.gettext("Your post for this case has already been counted from this browser. Thank you!"))


def server_name(typed: str | None) -> str:
    """``https://Mastodon.Social/``, ``@me@mastodon.social`` and
    ``mastodon.social`` all mean the server ``mastodon.social``."""
    value = (typed or "").strip().lower()
    value = re.sub(r"^[a-z]+://", "", value)
    value = value.split("/", 1)[0]
    return value.rsplit("@", 1)[-1]


class MastodonServerForm(Form):
    """Asked once per share: Mastodon has no single address to post to.
    A GET form without CSRF: it changes nothing and records nothing."""

    server = StringField(
        _l("Your Mastodon server"),
        filters=[server_name],
        validators=[DataRequired(_l("Please enter the name of your Mastodon server, for example mastodon.social."))],
        render_kw={"autocomplete": "url", "inputmode": "url", "autocapitalize": "none", "spellcheck": "false", "maxlength": 253,
                   "placeholder": "mastodon.social"},
    )

    def validate_server(self, field: StringField) -> None:
        if not _HOST.match(field.data or ""):
            raise ValidationError(i18n.gettext("This does not look like a server name. Please check it (for example mastodon.social)."))
