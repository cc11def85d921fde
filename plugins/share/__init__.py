"""Share the case on social networks: a prepared post in the page language,
plain share links (no tracking), a copy button, and a count when the
supporter says they posted it. Anonymous: counted once per browser session
and case, on the supporter's word."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request, session
from werkzeug.datastructures import MultiDict

from core.toolkit import ActionContext, ActionRecord, ActionType, find_case, hookimpl, render_page

from plugins.share import message
from plugins.share.forms import ConfirmPostForm, MastodonServerForm, i18n

#: Flask-session key: the cases this browser has had a post counted for.
SESSION_KEY = "shared"
#: How many case ids the session keeps (the cookie must stay small).
REMEMBERED = 50


def _shared() -> list[str]:
    value = session.get(SESSION_KEY)
    return [str(case_id) for case_id in value] if isinstance(value, list) else []


class ShareOnSocialMedia(ActionType):
    name = "share"
    label = i18n.lazy_gettext("Share on social media")
    form_class = ConfirmPostForm
    template = "share/panel.html"
    # There is no email address to recognise a repeat by: the session is used instead.
    once_per_supporter = False
    # The panel thanks a visitor who already counted a post (their session).
    cache_panel = False
    priority = 80
    translations = i18n

    def make_form(self, context: ActionContext, formdata: Any = None) -> ConfirmPostForm:
        form = ConfirmPostForm(formdata=formdata, prefix="share")
        form.already_counted = context.case.id in _shared()
        # What the panel shows; the docs' pattern of attaching view data to the form.
        form.post = message.compose(context.case)
        form.links = message.links(context.case, form.post)
        return form

    def record(self, form: ConfirmPostForm, context: ActionContext) -> ActionRecord:
        kept = [c for c in _shared() if c != context.case.id][-(REMEMBERED - 1) :]
        session[SESSION_KEY] = [*kept, context.case.id]
        return ActionRecord(supporter=None, payload={"language": context.language})


share = Blueprint("share", __name__)


@share.get("/<case_id>/mastodon")
def mastodon(case_id: str) -> str:
    """Mastodon has no central share address: ask for the supporter's server
    and give them a link to its own share page. Nothing is stored."""
    case = find_case(case_id)
    if case is None:
        abort(404)
    post = message.compose(case)
    asked = "server" in request.args
    form = MastodonServerForm(request.args if asked else MultiDict())
    link = message.mastodon_link(form.server.data, post) if asked and form.validate() else None
    return render_page("share/mastodon.html", case=case, form=form, post=post, link=link, translations=i18n)


@hookimpl
def ecrire_action_types() -> list[ActionType]:
    return [ShareOnSocialMedia()]


@hookimpl
def ecrire_blueprints() -> list[Blueprint]:
    return [share]
