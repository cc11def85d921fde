"""Federation hub: the international secretariat's deployment publishes the
case feed to the member deployments and adds up their count reports.

Settings (app config / environment)::

    ECRIRE_DEPLOYMENT=is
    ECRIRE_FEDERATION_MEMBERS='{"fr-portal": "<key of fr-portal>", "be-portal": "<key>"}'

Enable the plugin for the section(s) the hub serves (``flask plugins enable
<section> federation_hub``): its endpoints answer only there.

Endpoints (under ``/api/v1/federation``, described in ``/api/v1/openapi.json``)

``GET /feed``
    Request headers ``X-Ecrire-Deployment`` (the member's id),
    ``X-Ecrire-Timestamp`` (unix seconds) and ``X-Ecrire-Signature``
    (``sha256=<hex HMAC-SHA256(key, "<timestamp>.")>``, over an empty body).
    The answer is the feed: the cases and success stories of the hub's own
    case sources with every translation, a ``version`` (a digest of the
    content) and ``updated_at``, and the world totals (``world``). It is
    signed the same way with the member's key: ``X-Ecrire-Timestamp`` and
    ``X-Ecrire-Signature`` over ``"<timestamp>." + raw body``.

``POST /reports``
    A member's counts: ``{"deployment", "sequence", "sections": {section:
    {case: {action type: n}}}}``, signed like the feed request (over the raw
    body). A report replaces the deployment's previous one; its sequence
    must be higher than the last accepted one (an old or repeated sequence is
    refused with 409 and never added). A timestamp more than 5 minutes away,
    an unknown deployment or a wrong signature is refused (401/403), each
    with a log line naming the deployment.

World total of a case = the sum of the latest report of each registered
deployment + the hub's own counts (of the sections it serves).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
import time
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, request

from core.toolkit import (
    PluginTranslations,
    DEPLOYMENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WorldCounts,
    canonical_json,
    deployment_id,
    hookimpl,
    local_counts,
    portal_database,
    published_catalogue,
    sign,
    verify_signature,
)

log = logging.getLogger(__name__)
i18n = PluginTranslations(__file__)
_ = i18n.gettext

#: Seconds a timestamp may be away from the hub's clock.
TOLERANCE = 300
#: Largest report accepted, in bytes.
MAX_REPORT = 1024 * 1024
#: Seconds the world totals are reused between page views.
CACHE_SECONDS = 2.0
#: Case sources never republished (a hub that is itself a member).
NOT_PUBLISHED = frozenset({"federation_member"})

metadata = sa.MetaData()
reports = sa.Table(
    "federation_reports",
    metadata,
    sa.Column("deployment", sa.String(100), primary_key=True),
    sa.Column("sequence", sa.BigInteger, nullable=False),
    sa.Column("sent_at", sa.BigInteger, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("counts", sa.JSON, nullable=False),
)

bp = Blueprint("federation_hub", __name__, url_prefix="/federation")


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def members() -> dict[str, str]:
    """Registered deployments and their keys (``ECRIRE_FEDERATION_MEMBERS``)."""
    value = current_app.config.get("ECRIRE_FEDERATION_MEMBERS") or {}
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else {}
    return {str(k): str(v) for k, v in dict(value).items() if v}


def _refuse(status: int, message: str):
    response = jsonify({"error": {"status": status, "message": message}})
    response.status_code = status
    return response


def authenticate(body: bytes, now: float | None = None) -> tuple[str, str]:
    """The (deployment, key) of a signed request, or :class:`Refused` with
    a log line naming the deployment."""
    deployment = (request.headers.get(DEPLOYMENT_HEADER) or "").strip()
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    key = members().get(deployment)
    if key is None:
        log.warning("federation: refused a request from unregistered deployment %r (%s %s)", deployment, request.method, request.path)
        raise Refused(403, _("Unknown deployment."))
    try:
        sent = int(timestamp)
    except ValueError:
        sent = None
    current = time.time() if now is None else now
    if sent is None or abs(current - sent) > TOLERANCE:
        log.warning("federation: refused a request from deployment %r: timestamp %r is missing or more than %ss away (replayed or stale)",
                    deployment, timestamp, TOLERANCE)
        raise Refused(401, _("The timestamp is missing or too old."))
    if not verify_signature(key, sent, body, signature, now=current, tolerance=TOLERANCE):
        log.warning("federation: refused a request from deployment %r: bad signature (tampered or wrong key)", deployment)
        raise Refused(401, _("The signature is wrong."))
    return deployment, key


# -- world totals ----------------------------------------------------------------


_cache_lock = threading.Lock()
_cache: dict[int, tuple[float, WorldCounts]] = {}


def _sum_into(totals: dict[str, int], sections: Any) -> None:
    for cases in (sections or {}).values():
        for case_id, by_type in (cases or {}).items():
            totals[case_id] = totals.get(case_id, 0) + sum(int(n) for n in (by_type or {}).values())


def compute_world() -> WorldCounts:
    """Sum of the latest report of each registered deployment, plus the
    hub's own counts."""
    registered = set(members())
    totals: dict[str, int] = {}
    latest: dt.datetime | None = None
    with portal_database().session() as session:
        for row in session.execute(sa.select(reports.c.deployment, reports.c.counts, reports.c.received_at)):
            if row.deployment not in registered:
                continue
            _sum_into(totals, row.counts)
            received = row.received_at
            if received is not None and received.tzinfo is None:
                received = received.replace(tzinfo=dt.UTC)
            latest = max(latest, received) if latest and received else (received or latest)
    _sum_into(totals, local_counts())
    now = dt.datetime.now(dt.UTC)
    return WorldCounts(total=sum(totals.values()), cases=dict(sorted(totals.items())), updated_at=(latest or now).isoformat())


