"""``flask plugins check`` and ``python -m core.plugin_check``: what a
section's CI runs to learn whether its plugins still fit the portal."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core import plugin_check
from tests.test_setup import PLUGIN_MIGRATION

ROOT = Path(__file__).resolve().parent.parent

ACTION = (
    '"""Call the embassy."""\n'
    "from core.toolkit import PluginTranslations, hookimpl\n\n"
    "i18n = PluginTranslations(__file__)\n\n\n"
    "@hookimpl\ndef ecrire_action_types():\n    return []\n"
)

CATALOG = """msgid ""
msgstr ""
"Language: {language}\\n"
"Content-Type: text/plain; charset=utf-8\\n"

{fuzzy}msgid "Call the embassy"
msgstr "{text}"
"""


def block(output: str, plugin: str) -> str:
    """The lines the check printed about one plugin."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split(" ")[0] == plugin)
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("    ")), len(lines))
    return "\n".join(lines[start:end])


def check(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["plugins", "check"])
    return result.exit_code, result.output


def test_clean_install_passes(app):
    code, output = check(app)
    assert code == 0, output
    petition = block(output, "petition")
    assert "petition (ecrire " in petition and "hooks: ecrire_action_types" in petition and "    ok" in petition
    assert "hooks: ecrire_letter_routing, ecrire_section" in block(output, "section_be")
    installed = len(app.extensions["ecrire"].registry.plugins)
    assert output.splitlines()[-1] == f"{installed} plugins checked: all ok"


def test_misspelt_hook_is_named_while_the_others_are_still_checked(outside_plugin):
    outside_plugin("ecrire-typo", {"typo_plugin/__init__.py": "def ecrire_action_typs():\n    return []\n"}, {"typo": "typo_plugin"})
    report = plugin_check.check_installed()
    assert report.exit_code == 1
    assert report.plugins["typo"].problems == ["unknown hook ecrire_action_typs (did you mean ecrire_action_types?)"]
    assert report.plugins["typo"].distribution == "ecrire-typo"
    assert report.plugins["petition"].problems == [] and report.plugins["petition"].hooks == ("ecrire_action_types", "ecrire_settings_form")


def test_python_m_runs_without_the_app(outside_plugin):
    site = outside_plugin(
        "ecrire-typo",
        {
            "typo_plugin/__init__.py": "def ecrire_action_typs():\n    return []\n",
            "broken_plugin/__init__.py": "import no_such_module_here\n",
        },
        {"typo": "typo_plugin", "broken": "broken_plugin"},
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PYTHONPATH"] = site
    result = subprocess.run(
        [sys.executable, "-m", "core.plugin_check"], check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "unknown hook ecrire_action_typs" in block(result.stdout, "typo")
    assert "failed to import broken_plugin: ModuleNotFoundError" in block(result.stdout, "broken")
    assert "ok" in block(result.stdout, "petition")
    installed = len(plugin_check.check_installed().plugins)  # the two above included
    assert result.stdout.splitlines()[-1] == f"{installed} plugins checked: 2 problems in broken, typo"


def test_missing_dutch_catalog_is_reported_where_the_plugin_is_on_in_dutch(outside_plugin, make_app):
    outside_plugin(
        "ecrire-embassy",
        {
            "embassy/__init__.py": ACTION,
            "embassy/translations/fr/LC_MESSAGES/messages.po": CATALOG.format(language="fr", fuzzy="", text="Appeler"),
        },
        {"embassy": "embassy"},
    )
    app = make_app()
    runner = app.test_cli_runner()
    code, output = check(app)
    assert code == 0, output  # on nowhere yet
    runner.invoke(args=["plugins", "enable", "fr", "embassy"])
    code, output = check(app)
    assert code == 0, output  # French is there
    runner.invoke(args=["plugins", "enable", "be", "embassy"])
    code, output = check(app)
    assert code == 1
    assert "problem: no 'nl' catalog" in block(output, "embassy")
    assert "ok" in block(output, "petition")
    assert output.splitlines()[-1].endswith("1 problem in embassy")


def test_fuzzy_and_missing_folder_are_problems(outside_plugin):
    outside_plugin(
        "ecrire-embassy",
        {
            "embassy/__init__.py": ACTION,
            "embassy/translations/fr/LC_MESSAGES/messages.po": CATALOG.format(language="fr", fuzzy="#, fuzzy\n", text="Appeler"),
            "embassy/translations/nl/LC_MESSAGES/messages.po": CATALOG.format(language="nl", fuzzy="", text=""),
            "bare/__init__.py": ACTION,
            "solo.py": ACTION,  # a single module: only its own file says whether it shows strings
            "quiet.py": "def ecrire_cases():\n    return []\n",
        },
        {"embassy": "embassy", "bare": "bare", "solo": "solo", "quiet": "quiet"},
    )
    report = plugin_check.check_installed()  # no database: every section's languages (fr, be, ch, ca_fr)
    assert report.plugins["embassy"].problems == [
        "no 'de' catalog (translations/de/LC_MESSAGES/messages.po)",
        "1 message not translated (or fuzzy) in 'fr', first: 'Call the embassy'",
        "no 'it' catalog (translations/it/LC_MESSAGES/messages.po)",
        "1 message not translated (or fuzzy) in 'nl', first: 'Call the embassy'",
    ]
    missing = ["shows strings but has no translations/ folder (needed: de, fr, it, nl)"]
    assert report.plugins["bare"].problems == missing and report.plugins["solo"].problems == missing
    assert report.plugins["quiet"].problems == []


def test_pending_migrations_until_db_upgrade(outside_plugin, make_app):
    outside_plugin(
        "ecrire-printers",
        {
            "printers/__init__.py": '"""Postcard printers."""\n',
            "printers/migrations/env.py": "from core.toolkit import run_migrations\n\nrun_migrations()\n",
            "printers/migrations/script.py.mako": "",
            "printers/migrations/versions/pc0001_printers.py": PLUGIN_MIGRATION,
        },
        {"printers": "printers"},
    )
    app = make_app(load_demo=False)
    code, output = check(app)
    assert code == 1
    assert "problem: pending migrations (run `flask db upgrade`)" in block(output, "printers")
    assert "core" not in output.splitlines()  # the core's are applied
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    code, output = check(app)
    assert code == 0, output


def test_deprecated_and_removed_hooks(outside_plugin, monkeypatch):
    monkeypatch.setitem(plugin_check.DEPRECATED_HOOKS, "ecrire_template_fragment", "ecrire_fragments")
    monkeypatch.setitem(plugin_check.DEPRECATED_HOOKS, "ecrire_old_cases", "ecrire_cases")
    outside_plugin("ecrire-old", {"old_plugin/__init__.py": "def ecrire_old_cases():\n    return []\n"}, {"old": "old_plugin"})
    report = plugin_check.check_installed()
    assert report.exit_code == 1
    assert "deprecated hook ecrire_template_fragment: use ecrire_fragments" in report.plugins["appeal_letter"].problems
    assert report.plugins["old"].problems == ["removed hook ecrire_old_cases: use ecrire_cases"]
    assert report.plugins["petition"].problems == []
