"""Plugins as outside authors write them: found by entry point, enabled per
section, and a broken one named at start-up."""
from __future__ import annotations

import textwrap

import pytest

from core.app import ROOT, create_app
from core.plugins import PluginError
from tests.conftest import TEST_CONFIG, csrf_token, section_client, text_of

CALL_EMBASSY = textwrap.dedent(
    '''
    """Call the embassy: a phone number and a script; counted when the supporter confirms."""
    from flask_wtf import FlaskForm
    from wtforms import BooleanField
    from wtforms.validators import DataRequired

    from core.toolkit import ActionRecord, ActionType, hookimpl


    class CallForm(FlaskForm):
        called = BooleanField("I called", validators=[DataRequired("Tick the box once you have called.")])


    class CallEmbassy(ActionType):
        name = "call-embassy"
        label = "Call the embassy"
        form_class = CallForm
        template = "call_embassy/panel.html"
        once_per_supporter = False

        def record(self, form, context):
            return ActionRecord(supporter=None, payload={"called": True})


    @hookimpl
    def ecrire_action_types():
        return [CallEmbassy()]
    '''
)

CALL_PANEL = """
<h3>Call the embassy of {{ case.country }}</h3>
<p class="script">Say: please free {{ case.person }}.</p>
<form method="post" action="{{ submit_url }}">{{ form.csrf_token }}{{ form.called() }} {{ form.called.label }}
{% for e in form.called.errors %}<p class="field-error">{{ e }}</p>{% endfor %}
<button type="submit">Done</button></form>
"""


@pytest.fixture
def call_embassy(outside_plugin):
    outside_plugin(
        "ecrire-call-embassy",
        {"call_embassy/__init__.py": CALL_EMBASSY, "call_embassy/templates/call_embassy/panel.html": CALL_PANEL},
        {"call_embassy": "call_embassy"},
    )


def enable(app, section, plugin, on=True):
    result = app.test_cli_runner().invoke(args=["plugins", "enable" if on else "disable", section, plugin])
    assert result.exit_code == 0, result.output
    return result.output


def test_outside_plugin_adds_an_action_to_one_section_only(call_embassy, make_app):
    app = make_app()
    assert app.extensions["ecrire"].registry.plugins["call_embassy"].distribution == "ecrire-call-embassy"
    assert "enabled for be" in enable(app, "be", "call_embassy")
    be, fr = section_client(app, "be.localhost"), section_client(app, "fr.localhost")

    assert "Call the embassy of MG" in text_of(be.get("/cases/damisoa"))
    assert "Call the embassy" not in text_of(fr.get("/cases/damisoa"))
    assert fr.post("/cases/damisoa/act/call-embassy", data={"called": "y"}).status_code in (400, 404)

    token = csrf_token(be, "/cases/damisoa")
    refused = be.post("/cases/damisoa/act/call-embassy", data={"csrf_token": token})
    assert refused.status_code == 422
    assert "Tick the box once you have called." in text_of(refused)
    done = be.post("/cases/damisoa/act/call-embassy", data={"csrf_token": token, "called": "y"})
    assert done.status_code == 303
    thanks = be.get(done.headers["Location"])
    assert "Call the embassy" in text_of(thanks)
    counts = app.extensions["ecrire"].counts.get(app.extensions["ecrire"].db.session(), fresh=True)
    assert counts.by_action_type("be") == {"call-embassy": 1}
    assert counts.section("fr") == 0

    # Switching it off takes effect on the next request, without a restart.
    enable(app, "be", "call_embassy", on=False)
    assert "Call the embassy" not in text_of(be.get("/cases/damisoa"))


def test_plugins_list_shows_version_hooks_and_sections(call_embassy, make_app):
    app = make_app()
    enable(app, "fr", "call_embassy")
    output = app.test_cli_runner().invoke(args=["plugins", "list"]).output
    block = output[output.index("call_embassy 0.1.0") :].split("\n")[:4]
    assert "hooks: ecrire_action_types" in "\n".join(block)
    assert "on in: fr" in "\n".join(block)
    assert "section_be" in output and "on in: be" in output


def test_enabling_unknown_plugin_or_section_is_a_clear_error(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["plugins", "enable", "fr", "no_such_plugin"])
    assert result.exit_code != 0 and "unknown plugin 'no_such_plugin'" in result.output
    result = runner.invoke(args=["plugins", "enable", "xx", "petition"])
    assert result.exit_code != 0 and "unknown section 'xx'" in result.output
    result = runner.invoke(args=["plugins", "enable", "fr", "section_be"])
    assert result.exit_code != 0 and "defines a section" in result.output


def test_plugin_that_fails_to_import_stops_start_up_with_its_name(outside_plugin, tmp_path):
    outside_plugin("ecrire-broken", {"broken_plugin/__init__.py": "import no_such_module_here\n"}, {"broken": "broken_plugin"})
    with pytest.raises(PluginError) as error:
        create_app({**TEST_CONFIG, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    message = str(error.value)
    assert "Plugin 'broken'" in message and "no_such_module_here" in message and "ecrire-broken" in message


@pytest.mark.parametrize(
    "source",
    [
        "def ecrire_action_type():\n    return []\n",  # misspelt, undecorated
        "from core.toolkit import hookimpl\n\n@hookimpl\ndef ecrire_cases_of_the_year():\n    return []\n",
    ],
    ids=["undecorated-typo", "decorated-unknown"],
)
def test_plugin_with_unknown_hook_stops_start_up_with_its_name(outside_plugin, tmp_path, source):
    outside_plugin("ecrire-typo", {"typo_plugin/__init__.py": source}, {"typo": "typo_plugin"})
    with pytest.raises(PluginError) as error:
        create_app({**TEST_CONFIG, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert "Plugin 'typo'" in str(error.value)
    assert "unknown hook" in str(error.value)


def test_hook_implementation_with_unknown_argument_is_rejected(outside_plugin, tmp_path):
    source = "def ecrire_letter_routing(section, case, colour):\n    return None\n"
    outside_plugin("ecrire-args", {"args_plugin/__init__.py": source}, {"args": "args_plugin"})
    with pytest.raises(PluginError, match=r"(?s)Plugin 'args'.*colour"):
        create_app({**TEST_CONFIG, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


def test_broken_plugin_is_named_by_the_cli_too(outside_plugin, tmp_path, monkeypatch):
    """What an operator sees when `flask` (and so gunicorn) starts."""
    import subprocess
    import sys

    site = outside_plugin("ecrire-broken", {"broken_plugin/__init__.py": "raise RuntimeError('boom')\n"}, {"broken": "broken_plugin"})
    env = {"PYTHONPATH": site, "FLASK_APP": "wsgi", "ECRIRE_INSTANCE": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "flask", "plugins", "list"], env=env, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode != 0
    assert "Plugin 'broken'" in result.stderr and "RuntimeError: boom" in result.stderr
