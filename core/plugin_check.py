"""``flask plugins check``: what a section's CI runs against its plugins.

For every installed plugin it lists the distribution, version and hooks,
then the problems: a plugin that fails to import, unknown (misspelt) or
deprecated hooks, missing or incomplete translation catalogs for the
languages of the sections where the plugin is on, and pending migrations.
The exit code is 1 when anything is wrong, 0 otherwise.

Two ways to run it:

``flask plugins check``
    Uses the app and its database: languages come from the sections where
    each plugin is enabled, and pending migrations are reported. The
    ``flask`` command builds the app first, so a plugin that stops start-up
    stops it too (with the plugin's name).

``python -m core.plugin_check [--database-url URL]``
    Needs no app: each entry point is loaded on its own, so one broken
    plugin is reported while the others are still checked. With a database
    (``--database-url`` or ``DATABASE_URL``) and no plugin failing to load,
    it then runs the same checks as ``flask plugins check``; without one,
    translations are checked against the languages of every installed
    section and migrations are not checked.

Deprecating a hook: whoever changes ``core/hookspecs.py`` adds the hook to
``DEPRECATED_HOOKS`` below (a release before removing it), so every plugin
still implementing it is named by this check.
"""
from __future__ import annotations

import argparse
import difflib
import inspect
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import click
import pluggy
from babel.messages.pofile import read_po
from flask import current_app
from flask.cli import with_appcontext

from core import hookspecs
from core.plugins import ENTRY_POINT_GROUP, HOOK_PREFIX, _Manager, _module_path
from core.types import SectionDefinition

#: Hook name -> what replaces it. Owners of ``core/hookspecs.py`` add an
#: entry when they deprecate a hook; the entry stays after the hook is
#: removed, so the check can say what to use instead.
DEPRECATED_HOOKS: dict[str, str] = {}

KNOWN_HOOKS = frozenset(name for name in vars(hookspecs) if name.startswith(HOOK_PREFIX))


@dataclass
class PluginReport:
    """What the check found about one installed plugin."""

    name: str
    distribution: str | None = None
    version: str | None = None
    hooks: tuple[str, ...] = ()
    problems: list[str] = field(default_factory=list)
    module: Any = None
    path: Path | None = None

    def lines(self) -> list[str]:
        origin = " ".join(filter(None, (self.distribution, self.version)))
        lines = [f"{self.name} ({origin})" if origin else self.name]
        lines.append(f"    hooks: {', '.join(self.hooks) or '-'}")
        lines.extend(f"    problem: {problem}" for problem in self.problems)
        if not self.problems:
            lines.append("    ok")
        return lines


@dataclass
class Report:
    """Everything found; ``ok`` is what the exit code reflects."""

    plugins: dict[str, PluginReport] = field(default_factory=dict)
    sections: dict[str, SectionDefinition] = field(default_factory=dict)
    #: Problems that belong to no plugin (the core's own migrations).
    core_problems: list[str] = field(default_factory=list)
    #: What was not checked and why (not problems).
    notes: list[str] = field(default_factory=list)

    @property
    def problem_count(self) -> int:
        return len(self.core_problems) + sum(len(p.problems) for p in self.plugins.values())

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def lines(self) -> list[str]:
        lines: list[str] = []
        for plugin in self.plugins.values():
            lines.extend(plugin.lines())
        if self.core_problems:
            lines.append("core")
            lines.extend(f"    problem: {problem}" for problem in self.core_problems)
        lines.extend(f"note: {note}" for note in self.notes)
        failing = [name for name, p in self.plugins.items() if p.problems] + (["core"] if self.core_problems else [])
        count = self.problem_count
        if self.ok:
            lines.append(f"{len(self.plugins)} plugins checked: all ok")
        else:
            plural = "" if count == 1 else "s"
            lines.append(f"{len(self.plugins)} plugins checked: {count} problem{plural} in {', '.join(failing)}")
        return lines


# -- loading, one entry point at a time --------------------------------------


