"""A section's legal rules applied to an action: the age question, the
newsletter sign-up, the consent records, and whether the action must wait
for a link to be opened (the supporter's address check, or a parent's
confirmation).

The fields are a second form (prefix ``legal-<action>-``, so several
actions' forms can share a page) posted with the action's own form: the
core owns their wording, their validation and what follows from them, so
every action plugin gets the same rules by calling
``{{ legal_fields("<action name>") }}`` inside its ``<form>``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import render_template, request
from flask_babel import LazyString, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField, Form, IntegerField, RadioField, SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from core.fields import SupporterEmailField, strip_whitespace
from core.types import LegalRules, SectionDefinition

PREFIX = "legal-"


def prefix_for(action_name: str) -> str:
    return f"{PREFIX}{action_name}-"


class LegalForm(FlaskForm):
    """Every legal field; ``for_section`` builds (once per section) the
    subclass with only the fields the section's rules use."""

    class Meta:
        csrf = False  # the action's own form carries the token

    #: "adult" or "minor": a choice, never pre-selected, so nobody is
    #: treated as a minor for forgetting a box.
    of_age = RadioField(_l("Your age"), validators=[InputRequired(_l("Please tell us your age group."))])
    birth_year = IntegerField(
        _l("Year of birth"),
        filters=[strip_whitespace],
        validators=[Optional(), NumberRange(min=1900, message=_l("Please enter your year of birth, for example 1990."))],
        render_kw={"inputmode": "numeric", "autocomplete": "bday-year", "maxlength": 4},
    )
    parent_email = SupporterEmailField(
        _l("Your parent's or guardian's email address"), required_message=_l("Please enter your parent's email address.")
    )
    newsletter = BooleanField()

    rules: LegalRules
    action_name: str

    @classmethod
    def for_section(cls, section: SectionDefinition, action_name: str, formdata: Any = None) -> LegalForm:
        form = _form_class(section)(formdata=formdata, prefix=prefix_for(action_name))
        form.action_name = action_name
        return form

    def validate_birth_year(self, field: Any) -> None:
        if field.data is None:
            raise ValidationError(_("Please enter your year of birth, for example 1990."))
        if field.data > dt.date.today().year:
            raise ValidationError(_("This year is in the future."))

    def validate(self, extra_validators: Any = None) -> bool:
        if "parent_email" in self and self.of_age_ok():
            self.parent_email.validators = []  # asked only of the young
        return super().validate(extra_validators)

    def of_age_ok(self) -> bool:
        """Old enough to consent alone (from the box or the year of birth;
        a birth year on the edge counts as old enough in that year)."""
        if "birth_year" in self:
            year = self.birth_year.data
            return year is not None and dt.date.today().year - year >= self.rules.consent_age
        return self.of_age.data == "adult"


_classes: dict[tuple[str, int], type[LegalForm]] = {}


def _form_class(section: SectionDefinition) -> type[LegalForm]:
    """The section's form class, built on first use: a form is then as
    cheap to make as any other (this runs on every action sent)."""
    rules = section.legal
    key = (section.code, id(rules))
    found = _classes.get(key)
    if found is not None and found.rules is rules:
        return found
    fields: dict[str, Any] = {"rules": rules}
    if rules.age_check == "birth_year":
        fields["of_age"] = None
    else:
        fields["birth_year"] = None
        fields["of_age"] = RadioField(
            _l("Your age"),
            choices=[
                SelectChoice("adult", _l("I am %(age)d or older", age=rules.consent_age)),
                SelectChoice("minor", _l("I am under %(age)d", age=rules.consent_age)),
            ],
            validators=[InputRequired(_l("Please tell us your age group."))],
        )
    if rules.under_age != "parent":
        fields["parent_email"] = None
    if rules.newsletter:
        fields["newsletter"] = BooleanField(LazyString(_newsletter_label, rules))
    else:
        fields["newsletter"] = None
    made = type(f"LegalForm_{section.code}", (LegalForm,), fields)
    _classes[key] = made
    return made


def _newsletter_label(rules: LegalRules) -> str:
    return wording(rules, "newsletter", get_locale_code()) or _(
        "Yes, send me news of the campaign and of the people we act for (you can unsubscribe at any time)."
    )


