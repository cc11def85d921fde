"""Admin pages: accounts and roles, and the sections this install serves.

For global admins only ("install"): accounts are install-wide, so creating
or deactivating one is logged with no section, and a role change with the
section it concerns.
"""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from core.admin import bp, passwords
from core.admin.access import ADMIN, MODERATOR, requires
from core.admin.audit import record
from core.admin.auth import AccountError, create_account
from core.models import AdminGrant, AdminUser

ROLE_LABELS = {ADMIN: _l("Section admin"), MODERATOR: _l("Moderator")}


def _portal():
    return current_app.extensions["ecrire"]


def _section_choices() -> list[tuple[str, str]]:
    sections = _portal().registry.sections
    return [(code, f"{definition.display_name(definition.default_language)} ({code})") for code, definition in sorted(sections.items())]


def _role_choices() -> list[tuple[str, Any]]:
    return list(ROLE_LABELS.items())


class CreateAccountForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(_l("Please enter an email address."))])
    name = StringField(_l("Name"), validators=[Length(max=200)])
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Please enter a password.")),
            Length(min=passwords.MIN_LENGTH, message=_l("At least %(min)d characters.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Password again"),
        validators=[EqualTo("password", _l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    is_global = BooleanField(_l("Global admin (every section and the install-wide settings)"))


def _create_form() -> CreateAccountForm:
    """The form with one role choice per section this install serves."""

    class Form(CreateAccountForm):
        pass

    sections = _section_choices()
    for code, label in sections:
        setattr(Form, f"role_{code}", SelectField(label, default=""))
    form = Form()
    for code, _label in sections:
        form[f"role_{code}"].choices = [("", _l("No role"))] + _role_choices()
    return form


class GrantForm(FlaskForm):
    section = SelectField(_l("Section"), choices=[])
    role = SelectField(_l("Role"), choices=[])


class RevokeForm(FlaskForm):
    section = HiddenField(validators=[DataRequired()])


class ActiveForm(FlaskForm):
    active = HiddenField(validators=[DataRequired()])


def _grant_form() -> GrantForm:
    form = GrantForm()
    form.section.choices = _section_choices()
    form.role.choices = _role_choices()
    return form


@bp.get("/accounts")
@requires("install")
def accounts() -> Any:
    portal = _portal()
    with portal.db.session() as session:
        rows = list(session.scalars(select(AdminUser).order_by(AdminUser.email)))
    hosts: dict[str, list[str]] = {}
    for host, code in sorted(portal.hosts.items()):
        hosts.setdefault(code, []).append(host)
    sections = [(code, definition, hosts.get(code, [])) for code, definition in sorted(portal.registry.sections.items())]
    return render_template("admin/accounts.html", accounts=rows, sections=sections, role_labels=ROLE_LABELS)


@bp.route("/accounts/new", methods=["GET", "POST"])
@requires("install")
def account_new() -> Any:
    form = _create_form()
    status = 200
    if form.validate_on_submit():
        grants = [(code, form[f"role_{code}"].data) for code, _label in _section_choices() if form[f"role_{code}"].data]
        try:
            with _portal().db.writing() as session:
                account = create_account(session, form.email.data, form.name.data.strip(), form.password.data, form.is_global.data, grants)
                record(session, "account.create", section_code=None, email=account.email, is_global=account.is_global,
                       roles=", ".join(f"{code}:{role}" for code, role in grants) or None)
        except AccountError as error:
            form.form_errors.append(str(error))
            status = 400
        else:
            flash(_("Account %(email)s created.", email=account.email))
            return redirect(url_for("admin.account_edit", user_id=account.id))
    elif form.is_submitted():
        status = 400
    role_fields = [form[f"role_{code}"] for code, _label in _section_choices()]
    return render_template("admin/account_edit.html", create_form=form, role_fields=role_fields), status


def _account(session: Any, user_id: int) -> AdminUser:
    account = session.get(AdminUser, user_id)
    if account is None:
        abort(404)
    return account


@bp.get("/accounts/<int:user_id>")
@requires("install")
def account_edit(user_id: int) -> Any:
    with _portal().db.session() as session:
        account = _account(session, user_id)
        session.expunge(account)
    return _edit_page(account, _grant_form())


def _edit_page(account: AdminUser, grant_form: GrantForm, status: int = 200) -> Any:
    names = dict(_section_choices())
    return render_template(
        "admin/account_edit.html", account=account, grant_form=grant_form, revoke_form=RevokeForm(),
        active_form=ActiveForm(), section_names=names, role_labels=ROLE_LABELS,
    ), status


@bp.post("/accounts/<int:user_id>/grant")
@requires("install")
def account_grant(user_id: int) -> Any:
    form = _grant_form()
    with _portal().db.writing() as session:
        account = _account(session, user_id)
        if not form.validate_on_submit():
            session.expunge(account)
            return _edit_page(account, form, 400)
        code, role = form.section.data, form.role.data
        existing = next((grant for grant in account.grants if grant.section_code == code), None)
        if existing is not None:
            existing.role = role
        else:
            account.grants.append(AdminGrant(section_code=code, role=role))
        record(session, "account.grant", section_code=code, email=account.email, role=role)
        email = account.email
    flash(_("%(email)s is now %(role)s in %(section)s.", email=email, role=ROLE_LABELS[role], section=code))
    return redirect(url_for("admin.account_edit", user_id=user_id))


@bp.post("/accounts/<int:user_id>/revoke")
@requires("install")
def account_revoke(user_id: int) -> Any:
    form = RevokeForm()
    with _portal().db.writing() as session:
        account = _account(session, user_id)
        grant = next((g for g in account.grants if g.section_code == form.section.data), None)
        if not form.validate_on_submit() or grant is None:
            session.expunge(account)
            return _edit_page(account, _grant_form(), 400)
        account.grants.remove(grant)
        record(session, "account.revoke", section_code=grant.section_code, email=account.email, role=grant.role)
        email, code = account.email, grant.section_code
    flash(_("%(email)s has no role in %(section)s any more.", email=email, section=code))
    return redirect(url_for("admin.account_edit", user_id=user_id))


@bp.post("/accounts/<int:user_id>/active")
@requires("install")
def account_active(user_id: int) -> Any:
    """Deactivate (or reactivate) an account; its sessions stop working on
    their next request, since loading the user refuses inactive accounts."""
    form = ActiveForm()
    with _portal().db.writing() as session:
        account = _account(session, user_id)
        if not form.validate_on_submit() or form.active.data not in ("0", "1"):
            session.expunge(account)
            return _edit_page(account, _grant_form(), 400)
        active = form.active.data == "1"
        if not active and account.id == current_user.account.id:
            flash(_("You cannot deactivate your own account."))
            return redirect(url_for("admin.account_edit", user_id=user_id))
        if account.active != active:
            account.active = active
            record(session, "account.activate" if active else "account.deactivate", section_code=None, email=account.email)
        email = account.email
    flash(_("%(email)s is active again.", email=email) if active else _("%(email)s is deactivated.", email=email))
    return redirect(url_for("admin.account_edit", user_id=user_id))

