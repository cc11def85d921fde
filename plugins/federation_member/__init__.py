"""Federation member: a case source fed by the hub's signed case feed; pushes
this deployment's counts (numbers only) back to the hub and shows the
hub's world totals.

Settings (app config / environment)::

    ECRIRE_DEPLOYMENT=fr-portal                 # this deployment's id at the hub
    ECRIRE_FEDERATION_HUB=https://hub.example.org
    ECRIRE_FEDERATION_KEY=<the key the hub registered for fr-portal>

``flask federation sync`` (run it from cron, e.g. every 5 minutes:
``*/5 * * * * cd /srv/ecrire && .venv/bin/flask federation sync``):

1. fetches the feed (signed request), checks its signature and keeps it in
   ``<instance>/federation_feed.json`` (a feed with a bad signature is
   rejected and the last good copy kept; with the hub down the copy stays);
2. sends the counts of the sections this deployment serves, for the feed's
   cases only: ``{section: {case: {action type: n}}}`` with a sequence
   higher than any sent before (the hub keeps only the latest);
3. fetches the feed again (fresh world totals) and stores the cases and
   stories (as ``flask cases sync`` does).

Enable the plugin for the sections that show the hub's cases (``flask
plugins enable fr federation_member``): there, pages show the hub's world
totals (``ecrire_world_counts``).
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click
from flask import Blueprint, current_app, jsonify

from core.toolkit import (
    CaseData,
    PluginTranslations,
    SuccessStory,
    DEPLOYMENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WorldCounts,
    canonical_json,
    deployment_id,
    hookimpl,
    instance_folder,
    local_counts,
    sign,
    verify_signature,
)

log = logging.getLogger(__name__)
i18n = PluginTranslations(__file__)
_ = i18n.gettext

FEED_FILE = "federation_feed.json"
STATE_FILE = "federation_state.json"
TIMEOUT = 10.0
TOLERANCE = 300
MAX_FEED = 20 * 1024 * 1024

bp = Blueprint("federation_member", __name__, url_prefix="/federation/member", cli_group="federation")


class SyncError(Exception):
    """The sync could not finish; the message says why (no secret in it)."""


# -- settings and files ---------------------------------------------------------------


def settings() -> tuple[str, str, str]:
    hub = str(current_app.config.get("ECRIRE_FEDERATION_HUB") or "").rstrip("/")
    key = str(current_app.config.get("ECRIRE_FEDERATION_KEY") or "")
    return hub, key, deployment_id()


def _path(name: str) -> Path:
    return instance_folder() / name


def _read_json(name: str) -> dict[str, Any] | None:
    try:
        return json.loads(_path(name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_json(name: str, document: dict[str, Any]) -> None:
    """Atomically: a reader sees the old copy or the new one, never half."""
    target = _path(name)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(document, out, ensure_ascii=False, sort_keys=True)
    os.replace(tmp, target)


_feed_cache: dict[str, tuple[float, dict[str, Any] | None]] = {}
_feed_lock = threading.Lock()


def stored_feed() -> dict[str, Any] | None:
    """The last good copy of the feed (re-read when the file changes)."""
    path = _path(FEED_FILE)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None
    cached = _feed_cache.get(str(path))
    if cached and cached[0] == mtime:
        return cached[1]
    document = _read_json(FEED_FILE)
    with _feed_lock:
        _feed_cache[str(path)] = (mtime, document)
    return document


# -- talking to the hub ------------------------------------------------------------------


def _signed_headers(key: str, deployment: str, body: bytes) -> dict[str, str]:
    timestamp = int(time.time())
    return {
        DEPLOYMENT_HEADER: deployment,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(key, timestamp, body),
    }


def _open(request: urllib.request.Request) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, dict(response.headers.items()), response.read(MAX_FEED + 1)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read(64 * 1024)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SyncError(_("The hub %(hub)s cannot be reached (%(reason)s).", hub=request.full_url.split("/api/")[0], reason=reason)) from exc


def fetch_feed(hub: str, key: str, deployment: str) -> dict[str, Any]:
    """The hub's feed, its signature checked; :class:`SyncError` otherwise."""
    request = urllib.request.Request(f"{hub}/api/v1/federation/feed", headers=_signed_headers(key, deployment, b""))
    status, headers, body = _open(request)
    if status != 200:
        raise SyncError(_("The hub refused the feed request (HTTP %(status)s).", status=status))
    lower = {k.lower(): v for k, v in headers.items()}
    if len(body) > MAX_FEED or not verify_signature(
        key, lower.get(TIMESTAMP_HEADER.lower(), ""), body, lower.get(SIGNATURE_HEADER.lower(), ""), tolerance=TOLERANCE
    ):
        log.warning("federation: rejected a feed from %s with a bad or stale signature; keeping the last good copy", hub)
        raise SyncError(_("The feed's signature is wrong: it was rejected and the last good copy kept."))
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise SyncError(_("The feed is not valid JSON: the last good copy is kept.")) from exc
    if not isinstance(document, dict) or not isinstance(document.get("cases"), list):
        raise SyncError(_("The feed is not valid: the last good copy is kept."))
    return document


