"""Plugin discovery, validation and per-section hook callers.

Every plugin, built-in or outside, is found through the ``ecrire.plugins``
entry-point group, so the path outside authors take is the one we test. The
manager lives on the app (made in the factory), never in a module global.
"""
from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import GeneratorType, ModuleType
from typing import Any

import pluggy

from core import hookspecs
from core.types import SectionDefinition

ENTRY_POINT_GROUP = "ecrire.plugins"
HOOK_PREFIX = "ecrire_"

log = logging.getLogger(__name__)


class PluginError(RuntimeError):
    """A plugin cannot be used; the message names it and says why."""

    def __init__(self, plugin: str, cause: str) -> None:
        super().__init__(f"Plugin {plugin!r}: {cause}")
        self.plugin = plugin
        self.cause = cause


@dataclass(frozen=True)
class PluginInfo:
    """What the portal knows about one installed plugin."""

    name: str
    module: Any
    distribution: str | None
    version: str | None
    description: str
    #: Folder of the plugin's package (for templates/, static/, translations/).
    path: Path | None
    hooks: tuple[str, ...]

    def resource_dir(self, name: str) -> Path | None:
        if self.path is None:
            return None
        folder = self.path / name
        return folder if folder.is_dir() else None


class _Manager(pluggy.PluginManager):
    """Treats any ``ecrire_*`` function as a hook implementation, decorated
    or not, so a misspelt hook is caught by ``check_pending`` instead of
    being silently ignored."""

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith(HOOK_PREFIX):
            candidate = getattr(plugin, name, None)
            if callable(candidate) and not isinstance(candidate, type):
                opts = {
                    "wrapper": False,
                    "hookwrapper": False,
                    "optionalhook": False,
                    "tryfirst": False,
                    "trylast": False,
                    "specname": None,
                }
        return opts


def _module_path(obj: Any) -> Path | None:
    module = obj if isinstance(obj, ModuleType) else sys.modules.get(getattr(obj, "__module__", ""))
    file = getattr(module, "__file__", None)
    return Path(file).parent if file else None


def _describe(obj: Any) -> str:
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else ""


