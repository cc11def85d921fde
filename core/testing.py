"""pytest fixtures and helpers for testing Écrire plugins (and Écrire itself).

This module is a pytest plugin, registered through pytest's ``pytest11``
entry point: with Écrire installed, its fixtures are available in any test
without an import. The helpers are plain functions, importable with
``from core.testing import take_action, read_counts, ...``. Everything named
in ``__all__`` is the documented testing API and follows the same stability
promise as ``core.toolkit``; so do the fixture names below, which are asked
for by name and never imported (importing one would define it twice).

Fixtures
    ``make_app(*, plugins=None, load_demo=True, **config)``
        A factory of apps, each on its own fresh database. ``plugins`` maps a
        section code to plugin names switched on *in addition to* the
        section's default plugins, as an admin would with ``flask plugins
        enable`` (a mapping ``{name: False}`` switches one off instead).
        ``load_demo`` creates the sections and loads the demo cases, as
        ``flask demo load`` does; without it the database is as ``flask db
        upgrade`` leaves it, so the given plugins are the only ones on.
        ``config`` overrides Flask settings (``TEST_CONFIG`` is the base).
    ``smtp_sink``
        A real SMTP server on 127.0.0.1 (a free port) collecting what it
        receives in ``smtp_sink.messages`` (:class:`ReceivedEmail`).
    ``outside_plugin(dist_name, files, entry_points, version="0.1.0")``
        Installs a tiny distribution as pip would (a package plus a
        ``.dist-info`` with ``ecrire.plugins`` entry points) in a temporary
        folder on ``sys.path``; apps made afterwards find it by entry point.
    ``ecrire_database_template``
        The migrated SQLite file ``make_app`` copies (session-scoped).

Helpers
    ``section_client(app, host, **headers)``: a test client for one section's
    host name (``accept_language="pt-BR"`` sends ``Accept-Language: pt-BR``).
    ``take_action(client, case_id, action_name, **fields)``: takes an action
    from the case page as a supporter would; returns the response.
    ``read_counts(app)``: a fresh :class:`~core.counters.Counts` snapshot.
    ``run_worker_once(app)``: delivers what is due, like ``flask deliveries
    run --once``; returns the :class:`~core.outbox.WorkerReport`.
    ``load_demo_data(app)``, ``install_outside_plugin(site, ...)``,
    :class:`SmtpSink`, ``TEST_CONFIG``.

Hook
    ``pytest_ecrire_app_created(app)``: implement it in a ``conftest.py`` to
    adjust or observe every app ``make_app`` builds.

Why a temporary SQLite *file* rather than an in-memory database: an
in-memory SQLite database belongs to one connection, while the app opens
several (a pool, threads of a live server, the delivery worker), each of
which would see an empty database. Migrations run once per session on a
template file that each app gets a copy of, which is faster than migrating
per test and just as isolated.
"""
from __future__ import annotations

import datetime as dt

import email
import email.policy
import shutil
import socket
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from core import catalogue, outbox, plugin_state, schema
from core.app import create_app
from core.counters import Counts
from core.outbox import WorkerReport

__all__ = [
    "TEST_CONFIG",
    "AppFactory",
    "ReceivedEmail",
    "SectionClient",
    "SmtpSink",
    "install_outside_plugin",
    "load_demo_data",
    "read_counts",
    "run_worker_once",
    "section_client",
    "take_action",
]

#: Settings every test app starts from: no caches, so a test sees its writes.
TEST_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "PLUGIN_STATE_SECONDS": 0,
    "CASE_CACHE_SECONDS": 0,
    "COUNTER_CACHE_SECONDS": 0,
}

AppFactory = Callable[..., Flask]
PluginChoices = Mapping[str, Iterable[str] | Mapping[str, bool]]


# -- a pytest hook for the project's (or an author's) conftest ------------------


class _Hookspecs:
    @pytest.hookspec
    def pytest_ecrire_app_created(self, app: Flask) -> None:
        """Called with each app ``make_app`` builds, before the test gets it."""


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(_Hookspecs)


# -- apps on a fresh database ----------------------------------------------------