def build_report(deployment: str, sequence: int, case_ids: set[str] | None) -> dict[str, Any]:
    """Numbers only: per served section, per case (of the feed), per action type."""
    sections: dict[str, dict[str, dict[str, int]]] = {}
    for section, cases in local_counts().items():
        for case_id, by_type in cases.items():
            if case_ids is None or case_id in case_ids:
                sections.setdefault(section, {})[case_id] = {str(t): int(n) for t, n in by_type.items()}
    return {"deployment": deployment, "sequence": sequence, "sections": sections}


def next_sequence() -> int:
    """Higher than any sequence sent before, across restarts."""
    state = _read_json(STATE_FILE) or {}
    sequence = max(int(state.get("sequence", 0)) + 1, int(time.time() * 1000))
    _write_json(STATE_FILE, {**state, "sequence": sequence})
    return sequence


def push_counts(hub: str, key: str, deployment: str, case_ids: set[str] | None) -> dict[str, Any]:
    report = build_report(deployment, next_sequence(), case_ids)
    body = canonical_json(report)
    headers = {"Content-Type": "application/json", **_signed_headers(key, deployment, body)}
    request = urllib.request.Request(f"{hub}/api/v1/federation/reports", data=body, headers=headers, method="POST")
    status, _headers, _answer = _open(request)
    if status != 200:
        raise SyncError(_("The hub refused the count report (HTTP %(status)s).", status=status))
    return report


def sync() -> dict[str, Any]:
    """Fetch the feed, push the counts, fetch the fresh world totals, keep
    the copy. Raises :class:`SyncError` (the copy untouched) on failure."""
    hub, key, deployment = settings()
    if not hub or not key:
        raise SyncError(_("Set ECRIRE_FEDERATION_HUB and ECRIRE_FEDERATION_KEY first."))
    feed = fetch_feed(hub, key, deployment)
    _write_json(FEED_FILE, feed)
    report = push_counts(hub, key, deployment, {c["id"] for c in feed["cases"]})
    feed = fetch_feed(hub, key, deployment)
    _write_json(FEED_FILE, feed)
    return {"feed": feed, "report": report}


# -- the CLI and a status endpoint -----------------------------------------------------------


@bp.cli.command("sync")
@click.pass_context
def sync_command(ctx: click.Context) -> None:
    """Fetch the hub's feed, send this deployment's counts, store the cases."""
    try:
        result = sync()
    except SyncError as exc:
        raise click.ClickException(str(exc)) from exc
    feed = result["feed"]
    sections = result["report"]["sections"]
    click.echo(_("Feed %(version)s: %(cases)s cases, %(stories)s success stories; world total %(world)s.",
                 version=feed.get("version"), cases=len(feed["cases"]), stories=len(feed.get("stories", [])),
                 world=(feed.get("world") or {}).get("total")))
    click.echo(_("Counts sent for %(n)s section(s), sequence %(sequence)s.", n=len(sections), sequence=result["report"]["sequence"]))
    cases_group = current_app.cli.get_command(ctx, "cases")
    if cases_group is not None:
        ctx.invoke(cases_group.get_command(ctx, "sync"))


@bp.get("/status")
def status():
    feed = stored_feed() or {}
    state = _read_json(STATE_FILE) or {}
    return jsonify({
        "deployment": deployment_id(),
        "feed_version": feed.get("version"),
        "feed_generated_at": feed.get("generated_at"),
        "cases": len(feed.get("cases", [])),
        "last_sequence": state.get("sequence"),
    })


# -- hooks ------------------------------------------------------------------------------------


@hookimpl
def ecrire_api_blueprints():
    return [bp]


@hookimpl
def ecrire_cases():
    feed = stored_feed() if current_app else None
    return [CaseData.from_dict(case, position=n) for n, case in enumerate((feed or {}).get("cases", []))]


@hookimpl
def ecrire_success_stories():
    feed = stored_feed() if current_app else None
    return [SuccessStory.from_dict(story, position=n) for n, story in enumerate((feed or {}).get("stories", []))]


@hookimpl
def ecrire_world_counts():
    feed = stored_feed()
    world = (feed or {}).get("world")
    if not world:
        return None
    return WorldCounts(total=int(world.get("total", 0)), cases=dict(world.get("cases") or {}), updated_at=world.get("updated_at"))
