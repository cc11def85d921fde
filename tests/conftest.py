"""The project's own fixtures, on top of ``core.testing`` (the pytest plugin
shipped for plugin authors, which gives ``make_app``, ``smtp_sink``,
``outside_plugin`` and the helpers re-exported here): the demo app, a client
per demo section, petition helpers, hook-call monitoring, a real browser."""
from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from core.plugins import PluginRegistry
from core.testing import TEST_CONFIG, SectionClient, adult_answers, load_demo_data, section_client

__all__ = ["TEST_CONFIG", "SectionClient", "load_demo_data", "section_client"]  # re-exported for the test modules

#: Hook names some plugin implementation answered during this test session.
CALLED_HOOKS: set[str] = set()

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


def pytest_ecrire_app_created(app: Flask) -> None:
    """Every app a test makes reports which hooks its plugins answered."""
    _monitor(app)


@pytest.fixture
def app(make_app) -> Flask:
    """The demo portal: both demo sections with their default plugins and cases."""
    return make_app()


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
    form, send it. Fields given replace the valid defaults (None removes);
    the supporter is an adult unless ``legal-…`` fields say otherwise."""
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    data = {"name": "Camille Martin", "email": "camille@example.org", "country": "FR", "consent": "y",
            **adult_answers(set(re.findall(r'name="(legal-petition-[\w-]+)"', html)))}
    data.update({f"legal-petition-{k[len('legal-'):]}" if k.startswith("legal-") and not k.startswith("legal-petition-") else k: v
                 for k, v in fields.items()})
    data = {k: v for k, v in data.items() if v is not None}
    data["csrf_token"] = CSRF.search(html).group(1)
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
    config.ecrire_full_run = not (config.option.keyword or config.option.markexpr or getattr(config.option, "lf", False)) and all(
        Path(arg).resolve() == Path(config.rootpath, "tests").resolve() or arg == str(config.rootpath)
        for arg in (config.args or [str(Path(config.rootpath, "tests"))])
    )


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


def rows(app: Flask, model) -> list:
    """Every stored row of a model, oldest first (to check what was kept)."""
    from sqlalchemy import select

    with app.extensions["ecrire"].db.session() as session:
        return list(session.scalars(select(model).order_by(model.id)))


@pytest.fixture(scope="session")
def postgres():
    """One real PostgreSQL server for the session (each test makes its own
    database). Missing binaries: skipped locally, a failure on CI."""
    from tests.postgres_server import PostgresServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries are missing: `make test` installs them as root")
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    server = PostgresServer(bindir).start()
    yield server
    server.stop()
