"""Admin pages: the section's cases and its overrides of them (hide a
case, set its goal, send its letters to another recipient).

Overrides are ``CaseOverride`` rows of this section, read and written
through ``scope()``; the supporter pages and the outbox apply them
(``core.catalogue``, ``core.actions.queue_deliveries``).
"""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional, Regexp, ValidationError

from core.admin import bp
from core.admin.access import requires, scope
from core.admin.audit import record
from core.models import CaseOverride
from core.types import CaseView

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _portal() -> Any:
    return current_app.extensions["ecrire"]


def _case(case_id: str) -> CaseView:
    """A case of this section's sources (hidden ones included), or 404."""
    portal = _portal()
    with portal.db.session() as session:
        case = portal.catalogue.case(
            session, g.section, portal.case_sources(g.section.code), g.language, case_id, include_hidden=True
        )
    if case is None:
        abort(404)
    return case


def _override(session: Any, case_id: str) -> CaseOverride | None:
    return session.scalar(scope().select(CaseOverride).where(CaseOverride.case_id == case_id))


class CaseForm(FlaskForm):
    hidden = BooleanField(_l("Hide this case in this section"))
    goal = IntegerField(
        _l("Goal (actions)"),
        description=_l("Leave empty to use the goal of the case source."),
        validators=[Optional(), NumberRange(min=1, message=_l("Please enter a whole number above zero."))],
    )
    reset_routing = BooleanField(_l("Use the routing plan (no recipient of our own)"))
    recipient_name = StringField(_l("Recipient’s name"), validators=[Length(max=200)])
    recipient_title = StringField(_l("Recipient’s title"), validators=[Length(max=200)])
    recipient_address = TextAreaField(_l("Postal address (one line per line)"), validators=[Length(max=1000)])
    recipient_email = StringField(
        _l("Recipient’s email address"),
        validators=[Optional(), Regexp(EMAIL, message=_l("Please enter a valid email address.")), Length(max=320)],
    )
    channel = SelectField(_l("Delivery channel"), choices=[], validate_choice=False)

    def validate_channel(self, field: Any) -> None:
        if self.reset_routing.data or not self.recipient_name.data:
            return
        if not field.data or field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_l("Please choose one of this section’s channels."))

    def validate_recipient_name(self, field: Any) -> None:
        if self.reset_routing.data:
            return
        if not field.data and (self.recipient_title.data or self.recipient_address.data or self.recipient_email.data):
            raise ValidationError(_l("Please enter the recipient’s name, or tick “Use the routing plan”."))

    def routing(self) -> dict[str, Any] | None:
        if self.reset_routing.data or not self.recipient_name.data:
            return None
        return {
            "name": self.recipient_name.data.strip(),
            "title": (self.recipient_title.data or "").strip(),
            "address": [line.strip() for line in (self.recipient_address.data or "").splitlines() if line.strip()],
            "email": (self.recipient_email.data or "").strip() or None,
            "channel": self.channel.data,
        }


@bp.get("/cases")
@requires("manage")
def cases() -> Any:
    portal = _portal()
    with portal.db.session() as session:
        views = portal.catalogue.cases(
            session, g.section, portal.case_sources(g.section.code), g.language, include_hidden=True
        )
        overrides = {row.case_id: row for row in session.scalars(scope().select(CaseOverride))}
        source_goals = {case.id: portal.catalogue.source_goal(session, case.id) for case in views}
    return render_template("admin/cases.html", cases=views, overrides=overrides, source_goals=source_goals, form=FlaskForm())


@bp.post("/cases/<case_id>/visibility")
@requires("manage")
def case_visibility(case_id: str) -> Any:
    if not FlaskForm().validate_on_submit():
        abort(400)
    case = _case(case_id)
    hidden = request.form.get("hidden") == "1"
    with _portal().db.writing() as session:
        row = _override(session, case.id) or _new_override(session, case.id)
        if row.hidden != hidden:
            row.hidden = hidden
            record(session, "case.hide" if hidden else "case.show", case=case.id)
    _portal().catalogue.invalidate()
    flash(_("%(person)s is now hidden in this section.", person=case.person) if hidden
          else _("%(person)s is now shown in this section.", person=case.person))
    return redirect(url_for("admin.cases"))


def _new_override(session: Any, case_id: str) -> CaseOverride:
    row = CaseOverride(section_code=scope().section_code, case_id=case_id, hidden=False)
    session.add(row)
    return row


@bp.route("/cases/<case_id>", methods=["GET", "POST"])
@requires("manage")
def case_edit(case_id: str) -> Any:
    case = _case(case_id)
    portal = _portal()
    channels = portal.channels_for(g.section.code)
    with portal.db.session() as session:
        row = _override(session, case.id)
        source_goal = portal.catalogue.source_goal(session, case.id)
        routing = dict(row.routing or {}) if row is not None else {}
        data = {
            "hidden": bool(row.hidden) if row is not None else False,
            "goal": row.goal if row is not None else None,
            "recipient_name": routing.get("name", ""),
            "recipient_title": routing.get("title", ""),
            "recipient_address": "\n".join(routing.get("address") or ()),
            "recipient_email": routing.get("email") or "",
            "channel": routing.get("channel", ""),
        }
    form = CaseForm(data=data)
    form.channel.choices = [SelectChoice("", _("Choose a channel"))] + [SelectChoice(name, name) for name in channels]
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            _save(case, form)
            return redirect(url_for("admin.case_edit", case_id=case.id))
        status = 400
    return render_template(
        "admin/case_edit.html", case=case, form=form, source_goal=source_goal, routing=routing or None
    ), status


def _save(case: CaseView, form: CaseForm) -> None:
    routing = form.routing()
    with _portal().db.writing() as session:
        row = _override(session, case.id) or _new_override(session, case.id)
        changed = False
        if bool(row.hidden) != bool(form.hidden.data):
            row.hidden = bool(form.hidden.data)
            record(session, "case.hide" if row.hidden else "case.show", case=case.id)
            changed = True
        if row.goal != form.goal.data:
            row.goal = form.goal.data
            record(session, "case.goal", case=case.id, goal=row.goal)
            changed = True
        if (row.routing or None) != routing:
            row.routing = routing
            if routing is None:
                record(session, "case.routing", case=case.id, reset=True)
            else:
                record(session, "case.routing", case=case.id, recipient=routing["name"], channel=routing["channel"])
            changed = True
    _portal().catalogue.invalidate()
    flash(_("The changes to %(person)s are saved.", person=case.person) if changed else _("Nothing changed."))
