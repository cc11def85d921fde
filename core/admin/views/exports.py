"""Admin pages: CSV exports of the section's actions.

The download is a POST (with CSRF) because an export with personal data
writes an audit entry; the body streams, so a million rows take no more
memory than a thousand.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, abort, current_app, g, render_template, request, stream_with_context
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField
from wtforms.validators import Optional, ValidationError

from core import exports as csv_export
from core.admin import bp
from core.admin.access import can, requires, scope
from core.admin.audit import record


class ExportForm(FlaskForm):
    case_id = SelectField(_l("Case"), choices=[], default="")
    action_type = SelectField(_l("Action type"), choices=[], default="")
    since = DateField(_l("From (UTC)"), validators=[Optional()])
    until = DateField(_l("Until (UTC, included)"), validators=[Optional()])
    personal = BooleanField(_l("With personal data (email, name, country)"))

    def validate_until(self, field: Any) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end date is before the start date."))


def _form() -> ExportForm:
    """The form with this section's cases and action types; the personal
    data box only for those allowed to tick it."""
    portal = current_app.extensions["ecrire"]
    code = g.section.code
    form = ExportForm()
    with portal.db.session() as session:
        cases = portal.catalogue.cases(session, g.section, portal.case_sources(code), g.language)
    form.case_id.choices = [("", _l("All cases"))] + [(case.id, f"{case.person} ({case.id})") for case in cases]
    form.action_type.choices = [("", _l("All action types"))] + [
        (name, str(action.label)) for name, action in portal.action_types(code).items()
    ]
    if not can("personal_data"):
        del form.personal
    return form


@bp.route("/exports", methods=["GET", "POST"])
@requires("view")
def exports() -> Any:
    """GET: the form. POST: the CSV download."""
    if request.method == "POST" and request.form.get("personal") and not can("personal_data"):
        abort(403)
    form = _form()
    if request.method == "GET":
        return render_template("admin/exports.html", form=form)
    if not form.validate_on_submit():
        return render_template("admin/exports.html", form=form), 400
    filters = csv_export.ExportFilters(
        case_id=form.case_id.data or None,
        action_type=form.action_type.data or None,
        since=form.since.data,
        until=form.until.data,
        personal=bool(form.personal is not None and form.personal.data),
    )
    portal = current_app.extensions["ecrire"]
    if filters.personal:
        # Logged before the first row leaves: the row count is not known yet.
        with portal.db.writing() as session:
            record(session, "export.personal", **filters.describe())
    query = csv_export.export_query(scope(), filters)

    def generate():
        with portal.db.session() as session:
            yield from csv_export.stream_csv(session, query, filters.personal)

    name = csv_export.filename(g.section.code, dt.datetime.now(dt.timezone.utc).date(), filters.personal)
    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
