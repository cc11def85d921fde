"""The benchmark's baseline: the least a Flask app must do to serve the
portal's case page and take its petition signature.

It validates the same form as ``plugins/petition/forms.py`` (same fields,
validators, ~250 Babel country choices, Flask-WTF CSRF), reads and writes
SQLite through SQLAlchemy with the portal's pragmas (WAL,
``synchronous=NORMAL``, ``busy_timeout``, ``BEGIN IMMEDIATE`` for writes)
and renders a page of comparable size, but has no sections, plugins, hooks,
translations, caches or counters. Whatever the portal costs on top of this
is the price of its architecture, which is what ``bench/run.py`` measures.

Self-contained on purpose (it imports neither ``core`` nor ``plugins``), so a
change in the portal can never make the baseline faster or slower.

Run by ``bench/run.py`` as ``gunicorn --chdir bench "bare_app:create_app()"`` with
``BENCH_BARE_DB`` naming a SQLite file; the schema and one case row are
created at start-up if missing.
"""
from __future__ import annotations

import datetime as dt
import os
import secrets
import unicodedata
from typing import Any

from babel import Locale
from flask import Flask, abort, redirect, render_template, url_for
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from jinja2 import DictLoader
from markupsafe import Markup, escape
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    select,
)
from werkzeug.wrappers import Response
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length, ValidationError
from wtforms.widgets import html_params

CASE_ID = "sonia-dahmani"
LANGUAGE = "fr"
DEFAULT_COUNTRY = "FR"

metadata = MetaData()

cases = Table(
    "cases",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("person", String(200), nullable=False),
    Column("country", String(2), nullable=False),
    Column("colour", String(32), nullable=False),
    Column("goal", Integer),
    Column("title", String(300), nullable=False),
    Column("story", Text, nullable=False),
    Column("ask", Text, nullable=False),
)

signatures = Table(
    "signatures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("country", String(2), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_signatures_case", "case_id"),
)

# Text of about the demo case's length, so both pages weigh about the same.
SEED_CASE: dict[str, Any] = {
    "id": CASE_ID,
    "person": "Sonia Dahmani",
    "country": "TN",
    "colour": "#8a3b12",
    "goal": 50000,
    "title": "Sonia Dahmani, emprisonnée pour avoir dénoncé l’injustice",
    "story": (
        "En Tunisie, Sonia Dahmani a refusé de se taire face à l’injustice. Elle l’a dénoncée, et c’est pour "
        "cela qu’elle est aujourd’hui en prison.\n\n"
        "Dénoncer l’injustice n’est pas un crime. Personne ne devrait être enfermé pour avoir élevé la voix.\n\n"
        "Votre lettre compte. Depuis 2011, les sympathisants ont agi des dizaines de millions de fois, et plus de "
        "100 personnes soutenues par la campagne ont vu leur situation s’améliorer. Chaque message montre aux "
        "autorités que le monde a les yeux tournés vers Sonia, et lui rappelle qu’elle n’est pas seule."
    ),
    "ask": (
        "Je vous demande de libérer Sonia Dahmani immédiatement et sans condition. Personne ne devrait être "
        "emprisonné pour avoir dénoncé l’injustice."
    ),
}

PAGE = """<!doctype html>
<html lang="fr">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{ case.title }} · Écrire pour les droits</title>
  <link rel="stylesheet" href="/static/portal.css">
</head>
<body>
  <a class="skip-link" href="#main">Aller au contenu</a>
  <header class="site-header">
    <div class="wrap header-row"><a class="brand" href="/"><span class="brand-name">Écrire pour les droits · France</span></a></div>
    <nav class="wrap main-nav" aria-label="Main"><a href="/#cases">Cases</a> <a href="/stories">Success stories</a></nav>
  </header>
  <main id="main" class="wrap">
<article class="case" lang="fr">
  <header class="case-header">
    <svg class="portrait" width="96" height="96" viewBox="0 0 100 100" role="img" aria-label="Portrait placeholder for {{ case.person }}">
      <rect width="100" height="100" rx="12" fill="{{ case.colour }}"/>
      <text x="50" y="50" dy="0.35em" text-anchor="middle" font-size="38" font-family="sans-serif" fill="#ffffff">SD</text>
    </svg>
    <div><h1>{{ case.title }}</h1><p class="country">{{ case.country }}</p></div>
  </header>
  <div class="case-count" aria-live="polite">
    <p><span class="count-line">France: {{ count }} actions</span></p>
    {% if case.goal %}<div class="progress"><progress max="{{ case.goal }}" value="{{ [count, case.goal]|min }}"></progress>
    <p class="progress-label">{{ count }} of {{ case.goal }}</p></div>{% endif %}
  </div>
  <div class="story">
    {% for paragraph in case.story.split("\\n\\n") %}<p>{{ paragraph }}</p>{% endfor %}
  </div>
  <section class="ask" aria-labelledby="ask-title"><h2 id="ask-title">What we ask</h2><p>{{ case.ask }}</p></section>
</article>
<section class="actions" aria-labelledby="act-title">
  <h2 id="act-title">Act now</h2>
  <section class="panel" id="act-petition" aria-label="Sign the petition">
<h3>Sign the petition</h3>
<p>Add your name to ask the authorities to act for {{ case.person }}.</p>
{% if form.errors %}<p class="form-errors" role="alert">Please correct the fields marked below.</p>{% endif %}
<form method="post" action="{{ url_for('take_action', case_id=case.id) }}" novalidate>
  {{ form.csrf_token }}
  {% for f in (form.name, form.email, form.country) %}
  <div class="field{% if f.errors %} has-error{% endif %}">
    {{ f.label }}
    {{ f(required=True) }}
    {% for error in f.errors %}<p class="field-error">{{ error }}</p>{% endfor %}
  </div>
  {% endfor %}
  <div class="field check">{{ form.consent(required=True) }} {{ form.consent.label }}
    {% for error in form.consent.errors %}<p class="field-error">{{ error }}</p>{% endfor %}</div>
  <p class="hint">Your email address is never shown to anyone: it lets us count your signature once. <a href="/privacy">Privacy</a></p>
  <button type="submit">Sign</button>
</form>
  </section>
</section>
  </main>
  <footer class="site-footer"><div class="wrap"><p><a href="/privacy">Privacy</a></p></div></footer>
</body>
</html>
"""