@pytest.fixture(scope="session")
def ecrire_database_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the migrations of every plugin installed when the
    session starts, made once and copied for each app. A plugin installed
    during a test (``outside_plugin``) has its migrations applied only by
    ``flask db upgrade``, as on a real portal."""
    path = tmp_path_factory.mktemp("ecrire-template") / "template.sqlite3"
    app = create_app({**TEST_CONFIG, "DATABASE_URL": f"sqlite:///{path}"})
    schema.upgrade(app.extensions["ecrire"])
    app.extensions["ecrire"].db.dispose()
    return path


def load_demo_data(app: Flask) -> None:
    """Create the defined sections (with their default plugins) and store the
    cases of the case sources, as ``flask demo load`` does."""
    portal = app.extensions["ecrire"]
    with portal.db.writing() as session:
        plugin_state.ensure_sections(session, portal.registry)
        catalogue.sync(session, portal.registry)
    portal.catalogue.invalidate()


def _choose_plugins(app: Flask, plugins: PluginChoices) -> None:
    portal = app.extensions["ecrire"]
    with portal.db.writing() as session:
        for section, names in plugins.items():
            choices = names if isinstance(names, Mapping) else dict.fromkeys(names, True)
            for name, enabled in choices.items():
                plugin_state.set_enabled(session, portal.registry, section, name, enabled)
    portal.forget_plugin_state()


@pytest.fixture
def make_app(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    ecrire_database_template: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[AppFactory]:
    """A factory of apps, each on a fresh copy of the migrated database (see
    the module docstring for its arguments)."""
    monkeypatch.setenv("ECRIRE_INSTANCE", str(tmp_path / "instance"))
    apps: list[Flask] = []

    def factory(*, plugins: PluginChoices | None = None, load_demo: bool = True, **config: Any) -> Flask:
        db_file = tmp_path / f"portal{len(apps)}.sqlite3"
        shutil.copy(ecrire_database_template, db_file)
        app = create_app({**TEST_CONFIG, "DATABASE_URL": f"sqlite:///{db_file}", **config})
        apps.append(app)
        if load_demo:
            load_demo_data(app)
        if plugins:
            _choose_plugins(app, plugins)
        request.node.ihook.pytest_ecrire_app_created(app=app)
        return app

    yield factory
    for app in apps:
        app.extensions["ecrire"].db.dispose()


# -- clients and actions -----------------------------------------------------------


class SectionClient(FlaskClient):
    """A test client whose requests carry one section's host name."""

    host = "localhost"
    extra_headers: dict[str, str] = {}

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        headers = dict(kwargs.pop("headers", None) or {})
        headers.setdefault("Host", self.host)
        for name, value in self.extra_headers.items():
            headers.setdefault(name, value)
        kwargs["headers"] = headers
        return super().open(*args, **kwargs)


def section_client(app: Flask, host: str, **headers: str) -> SectionClient:
    """A client for ``host`` (e.g. ``"fr.localhost"``); keyword headers use
    underscores for dashes: ``accept_language="pt-BR"``."""
    client = SectionClient(app, app.response_class, use_cookies=True)
    client.host = host
    client.extra_headers = {name.replace("_", "-"): value for name, value in headers.items()}
    return client


