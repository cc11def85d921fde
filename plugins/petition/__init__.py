"""Petition signature: name, email, country and consent; one per supporter and case."""
from __future__ import annotations

from core.toolkit import ActionContext, ActionRecord, ActionType, SupporterDetails, hookimpl

from plugins.petition.forms import SignatureForm, i18n


class PetitionSignature(ActionType):
    name = "petition"
    label = i18n.lazy_gettext("Sign the petition")
    form_class = SignatureForm
    template = "petition/form.html"
    once_per_supporter = True
    priority = 10
    translations = i18n

    def make_form(self, context: ActionContext, formdata=None) -> SignatureForm:
        form = SignatureForm(formdata=formdata)
        form.set_countries(context.language, default=context.section.country)
        return form

    def record(self, form: SignatureForm, context: ActionContext) -> ActionRecord:
        return ActionRecord(
            supporter=SupporterDetails(email=form.email.data, name=form.name.data.strip(), country=form.country.data),
            payload={"language": context.language},
        )


@hookimpl
def ecrire_action_types():
    return [PetitionSignature()]
