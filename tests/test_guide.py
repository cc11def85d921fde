"""The plugin guide cannot drift: every block marked ``# file:`` is still in
that file, every Python block compiles and the runnable ones register as a
plugin against the real hook specs, every hook it names exists and every
toolkit name it imports is stable API."""
from __future__ import annotations

import ast
import re
import types
from pathlib import Path

import pluggy
import pytest

import core.hookspecs
import core.toolkit
from core.toolkit import ActionType, DeliveryChannel, SectionDefinition

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "plugins.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.DOTALL | re.MULTILINE)
MARKER = re.compile(r"^(?:# file: (\S+)|\{# file: (\S+) #\})\n")


def blocks(language: str | None = None) -> list[tuple[str, str | None, str]]:
    """(language, marked file or None, code without the marker)."""
    found = []
    for lang, code in FENCE.findall(GUIDE.read_text(encoding="utf-8")):
        marker = MARKER.match(code)
        path = (marker.group(1) or marker.group(2)) if marker else None
        body = code[marker.end():] if marker else code
        if language is None or lang == language:
            found.append((lang, path, body))
    return found


def as_plugin(name: str, code: str, file: Path) -> types.ModuleType:
    """Run code as a module and register it the way the portal does."""
    module = types.ModuleType(name)
    module.__file__ = str(file)
    exec(compile(code, str(file), "exec"), module.__dict__)  # noqa: S102 (the guide's own code)
    manager = pluggy.PluginManager(core.hookspecs.PROJECT)
    manager.add_hookspecs(core.hookspecs)
    manager.register(module, name=name)
    manager.check_pending()
    return module


def test_the_guide_has_marked_blocks_for_both_examples():
    marked = {path for _, path, _ in blocks() if path}
    assert "examples/call_embassy/ecrire_call_embassy/__init__.py" in marked
    assert "examples/call_embassy/ecrire_call_embassy/templates/call_embassy/panel.html" in marked
    assert "examples/call_embassy/pyproject.toml" in marked
    assert "examples/postcard_printer/ecrire_postcard_printer/__init__.py" in marked


@pytest.mark.parametrize("path,code", [(p, c) for _, p, c in blocks() if p], ids=lambda v: str(v)[:60])
def test_a_marked_block_is_a_copy_of_its_file(path: str, code: str):
    source = (ROOT / path).read_text(encoding="utf-8")
    assert code.strip() in source, f"docs/plugins.md has drifted from {path}: copy the file's current text"


def test_every_python_block_compiles():
    for _, path, code in blocks("python"):
        compile(code, path or "docs/plugins.md", "exec")


def test_the_call_embassy_blocks_make_the_whole_plugin():
    """Together, the guide's blocks are the example's __init__.py: run them
    as one module and the action registers and behaves."""
    path = "examples/call_embassy/ecrire_call_embassy/__init__.py"
    parts = [code for _, p, code in blocks("python") if p == path]
    joined = "\n\n".join(parts)
    source = (ROOT / path).read_text(encoding="utf-8")
    assert re.sub(r"\s+", "", joined) == re.sub(r"\s+", "", source), "the guide leaves out part of the plugin"
    module = as_plugin("call_embassy", joined, ROOT / path)
    [action] = module.ecrire_action_types()
    assert isinstance(action, ActionType) and action.name == "call_embassy"
    assert action.translations.directory == (ROOT / path).parent / "translations"


def test_the_unmarked_python_blocks_run_and_register():
    unmarked = [code for _, path, code in blocks("python") if path is None]
    assert len(unmarked) >= 3
    for number, code in enumerate(unmarked):
        module = as_plugin(f"guide_{number}", code, ROOT / "docs" / f"guide_{number}.py")
        if hasattr(module, "ecrire_section"):
            assert isinstance(module.ecrire_section(), SectionDefinition)


def test_the_postcard_printer_block_registers_as_a_channel():
    """The guide shows an excerpt (checked above to be in the file): run
    the file it comes from, so the excerpt is known to work in it."""
    path = ROOT / "examples/postcard_printer/ecrire_postcard_printer/__init__.py"
    assert any(p == "examples/postcard_printer/ecrire_postcard_printer/__init__.py" for _, p, _ in blocks("python"))
    module = as_plugin("postcard_printer", path.read_text(encoding="utf-8"), path)
    [channel] = module.ecrire_delivery_channels()
    assert isinstance(channel, DeliveryChannel) and channel.name == "postcard-printer"


def test_every_hook_named_in_the_guide_exists():
    text = GUIDE.read_text(encoding="utf-8")
    packages = {path.name for path in (ROOT / "examples").glob("*/ecrire_*")}
    named = set(re.findall(r"\becrire_[a-z_]+\b", text)) - packages
    hooks = {name for name in dir(core.hookspecs) if name.startswith("ecrire_")}
    assert named, "the guide names no hook"
    assert named <= hooks, f"not hooks: {sorted(named - hooks)}"


def test_the_guide_imports_only_stable_names_from_the_toolkit():
    for _, path, code in blocks("python"):
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("core"):
                if path and "/tests/" in path:
                    continue  # tests may build the app; plugins may not
                assert node.module == "core.toolkit", f"{path or 'guide'} imports {node.module}"
                assert {alias.name for alias in node.names} <= set(core.toolkit.__all__)
