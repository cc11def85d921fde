"""Solidarity message: a card-sized message to the person at risk.

Messages are anonymous (no email, no address: the card must never carry
them) and moderated: volunteers read each one first, and only approved
messages are counted and queued as cards. A section may also show approved
messages (first name, town, message) on a public wall per case: its admin
switches it on in the plugin's settings page, or its definition sets
``plugin_settings["solidarity_message"] = {"wall": True}``.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, url_for

from core.toolkit import (
    ActionContext,
    ActionRecord,
    ActionType,
    DeliveryRequest,
    Fragment,
    Markup,
    PageContext,
    RecordedAction,
    SectionDefinition,
    approved_actions,
    current_section,
    find_case,
    hookimpl,
    render_page,
    section_settings,
)

from plugins.solidarity_message.forms import SolidarityForm, SolidaritySettingsForm, i18n

PLUGIN = "solidarity_message"
ACTION = "solidarity"
#: Approved messages shown under the action panels of a case page.
LATEST = 3
#: Approved messages shown on a wall page (the newest ones).
WALL_LIMIT = 100
#: How long the case-page excerpt reuses its query (app config
#: ``SOLIDARITY_WALL_CACHE_SECONDS``): case pages are the hot path and
#: fragments should not hit the database on every view.
DEFAULT_CACHE_SECONDS = 15.0

CARD_FIELDS = ("message", "first_name", "town", "language")


def wall_enabled(section: SectionDefinition) -> bool:
    """The wall is off unless the section switches it on."""
    return bool(section_settings(PLUGIN, section).get("wall", False))


def card(payload: Mapping[str, Any]) -> dict[str, str]:
    """Only the card's own fields, whatever else a payload might hold."""
    return {key: str(payload.get(key) or "") for key in CARD_FIELDS}


class SolidarityMessage(ActionType):
    name = ACTION
    label = i18n.lazy_gettext("Send a message of solidarity")
    form_class = SolidarityForm
    template = "solidarity_message/form.html"
    once_per_supporter = False  # anonymous: there is no one to count once
    moderated = True
    priority = 30
    translations = i18n

    def make_form(self, context: ActionContext, formdata: Any = None) -> SolidarityForm:
        form = SolidarityForm(formdata=formdata)
        form.explain_first_name(wall=bool(context.settings.get("wall", False)))
        return form

    def record(self, form: SolidarityForm, context: ActionContext) -> ActionRecord:
        # No SupporterDetails: the writer stays anonymous and no email is stored.
        return ActionRecord(
            supporter=None,
            payload={
                "message": form.message.data,
                "first_name": form.first_name.data,
                "town": form.town.data or "",
                "language": context.language,
            },
        )

    def deliverables(self, action: RecordedAction, context: ActionContext) -> list[DeliveryRequest]:
        """Queued by the core when a moderator approves the message."""
        return [DeliveryRequest(kind="card", body=card(action.payload))]


wall = Blueprint("solidarity_message", __name__)


@wall.get("/<case_id>")
def show_wall(case_id: str) -> str:
    """The public wall of approved messages for a case, newest first."""
    if not wall_enabled(current_section()):
        abort(404)
    case = find_case(case_id)
    if case is None:
        abort(404)
    messages = [card(p) for p in approved_actions(case_id, ACTION, limit=WALL_LIMIT)]
    # Our catalog goes in under its own name so that base.html keeps the
    # core's ``_`` (the template binds ``_`` to it inside its blocks).
    return render_page("solidarity_message/wall.html", case=case, messages=messages, translations=i18n)


def _latest(section_code: str, case_id: str) -> list[dict[str, str]]:
    """The newest approved messages, cached briefly per app, section and case."""
    ttl = float(current_app.config.get("SOLIDARITY_WALL_CACHE_SECONDS", DEFAULT_CACHE_SECONDS))
    cache: dict[tuple[str, str], tuple[float, list[dict[str, str]]]] = current_app.extensions.setdefault(
        f"{PLUGIN}.latest", {}
    )
    now = time.monotonic()
    hit = cache.get((section_code, case_id))
    if hit is not None and now - hit[0] < ttl:
        return hit[1]
    messages = [card(p) for p in approved_actions(case_id, ACTION, limit=LATEST)]
    cache[(section_code, case_id)] = (now, messages)
    return messages


def _latest_fragment(context: PageContext) -> Markup | None:
    if context.case is None or not wall_enabled(context.section):
        return None
    messages = _latest(context.section.code, context.case.id)
    if not messages:
        return None
    html = render_template(
        "solidarity_message/latest.html",
        case=context.case,
        messages=messages,
        wall_url=url_for("solidarity_message.show_wall", case_id=context.case.id),
        **i18n.template_globals(),
    )
    return Markup(html)  # the template escapes every user-written value


def _pending_notice(context: PageContext) -> Markup | None:
    """The core's thank-you page does not know this action waits for a
    moderator: say so after a message is sent."""
    if context.case is None or context.endpoint != "portal.thanks":
        return None
    if (request.view_args or {}).get("action_name") != ACTION:
        return None
    text = i18n.gettext(
        "Your message to %(person)s will be read by a volunteer before it is sent. "
        "It will be counted once it has been approved.",
        person=context.case.person,
    )
    return Markup('<p class="notice" role="note">{}</p>').format(text)


@hookimpl
def ecrire_action_types() -> list[ActionType]:
    return [SolidarityMessage()]


@hookimpl
def ecrire_blueprints() -> list[Blueprint]:
    return [wall]


@hookimpl
def ecrire_template_fragment(place: str, context: PageContext) -> Fragment | None:
    if place == "case_after_actions":
        html = _latest_fragment(context)
    elif place == "thanks":
        html = _pending_notice(context)
    else:
        return None
    return Fragment(html=html, priority=50) if html is not None else None



@hookimpl
def ecrire_settings_form():
    return SolidaritySettingsForm
