"""The application factory: configuration, database, plugins, web layer.

Everything stateful is made here and hung on the app, so two apps (two
tests) never share plugins or caches.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, abort, g, render_template, request
from flask_babel import Babel
from flask_wtf.csrf import CSRFError, CSRFProtect
from jinja2 import ChoiceLoader, FileSystemLoader

from core.database import Database
from core.plugins import PluginError, PluginRegistry, parse_sections
from core.tenancy import Portal

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


def _parse_hosts(value: str) -> dict[str, list[str]]:
    """``ECRIRE_SECTION_HOSTS="fr=a.example,b.example;be=c.example"``."""
    hosts: dict[str, list[str]] = {}
    for part in filter(None, (p.strip() for p in value.split(";"))):
        code, _, names = part.partition("=")
        hosts[code.strip()] = [n.strip() for n in names.split(",") if n.strip()]
    return hosts


def _env_value(value: str) -> Any:
    if value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            pass
    return value


def _secret_key(instance: Path) -> str:
    """A key kept in the instance folder, so sessions survive a restart."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def load_config(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    instance = Path(app.instance_path)
    env = os.environ
    app.config.update(
        DATABASE_URL=env.get("DATABASE_URL") or f"sqlite:///{instance / 'ecrire.sqlite3'}",
        SECTION_HOSTS=_parse_hosts(env.get("ECRIRE_SECTION_HOSTS", "")),
        PLUGIN_STATE_SECONDS=float(env.get("ECRIRE_PLUGIN_STATE_SECONDS", "2")),
        CASE_CACHE_SECONDS=float(env.get("ECRIRE_CASE_CACHE_SECONDS", "30")),
        COUNTER_CACHE_SECONDS=float(env.get("ECRIRE_COUNTER_CACHE_SECONDS", "2")),
        FALLBACK_LANGUAGE=env.get("ECRIRE_FALLBACK_LANGUAGE", "en"),
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=env.get("ECRIRE_SECURE_COOKIES", "1") != "0",
        # A supporter may keep a case page open for hours before acting.
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "translations"),
    )
    # Plugins' own settings (ECRIRE_SMTP_HOST, ECRIRE_WEBHOOKS, ...) reach
    # them through the app config; JSON values (objects, lists) are decoded.
    for key, value in env.items():
        if key.startswith("ECRIRE_") and key not in app.config:
            app.config[key] = _env_value(value)
    if overrides:
        app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = env.get("SECRET_KEY") or _secret_key(instance)


def _template_loader(app: Flask, registry: PluginRegistry) -> ChoiceLoader:
    """Core templates first, then each plugin's ``templates/`` folder (a
    plugin keeps its templates in a sub-folder named after itself)."""
    loaders = [app.jinja_loader]
    for info in sorted(registry.plugins.values(), key=lambda i: i.name):
        folder = info.resource_dir("templates")
        if folder is not None:
            loaders.append(FileSystemLoader(str(folder)))
    return ChoiceLoader(loaders)


