"""Sections as tenants: host name -> section -> enabled plugins -> language.

One :class:`Portal` per app holds the plugin registry, the database and the
per-process caches; requests ask it which section they belong to and get
hook callers that reach only that section's plugins.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from core import plugin_settings, plugin_state
from core.catalogue import Catalogue
from core.counters import CountCache
from core.database import Database
from core.plugins import PluginError, PluginRegistry, SectionHooks
from core.web.panel_cache import PanelCache
from core.types import ActionType, DeliveryChannel, SectionDefinition


_EMPTY: Mapping[str, Any] = MappingProxyType({})


def normalise_host(host: str) -> str:
    """``FR.localhost:5000`` -> ``fr.localhost`` (IPv6 literals kept whole)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


class Portal:
    def __init__(
        self,
        registry: PluginRegistry,
        db: Database,
        host_overrides: Mapping[str, Sequence[str]],
        plugin_state_seconds: float,
        case_cache_seconds: float,
        counter_cache_seconds: float,
    ) -> None:
        self.registry = registry
        self.db = db
        self.catalogue = Catalogue(case_cache_seconds)
        self.counts = CountCache(counter_cache_seconds)
        self.panels = PanelCache(case_cache_seconds)
        self._state_seconds = plugin_state_seconds
        self._enabled: dict[str, tuple[float, frozenset[str]]] = {}
        self._settings: dict[str, tuple[float, dict[str, Mapping[str, Any]]]] = {}
        self._lock = threading.Lock()
        self.hosts = self._host_map(host_overrides)

    def _host_map(self, overrides: Mapping[str, Sequence[str]]) -> dict[str, str]:
        unknown = set(overrides) - set(self.registry.sections)
        if unknown:
            raise ValueError(f"SECTION_HOSTS names unknown sections: {', '.join(sorted(unknown))}")
        hosts: dict[str, str] = {}
        for code, definition in self.registry.sections.items():
            for host in overrides.get(code, definition.hosts):
                host = normalise_host(host)
                if host in hosts:
                    raise PluginError(self.registry.section_plugin[code], f"host {host!r} already belongs to section {hosts[host]!r}")
                hosts[host] = code
        return hosts

    def section_for_host(self, host: str) -> SectionDefinition | None:
        code = self.hosts.get(normalise_host(host))
        return self.registry.sections[code] if code else None

    def enabled(self, section_code: str) -> frozenset[str]:
        """The plugins on for a section, re-read at most every
        ``PLUGIN_STATE_SECONDS`` so an admin's change needs no restart."""
        now = time.monotonic()
        cached = self._enabled.get(section_code)
        if cached and now - cached[0] <= self._state_seconds:
            return cached[1]
        with self.db.session() as session:
            names = frozenset(plugin_state.enabled_plugins(session, section_code))
        with self._lock:
            self._enabled[section_code] = (now, names)
        return names

    def forget_plugin_state(self) -> None:
        with self._lock:
            self._enabled.clear()
            self._settings.clear()
        # Blank panels were rendered with the old settings (a petition
        # field made optional): drop them too.
        self.panels = PanelCache(self.panels.max_age)

    def plugin_settings(self, section_code: str, plugin: str) -> Mapping[str, Any]:
        """A plugin's effective settings in a section: the definition's
        ``plugin_settings`` with what an admin stored on top. Re-read like
        the plugin state (``forget_plugin_state`` after a save)."""
        now = time.monotonic()
        cached = self._settings.get(section_code)
        if cached is None or now - cached[0] > self._state_seconds:
            with self.db.session() as session:
                stored = plugin_settings.stored_for_section(session, section_code)
            definition = self.registry.sections[section_code]
            names = set(stored) | set(definition.plugin_settings)
            values = {name: MappingProxyType(plugin_settings.effective(definition, name, stored.get(name, {}))) for name in names}
            cached = (now, values)
            with self._lock:
                self._settings[section_code] = cached
        return cached[1].get(plugin, _EMPTY)

    def hooks(self, section_code: str) -> SectionHooks:
        return self.registry.for_section(section_code, self.enabled(section_code))

    def case_sources(self, section_code: str) -> set[str]:
        """Enabled plugins of a section that provide cases or stories."""
        return {
            name
            for name in self.enabled(section_code)
            if {"ecrire_cases", "ecrire_success_stories"} & set(self.registry.plugins[name].hooks)
        }

    def _named(self, hooks: SectionHooks, hook: str, kind: type) -> dict:
        cached = hooks.cache.get(hook)
        if cached is not None:
            return cached
        found: dict[str, object] = {}
        owner: dict[str, str] = {}
        for plugin, items in self.registry.call_each(getattr(hooks, hook)):
            for item in items or ():
                if not isinstance(item, kind):
                    raise PluginError(plugin, f"{hook} returned {type(item).__name__}, expected {kind.__name__}")
                if item.name in found:
                    raise PluginError(plugin, f"{kind.__name__} {item.name!r} is also provided by {owner[item.name]!r}")
                found[item.name], owner[item.name] = item, plugin
        ordered = dict(sorted(found.items(), key=lambda kv: (getattr(kv[1], "priority", 0), kv[0])))
        hooks.cache[hook] = ordered
        hooks.cache[hook + ":owners"] = owner
        return ordered

    def action_types(self, section_code: str) -> dict[str, ActionType]:
        return self._named(self.hooks(section_code), "ecrire_action_types", ActionType)

    def _owner_settings(self, section_code: str, hook: str, name: str) -> Mapping[str, Any]:
        """The section's settings for the plugin that provides ``name``
        through ``hook`` (the owners are recorded by ``_named``)."""
        owner = self.hooks(section_code).cache.get(hook + ":owners", {}).get(name)
        return self.plugin_settings(section_code, owner) if owner else _EMPTY

    def settings_for(self, section_code: str, action_name: str) -> Mapping[str, Any]:
        """The section's settings for the plugin providing an action type."""
        self.action_types(section_code)
        return self._owner_settings(section_code, "ecrire_action_types", action_name)

    def channel_settings(self, section_code: str, channel_name: str) -> Mapping[str, Any]:
        """The section's settings for the plugin providing a channel."""
        self.channels_for(section_code)
        return self._owner_settings(section_code, "ecrire_delivery_channels", channel_name)

    def channels_for(self, section_code: str) -> dict[str, DeliveryChannel]:
        return self._named(self.hooks(section_code), "ecrire_delivery_channels", DeliveryChannel)