class PluginRegistry:
    """All installed plugins, the sections they define, and hook callers
    restricted to what one section has enabled."""

    def __init__(self, entry_points: Iterable[metadata.EntryPoint] | None = None) -> None:
        self.pm = _Manager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        if entry_points is None:
            entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
        for ep in sorted(entry_points, key=lambda e: e.name):
            self._load(ep)
        self.sections: dict[str, SectionDefinition] = {}
        self.section_plugin: dict[str, str] = {}
        self._collect_sections()
        #: Every section plugin installed, served here or not.
        self._all_section_plugins = set(self.section_plugin.values())
        self._subset_cache: dict[tuple[str, frozenset[str]], SectionHooks] = {}

    # -- loading -----------------------------------------------------------

    def _load(self, ep: metadata.EntryPoint) -> None:
        dist = getattr(ep, "dist", None)
        origin = f"{ep.value}" + (f" from {dist.name} {dist.version}" if dist else "")
        if ep.name in self.plugins:
            raise PluginError(ep.name, f"two installed distributions use this name ({origin})")
        try:
            obj = ep.load()
        except Exception as exc:  # any import-time failure names the plugin
            raise PluginError(ep.name, f"failed to import {origin}: {type(exc).__name__}: {exc}") from exc
        try:
            self.pm.register(obj, name=ep.name)
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(ep.name, f"invalid hook implementation ({origin}): {exc}") from exc
        hooks = tuple(sorted(impl_hook for impl_hook in self._hooks_of(obj)))
        self.plugins[ep.name] = PluginInfo(
            name=ep.name,
            module=obj,
            distribution=dist.name if dist else None,
            version=dist.version if dist else None,
            description=_describe(obj),
            path=_module_path(obj),
            hooks=hooks,
        )

    def _hooks_of(self, plugin: Any) -> Iterator[str]:
        for caller in self.pm.get_hookcallers(plugin) or ():
            yield caller.name

    def _collect_sections(self) -> None:
        for plugin_name, definition in self.call_each(self.pm.hook.ecrire_section, isolate=False):
            if definition is None:
                continue
            if not isinstance(definition, SectionDefinition):
                raise PluginError(plugin_name, "ecrire_section must return a SectionDefinition")
            if definition.code in self.sections:
                other = self.section_plugin[definition.code]
                raise PluginError(plugin_name, f"section code {definition.code!r} is already defined by {other!r}")
            if definition.default_language not in definition.languages:
                raise PluginError(plugin_name, "the default language must be one of the section's languages")
            self.sections[definition.code] = definition
            self.section_plugin[definition.code] = plugin_name

    # -- calling -----------------------------------------------------------

    def call_each(
        self, caller: pluggy.HookCaller, *, isolate: bool = True, **kwargs: Any
    ) -> list[tuple[str, Any]]:
        """Call every implementation separately, keeping who answered what.

        With ``isolate`` a plugin that raises is logged by name and skipped,
        so one broken plugin does not take a page down.
        """
        results: list[tuple[str, Any]] = []
        for impl in reversed(caller.get_hookimpls()):
            args = {name: kwargs[name] for name in impl.argnames}
            try:
                result = impl.function(**args)
                if isinstance(result, GeneratorType):
                    result = list(result)  # so errors while yielding are caught here too
                results.append((impl.plugin_name, result))
            except Exception:
                if not isolate:
                    raise
                log.exception("plugin %r failed in %s", impl.plugin_name, caller.name)
        return results

    def section_plugins(self) -> set[str]:
        """Every installed section plugin (also those of sections this
        deployment does not serve: they are never switched on as plugins)."""
        return set(self._all_section_plugins)

    def limit_sections(self, codes: Iterable[str] | None) -> None:
        """Serve only ``codes`` (``ECRIRE_SECTIONS``); None serves every
        installed section. An unknown code stops start-up."""
        if codes is None:
            return
        codes = list(codes)
        unknown = sorted(set(codes) - set(self.sections))
        if unknown:
            raise ValueError(
                f"ECRIRE_SECTIONS names unknown sections: {', '.join(unknown)} (installed: {', '.join(sorted(self.sections))})"
            )
        self.sections = {code: d for code, d in self.sections.items() if code in codes}
        self.section_plugin = {code: p for code, p in self.section_plugin.items() if code in codes}
        self._subset_cache.clear()

    def for_section(self, section_code: str, enabled: Iterable[str]) -> SectionHooks:
        """Hook callers that reach only the section's enabled plugins and its
        own section plugin."""
        active = frozenset(name for name in enabled if name in self.plugins)
        key = (section_code, active)
        hooks = self._subset_cache.get(key)
        if hooks is None:
            keep = active | {self.section_plugin[section_code]}
            removed = [self.pm.get_plugin(name) for name in self.plugins if name not in keep]
            hooks = SectionHooks(self, removed)
            if len(self._subset_cache) > 256:
                self._subset_cache.clear()
            self._subset_cache[key] = hooks
        return hooks


def parse_sections(value: Any) -> list[str] | None:
    """``ECRIRE_SECTIONS``: ``"fr,be"`` or ``["fr", "be"]``; empty or unset
    means every installed section."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [part for part in (p.strip() for p in value.split(",")) if part]
    codes = [str(code).strip() for code in value if str(code).strip()]
    return codes or None


class SectionHooks:
    """``hooks.ecrire_action_types()`` etc., limited to one section's plugins."""

    def __init__(self, registry: PluginRegistry, removed: list[Any]) -> None:
        self.registry = registry
        self._removed = removed
        self._callers: dict[str, pluggy.HookCaller] = {}
        self.cache: dict[str, Any] = {}

    def __getattr__(self, name: str) -> pluggy.HookCaller:
        if not name.startswith(HOOK_PREFIX):
            raise AttributeError(name)
        caller = self._callers.get(name)
        if caller is None:
            caller = self.registry.pm.subset_hook_caller(name, self._removed)
            self._callers[name] = caller
        return caller