class _Forms(HTMLParser):
    """The hidden inputs of each form on a page, with the form's action URL,
    and the names of all its fields."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self.names: list[set[str]] = []
        self._hidden: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self._hidden = {}
            self.forms.append((attributes.get("action") or "", self._hidden))
            self.names.append(set())
        elif tag in ("input", "select", "textarea") and self._hidden is not None and attributes.get("name"):
            self.names[-1].add(attributes["name"] or "")
            if (attributes.get("type") or "").lower() == "hidden":
                self._hidden[attributes["name"] or ""] = attributes.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._hidden = None


def take_action(client: FlaskClient, case_id: str, action_name: str, /, **fields: Any) -> TestResponse:
    """Take an action as a supporter would: load the case page, find the form
    posting to ``/act/<action_name>``, send its hidden inputs (the CSRF token)
    with ``fields``. A form built with a prefix (``tally-csrf_token``) gets
    that prefix added to the field names; ``None`` leaves a field out.
    The supporter is an adult: the section's age question
    (``legal-<action>-of_age`` or ``-birth_year``) is answered so unless
    ``fields`` answer it (``legal-of_age=...`` is short for the action's own).
    Returns the response, not followed (a success is usually a 303)."""
    path = f"/cases/{case_id}"
    page = client.get(path)
    assert page.status_code == 200, f"{path} answered {page.status_code}"
    parser = _Forms()
    parser.feed(page.get_data(as_text=True))
    matching = [
        (url, hidden, names)
        for (url, hidden), names in zip(parser.forms, parser.names)
        if urlsplit(url).path.endswith(f"/act/{action_name}")
    ]
    if not matching:
        found = ", ".join(urlsplit(url).path.rsplit("/", 1)[-1] for url, _ in parser.forms) or "none"
        raise AssertionError(f"no form for the action {action_name!r} on {path} (forms found: {found})")
    url, hidden, names = matching[0]
    token = next((name for name in hidden if name.endswith("csrf_token")), None)
    assert token is not None, f"the {action_name!r} form on {path} has no CSRF token"
    prefix = token[: -len("csrf_token")]
    data: dict[str, Any] = {**adult_answers(names), **hidden}
    for name, value in fields.items():
        if name.startswith("legal-") and not name.startswith(f"legal-{action_name}-"):
            name = f"legal-{action_name}-" + name[len("legal-"):]
        key = name if name.startswith((prefix, "legal-")) else prefix + name
        if value is None:
            data.pop(key, None)
        else:
            data[key] = str(value) if isinstance(value, (int, float)) else value
    return client.post(url, data=data)


def adult_answers(names: set[str]) -> dict[str, str]:
    """An adult's answers to the age questions a form has
    (``legal-<action>-of_age`` or ``legal-<action>-birth_year``)."""
    answers = {}
    for name in names:
        if name.startswith("legal-") and name.endswith("-of_age"):
            answers[name] = "adult"
        elif name.startswith("legal-") and name.endswith("-birth_year"):
            answers[name] = str(dt.date.today().year - 30)
    return answers


def read_counts(app: Flask) -> Counts:
    """Every count as stored now (not the page views' cached snapshot):
    ``.world()``, ``.section(code)``, ``.case(code, case_id)``,
    ``.case_world(case_id)``, ``.by_action_type(code)``."""
    portal = app.extensions["ecrire"]
    with portal.db.session() as session:
        return portal.counts.get(session, fresh=True)


def run_worker_once(app: Flask) -> WorkerReport:
    """Deliver everything due now, as ``flask deliveries run --once`` does:
    rounds until one handles nothing (items to retry wait for their back-off)."""
    with app.app_context():  # channels read the app's settings, as under `flask deliveries run`
        return outbox.drain(app.extensions["ecrire"])


# -- a real SMTP server ------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedEmail:
    """One email as the SMTP sink received it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage


@dataclass
class SmtpSink:
    """An SMTP server on ``host``:``port`` that keeps every email it is sent.

    Use the ``smtp_sink`` fixture, or ``with SmtpSink() as sink:``. Messages
    are stored before the server answers the client, so they are in
    ``messages`` as soon as ``smtplib``'s ``send_message`` returns.
    """

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[ReceivedEmail] = field(default_factory=list)
    _controller: Any = field(default=None, repr=False)

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller  # a dev extra: imported when a sink is wanted

        with socket.socket() as probe:  # aiosmtpd 1.4 cannot listen on port 0 itself
            probe.bind((self.host, 0))
            self.port = probe.getsockname()[1]
        # A fixed server name: the default looks up the machine's FQDN, which can hang offline.
        self._controller = Controller(_Collector(self.messages), hostname=self.host, port=self.port, server_hostname="ecrire-smtp-sink")
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class _Collector:
    """aiosmtpd handler: parse each message and keep it."""

    def __init__(self, messages: list[ReceivedEmail]) -> None:
        self.messages = messages

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self.messages.append(ReceivedEmail(envelope.mail_from, tuple(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A started :class:`SmtpSink`, stopped after the test."""
    with SmtpSink() as sink:
        yield sink


# -- outside plugins -----------------------------------------------------------------


def install_outside_plugin(
    site: Path, dist_name: str, files: Mapping[str, str], entry_points: Mapping[str, str], version: str = "0.1.0"
) -> str:
    """Write a distribution into ``site`` (a folder on ``sys.path``) as pip
    would: ``files`` by relative path, and a ``.dist-info`` whose
    ``ecrire.plugins`` group holds ``entry_points`` (name -> module)."""
    for relative, content in files.items():
        path = site / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    info = site / f"{dist_name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n")
    lines = "\n".join(f"{name} = {target}" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[ecrire.plugins]\n{lines}\n")
    (info / "RECORD").write_text("")
    return str(site)


@pytest.fixture
def outside_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    """``install_outside_plugin`` into a temporary folder on ``sys.path``. The
    portal finds the plugin through ``importlib.metadata``, never by path;
    the folder and the modules imported from it are gone after the test."""
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    before = set(sys.modules)

    def install(dist_name: str, files: Mapping[str, str], entry_points: Mapping[str, str], version: str = "0.1.0") -> str:
        return install_outside_plugin(site, dist_name, files, entry_points, version)

    yield install
    for name in set(sys.modules) - before:
        module = sys.modules[name]
        places = [getattr(module, "__file__", None) or "", *(getattr(module, "__path__", None) or ())]
        if any(str(place).startswith(str(site)) for place in places):
            del sys.modules[name]
