"""Offline tally: schools and local groups that wrote letters on paper
report how many, with their group's name and town. The report counts as
that many actions, under its own action type so it stays separate in the
totals. One report per contact email and case: the whole total, once."""
from __future__ import annotations

from typing import Any

from core.toolkit import ActionContext, ActionRecord, ActionType, SupporterDetails, hookimpl

from plugins.offline_tally.forms import TallyForm, i18n


class OfflineTally(ActionType):
    name = "offline-tally"
    label = i18n.lazy_gettext("Report letters written on paper")
    form_class = TallyForm
    template = "offline_tally/form.html"
    # The contact email identifies the report: a second one would count the same letters twice.
    once_per_supporter = True
    # After the actions a supporter takes alone.
    priority = 90
    translations = i18n

    def make_form(self, context: ActionContext, formdata: Any = None) -> TallyForm:
        # Prefixed ids: the petition on the same page also has an "email" field.
        return TallyForm(formdata=formdata, prefix="tally")

    def record(self, form: TallyForm, context: ActionContext) -> ActionRecord:
        letters = int(form.letters.data)
        return ActionRecord(
            # The group's contact stays in the section, like any supporter.
            supporter=SupporterDetails(email=form.email.data, name=form.group.data),
            payload={
                "letters": letters,
                "group": form.group.data,
                "town": form.town.data,
                "kind": form.kind.data,
                "language": context.language,
            },
            count=letters,
        )


@hookimpl
def ecrire_action_types() -> list[ActionType]:
    return [OfflineTally()]
