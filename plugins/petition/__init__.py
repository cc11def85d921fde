"""Petition signature: name, email, country and consent; one per supporter and case.

A section chooses which of the name and country it asks for (its admin in
the plugin's settings page, or its definition's
``plugin_settings["petition"]``): ``{"name": "required" | "optional" |
"hidden", "country": ...}`` (both required by default). The email address
is always required: it is how a signature is counted once."""
from __future__ import annotations

from core.toolkit import (
    ActionContext,
    ActionRecord,
    ActionType,
    DeliveryRequest,
    RecordedAction,
    SupporterDetails,
    hookimpl,
)

from plugins.petition.forms import CONFIGURABLE, PetitionSettingsForm, SignatureForm, i18n


class PetitionSignature(ActionType):
    name = "petition"
    label = i18n.lazy_gettext("Sign the petition")
    form_class = SignatureForm
    template = "petition/form.html"
    once_per_supporter = True
    priority = 10
    translations = i18n
    collects_personal_data = True

    def make_form(self, context: ActionContext, formdata=None) -> SignatureForm:
        form = SignatureForm(formdata=formdata)
        form.set_countries(context.language, default=context.section.country)
        for name in CONFIGURABLE:
            form.ask(name, context.settings.get(name, "required"))
        return form

    def record(self, form: SignatureForm, context: ActionContext) -> ActionRecord:
        name = form.name.data if "name" in form else ""
        country = form.country.data if "country" in form else ""
        return ActionRecord(
            supporter=SupporterDetails(email=form.email.data, name=(name or "").strip(), country=country or ""),
            payload={"language": context.language},
        )

    def deliverables(self, action: RecordedAction, context: ActionContext) -> list[DeliveryRequest]:
        """One line of the signature list a section hands over: name and
        country only, never the email address."""
        supporter = action.supporter
        if supporter is None:
            return []
        return [DeliveryRequest(kind="signature", body={"name": supporter.name, "country": supporter.country})]


@hookimpl
def ecrire_action_types():
    return [PetitionSignature()]


@hookimpl
def ecrire_settings_form():
    return PetitionSettingsForm
