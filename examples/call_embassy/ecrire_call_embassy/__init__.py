"""Call the embassy: the embassy's phone number and a short script; the call
is counted when the supporter says they made it.

A section lists the numbers, by the case's country, in its settings:
``plugin_settings={"call_embassy": {"phones": {"TN": "+33 1 00 00 00 00"}}}``.
Where it has no number for a case's country, the action is not offered."""
from __future__ import annotations

from typing import Any

from flask import session
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import DataRequired, ValidationError

from core.toolkit import (
    ActionContext,
    ActionRecord,
    ActionType,
    PluginTranslations,
    hookimpl,
)

i18n = PluginTranslations(__file__)
_l = i18n.lazy_gettext

#: Flask-session key: the cases this browser has had a call counted for.
SESSION_KEY = "call_embassy"
#: How many case ids the session keeps (the cookie must stay small).
REMEMBERED = 50


def phone_for(context: ActionContext) -> str | None:
    """The section's number for the embassy of the case's country, if any."""
    phones = context.settings.get("phones") or {}
    return phones.get(context.case.country) or None


def called_cases() -> list[str]:
    """The cases this browser session has had a call counted for."""
    value = session.get(SESSION_KEY)
    return [str(case_id) for case_id in value] if isinstance(value, list) else []


class CallForm(FlaskForm):
    """Counted on the supporter's word: we cannot see the call."""

    called = BooleanField(
        _l("I called the embassy"),
        validators=[DataRequired(_l("Please tick this box once you have made the call."))],
    )

    # Set by make_form for the panel: the number (None: no number yet) and
    # whether this browser already had a call counted for this case.
    phone: str | None = None
    already_counted: bool = False

    def validate_called(self, field: BooleanField) -> None:
        if self.already_counted:
            raise ValidationError(i18n.gettext("Your call has already been counted from this browser. Thank you!"))


class CallTheEmbassy(ActionType):
    name = "call_embassy"
    label = _l("Call the embassy")
    form_class = CallForm
    template = "call_embassy/panel.html"
    # Anonymous (no email asked), so the core cannot recognise a repeat: the
    # browser session counts a call once per case instead, as for sharing.
    once_per_supporter = False
    cache_panel = False  # the panel depends on the visitor's session
    priority = 40
    translations = i18n

    def available_for(self, context: ActionContext) -> bool:
        return phone_for(context) is not None

    def make_form(self, context: ActionContext, formdata: Any = None) -> CallForm:
        form = CallForm(formdata=formdata, prefix="call_embassy")
        form.phone = phone_for(context)
        form.already_counted = context.case.id in called_cases()
        return form

    def record(self, form: CallForm, context: ActionContext) -> ActionRecord:
        kept = [c for c in called_cases() if c != context.case.id][-(REMEMBERED - 1) :]
        session[SESSION_KEY] = [*kept, context.case.id]
        return ActionRecord(supporter=None, payload={"language": context.language, "country": context.case.country})


@hookimpl
def ecrire_action_types() -> list[ActionType]:
    return [CallTheEmbassy()]