def _load(ep: metadata.EntryPoint) -> PluginReport:
    dist = getattr(ep, "dist", None)
    report = PluginReport(ep.name, dist.name if dist else None, dist.version if dist else None)
    try:
        obj = ep.load()
    except Exception as exc:  # the report names the plugin and goes on with the others
        report.problems.append(f"failed to import {ep.value}: {type(exc).__name__}: {exc}")
        return report
    report.module, report.path = obj, _module_path(obj)
    pm = _Manager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    try:
        pm.register(obj, name=ep.name)
    except pluggy.PluginValidationError as exc:
        report.problems.append(f"invalid hook implementation: {exc}")
        return report
    report.hooks = tuple(sorted(caller.name for caller in pm.get_hookcallers(obj) or ()))
    for hook in report.hooks:
        report.problems.extend(_hook_problems(hook))
    return report


def _hook_problems(hook: str) -> list[str]:
    replacement = DEPRECATED_HOOKS.get(hook)
    if hook not in KNOWN_HOOKS:
        if replacement:
            return [f"removed hook {hook}: use {replacement}"]
        close = difflib.get_close_matches(hook, KNOWN_HOOKS, n=1)
        return [f"unknown hook {hook}" + (f" (did you mean {close[0]}?)" if close else "")]
    if replacement:
        return [f"deprecated hook {hook}: use {replacement}"]
    return []


def _sections_of(plugin: PluginReport) -> list[SectionDefinition]:
    """The section a loaded plugin defines, if any (a failure is a problem)."""
    if plugin.problems or "ecrire_section" not in plugin.hooks:
        return []
    try:
        definition = plugin.module.ecrire_section()
    except Exception as exc:
        plugin.problems.append(f"ecrire_section failed: {type(exc).__name__}: {exc}")
        return []
    if definition is None:
        return []
    if not isinstance(definition, SectionDefinition):
        plugin.problems.append("ecrire_section must return a SectionDefinition")
        return []
    return [definition]


def load_plugins(entry_points: Iterable[metadata.EntryPoint] | None = None) -> Report:
    """Load each entry point on its own, recording problems instead of stopping."""
    if entry_points is None:
        entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    report = Report()
    for ep in sorted(entry_points, key=lambda e: e.name):
        if ep.name in report.plugins:
            dist = getattr(ep, "dist", None)
            report.plugins[ep.name].problems.append(
                f"two installed distributions use this name (also {ep.value}" + (f" from {dist.name})" if dist else ")")
            )
            continue
        plugin = report.plugins[ep.name] = _load(ep)
        for definition in _sections_of(plugin):
            if definition.code in report.sections:
                plugin.problems.append(f"section code {definition.code!r} is already defined")
            else:
                report.sections[definition.code] = definition
    return report


# -- translations ---------------------------------------------------------------


def _shows_strings(plugin: PluginReport) -> bool:
    """A plugin with templates or its own translation domain shows strings."""
    assert plugin.path is not None
    if (plugin.path / "templates").is_dir():
        return True
    module = inspect.getmodule(plugin.module)
    if hasattr(module, "__path__"):
        files = list(plugin.path.rglob("*.py"))
    else:  # a single-module plugin: its folder is shared with other distributions
        files = [Path(module.__file__)] if module is not None and module.__file__ else []
    return any("PluginTranslations" in file.read_text(encoding="utf-8", errors="replace") for file in files)


def _catalog_problems(folder: Path, language: str) -> list[str]:
    po = folder / language / "LC_MESSAGES" / "messages.po"
    if not po.is_file():
        return [f"no {language!r} catalog (translations/{language}/LC_MESSAGES/messages.po)"]
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=None)
    if catalog.fuzzy:
        return [f"the {language!r} catalog is marked fuzzy as a whole (it would not be compiled)"]
    ids = {message.id for message in catalog if message.id}
    untranslated = [
        message.id
        for message in catalog
        if message.id
        and (message.fuzzy or not all(message.string if isinstance(message.string, tuple) else (message.string,)))
    ]
    template = folder / "messages.pot"
    if template.is_file():
        with template.open("rb") as handle:
            untranslated += [m.id for m in read_po(handle) if m.id and m.id not in ids]
    if not untranslated:
        return []
    first = untranslated[0][0] if isinstance(untranslated[0], tuple) else untranslated[0]
    count = len(untranslated)
    return [f"{count} message{'' if count == 1 else 's'} not translated (or fuzzy) in {language!r}, first: {first!r}"]


