"""The JSON API, versioned under ``/api/v1``: cases, counts, the OpenAPI
document, and the endpoints plugins add (``ecrire_api_blueprints``, e.g.
the federation's feed and reports).

Everything here is public and anonymous: cases, texts and numbers, never
anything about a supporter. Views are CSRF-exempt (nothing here uses the
session) and every error under ``/api/`` is answered in JSON, never HTML.

The helpers at the end (``portal_database``, ``served_sections``,
``local_counts``, ``published_catalogue`` ...) are re-exported by
``core.toolkit`` for plugins that talk to other deployments.
"""
from __future__ import annotations

import json
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, abort, current_app, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import HTTPException, InternalServerError

from core.models import Case, Story
from core.plugins import PluginError, PluginRegistry

PREFIX = "/api/v1"
OPENAPI_FILE = Path(__file__).resolve().parent / "openapi.json"

bp = Blueprint("api", __name__, url_prefix=PREFIX)


def _portal():
    return current_app.extensions["ecrire"]


def is_api_request() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


# -- documents ------------------------------------------------------------------


def _case_document(case_id: str, views: dict[str, Any]) -> dict[str, Any]:
    """One case with its texts in each of the section's languages it has."""
    first = next(iter(views.values()))
    return {
        "id": case_id,
        "person": first.person,
        "country": first.country,
        "year": first.year,
        "goal": first.goal,
        "colour": first.colour,
        "hashtag": first.hashtag,
        "texts": {
            language: {"title": v.text.title, "summary": v.text.summary, "story": v.text.story, "ask": v.text.ask}
            for language, v in views.items()
        },
    }


def _section_cases() -> dict[str, dict[str, Any]]:
    """The section's open cases: {id: {language: CaseView}}, in page order,
    keeping only texts that exist in each language."""
    portal = _portal()
    section = g.section
    sources = portal.case_sources(section.code)
    found: dict[str, dict[str, Any]] = {}
    with portal.db.session() as db_session:
        for language in section.languages:
            for view in portal.catalogue.cases(db_session, section, sources, language):
                slot = found.setdefault(view.id, {})
                if view.language == language:
                    slot[language] = view
        # A case whose only text is in another language still appears (in it).
        for language in section.languages[:1]:
            for view in portal.catalogue.cases(db_session, section, sources, language):
                if not found[view.id]:
                    found[view.id][view.language] = view
    return found


# -- views ------------------------------------------------------------------------


@bp.get("/cases")
def cases():
    documents = [_case_document(cid, views) for cid, views in _section_cases().items()]
    return jsonify({"section": g.section.code, "languages": list(g.section.languages), "cases": documents})


@bp.get("/cases/<case_id>")
def case(case_id: str):
    views = _section_cases().get(case_id)
    if not views:
        abort(404)
    return jsonify(_case_document(case_id, views))


@bp.get("/counts")
def counts():
    from core.web.portal import world_counts

    portal = _portal()
    code = g.section.code
    with portal.db.session() as db_session:
        snapshot = portal.counts.get(db_session)
    world = world_counts(snapshot)
    by_case: dict[str, dict[str, int]] = defaultdict(dict)
    for (section, case_id, action_type), n in snapshot.by_key.items():
        if section == code:
            by_case[case_id][action_type] = n
    open_cases = list(_section_cases())
    body = {
        "section": code,
        "section_total": snapshot.section(code),
        "world_total": world.total,
        "world_updated_at": world.updated_at,
        "cases": {
            cid: {
                "section": snapshot.case(code, cid),
                "world": world.case(cid),
                "by_action_type": dict(sorted(by_case.get(cid, {}).items())),
            }
            for cid in open_cases
        },
    }
    response = jsonify(body)
    response.cache_control.public = True
    response.cache_control.max_age = 15
    return response


@lru_cache(maxsize=1)
def _openapi_text() -> str:
    return OPENAPI_FILE.read_text(encoding="utf-8")


@bp.get("/openapi.json")
def openapi():
    response = current_app.response_class(_openapi_text(), mimetype="application/json")
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


# -- errors ------------------------------------------------------------------------


def _json_error(error: HTTPException):
    code = error.code or 500
    messages = {
        400: _("The request is not valid."),
        401: _("The request is not signed or its signature is wrong."),
        403: _("This is not allowed."),
        404: _("Nothing here."),
        405: _("This method is not allowed here."),
        409: _("This was already received."),
        500: _("Something went wrong on our side."),
    }
    description = getattr(error, "api_message", None) or messages.get(code) or error.name
    response = jsonify({"error": {"status": code, "message": description}})
    response.status_code = code
    if code == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _install_json_errors(app: Flask) -> None:
    """Wrap the portal's HTML error handlers: under /api/ they answer JSON."""
    for code, handlers in list(app.error_handler_spec[None].items()):
        for exc_class, handler in list(handlers.items()):

            def wrapped(error, _handler=handler, _code=code):
                if is_api_request():
                    if not isinstance(error, HTTPException):
                        error = InternalServerError()
                    elif _code and error.code != _code:
                        error.code = _code
                    return _json_error(error)
                return _handler(error)

            handlers[exc_class] = wrapped

    @app.errorhandler(HTTPException)
    def any_http_error(error: HTTPException):
        if is_api_request():
            return _json_error(error)
        return error.get_response()