def _sort_key(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", name.casefold()) if not unicodedata.combining(c))


def _country_choices(language: str) -> list[tuple[str, str]]:
    """The same choices the portal offers (Babel territories, regions left out)."""
    names = Locale.parse(language).territories
    pairs = [
        (code, name)
        for code, name in names.items()
        if len(code) == 2 and code.isalpha() and code not in {"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"}
    ]
    return sorted(pairs, key=lambda p: _sort_key(p[1]))


COUNTRIES = _country_choices(LANGUAGE)
COUNTRY_CODES = frozenset(code for code, _name in COUNTRIES)
COUNTRY_OPTIONS = "".join(f'<option value="{code}">{escape(name)}</option>' for code, name in COUNTRIES)


class CountryField(SelectField):  # type: ignore[misc]
    """What a well-written bare app does too (and the portal does): options
    rendered once, the choice checked against a set."""

    def pre_validate(self, form: Any) -> None:
        if self.data and self.data not in COUNTRY_CODES:
            raise ValidationError("Not a valid choice.")

    def __call__(self, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", self.id)
        options = COUNTRY_OPTIONS
        if self.data:
            options = options.replace(f'<option value="{self.data}">', f'<option selected value="{self.data}">', 1)
        return Markup(f"<select {html_params(name=self.name, **kwargs)}>{options}</select>")


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class SignatureForm(FlaskForm):  # type: ignore[misc]  # flask_wtf ships no type hints
    """Field for field the portal's petition form (messages untranslated)."""

    name = StringField(
        "Full name",
        filters=[_strip],
        validators=[DataRequired("Please enter your name."), Length(max=120, message="Please use at most 120 characters.")],
        render_kw={"autocomplete": "name", "maxlength": 120},
    )
    email = EmailField(
        "Email address",
        filters=[_strip],
        validators=[
            DataRequired("Please enter your email address."),
            Length(max=254, message="This email address is too long."),
            Email("This does not look like an email address. Please check it.", check_deliverability=False),
        ],
        render_kw={"autocomplete": "email", "inputmode": "email", "maxlength": 254},
    )
    country = CountryField(
        "Country",
        validators=[InputRequired("Please choose your country.")],
        render_kw={"autocomplete": "country"},
    )
    consent = BooleanField(
        "I agree that my name and country will be handed over to the authorities with this petition.",
        validators=[DataRequired("Please tick this box so we can hand over your signature.")],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = list(COUNTRIES)
        if not self.country.data:
            self.country.data = DEFAULT_COUNTRY


def make_engine(url: str) -> tuple[Engine, Engine]:
    """(reader, writer): the portal's SQLite set-up; the writer's
    transactions start with ``BEGIN IMMEDIATE`` so two workers queue on the
    write lock instead of failing when a read turns into a write."""
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine, engine.execution_options(sqlite_begin="IMMEDIATE")


def _create_schema(writer: Engine) -> None:
    """Tables and the case row, inside one IMMEDIATE transaction so the
    gunicorn workers starting together do not race to create them."""
    with writer.begin() as conn:
        metadata.create_all(conn)
        if conn.scalar(select(cases.c.id).where(cases.c.id == CASE_ID)) is None:
            conn.execute(insert(cases).values(**SEED_CASE))


def create_app(database_path: str | None = None) -> Flask:
    path = database_path or os.environ["BENCH_BARE_DB"]
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_hex(32),
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.jinja_loader = DictLoader({"case.html": PAGE})
    CSRFProtect(app)
    reader, writer = make_engine(f"sqlite:///{path}")
    _create_schema(writer)

    def load_case(case_id: str) -> tuple[dict[str, Any], int]:
        with reader.connect() as conn:
            row = conn.execute(select(cases).where(cases.c.id == case_id)).mappings().first()
            if row is None:
                abort(404)
            count = conn.scalar(select(func.count()).select_from(signatures).where(signatures.c.case_id == case_id)) or 0
        return dict(row), int(count)

    def page(case_id: str, form: SignatureForm, status: int = 200) -> tuple[str, int]:
        case, count = load_case(case_id)
        return render_template("case.html", case=case, count=count, form=form), status

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/cases/<case_id>")
    def case_page(case_id: str) -> tuple[str, int]:
        return page(case_id, SignatureForm())

    @app.post("/cases/<case_id>/act/petition")
    def take_action(case_id: str) -> Response | tuple[str, int]:
        # No check that the case exists: the baseline is the bare minimum
        # (the portal's check costs it a dict look-up in its case cache).
        form = SignatureForm()
        if not form.validate():
            return page(case_id, form, status=422)
        with writer.begin() as conn:
            conn.execute(
                insert(signatures).values(
                    case_id=case_id,
                    name=form.name.data.strip(),
                    email=form.email.data.strip().lower(),
                    country=form.country.data,
                    created_at=dt.datetime.now(dt.UTC),
                )
            )
        return redirect(url_for("case_page", case_id=case_id), code=303)

    return app