def check_translations(report: Report, languages: Mapping[str, Iterable[str]]) -> None:
    """Add problems for plugin -> languages it must speak."""
    for name, plugin in report.plugins.items():
        wanted = sorted(set(languages.get(name, ())))
        if plugin.path is None or not wanted:
            continue
        folder = plugin.path / "translations"
        if not folder.is_dir():
            if _shows_strings(plugin):
                plugin.problems.append(f"shows strings but has no translations/ folder (needed: {', '.join(wanted)})")
            continue
        for language in wanted:
            plugin.problems.extend(_catalog_problems(folder, language))


def _all_languages(report: Report) -> dict[str, set[str]]:
    every = {lang for section in report.sections.values() for lang in section.languages}
    return {name: every for name in report.plugins}


# -- the two entry points -------------------------------------------------------------


def check_installed(entry_points: Iterable[metadata.EntryPoint] | None = None) -> Report:
    """The checks that need no app or database (``python -m core.plugin_check``)."""
    report = load_plugins(entry_points)
    check_translations(report, _all_languages(report))
    report.notes.append("no database: translations checked against every installed section's languages")
    report.notes.append("no database: pending migrations not checked")
    return report


def check_portal(portal: Any, entry_points: Iterable[metadata.EntryPoint] | None = None) -> Report:
    """Every check, with languages from where each plugin is enabled and the
    pending migrations of the portal's database."""
    from sqlalchemy.exc import SQLAlchemyError

    from core import plugin_state, schema

    report = load_plugins(entry_points)
    try:
        behind = schema.pending(portal)
    except SQLAlchemyError as exc:
        report.notes.append(f"database not reachable ({type(exc).__name__}): migrations not checked")
        behind = {}
    for name, late in behind.items():
        if late:
            problem = "pending migrations (run `flask db upgrade`)"
            (report.plugins[name].problems if name in report.plugins else report.core_problems).append(problem)
    try:
        with portal.db.session() as session:
            rows = plugin_state.status(session, portal.registry)
    except SQLAlchemyError as exc:
        report.notes.append(
            f"where plugins are on could not be read ({type(exc).__name__}): "
            "translations checked against every installed section's languages"
        )
        check_translations(report, _all_languages(report))
        return report
    sections = portal.registry.sections
    languages = {
        row.name: {lang for code in row.enabled_in if code in sections for lang in sections[code].languages}
        for row in rows
    }
    check_translations(report, languages)
    return report


@click.command("check")
@with_appcontext
def check_command() -> None:
    """Check every installed plugin; exit 1 when something is wrong.

    Without an app (a plugin that stops start-up): python -m core.plugin_check
    """
    report = check_portal(current_app.extensions["ecrire"])
    for line in report.lines():
        click.echo(line)
    raise SystemExit(report.exit_code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.plugin_check", description="Check the installed Écrire plugins.")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="check enabled languages and pending migrations in this database (default: $DATABASE_URL)",
    )
    args = parser.parse_args(argv)
    report = check_installed()
    if args.database_url and all(p.module is not None for p in report.plugins.values()):
        report = _with_database(args.database_url) or report
    for line in report.lines():
        print(line)
    return report.exit_code


def _with_database(url: str) -> Report | None:
    """The full check through an app on ``url``; None when the app cannot start."""
    from core.app import create_app
    from core.plugins import PluginError

    try:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "plugin-check"})
    except PluginError as exc:
        print(f"note: the portal does not start ({exc}); checked without the database", file=sys.stderr)
        return None
    try:
        return check_portal(app.extensions["ecrire"])
    finally:
        app.extensions["ecrire"].db.dispose()


if __name__ == "__main__":
    # The module core.cli imports (and tests patch), not this __main__ copy.
    from core.plugin_check import main as _main

    raise SystemExit(_main())
