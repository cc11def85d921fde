"""An Écrire portal for this plugin's tests: a migrated SQLite database, the
demo sections and cases, and the plugin switched on for the French section
with a phone number for Tunisia, all through the operators' commands."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import ecrire_call_embassy
import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs() -> None:
    """Compile the plugin's .po files (the .mo files are not committed), as
    ``pybabel compile -d ecrire_call_embassy/translations`` would."""
    for po in Path(ecrire_call_embassy.__file__).parent.glob("translations/*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source:
                catalog = read_po(source)
            with mo.open("wb") as target:
                write_mo(target, catalog)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    import sections.fr
    from core.app import create_app

    monkeypatch.setenv("ECRIRE_INSTANCE", str(tmp_path / "instance"))
    # The French section's settings for this plugin, as its section plugin would give them.
    section = dataclasses.replace(sections.fr.SECTION, plugin_settings={"call_embassy": {"phones": {"TN": "+33 1 00 00 00 00"}}})
    monkeypatch.setattr(sections.fr, "SECTION", section)
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "PLUGIN_STATE_SECONDS": 0,
        "CASE_CACHE_SECONDS": 0,
        "COUNTER_CACHE_SECONDS": 0,
    })
    cli = app.test_cli_runner()
    for command in (["db", "upgrade"], ["demo", "load"], ["plugins", "enable", "fr", "call_embassy"]):
        result = cli.invoke(args=command)
        assert result.exit_code == 0, result.output
    yield app
    app.extensions["ecrire"].db.dispose()


class SectionClient(FlaskClient):
    """A test client whose requests carry one section's host name."""

    host = "localhost"

    def open(self, *args, **kwargs):
        kwargs["headers"] = {"Host": self.host, **dict(kwargs.get("headers") or {})}
        return super().open(*args, **kwargs)


@pytest.fixture
def new_client(app: Flask) -> Callable[[str], SectionClient]:
    """A new browser (its own cookies) on a section's host."""

    def make(host: str) -> SectionClient:
        client = SectionClient(app, app.response_class, use_cookies=True)
        client.host = host
        return client

    return make


@pytest.fixture
def fr(new_client) -> SectionClient:
    return new_client("fr.localhost")


@pytest.fixture
def be(new_client) -> SectionClient:
    return new_client("be.localhost")