def world() -> WorldCounts:
    key = id(current_app._get_current_object())
    now = time.monotonic()
    cached = _cache.get(key)
    if cached and now - cached[0] <= CACHE_SECONDS:
        return cached[1]
    figures = compute_world()
    with _cache_lock:
        _cache[key] = (now, figures)
    return figures


def _forget_world() -> None:
    with _cache_lock:
        _cache.pop(id(current_app._get_current_object()), None)


# -- endpoints -----------------------------------------------------------------------


def build_feed() -> dict[str, Any]:
    catalogue = published_catalogue(NOT_PUBLISHED)
    digest = hashlib.sha256(canonical_json(catalogue)).hexdigest()[:16]
    stamps = [c["updated_at"] for c in catalogue["cases"] if c.get("updated_at")]
    figures = compute_world()
    return {
        "hub": deployment_id(),
        "version": digest,
        "updated_at": max(stamps) if stamps else None,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(),
        "cases": catalogue["cases"],
        "stories": catalogue["stories"],
        "world": {"total": figures.total, "cases": dict(figures.cases), "updated_at": figures.updated_at},
    }


@bp.get("/feed")
def feed():
    try:
        deployment, key = authenticate(b"")
    except Refused as refused:
        return _refuse(refused.status, refused.message)
    body = canonical_json(build_feed())
    timestamp = int(time.time())
    response = current_app.response_class(body, mimetype="application/json")
    response.headers[TIMESTAMP_HEADER] = str(timestamp)
    response.headers[SIGNATURE_HEADER] = sign(key, timestamp, body)
    response.headers["Cache-Control"] = "no-store"
    log.info("federation: feed sent to deployment %r", deployment)
    return response


def _valid_counts(sections: Any) -> dict[str, dict[str, dict[str, int]]]:
    if not isinstance(sections, dict):
        raise Refused(400, _("The report is not valid."))
    clean: dict[str, dict[str, dict[str, int]]] = {}
    for section, cases in sections.items():
        if not isinstance(section, str) or not isinstance(cases, dict) or len(section) > 40:
            raise Refused(400, _("The report is not valid."))
        for case_id, by_type in cases.items():
            if not isinstance(case_id, str) or not isinstance(by_type, dict) or len(case_id) > 100:
                raise Refused(400, _("The report is not valid."))
            for action_type, n in by_type.items():
                if not isinstance(action_type, str) or isinstance(n, bool) or not isinstance(n, int) or n < 0:
                    raise Refused(400, _("The report is not valid."))
                clean.setdefault(section, {}).setdefault(case_id, {})[action_type] = n
    return clean


def accept_report(deployment: str, body: bytes, sent_at: int) -> tuple[bool, int]:
    """Store a report, replacing the deployment's previous one when its
    sequence is higher. Returns (applied, sequence)."""
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise Refused(400, _("The report is not valid.")) from exc
    if not isinstance(document, dict):
        raise Refused(400, _("The report is not valid."))
    sequence = document.get("sequence")
    if document.get("deployment") != deployment or isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 0:
        log.warning("federation: refused a malformed report from deployment %r", deployment)
        raise Refused(400, _("The report is not valid."))
    counts = _valid_counts(document.get("sections", {}))
    db = portal_database()
    values = {"deployment": deployment, "sequence": sequence, "sent_at": sent_at,
              "received_at": dt.datetime.now(dt.UTC), "counts": counts}
    stmt = db.insert(reports).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["deployment"],
        set_={name: stmt.excluded[name] for name in ("sequence", "sent_at", "received_at", "counts")},
        where=reports.c.sequence < stmt.excluded.sequence,
    )
    with db.writing() as session:
        applied = session.execute(stmt).rowcount > 0
    return applied, sequence


@bp.post("/reports")
def receive_report():
    body = request.get_data(cache=False)
    if len(body) > MAX_REPORT:
        return _refuse(413, _("The report is too large."))
    try:
        deployment, _key = authenticate(body)
        sent_at = int(request.headers[TIMESTAMP_HEADER])
        applied, sequence = accept_report(deployment, body, sent_at)
    except Refused as refused:
        return _refuse(refused.status, refused.message)
    if not applied:
        log.warning("federation: ignored a replayed or out-of-order report from deployment %r (sequence %s is not above the last accepted one)",
                    deployment, sequence)
        return _refuse(409, _("This report is not newer than the last one received."))
    _forget_world()
    log.info("federation: report %s accepted from deployment %r", sequence, deployment)
    return jsonify({"accepted": True, "deployment": deployment, "sequence": sequence})


# -- hooks ---------------------------------------------------------------------------


@hookimpl
def ecrire_api_blueprints():
    return [bp]


@hookimpl
def ecrire_world_counts():
    return world()
