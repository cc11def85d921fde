"""Signing in and out of the admin, and the ``flask admins`` commands.

Failed sign-ins are stored (``sign_in_attempts``) so the limit holds across
gunicorn workers: at most ``MAX_PER_ADDRESS`` failures per address and
``MAX_PER_CLIENT`` per client address in ``WINDOW``; an unknown address
costs as much time as a wrong password.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Any
from urllib.parse import urlsplit

import click
from flask import Flask, current_app, flash, g, redirect, render_template, request, url_for
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import delete, func, select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from core.admin import bp, passwords
from core.admin.access import ADMIN, ROLES, capabilities, public
from core.models import AdminGrant, AdminUser, SignInAttempt, utcnow

WINDOW = dt.timedelta(minutes=15)
MAX_PER_ADDRESS = 5
MAX_PER_CLIENT = 30

login_manager = LoginManager()
login_manager.login_view = "admin.sign_in"
login_manager.login_message = _l("Please sign in to continue.")
login_manager.session_protection = "strong"

admins_cli = AppGroup("admins", help="Admin accounts and their roles.")


class SignedIn(UserMixin):
    """The signed-in account as Flask-Login sees it."""

    def __init__(self, account: AdminUser) -> None:
        self.account = account

    def get_id(self) -> str:
        return str(self.account.id)


def _portal():
    return current_app.extensions["ecrire"]


@login_manager.user_loader
def load_user(user_id: str) -> SignedIn | None:
    with _portal().db.session() as session:
        account = session.get(AdminUser, int(user_id)) if user_id.isdigit() else None
        if account is None or not account.active:
            return None
        session.expunge(account)
        return SignedIn(account)


def normalise_email(value: str) -> str:
    return value.strip().lower()


class SignInForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(_l("Please enter your email address."))],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Please enter your password."))],
                             render_kw={"autocomplete": "current-password"})


def _keys(email: str) -> tuple[str, str]:
    return f"email:{email}", f"client:{request.remote_addr or '?'}"


def _blocked_for(session, email: str) -> dt.timedelta | None:
    """How long until another try is allowed, or None."""
    since = utcnow() - WINDOW
    by_email, by_client = _keys(email)
    for key, limit in ((by_email, MAX_PER_ADDRESS), (by_client, MAX_PER_CLIENT)):
        count, oldest = session.execute(
            select(func.count(), func.min(SignInAttempt.at)).where(SignInAttempt.key == key, SignInAttempt.at > since)
        ).one()
        if count >= limit:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=dt.timezone.utc)
            return oldest + WINDOW - utcnow()
    return None


def _safe_next(target: str | None) -> str:
    """Only a path inside the admin, never another site."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/admin"):
            return target
    return url_for("admin.home")


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> Any:
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        email = normalise_email(form.email.data)
        db = _portal().db
        with db.writing() as session:
            wait = _blocked_for(session, email)
            if wait is not None:
                minutes = max(1, math.ceil(wait.total_seconds() / 60))
                form.form_errors.append(
                    _("Too many failed attempts. Please try again in %(minutes)d minutes.", minutes=minutes)
                )
                return render_template("admin/sign_in.html", form=form), 429
            account = session.scalar(select(AdminUser).where(AdminUser.email == email))
            valid = passwords.verify(account.password_hash if account else passwords.DUMMY_HASH, form.password.data)
            if not (valid and account is not None and account.active):
                for key in _keys(email):
                    session.add(SignInAttempt(key=key))
                form.form_errors.append(_("This email address and password do not match an account."))
                status = 401
            else:
                session.execute(delete(SignInAttempt).where(SignInAttempt.key == _keys(email)[0]))
                if passwords.needs_rehash(account.password_hash):
                    account.password_hash = passwords.hash_password(form.password.data)
                account.last_sign_in_at = utcnow()
                session.flush()
                session.expunge(account)
        if status == 200:
            login_user(SignedIn(account))
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("admin/sign_in.html", form=form), status


@bp.post("/sign-out")
@public
def sign_out() -> Any:
    logout_user()
    flash(_("You are signed out."))
    return redirect(url_for("admin.sign_in"))


