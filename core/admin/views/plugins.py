"""Admin pages: the installed plugins, switching them on or off for this
section, and their settings.

Only plugins this section can use are listed: the section plugins of other
sections are neither shown nor accepted in a form, and the section's own
section plugin is always on. Switching goes through
``plugin_state.switch`` (as ``flask plugins enable`` does), so it counts on
the next request without a restart.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import Field

from core import plugin_settings, plugin_state
from core.admin import bp
from core.admin.access import requires, scope
from core.admin.audit import record
from core.plugins import PluginInfo

log = logging.getLogger(__name__)


def _portal() -> Any:
    return current_app.extensions["ecrire"]


@dataclass(frozen=True)
class PluginRow:
    info: PluginInfo
    enabled: bool
    #: The section's own section plugin: always on, cannot be switched.
    own_section: bool
    has_settings: bool


def _visible(name: str) -> PluginInfo:
    """A plugin this section may see, or 404 (another section's section
    plugin looks exactly like one that is not installed)."""
    registry = _portal().registry
    info = registry.plugins.get(name)
    own = registry.section_plugin[g.section.code]
    if info is None or (name in registry.section_plugins() and name != own):
        abort(404)
    return info


def _rows() -> list[PluginRow]:
    portal = _portal()
    registry = portal.registry
    own = registry.section_plugin[g.section.code]
    others = registry.section_plugins() - {own}
    enabled = portal.enabled(g.section.code)
    return [
        PluginRow(
            info=info,
            enabled=info.name == own or info.name in enabled,
            own_section=info.name == own,
            has_settings=plugin_settings.has_settings(registry, info.name),
        )
        for info in sorted(registry.plugins.values(), key=lambda i: i.name)
        if info.name not in others
    ]


@bp.get("/plugins")
@requires("manage")
def plugins() -> Any:
    return render_template("admin/plugins.html", rows=_rows(), form=FlaskForm())


@bp.post("/plugins")
@requires("manage")
def plugins_toggle() -> Any:
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    name = request.form.get("plugin", "")
    wanted = request.form.get("enabled")
    if wanted not in {"1", "0"}:
        abort(400)
    info = _visible(name)
    if info.name == _portal().registry.section_plugin[g.section.code]:
        abort(400)  # the section's own plugin is always on
    enabled = wanted == "1"
    section_code = scope().section_code
    try:
        plugin_state.switch(
            _portal(), section_code, info.name, enabled,
            also=lambda session: record(session, "plugin.enable" if enabled else "plugin.disable", plugin=info.name),
        )
    except LookupError:
        abort(400)
    flash(_("%(plugin)s is now on for this section.", plugin=info.name) if enabled
          else _("%(plugin)s is now off for this section.", plugin=info.name))
    return redirect(url_for("admin.plugins"))


@dataclass(frozen=True)
class RenderedField:
    """A settings field rendered in the view, so a plugin's widget that
    raises is caught with the rest of its form."""

    id: str
    name: str
    label: Markup
    widget: Markup
    errors: list[str]
    description: str
    secret: bool
    #: A secret with a stored value (shown as "set", never the value).
    is_set: bool
    checkbox: bool


def _render(fields: list[Field], secrets_set: set[str]) -> list[RenderedField]:
    rendered = []
    for field in fields:
        errors = [str(e) for e in field.errors]
        attrs: dict[str, Any] = {"aria-describedby": f"{field.id}-error", "aria-invalid": "true"} if errors else {}
        if plugin_settings.is_secret(field):
            attrs["autocomplete"] = "new-password"
            attrs["value"] = ""
        rendered.append(
            RenderedField(
                id=field.id, name=field.name, label=Markup(field.label()), widget=Markup(field(**attrs)),
                errors=errors, description=str(field.description or ""), secret=plugin_settings.is_secret(field),
                is_set=field.name in secrets_set, checkbox=field.type == "BooleanField",
            )
        )
    return rendered


@bp.route("/plugins/<name>/settings", methods=["GET", "POST"])
@requires("manage")
def plugin_settings_page(name: str) -> Any:
    info = _visible(name)
    portal = _portal()
    if not plugin_settings.has_settings(portal.registry, info.name):
        abort(404)
    section_code = scope().section_code
    with portal.db.session() as session:
        before = plugin_settings.stored(session, section_code, info.name)
    current = plugin_settings.effective(g.section, info.name, before)
    try:
        form_cls = plugin_settings.form_class(portal.registry, info.name, g.section)
        if form_cls is None:
            return render_template("admin/plugin_settings.html", info=info, form=None, broken=False, fields=[])
        form = form_cls(data=plugin_settings.initial_data(form_cls, current))
        fields = plugin_settings.setting_fields(form)
        secrets_set = {f.name for f in fields if plugin_settings.is_secret(f) and current.get(f.name)}
        status, change, rendered = 200, None, []
        if request.method == "POST":
            if form.validate_on_submit():
                cleared = {f.name for f in fields if plugin_settings.is_secret(f) and request.form.get(f"clear-{f.name}")}
                change = plugin_settings.merge(form, before, cleared)
            else:
                status = 400
        if change is None:
            rendered = _render(fields, secrets_set)
    except Exception:  # the plugin's form, not the admin, is broken: say which
        log.exception("plugin %r failed in its settings form", info.name)
        return render_template("admin/plugin_settings.html", info=info, form=None, broken=True, fields=[])
    if change is not None:
        _save(info.name, section_code, change)
        return redirect(url_for("admin.plugin_settings_page", name=info.name))
    return render_template("admin/plugin_settings.html", info=info, form=form, broken=False, fields=rendered), status


def _save(plugin: str, section_code: str, change: plugin_settings.Change) -> None:
    portal = _portal()
    if not change.changed:
        flash(_("Nothing changed."))
        return
    with portal.db.writing() as session:
        plugin_settings.save(session, section_code, plugin, change.values, current_user.account.email)
        # The names only: a secret's value never reaches the log.
        record(session, "plugin.settings", plugin=plugin, changed=list(change.changed))
    portal.forget_plugin_state()
    flash(_("The settings of %(plugin)s are saved.", plugin=plugin))
