"""Supporters' rights on the portal: ask for a copy of, or the erasure of,
what the section stores about an email address.

The request is answered by email with a signed link valid for a week, so
only the owner of the address can act, and the page says the same whether
or not the address is known (it reveals nobody's participation). The link
leads to a page with a button: mail scanners that open links never erase
anything.
"""
from __future__ import annotations

import json
import logging
import smtplib

from flask import Blueprint, abort, current_app, g, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from wtforms import RadioField, SelectChoice
from wtforms.validators import InputRequired

from core import mail, privacy
from core.fields import SupporterEmailField
from core.models import PrivacyRequest, utcnow

log = logging.getLogger(__name__)
bp = Blueprint("rights", __name__, url_prefix="/privacy")
LINK_VALID_SECONDS = 7 * 24 * 3600
KINDS = ("access", "erasure")


class RightsRequestForm(FlaskForm):
    kind = RadioField(
        _l("What would you like?"),
        choices=[
            SelectChoice("access", _l("A copy of everything stored about my email address, sent by email")),
            SelectChoice("erasure", _l("The erasure of my personal data (my actions stay counted, without my name)")),
        ],
        validators=[InputRequired(_l("Please choose what you would like."))],
    )
    email = SupporterEmailField()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="ecrire-privacy-request")


def _portal():
    return current_app.extensions["ecrire"]


def _page(template: str, status: int = 200, **context):
    from core.web.portal import page_context

    return render_template(template, **context, **page_context()), status


@bp.route("/request", methods=["GET", "POST"])
def ask():
    form = RightsRequestForm()
    if not form.validate_on_submit():
        return _page("rights/request.html", 400 if request.method == "POST" else 200, form=form)
    with _portal().db.writing() as session:
        row = privacy.open_request(session, g.section.code, form.kind.data, form.email.data, g.language)
        token = _serializer().dumps({"id": row.id, "section": g.section.code})
        email = row.email
        kind = row.kind
    link = url_for("rights.confirm", token=token, _external=True)
    subject = _("Your request about your personal data")
    what = _("a copy of your data") if kind == "access" else _("the erasure of your personal data")
    body = _(
        "You asked %(section)s for %(what)s.\n\nTo confirm, open this link within 7 days:\n%(link)s\n\n"
        "If you did not ask for this, ignore this message: nothing will happen.",
        section=g.section.display_name(g.language),
        what=what,
        link=link,
    )
    try:
        mail.send_to_supporter(g.section.code, email, subject, body)
    except (smtplib.SMTPException, OSError):
        log.exception("could not send the privacy request link")
        form.form_errors.append(_("We could not send the email just now. Please try again in a few minutes."))
        return _page("rights/request.html", 503, form=form)
    return _page("rights/sent.html")


def _request_for(token: str) -> tuple[PrivacyRequest | None, str | None]:
    try:
        data = _serializer().loads(token, max_age=LINK_VALID_SECONDS)
    except SignatureExpired:
        return None, _("This link has expired. Please make a new request.")
    except BadSignature:
        return None, _("This link is not valid. Please make a new request.")
    if data.get("section") != g.section.code:
        abort(404)
    with _portal().db.session() as session:
        row = session.get(PrivacyRequest, int(data["id"]))
        if row is None or row.section_code != g.section.code:
            abort(404)
        session.expunge(row)
    if row.status == "done":
        return None, _("This request has already been carried out.")
    return row, None


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the button is the confirmation."""


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    row, problem = _request_for(token)
    if row is None:
        return _page("rights/problem.html", 410, problem=problem)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _page("rights/confirm.html", form=form, kind=row.kind)
    portal = _portal()
    with portal.db.writing() as session:
        if row.kind == "access":
            data = privacy.export(session, g.section.code, row.email)
            outcome = {"found": data is not None}
        else:
            data = None
            outcome = privacy.erase(session, portal, g.section.code, row.email).as_dict()
        stored = session.get(PrivacyRequest, row.id)
        stored.status, stored.done_at, stored.outcome = "done", utcnow(), outcome
        if row.kind == "erasure":
            stored.email = privacy.ERASED
    if row.kind == "access":
        section_name = g.section.display_name(g.language)
        if data is None:
            body = _("%(section)s holds no personal data about this email address.", section=section_name)
            attachment = None
        else:
            body = _(
                "Here is everything %(section)s stores about this email address, in the attached file (JSON).",
                section=section_name,
            )
            attachment = ("my-data.json", json.dumps(data, ensure_ascii=False, indent=2).encode(), "application/json")
        try:
            mail.send_to_supporter(g.section.code, row.email, _("A copy of your data"), body, attachment)
        except (smtplib.SMTPException, OSError):
            log.exception("could not send a data export")
            with portal.db.writing() as session:  # the admin sees it still open
                stored = session.get(PrivacyRequest, row.id)
                stored.status, stored.done_at = "requested", None
            return _page("rights/problem.html", 503, problem=_("We could not send the email just now. Please try again in a few minutes."))
    return _page("rights/done.html", kind=row.kind, due=format_date(row.due_at, "long"))
