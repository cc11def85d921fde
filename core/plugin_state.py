"""Which plugins are switched on for which section, stored in the database."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Section, SectionPlugin
from core.plugins import PluginError, PluginRegistry


def ensure_sections(session: Session, registry: PluginRegistry) -> list[str]:
    """Create the rows of sections defined by installed plugins and switch on
    their default plugins, including defaults added since; a plugin an admin
    already switched on or off keeps that choice."""
    known = set(session.scalars(select(Section.code)))
    decided = {(row[0], row[1]) for row in session.execute(select(SectionPlugin.section_code, SectionPlugin.plugin_name))}
    created = []
    for code, definition in sorted(registry.sections.items()):
        if code not in known:
            session.add(Section(code=code))
            session.flush()
            created.append(code)
        for plugin in definition.default_plugins:
            if plugin not in registry.plugins:
                raise PluginError(registry.section_plugin[code], f"default plugin {plugin!r} is not installed")
            if (code, plugin) not in decided:
                session.add(SectionPlugin(section_code=code, plugin_name=plugin, enabled=True))
    return created


def enabled_plugins(session: Session, section_code: str) -> set[str]:
    return set(
        session.scalars(
            select(SectionPlugin.plugin_name).where(SectionPlugin.section_code == section_code, SectionPlugin.enabled.is_(True))
        )
    )


def set_enabled(session: Session, registry: PluginRegistry, section_code: str, plugin: str, enabled: bool) -> None:
    if section_code not in registry.sections:
        raise LookupError(f"unknown section {section_code!r} (known: {', '.join(sorted(registry.sections))})")
    if plugin not in registry.plugins:
        raise LookupError(f"unknown plugin {plugin!r} (installed: {', '.join(sorted(registry.plugins))})")
    if plugin in registry.section_plugins():
        raise LookupError(f"{plugin!r} defines a section: it is always on for its own section and never for another")
    if session.get(Section, section_code) is None:
        session.add(Section(code=section_code))
        session.flush()
    row = session.get(SectionPlugin, (section_code, plugin))
    if row is None:
        session.add(SectionPlugin(section_code=section_code, plugin_name=plugin, enabled=enabled))
    else:
        row.enabled = enabled


def switch(portal: Any, section_code: str, plugin: str, enabled: bool, *, also: Callable[[Session], None] | None = None) -> None:
    """Switch a plugin on or off for a section so that the next request of
    this process sees it (other processes within ``PLUGIN_STATE_SECONDS``).
    ``also`` runs in the same transaction (an audit entry). Raises
    LookupError for a section or plugin that cannot be switched."""
    with portal.db.writing() as session:
        set_enabled(session, portal.registry, section_code, plugin, enabled)
        if also is not None:
            also(session)
    portal.forget_plugin_state()


@dataclass(frozen=True)
class PluginStatus:
    name: str
    version: str | None
    description: str
    hooks: tuple[str, ...]
    #: Section codes where it is on.
    enabled_in: tuple[str, ...]


def status(session: Session, registry: PluginRegistry) -> list[PluginStatus]:
    on: dict[str, list[str]] = {}
    for row in session.scalars(select(SectionPlugin).where(SectionPlugin.enabled.is_(True))):
        on.setdefault(row.plugin_name, []).append(row.section_code)
    for code, plugin in registry.section_plugin.items():
        on.setdefault(plugin, []).append(code)
    return [
        PluginStatus(info.name, info.version, info.description, info.hooks, tuple(sorted(on.get(info.name, ()))))
        for info in sorted(registry.plugins.values(), key=lambda i: i.name)
    ]
