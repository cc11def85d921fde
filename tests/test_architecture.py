"""House rules that keep the core free of sections and concrete actions."""
from __future__ import annotations

import ast
from pathlib import Path

import core
from core import toolkit

ROOT = Path(core.__file__).resolve().parent.parent
CORE_FILES = [p for p in (ROOT / "core").rglob("*.py") if "migrations" not in p.parts]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_core_imports_nothing_from_plugins_or_sections():
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in imported_modules(path) if m.split(".")[0] in {"plugins", "sections"})
        for path in CORE_FILES
    }
    assert CORE_FILES and not {k: v for k, v in offenders.items() if v}


def test_plugins_and_sections_import_only_the_toolkit_from_core():
    offenders = {}
    for folder in ("plugins", "sections"):
        for path in (ROOT / folder).rglob("*.py"):
            bad = sorted(m for m in imported_modules(path) if m.split(".")[0] == "core" and m != "core.toolkit")
            if bad:
                offenders[str(path.relative_to(ROOT))] = bad
    assert not offenders


def test_toolkit_exports_what_it_promises():
    for name in toolkit.__all__:
        assert hasattr(toolkit, name), name