def get_locale_code() -> str | None:
    locale = get_locale()
    return str(locale) if locale is not None else None


def wording(rules: LegalRules, purpose: str, language: str | None = None) -> str:
    texts = rules.consent_wordings.get(purpose, {})
    if language and language in texts:
        return texts[language]
    return next(iter(texts.values()), "") if texts else ""


@dataclass(frozen=True)
class Decision:
    """What the rules make of a valid submission."""

    #: "now" (recorded and counted), "anonymous" (counted, nothing personal
    #: kept), "parent" (held until a parent confirms), "verify" (held until
    #: the supporter confirms their address).
    mode: str
    newsletter: bool = False
    parent_email: str | None = None


def decide(form: LegalForm) -> Decision:
    rules = form.rules
    newsletter = "newsletter" in form and bool(form.newsletter.data)
    if not form.of_age_ok():
        if rules.under_age == "parent":
            return Decision("parent", newsletter=False, parent_email=form.parent_email.data)
        return Decision("anonymous")
    return Decision("verify" if rules.verify_email else "now", newsletter=newsletter)


def request_proof() -> dict[str, Any]:
    """The request a consent came with, kept as proof."""
    return {
        "path": request.path,
        "at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "client": request.remote_addr,
        "user_agent": request.user_agent.string[:300],
        "language": request.accept_languages.to_header()[:100],
    }


def consent_records(
    section: SectionDefinition,
    language: str,
    action_form: Form,
    legal: LegalForm,
    decision: Decision,
    *,
    action_id: int | None = None,
    supporter_id: int | None = None,
) -> list[dict[str, Any]]:
    """The consents given with an action, as ``consent_records`` rows: the
    action's own consent box (a field named ``consent``), the age statement,
    the newsletter answer (given or not: both are proof)."""
    rules = section.legal
    proof = request_proof()
    proof_time = dt.datetime.now(dt.timezone.utc)
    records: list[dict[str, Any]] = []

    def add(purpose: str, text: str, given: bool) -> None:
        records.append(
            {
                "section_code": section.code,
                "supporter_id": supporter_id,
                "action_id": action_id,
                "purpose": purpose,
                "wording_version": rules.wording_version,
                "wording": str(text),
                "given": given,
                "language": language,
                "request": proof,
                "created_at": proof_time,
            }
        )

    if "consent" in action_form:
        add("action", action_form.consent.label.text, bool(action_form.consent.data))
    if "of_age" in legal:
        chosen = next((c.label for c in legal.of_age.choices if c.value == legal.of_age.data), "")
        add("age", f"{legal.of_age.label.text}: {chosen}", legal.of_age_ok())
    elif "birth_year" in legal:
        add("age", f"{legal.birth_year.label.text}: {legal.birth_year.data}", legal.of_age_ok())
    if "newsletter" in legal:
        purpose = "newsletter-request" if rules.double_opt_in and decision.newsletter else "newsletter"
        add(purpose, legal.newsletter.label.text, decision.newsletter)
    if decision.mode == "parent":
        add("parent-request", wording(rules, "parent", language) or _("A parent or guardian must agree."), True)
    return records


def under_age_hint(rules: LegalRules) -> str:
    if rules.under_age == "parent":
        return _("Under %(age)d, a parent or guardian must agree: we will ask them by email.", age=rules.consent_age)
    return _("Under %(age)d, your action is counted without your name or email address being kept.", age=rules.consent_age)


def fields_markup(form: LegalForm) -> Markup:
    """The legal questions, for inside an action's ``<form>``."""
    return Markup(render_template("_legal_fields.html", legal=form, under_age_hint=under_age_hint(form.rules)))


def hidden_markup(form: LegalForm) -> Markup:
    """The answers carried as hidden inputs through an intermediate step
    (a letter's preview), so the final submission brings them back."""
    inputs = []
    for field in form:
        value = field.data
        if value in (None, False, ""):
            continue
        shown = "y" if value is True else value
        inputs.append(Markup('<input type="hidden" name="{}" value="{}">').format(field.name, shown))
    return Markup("").join(inputs)
