"""Shared fixtures: a migrated database per test, an app per test, and a
client per section host."""
from __future__ import annotations

import os
import re
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from core import catalogue, plugin_state, schema
from core.app import create_app
from core.plugins import PluginRegistry

#: Hook names some plugin implementation answered during this test session.
CALLED_HOOKS: set[str] = set()

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "PLUGIN_STATE_SECONDS": 0,
    "CASE_CACHE_SECONDS": 0,
    "COUNTER_CACHE_SECONDS": 0,
}


def _monitor(app: Flask) -> None:
    def before(hook_name, hook_impls, kwargs):
        if hook_impls:
            CALLED_HOOKS.add(hook_name)

    app.extensions["ecrire"].registry.pm.add_hookcall_monitoring(before, lambda *a: None)


@pytest.fixture(scope="session", autouse=True)
def _record_direct_calls():
    """``call_each`` calls implementations one by one (bypassing pluggy's
    monitoring), also at start-up; record those hook names too."""
    original = PluginRegistry.call_each

    def call_each(self, caller, **kwargs):
        results = original(self, caller, **kwargs)
        if results:
            CALLED_HOOKS.add(caller.name)
        return results

    PluginRegistry.call_each = call_each
    yield
    PluginRegistry.call_each = original


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> Path:
    """A SQLite file with every migration applied, copied for each test."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "template.sqlite3"
    app = create_app({**TEST_CONFIG, "DATABASE_URL": f"sqlite:///{path}"})
    schema.upgrade(app.extensions["ecrire"])
    app.extensions["ecrire"].db.dispose()
    return path


AppFactory = Callable[..., Flask]


@pytest.fixture
def make_app(tmp_path, migrated_template, monkeypatch) -> Iterator[AppFactory]:
    """Build an app on a fresh copy of the migrated database, with the demo
    sections and cases loaded (as ``make run`` does)."""
    monkeypatch.setenv("ECRIRE_INSTANCE", str(tmp_path / "instance"))
    apps: list[Flask] = []

    def factory(load_demo: bool = True, **config) -> Flask:
        db_file = tmp_path / f"portal{len(apps)}.sqlite3"
        shutil.copy(migrated_template, db_file)
        app = create_app({**TEST_CONFIG, "DATABASE_URL": f"sqlite:///{db_file}", **config})
        if load_demo:
            load_demo_data(app)
        _monitor(app)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["ecrire"].db.dispose()


def load_demo_data(app: Flask) -> None:
    portal = app.extensions["ecrire"]
    with portal.db.writing() as session:
        plugin_state.ensure_sections(session, portal.registry)
        catalogue.sync(session, portal.registry)
    portal.catalogue.invalidate()


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


class SectionClient(FlaskClient):
    """A test client whose requests carry one section's host name."""

    host = "localhost"
    extra_headers: dict[str, str] = {}

    def open(self, *args, **kwargs):
        headers = dict(kwargs.pop("headers", None) or {})
        headers.setdefault("Host", self.host)
        for name, value in self.extra_headers.items():
            headers.setdefault(name, value)
        kwargs["headers"] = headers
        return super().open(*args, **kwargs)


def section_client(app: Flask, host: str, **headers: str) -> SectionClient:
    client = SectionClient(app, app.response_class, use_cookies=True)
    client.host = host
    client.extra_headers = {name.replace("_", "-"): value for name, value in headers.items()}
    return client


@pytest.fixture
def fr(app) -> FlaskClient:
    return section_client(app, "fr.localhost:5000")


@pytest.fixture
def be(app) -> FlaskClient:
    return section_client(app, "be.localhost:5000")


CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    match = CSRF.search(page.get_data(as_text=True))
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign(client: FlaskClient, case_id: str = "sonia-dahmani", **fields: str):
    """Sign a petition as a supporter would: load the case page, fill in the
    form, send it. Fields given replace the valid defaults (None removes)."""
    data = {"name": "Camille Martin", "email": "camille@example.org", "country": "FR", "consent": "y"}
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    data["csrf_token"] = csrf_token(client, f"/cases/{case_id}")
    return client.post(f"/cases/{case_id}/act/petition", data=data)


def text_of(response) -> str:
    """The page's visible text, whitespace folded (for assertions on wording)."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


# -- a real browser on a real server (test_browser.py, test_accessibility.py) ---

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium, driven by Playwright (never `playwright
    install`: it downloads browsers). Missing: skipped locally, fails on CI."""
    executable = shutil.which("chromium")
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing: `make test` installs it as root")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server(make_app):
    """The portal on a real HTTP server on 127.0.0.1 (a free port); Chromium
    resolves fr.localhost and be.localhost to it."""
    app = make_app()
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"localhost:{httpd.server_port}"
    httpd.shutdown()
    thread.join(5)


# -- the hook meta-test runs last and only on a full run ------------------------


def pytest_collection_modifyitems(session, config, items):
    meta = [item for item in items if item.name == "test_every_hook_is_exercised"]
    for item in meta:
        items.remove(item)
        items.append(item)
    config.ecrire_full_run = not (config.option.keyword or config.option.markexpr or config.option.lf) and all(
        Path(arg).resolve() == Path(config.rootpath, "tests").resolve() or arg == str(config.rootpath)
        for arg in (config.args or [str(Path(config.rootpath, "tests"))])
    )


@pytest.fixture
def outside_plugin(tmp_path, monkeypatch) -> Callable[..., str]:
    """Install a tiny distribution the way pip would: a package folder plus a
    ``.dist-info`` with an ``ecrire.plugins`` entry point, on ``sys.path``.
    The portal finds it through ``importlib.metadata``, never by path."""
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    before = set(sys.modules)

    def install(dist_name: str, files: dict[str, str], entry_points: dict[str, str], version: str = "0.1.0") -> str:
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

    yield install
    for name in set(sys.modules) - before:
        del sys.modules[name]


# -- screenshots of the supporter journey, listed at the end of the run ------------

SCREENSHOTS = Path(os.environ.get("ECRIRE_SCREENSHOTS", Path(__file__).resolve().parent.parent / "test-screenshots"))
SAVED_SCREENSHOTS: list[Path] = []


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG a person can look at; the run's summary lists them."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SAVED_SCREENSHOTS.append(path)
    return path


def pytest_terminal_summary(terminalreporter):
    if SAVED_SCREENSHOTS:
        terminalreporter.write_line(f"screenshots of the supporter pages ({len(SAVED_SCREENSHOTS)}): {SCREENSHOTS}")