# -- set-up --------------------------------------------------------------------------


def init_app(app: Flask, registry: PluginRegistry) -> None:
    csrf = app.extensions["csrf"]
    app.register_blueprint(bp)
    csrf.exempt(bp)
    owners: dict[str, str] = {}
    for plugin, blueprints in registry.call_each(registry.pm.hook.ecrire_api_blueprints, isolate=False):
        for blueprint in blueprints or ():
            if not isinstance(blueprint, Blueprint):
                raise PluginError(plugin, f"ecrire_api_blueprints returned {type(blueprint).__name__}, expected a Blueprint")
            if blueprint.name in owners or blueprint.name in app.blueprints:
                raise PluginError(plugin, f"blueprint name {blueprint.name!r} is already taken")
            prefix = PREFIX + "/" + (blueprint.url_prefix or blueprint.name).strip("/")
            app.register_blueprint(blueprint, url_prefix=prefix)
            csrf.exempt(blueprint)
            owners[blueprint.name] = plugin
    _install_json_errors(app)
    if not owners:
        return

    @app.before_request
    def api_only_where_enabled() -> None:
        plugin = owners.get((request.blueprint or "").split(".")[0])
        if plugin and plugin not in app.extensions["ecrire"].enabled(g.section.code):
            abort(404)


# -- helpers for plugins (re-exported by core.toolkit) ----------------------------------


def portal_database():
    """The deployment's database (``.session()``, ``.writing()``,
    ``.engine``, ``.insert(table)``), for a plugin's own tables."""
    return _portal().db


def served_sections() -> list[str]:
    """Codes of the sections this deployment serves (``ECRIRE_SECTIONS``)."""
    return sorted(_portal().registry.sections)


def deployment_id() -> str:
    """This deployment's id (``ECRIRE_DEPLOYMENT``)."""
    return str(current_app.config.get("ECRIRE_DEPLOYMENT") or "local")


def instance_folder() -> Path:
    """The deployment's instance folder (created if missing)."""
    folder = Path(current_app.instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def local_counts() -> dict[str, dict[str, dict[str, int]]]:
    """Fresh counts of the served sections: {section: {case: {action type: n}}}.
    Numbers only: nothing about who acted."""
    portal = _portal()
    with portal.db.session() as db_session:
        snapshot = portal.counts.get(db_session, fresh=True)
    served = set(portal.registry.sections)
    result: dict[str, dict[str, dict[str, int]]] = {}
    for (section, case_id, action_type), n in sorted(snapshot.by_key.items()):
        if section in served and n:
            result.setdefault(section, {}).setdefault(case_id, {})[action_type] = n
    return result


def published_catalogue(exclude_sources: set[str] | frozenset[str] = frozenset()) -> dict[str, list[dict[str, Any]]]:
    """The open cases and success stories of the case sources enabled in
    the served sections (but ``exclude_sources``), with every text: what a
    hub publishes to its members."""
    portal = _portal()
    sources: set[str] = set()
    for code in portal.registry.sections:
        sources |= portal.case_sources(code)
    sources -= set(exclude_sources)
    cases: list[dict[str, Any]] = []
    stories: list[dict[str, Any]] = []
    with portal.db.session() as db_session:
        rows = db_session.scalars(select(Case).where(Case.active.is_(True), Case.source.in_(sources)).order_by(Case.position, Case.id))
        for row in rows:
            cases.append({
                "id": row.id, "person": row.person, "country": row.country, "year": row.year, "goal": row.goal,
                "colour": row.colour, "hashtag": row.hashtag, "social_handle": row.social_handle,
                "authority": row.authority, "position": row.position,
                "updated_at": row.updated_at.isoformat() if row.updated_at else None,
                "texts": {t.language: {"title": t.title, "summary": t.summary, "story": t.story, "ask": t.ask} for t in row.texts},
            })
        rows = db_session.scalars(select(Story).where(Story.active.is_(True), Story.source.in_(sources)).order_by(Story.position, Story.id))
        for row in rows:
            stories.append({
                "id": row.id, "person": row.person, "country": row.country, "year": row.year, "outcome": row.outcome,
                "position": row.position,
                "texts": {t.language: {"title": t.title, "body": t.body, "quote": t.quote, "quote_by": t.quote_by} for t in row.texts},
            })
    return {"cases": cases, "stories": stories}


def canonical_json(document: Any) -> bytes:
    """The bytes a federation payload is signed over (stable key order)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