def admin_context() -> dict[str, Any]:
    """What every admin page knows: the section and language (as portal
    pages do), who is signed in and what they may do here."""
    if request.blueprint != "admin" or getattr(g, "section", None) is None:
        return {}
    from core.web.portal import ADMIN_LANGUAGES, language_name, page_context

    codes = list(dict.fromkeys([*g.section.languages, *ADMIN_LANGUAGES]))
    switch = [(code, language_name(code), f"{request.path}?lang={code}", code == g.language) for code in codes]
    return {**page_context(), "admin_capabilities": capabilities(current_user, g.section.code), "admin_languages": switch}


# -- commands -----------------------------------------------------------------


def _grants(values: tuple[str, ...]) -> list[tuple[str, str]]:
    sections = _portal().registry.sections
    found = []
    for value in values:
        code, _, role = value.partition(":")
        role = role or ADMIN
        if code not in sections:
            raise click.BadParameter(f"no section {code!r} (known: {', '.join(sorted(sections))})", param_hint="--section")
        if role not in ROLES:
            raise click.BadParameter(f"no role {role!r} (roles: {', '.join(ROLES)})", param_hint="--section")
        found.append((code, role))
    return found


class AccountError(ValueError):
    """Why an account cannot be created (shown to whoever asked)."""


def create_account(
    session, email: str, name: str, password: str, is_global: bool, grants: list[tuple[str, str]]
) -> AdminUser:
    """Create an account in the caller's transaction: shared by ``flask
    admins create`` and the admin's Accounts page so both apply the same
    rules. Raises :class:`AccountError`."""
    email = normalise_email(email)
    if "@" not in email:
        raise AccountError(_("Please enter a valid email address."))
    if len(password) < passwords.MIN_LENGTH:
        raise AccountError(_("The password needs at least %(n)d characters.", n=passwords.MIN_LENGTH))
    sections = _portal().registry.sections
    for code, role in grants:
        if code not in sections:
            raise AccountError(_("There is no section %(code)s.", code=code))
        if role not in ROLES:
            raise AccountError(_("There is no role %(role)s.", role=role))
    if not is_global and not grants:
        raise AccountError(_("Choose global admin or at least one role in a section."))
    if session.scalar(select(AdminUser.id).where(AdminUser.email == email)) is not None:
        raise AccountError(_("An account for %(email)s already exists.", email=email))
    account = AdminUser(email=email, name=name, password_hash=passwords.hash_password(password), is_global=is_global)
    account.grants = [AdminGrant(section_code=code, role=role) for code, role in grants]
    session.add(account)
    session.flush()
    return account


@admins_cli.command("create")
@click.argument("email")
@click.option("--name", default="", help="Shown in the audit log.")
@click.option("--global", "is_global", is_flag=True, help="All sections, and the install-wide settings.")
@click.option("--section", "sections", multiple=True, metavar="CODE[:ROLE]",
              help="A section and a role (admin, the default, or moderator); repeatable.")
@click.password_option(help="Asked for when not given (at least 12 characters).")
def admins_create(email: str, name: str, is_global: bool, sections: tuple[str, ...], password: str) -> None:
    """Create an admin account (the first one is usually --global)."""
    email = normalise_email(email)
    if len(password) < passwords.MIN_LENGTH:
        raise click.UsageError(f"the password needs at least {passwords.MIN_LENGTH} characters")
    grants = _grants(sections)
    if not is_global and not grants:
        raise click.UsageError("give --global or at least one --section CODE[:ROLE]")
    try:
        with _portal().db.writing() as session:
            create_account(session, email, name, password, is_global, grants)
    except AccountError as error:
        raise click.UsageError(str(error)) from None
    roles = "global admin" if is_global else ", ".join(f"{role} of {code}" for code, role in grants)
    click.echo(f"created {email}: {roles}")


@admins_cli.command("list")
def admins_list() -> None:
    """Every account and its roles."""
    with _portal().db.session() as session:
        for account in session.scalars(select(AdminUser).order_by(AdminUser.email)):
            roles = "global" if account.is_global else ", ".join(f"{g.section_code}:{g.role}" for g in account.grants)
            click.echo(f"{account.email:40} {roles or '-'}{'' if account.active else ' (disabled)'}")


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.context_processor(admin_context)
    app.cli.add_command(admins_cli)
