"""Meta-tests: every hook is documented and exercised (they fail when a new
hook spec lacks either). Named to run last; the exercised check runs only
on a full run of the suite."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from core import hookspecs
from tests.conftest import CALLED_HOOKS

ROOT = Path(hookspecs.__file__).resolve().parent.parent
HOOKS = sorted(name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("ecrire_"))
DOC = (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")


def test_hook_list_is_not_empty():
    assert len(HOOKS) >= 7


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_an_example(hook):
    match = re.search(rf"^## {hook}\n(.*?)(?=^## |\Z)", DOC, re.S | re.M)
    assert match, f"docs/hooks.md has no '## {hook}' section"
    assert "```python" in match.group(1), f"the '{hook}' section has no example"
    assert f"def {hook}(" in match.group(1), f"the '{hook}' example does not implement it"


def test_every_hook_spec_has_a_docstring():
    for hook in HOOKS:
        assert (getattr(hookspecs, hook).__doc__ or "").strip(), hook


def test_doc_examples_run_against_the_toolkit():
    """The examples are code an author will paste: they must at least run."""
    blocks = re.findall(r"```python\n(.*?)```", DOC, re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "docs/hooks.md", "exec"), {"__name__": "doc_example"})


def test_every_hook_is_exercised(request):
    if not getattr(request.config, "ecrire_full_run", False):
        pytest.skip("only meaningful on a full run of the suite")
    assert set(HOOKS) <= CALLED_HOOKS, f"hooks no test exercised: {sorted(set(HOOKS) - CALLED_HOOKS)}"
