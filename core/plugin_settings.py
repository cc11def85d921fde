"""Plugin settings a section admin stores, over the section definition's.

A plugin declares its settings as a WTForms form (``ecrire_settings_form``);
the values are stored per section in ``plugin_settings`` rows. What a plugin
reads is the definition's ``plugin_settings[plugin]`` with the stored values
on top, cached by the portal like the plugin state (``Portal.plugin_settings``).
Fields that are ``PasswordField`` are secrets: they are never sent back to a
browser, an empty submission keeps the stored value and only an explicit
"clear" removes it.
"""
from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app, g
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import Field, PasswordField, SubmitField
from wtforms.csrf.core import CSRFTokenField

from core.models import PluginSettingsRow
from core.plugins import PluginRegistry
from core.types import SectionDefinition

HOOK = "ecrire_settings_form"


def has_settings(registry: PluginRegistry, plugin: str) -> bool:
    info = registry.plugins.get(plugin)
    return info is not None and HOOK in info.hooks


def form_class(registry: PluginRegistry, plugin: str, section: SectionDefinition) -> type[FlaskForm] | None:
    """Ask only ``plugin`` for its settings form; its errors propagate so
    the caller can name it."""
    others = [registry.pm.get_plugin(name) for name in registry.plugins if name != plugin]
    caller = registry.pm.subset_hook_caller(HOOK, others)
    for _name, answer in registry.call_each(caller, isolate=False, section=section):
        if answer is None:
            return None
        if not (isinstance(answer, type) and issubclass(answer, FlaskForm)):
            raise TypeError(f"{HOOK} must return a FlaskForm subclass, not {answer!r}")
        return answer
    return None


def stored(session: Session, section_code: str, plugin: str) -> dict[str, Any]:
    row = session.get(PluginSettingsRow, (section_code, plugin))
    return dict(row.values or {}) if row is not None else {}


def stored_for_section(session: Session, section_code: str) -> dict[str, dict[str, Any]]:
    """Every plugin's stored values in a section, in one query (for the cache)."""
    rows = session.scalars(select(PluginSettingsRow).where(PluginSettingsRow.section_code == section_code))
    return {row.plugin_name: dict(row.values or {}) for row in rows}


def effective(section: SectionDefinition, plugin: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """What the plugin reads: the definition's settings, the stored ones on top."""
    return {**section.plugin_settings.get(plugin, {}), **values}


def section_settings(plugin: str, section: SectionDefinition | None = None) -> Mapping[str, Any]:
    """A plugin's effective settings in the request's section (or
    ``section``): for a plugin's own views and template fragments."""
    section = section or g.section
    return current_app.extensions["ecrire"].plugin_settings(section.code, plugin)


# -- the admin form ---------------------------------------------------------------


def setting_fields(form: FlaskForm) -> list[Field]:
    """The fields that hold settings (not the CSRF token, not buttons)."""
    return [field for field in form if not isinstance(field, (CSRFTokenField, SubmitField))]


def is_secret(field: Field) -> bool:
    return isinstance(field, PasswordField)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def initial_data(form_cls: type[FlaskForm], current: Mapping[str, Any]) -> dict[str, Any]:
    """What a GET shows: the effective values, never a secret's."""
    secrets = {name for name, unbound in _unbound_fields(form_cls) if issubclass(unbound.field_class, PasswordField)}
    return {key: value for key, value in current.items() if key not in secrets}


def _unbound_fields(form_cls: type[FlaskForm]) -> list[tuple[str, Any]]:
    return [(name, value) for name in dir(form_cls) if hasattr(value := getattr(form_cls, name, None), "field_class")]


@dataclass(frozen=True)
class Change:
    values: dict[str, Any]
    #: Names of the settings that changed (never their secret values).
    changed: tuple[str, ...]


def merge(form: FlaskForm, before: Mapping[str, Any], cleared: set[str]) -> Change:
    """The values to store after a valid submission: secrets submitted
    empty keep their stored value unless ``cleared`` names them."""
    values = dict(before)
    for field in setting_fields(form):
        name = field.name
        if is_secret(field):
            if name in cleared:
                values.pop(name, None)
            elif field.data:
                values[name] = field.data
        else:
            values[name] = _jsonable(field.data)
    changed = tuple(sorted(k for k in set(values) | set(before) if values.get(k, _MISSING) != before.get(k, _MISSING)))
    return Change(values, changed)


_MISSING = object()


def save(session: Session, section_code: str, plugin: str, values: dict[str, Any], by: str) -> None:
    row = session.get(PluginSettingsRow, (section_code, plugin))
    if row is None:
        session.add(PluginSettingsRow(section_code=section_code, plugin_name=plugin, values=values, updated_by=by))
    else:
        row.values, row.updated_by = values, by
