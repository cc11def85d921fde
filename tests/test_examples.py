"""The example outside plugins in ``examples/``, installed for real: pip
builds each distribution into a temporary folder, the portal finds it by its
entry point, it works end to end, and its own test suite passes."""
from __future__ import annotations

import dataclasses
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from pypdf import PdfReader

from core.toolkit import Delivered, DeliveryItem, Recipient
from tests.conftest import csrf_token, section_client, text_of

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PHONE = "+33 1 00 00 00 00"


def _can_build_without_isolation() -> bool:
    """pip's ``--no-build-isolation`` needs setuptools able to build a wheel
    in this environment (setuptools 70.1+, or the ``wheel`` package)."""
    try:
        version = tuple(int(part) for part in importlib.metadata.version("setuptools").split(".")[:2])
    except importlib.metadata.PackageNotFoundError:
        return False
    has_wheel = importlib.util.find_spec("wheel") is not None
    return version >= (70, 1) or (version >= (68, 0) and has_wheel)


def _compile_catalogs(package: Path) -> None:
    """The .mo files are not committed: build them as ``pybabel compile`` would."""
    for po in package.glob("translations/*/LC_MESSAGES/messages.po"):
        with po.open("rb") as source:
            catalog = read_po(source)
        with po.with_suffix(".mo").open("wb") as target:
            write_mo(target, catalog)


def pip_install(example: str, tmp: Path) -> Path:
    """Copy the example (so the build leaves nothing in the repository),
    compile its catalogs and ``pip install`` it into a new target folder."""
    source = tmp / "source" / example
    shutil.copytree(EXAMPLES / example, source,
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "*.mo", "tests"))
    for package in source.glob("ecrire_*"):
        _compile_catalogs(package)
    target = tmp / "site-packages"
    isolation = ["--no-build-isolation"] if _can_build_without_isolation() else []
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--disable-pip-version-check", *isolation,
         "--target", str(target), str(source)],
        check=True,
    )
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Callable[[str], Path]:
    """Each example installed once per module: ``installed("call_embassy")``."""
    targets: dict[str, Path] = {}

    def install(example: str) -> Path:
        if example not in targets:
            targets[example] = pip_install(example, tmp_path_factory.mktemp(example))
        return targets[example]

    return install


@pytest.fixture
def on_path(installed, monkeypatch) -> Iterator[Callable[[str], Path]]:
    """Put an installed example on ``sys.path``; forget its modules afterwards."""
    before = set(sys.modules)

    def add(example: str) -> Path:
        target = installed(example)
        monkeypatch.syspath_prepend(str(target))
        return target

    yield add
    for name in set(sys.modules) - before:
        if name.startswith("ecrire_"):
            del sys.modules[name]


def run_own_tests(example: str, target: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"examples/{example}/tests"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\d+ passed", result.stdout)


# -- call the embassy -----------------------------------------------------------


@pytest.fixture
def embassy_app(make_app, on_path, monkeypatch):
    import sections.fr

    on_path("call_embassy")
    section = dataclasses.replace(sections.fr.SECTION, plugin_settings={"call_embassy": {"phones": {"TN": PHONE}}})
    monkeypatch.setattr(sections.fr, "SECTION", section)
    app = make_app()
    result = app.test_cli_runner().invoke(args=["plugins", "enable", "fr", "call_embassy"])
    assert result.exit_code == 0, result.output
    return app


def test_call_embassy_is_found_by_its_entry_point(embassy_app):
    info = embassy_app.extensions["ecrire"].registry.plugins["call_embassy"]
    assert info.distribution == "ecrire-call-embassy" and info.version == "1.0.0"
    assert info.hooks == ("ecrire_action_types",)
    assert "site-packages" in str(info.path)  # the installed copy, not examples/


def test_call_embassy_works_on_the_french_portal_only(embassy_app):
    fr = section_client(embassy_app, "fr.localhost")
    page = fr.get("/cases/sonia-dahmani")
    assert "Appeler l’ambassade" in text_of(page)
    assert f'href="tel:+33100000000">{PHONE}</a>' in page.get_data(as_text=True)
    assert "Bonjour, je vous appelle au sujet de Sonia Dahmani." in text_of(page)

    token = csrf_token(fr, "/cases/sonia-dahmani")
    response = fr.post("/cases/sonia-dahmani/act/call_embassy",
                       data={"call_embassy-csrf_token": token, "call_embassy-called": "y"})
    assert response.status_code == 303
    portal = embassy_app.extensions["ecrire"]
    with portal.db.session() as session:
        assert portal.counts.get(session, fresh=True).by_action_type("fr") == {"call_embassy": 1}

    be = section_client(embassy_app, "be.localhost")
    assert "act-call_embassy" not in be.get("/cases/sonia-dahmani").get_data(as_text=True)


def test_call_embassy_passes_its_own_tests(installed):
    run_own_tests("call_embassy", installed("call_embassy"))


# -- the postcard printer ----------------------------------------------------------


def test_postcard_printer_prints_a_card_through_the_portal(make_app, on_path, tmp_path, monkeypatch):
    on_path("postcard_printer")
    monkeypatch.setenv("ECRIRE_POSTCARD_DIR", str(tmp_path / "cards"))
    app = make_app()
    portal = app.extensions["ecrire"]
    assert portal.registry.plugins["postcard_printer"].distribution == "ecrire-postcard-printer"
    assert "postcard-printer" not in portal.channels_for("fr")  # not switched on yet

    result = app.test_cli_runner().invoke(args=["plugins", "enable", "fr", "postcard_printer"])
    assert result.exit_code == 0, result.output
    channel = portal.channels_for("fr")["postcard-printer"]
    card = DeliveryItem(id=1, key="fr:1:card", section_code="fr", case_id="sonia-dahmani", kind="card",
                        recipient=Recipient(name="Sonia Dahmani"), attempt=1,
                        body={"message": "Tenez bon, Sonia.", "first_name": "Camille", "town": "Lyon", "language": "fr"})
    with app.app_context():
        delivered = channel.deliver(card)
    assert delivered == Delivered(reference=str(tmp_path / "cards" / "fr_1_card.pdf"))
    text = PdfReader(delivered.reference).pages[0].extract_text()
    assert "Tenez bon, Sonia." in text and "Camille, Lyon" in text


def test_postcard_printer_passes_its_own_tests(installed):
    run_own_tests("postcard_printer", installed("postcard_printer"))
