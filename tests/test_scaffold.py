"""``flask plugins new``: for each kind, the distribution it writes installs
with pip, shows up on a section's portal and passes its own test."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import setuptools
from flask import Flask

from core.app import ROOT
from core.toolkit import Delivered, DeliveryItem, Recipient
from tests.conftest import csrf_token, section_client, text_of


def _can_build_wheels() -> bool:
    """pip builds a wheel even for ``--target``: setuptools before 70.1
    needs the ``wheel`` package for that, and nothing may be downloaded."""
    version = tuple(int(part) for part in setuptools.__version__.split(".")[:2] if part.isdigit())
    return version >= (70, 1) or importlib.util.find_spec("wheel") is not None


@pytest.fixture
def pip_install(tmp_path, monkeypatch) -> Callable[[Path], Path]:
    """Install a distribution for real, into a folder put on ``sys.path``;
    forget its modules afterwards so the next test imports afresh."""
    if not _can_build_wheels():
        message = "the venv cannot build wheels offline: install `wheel` (or setuptools>=70.1) in it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    target = tmp_path / "site-packages"
    before = set(sys.modules)

    def install(plugin_dir: Path) -> Path:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
             "--disable-pip-version-check", "--target", str(target), str(plugin_dir)],
            check=True,
            capture_output=True,
        )
        monkeypatch.syspath_prepend(str(target))
        return target

    yield install
    for name in set(sys.modules) - before:
        del sys.modules[name]


def run(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def shows_action(app: Flask, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fr, be = section_client(app, "fr.localhost"), section_client(app, "be.localhost")
    url = f"/cases/damisoa/act/{name}"
    assert url not in fr.get("/cases/damisoa").get_data(as_text=True)
    run(app, "plugins", "enable", "fr", name)
    page = fr.get("/cases/damisoa")
    assert f'action="{url}"' in page.get_data(as_text=True) and "I did it" in text_of(page)
    assert url not in be.get("/cases/damisoa").get_data(as_text=True)
    done = fr.post(url, data={"csrf_token": csrf_token(fr, "/cases/damisoa"), "done": "y"})
    assert done.status_code == 303
    portal = app.extensions["ecrire"]
    assert portal.counts.get(portal.db.session(), fresh=True).by_action_type("fr").get(name) == 1


def shows_channel(app: Flask, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(app, "plugins", "enable", "fr", name)
    portal = app.extensions["ecrire"]
    assert name not in portal.channels_for("be")
    out = tmp_path / "deliveries.jsonl"
    monkeypatch.setenv(f"ECRIRE_{name.upper()}_FILE", str(out))
    item = DeliveryItem(id=7, key="fr-7", section_code="fr", case_id="damisoa", kind="letter",
                        recipient=Recipient(name="The Minister"), body={"text": "Free them."}, attempt=1)
    assert portal.channels_for("fr")[name].deliver(item) == Delivered(reference="fr-7")
    assert '"text": "Free them."' in out.read_text(encoding="utf-8")


def shows_source(app: Flask, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fr = section_client(app, "fr.localhost")
    case = f"/cases/{name.replace('_', '-')}-example"
    assert fr.get(case).status_code == 404
    run(app, "plugins", "enable", "fr", name)
    page = fr.get(case)
    assert page.status_code == 200 and "Alex Example, un cas d’exemple" in text_of(page)


def shows_section(app: Flask, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = section_client(app, f"{name.replace('_', '-')}.localhost")
    home = client.get("/")
    assert home.status_code == 200 and f"Write for Rights · {name.replace('_', ' ').capitalize()}" in text_of(home)
    assert "/cases/damisoa/act/petition" in client.get("/cases/damisoa").get_data(as_text=True)
    refused = app.test_cli_runner().invoke(args=["plugins", "enable", "fr", name])
    assert refused.exit_code != 0 and "defines a section" in refused.output


SHOWS = {"action": shows_action, "channel": shows_channel, "source": shows_source, "section": shows_section}


@pytest.mark.parametrize("kind", list(SHOWS))
def test_scaffold_installs_shows_up_and_passes_its_own_test(kind, make_app, pip_install, tmp_path, monkeypatch):
    name = f"new_{kind}"
    output = run(make_app(load_demo=False), "plugins", "new", name, "--kind", kind, "--directory", str(tmp_path))
    plugin_dir = tmp_path / f"ecrire-new-{kind}"
    assert str(plugin_dir) in output
    assert (plugin_dir / f"ecrire_new_{kind}" / "__init__.py").is_file()

    target = pip_install(plugin_dir)
    app = make_app()
    assert app.extensions["ecrire"].registry.plugins[name].distribution == f"ecrire-new-{kind}"
    SHOWS[kind](app, name, tmp_path, monkeypatch)

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(target), os.environ.get("PYTHONPATH")]))}
    test_file = plugin_dir / "tests" / f"test_{name}.py"
    generated = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        check=False, env=env, cwd=ROOT, capture_output=True, text=True,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr


def test_action_ships_its_template_and_french_catalog(make_app, tmp_path):
    run(make_app(load_demo=False), "plugins", "new", "call_embassy", "--kind", "action", "--directory", str(tmp_path))
    package = tmp_path / "ecrire-call-embassy" / "ecrire_call_embassy"
    assert "form.csrf_token" in (package / "templates" / "call_embassy" / "panel.html").read_text()
    assert 'msgstr "Je l’ai fait"' in (package / "translations" / "fr" / "LC_MESSAGES" / "messages.po").read_text()
    pyproject = (tmp_path / "ecrire-call-embassy" / "pyproject.toml").read_text()
    assert 'call_embassy = "ecrire_call_embassy"' in pyproject and "dependencies = []" in pyproject
    assert "pybabel compile -d ecrire_call_embassy/translations" in (tmp_path / "ecrire-call-embassy" / "README.md").read_text()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Call", "lowercase letters"),
        ("call-embassy", "lowercase letters"),
        ("2call", "starting with a letter"),
        ("x" * 33, "at most 32"),
        ("petition", "already installed"),
    ],
)
def test_bad_names_are_refused_with_a_reason(make_app, tmp_path, name, message):
    result = make_app(load_demo=False).test_cli_runner().invoke(
        args=["plugins", "new", name, "--kind", "action", "--directory", str(tmp_path)]
    )
    assert result.exit_code != 0 and message in result.output
    assert not any(tmp_path.glob("ecrire-*"))


def test_an_existing_folder_is_not_overwritten(make_app, tmp_path):
    folder = tmp_path / "ecrire-call-embassy"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    result = make_app(load_demo=False).test_cli_runner().invoke(
        args=["plugins", "new", "call_embassy", "--kind", "source", "--directory", str(tmp_path)]
    )
    assert result.exit_code != 0 and "already exists" in result.output
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