def create_app(
    config: Mapping[str, Any] | None = None,
    *,
    entry_points: Iterable[metadata.EntryPoint] | None = None,
) -> Flask:
    app = Flask(
        "core",
        instance_path=os.environ.get("ECRIRE_INSTANCE", str(ROOT / "instance")),
        template_folder=str(ROOT / "core" / "web" / "templates"),
        static_folder=str(ROOT / "core" / "web" / "static"),
    )
    load_config(app, config)

    registry = PluginRegistry(entry_points)
    registry.limit_sections(parse_sections(app.config.get("ECRIRE_SECTIONS")))
    app.config.setdefault("ECRIRE_DEPLOYMENT", "local")
    db = Database(app.config["DATABASE_URL"])
    app.extensions["ecrire"] = Portal(
        registry,
        db,
        app.config["SECTION_HOSTS"],
        app.config["PLUGIN_STATE_SECONDS"],
        app.config["CASE_CACHE_SECONDS"],
        app.config["COUNTER_CACHE_SECONDS"],
    )
    app.jinja_loader = _template_loader(app, registry)  # type: ignore[assignment]

    from core.web.portal import bp as portal_bp
    from core.web.portal import select_section

    app.before_request(select_section)
    Babel(app, locale_selector=lambda: getattr(g, "language", None) or app.config["FALLBACK_LANGUAGE"])
    CSRFProtect(app)

    app.register_blueprint(portal_bp)
    from core.web.rights import bp as rights_bp

    app.register_blueprint(rights_bp)
    from core.web.confirmations import bp as confirmations_bp

    app.register_blueprint(confirmations_bp)
    from core.admin import init_app as init_admin

    init_admin(app)
    _register_plugin_blueprints(app, registry)
    _register_errors(app)
    from core.api import init_app as init_api

    init_api(app, registry)
    _register_headers(app)

    @app.get("/healthz", endpoint="health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    from core.cli import register as register_cli

    register_cli(app)
    return app


def _register_plugin_blueprints(app: Flask, registry: PluginRegistry) -> None:
    """Mount each plugin's blueprints under /x/<plugin>/, answering only in
    sections where the plugin is enabled."""
    owners: dict[str, str] = {}
    for plugin, blueprints in registry.call_each(registry.pm.hook.ecrire_blueprints, isolate=False):
        for blueprint in blueprints or ():
            if not isinstance(blueprint, Blueprint):
                raise PluginError(plugin, f"ecrire_blueprints returned {type(blueprint).__name__}, expected a Blueprint")
            if blueprint.name in owners or blueprint.name == "portal":
                raise PluginError(plugin, f"blueprint name {blueprint.name!r} is already taken")
            app.register_blueprint(blueprint, url_prefix=f"/x/{plugin}")
            owners[blueprint.name] = plugin
    if not owners:
        return

    @app.before_request
    def only_where_enabled() -> None:
        plugin = owners.get((request.blueprint or "").split(".")[0])
        if plugin and plugin not in app.extensions["ecrire"].enabled(g.section.code):
            abort(404)


def _register_errors(app: Flask) -> None:
    from core.web.portal import page_context

    def _with_section() -> dict[str, Any]:
        return page_context() if getattr(g, "section", None) is not None else {}

    @app.errorhandler(404)
    def not_found(_error: Exception):
        if getattr(g, "section", None) is None:
            languages = [lang for lang in (request.accept_languages.best_match(_known_languages(app)),) if lang]
            g.language = languages[0] if languages else app.config["FALLBACK_LANGUAGE"]
            return render_template("errors/unknown_host.html", host=request.host, portals=_portals(app), language=g.language), 404
        return render_template("errors/not_found.html", **_with_section()), 404

    @app.errorhandler(403)
    def forbidden(_error: Exception):
        return render_template("admin/forbidden.html", **_with_section()), 403

    @app.errorhandler(CSRFError)
    def csrf_failed(_error: CSRFError):
        return render_template("errors/csrf.html", **_with_section()), 400

    @app.errorhandler(500)
    def server_error(_error: Exception):
        return render_template("errors/server_error.html", **_with_section()), 500


def _portals(app: Flask) -> list[tuple[str, str]]:
    """(name, address) of each section served here, for the unknown-host page."""
    portal = app.extensions["ecrire"]
    port = request.host.rsplit(":", 1)[1] if ":" in request.host and not request.host.endswith("]") else ""
    found = {}
    for host, code in portal.hosts.items():
        if code not in found:
            section = portal.registry.sections[code]
            found[code] = (section.display_name(section.default_language), f"{request.scheme}://{host}{':' + port if port else ''}/")
    return [found[code] for code in sorted(found)]


def _known_languages(app: Flask) -> list[str]:
    portal = app.extensions["ecrire"]
    return sorted({lang for s in portal.registry.sections.values() for lang in s.languages})


def _register_headers(app: Flask) -> None:
    csp = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        vary = response.headers.get("Vary", "")
        if "Host" not in vary:
            response.headers["Vary"] = ", ".join(filter(None, [vary, "Host"]))
        return response
