"""The moderation queue: approve or reject what moderated action types hold
for review, one at a time or the checked ones together.

What a moderator sees is what goes on the card (and on a public wall): the
message, first name and town. The writer's personal details (the email and
name of the supporters table, when an action type stores them) are shown
only with the "personal_data" capability, which section admins hold and
moderators do not.
"""
from __future__ import annotations

from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.validators import Length

from core import moderation
from core.admin import audit, bp
from core.admin.access import can, requires

#: Actions listed on one page (the oldest first); the rest come next.
PAGE = 100
REASON_MAX = 1000
#: Payload keys shown with their own label; others are listed after them.
KNOWN_FIELDS = ("message", "first_name", "town", "language")


class DecisionForm(FlaskForm):
    """One decision on one action (a row's form) or on the checked ones
    (the bulk form); ``origin`` says which, so an error is shown there."""

    ids = SelectMultipleField(coerce=int, validate_choice=False)
    origin = HiddenField()
    reason = TextAreaField(_l("Reason for rejecting"), validators=[Length(max=REASON_MAX)])
    approve = SubmitField(_l("Approve"))
    reject = SubmitField(_l("Reject"))


def _portal() -> Any:
    return current_app.extensions["ecrire"]


def _labels() -> tuple[dict[str, str], dict[str, str]]:
    """Case names and action type labels, for the table."""
    portal, section = _portal(), g.section
    with portal.db.session() as session:
        cases = portal.catalogue.cases(session, section, portal.case_sources(section.code), g.language)
    types = {name: str(t.label) for name, t in portal.action_types(section.code).items()}
    return {c.id: c.person for c in cases}, types


def _page(form: DecisionForm, status: int = 200) -> tuple[str, int]:
    portal, code = _portal(), g.section.code
    personal = can("personal_data")
    items = moderation.pending(portal, code, PAGE, personal_data=personal)
    cases, types = _labels()
    return (
        render_template(
            "admin/moderation.html",
            form=form,
            items=items,
            waiting=moderation.pending_count(portal, code),
            personal=personal,
            cases=cases,
            types=types,
            known_fields=KNOWN_FIELDS,
        ),
        status,
    )


@bp.get("/moderation", endpoint="moderation")
@requires("moderate")
def moderation_queue() -> Any:
    return _page(DecisionForm(formdata=None))


@bp.post("/moderation", endpoint="moderation_decide")
@requires("moderate")
def decide() -> Any:
    form = DecisionForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    ids = sorted(set(form.ids.data or []))
    if not ids:
        form.ids.errors = [_("Check at least one message.")]
        return _page(form, 400)
    rejecting = bool(form.reject.data)
    reason = (form.reason.data or "").strip()
    if rejecting and not reason:
        form.reason.errors = [_("Please say why the message is rejected.")]
        return _page(form, 400)
    if not rejecting and not form.approve.data:
        abort(400)
    portal, code = _portal(), g.section.code
    decided: list[int] = []
    try:
        with portal.db.writing() as session:
            # Every id first: one of another section (or none) stops it all.
            moderation.check_in_section(session, code, ids)
            for action_id in ids:
                try:
                    if rejecting:
                        moderation.reject_in(session, code, action_id, reason)
                    else:
                        moderation.approve_in(portal, session, code, action_id)
                except moderation.AlreadyDecided:
                    continue  # another moderator was quicker: their decision stands
                decided.append(action_id)
            if decided:
                detail: dict[str, Any] = {"ids": decided}
                if rejecting:
                    detail["reason"] = reason
                audit.record(session, "moderation.reject" if rejecting else "moderation.approve", **detail)
    except moderation.NotInSection:
        abort(404)
    except moderation.ModerationError as exc:
        current_app.logger.warning("moderation refused: %s", exc)
        form.form_errors.append(
            _("Nothing was decided: one of the messages can no longer be approved (its case or action type is switched off).")
        )
        return _page(form, 409)
    if rejecting:
        flash(ngettext("%(num)d message rejected.", "%(num)d messages rejected.", len(decided)))
    else:
        flash(ngettext("%(num)d message approved.", "%(num)d messages approved.", len(decided)))
    if len(decided) < len(ids):
        skipped = len(ids) - len(decided)
        flash(ngettext("%(num)d message was already decided by someone else.",
                       "%(num)d messages were already decided by someone else.", skipped))
    return redirect(url_for("admin.moderation"))

