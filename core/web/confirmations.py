"""Links sent by email to confirm something the portal holds: the
supporter's address (sections that check it), a parent's agreement (for
young supporters where the section asks for it), a newsletter sign-up
(double opt-in).

The token is signed and expires; opening it shows a button, so the mail
scanners that follow links confirm nothing. Held actions not confirmed in
time are erased by ``flask privacy purge``.
"""
from __future__ import annotations

import logging
import smtplib

from flask import Blueprint, abort, current_app, g, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from core import actions, holds, mail
from core.legal import request_proof, wording
from core.models import Action, ConsentRecord

log = logging.getLogger(__name__)
bp = Blueprint("confirm", __name__, url_prefix="/confirm")

#: purpose -> (what the link confirms, for the email and the page)
ADDRESS, PARENT, NEWSLETTER = "address", "parent", "newsletter"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="ecrire-confirmation")


def _portal():
    return current_app.extensions["ecrire"]


def send_link(purposes: list[str], action_id: int, to: str, person: str) -> bool:
    """Email a confirmation link; False when the mail could not be sent (the
    held action stays, and is erased if never confirmed)."""
    token = _serializer().dumps({"a": action_id, "s": g.section.code, "p": purposes, "l": g.language})
    link = url_for("confirm.page", token=token, _external=True)
    days = g.section.legal.unverified_days
    section_name = g.section.display_name(g.language)
    if PARENT in purposes:
        subject = _("Your child wants to act with %(section)s", section=section_name)
        intro = _(
            "Someone under %(age)d gave your address to take part, for %(person)s, in the letter-writing marathon "
            "of %(section)s. If you agree, open this link within %(days)d days:",
            age=g.section.legal.consent_age, person=person, section=section_name, days=days,
        )
    elif ADDRESS in purposes:
        subject = _("Please confirm your action for %(person)s", person=person)
        intro = _("To confirm your action for %(person)s, open this link within %(days)d days:", person=person, days=days)
    else:
        subject = _("Please confirm your newsletter sign-up")
        intro = _("To confirm that you want to receive our news, open this link within %(days)d days:", days=days)
    body = intro + "\n" + link + "\n\n" + _("If this was not you, ignore this message: nothing will happen.")
    try:
        mail.send_to_supporter(g.section.code, to, subject, body)
        return True
    except (smtplib.SMTPException, OSError):
        log.exception("could not send a confirmation link")
        return False


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the button is the confirmation."""


@bp.route("/<token>", methods=["GET", "POST"])
def page(token: str):
    from core.web.portal import page_context

    days = g.section.legal.unverified_days
    try:
        data = _serializer().loads(token, max_age=days * 24 * 3600)
    except SignatureExpired:
        return render_template("confirm/problem.html", problem=_("This link has expired."), **page_context()), 410
    except BadSignature:
        return render_template("confirm/problem.html", problem=_("This link is not valid."), **page_context()), 400
    if data.get("s") != g.section.code:
        abort(404)
    purposes = list(data.get("p", []))
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_template("confirm/page.html", form=form, purposes=purposes, **page_context())
    portal = _portal()
    action_id = int(data["a"])
    if ADDRESS in purposes or PARENT in purposes:
        try:
            holds.release(portal, g.section.code, action_id, expected="unverified")
        except holds.HoldError:
            expired = actions.status_of(portal.db, action_id) == "expired"
            problem = _("This link has expired.") if expired else _("This has already been confirmed.")
            return render_template("confirm/problem.html", problem=problem, **page_context()), 410
    with portal.db.writing() as session:
        action = session.get(Action, action_id)
        if action is None or action.section_code != g.section.code:
            abort(404)
        rules = g.section.legal
        for purpose in purposes:
            text = {
                ADDRESS: _("The supporter confirmed their email address."),
                PARENT: wording(rules, "parent", g.language) or _("A parent or guardian agreed."),
                NEWSLETTER: wording(rules, "newsletter", g.language) or _("Newsletter sign-up confirmed."),
            }[purpose]
            session.add(
                ConsentRecord(
                    section_code=g.section.code,
                    supporter_id=action.supporter_id,
                    action_id=action.id,
                    purpose=f"{purpose}-confirmed",
                    wording_version=rules.wording_version,
                    wording=text,
                    given=True,
                    language=g.language,
                    request=request_proof(),
                )
            )
    return render_template("confirm/done.html", purposes=purposes, **page_context())
