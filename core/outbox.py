"""The delivery worker: claims due outbox rows and hands each to its channel.

A batch of rows is claimed (status ``sending``, ``attempts`` + 1) in one short
transaction before any channel is called, and each row is marked in its own
transaction right after its channel answers, so a slow channel holds no lock
and a crash loses at most the mark of the item in flight. A worker killed in
between leaves rows ``sending``; once their lease runs out they are claimed
again with the same key, which channels use to deduplicate. So an item is
never lost, and is sent twice only if the worker died after the channel sent
it and before the mark, and the channel cannot deduplicate.

On PostgreSQL the claim uses ``SELECT ... FOR UPDATE SKIP LOCKED``, so several
workers can run at once without taking the same row; SQLite serialises the
claim with ``BEGIN IMMEDIATE``, and one worker is the supported setup there.
Bundled items are held until ``core.bundles`` closes them into a bundle row,
which is claimed like any row and handed to the channel's ``deliver_batch``;
the items follow the bundle's fate.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy import and_, or_, select, update

from core import bundles
from core.models import Delivery, utcnow
from core.types import (
    Delivered,
    DeliveryBatch,
    DeliveryItem,
    DeliveryResult,
    Recipient,
    RetryLater,
    Undeliverable,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_SECONDS = 30.0
#: How long a row may stay ``sending`` before another worker may take it
#: again. Longer than any batch takes, or a slow batch gets sent twice.
LEASE = dt.timedelta(minutes=10)
#: Setting (app config, or environment variable of the same name) overriding
#: ``LEASE``, in seconds: tests use a short lease to restart a killed worker.
LEASE_SETTING = "ECRIRE_DELIVERY_LEASE_SECONDS"
#: Setting naming the folder where channels write what they produce
#: (default: ``deliveries/`` in the instance folder).
FILES_SETTING = "ECRIRE_DELIVERY_FILES"


@dataclass
class WorkerReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    #: Claimed but handed back untouched because the worker was told to stop.
    released: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.delivered + self.retrying + self.failed

    def add(self, other: WorkerReport) -> None:
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.failed += other.failed
        self.released += other.released
        self.errors.extend(other.errors)


def backoff(attempt: int) -> dt.timedelta:
    """Exponential back-off with jitter: about 30 s, 1 min, 2 min, ...; the
    jitter (±20 %) keeps items that failed together from retrying together."""
    base = BACKOFF_SECONDS * (2 ** (attempt - 1))
    return dt.timedelta(seconds=base * random.uniform(0.8, 1.2))


def _setting(name: str) -> Any:
    """The app's setting, else the environment variable of that name
    (``core.app.load_config`` reads a fixed list of variables)."""
    value: Any = None
    if has_app_context():
        value = current_app.config.get(name)
    if value is None:
        value = os.environ.get(name)
    return None if value == "" else value


def files_root() -> Path:
    """Where channels' files live: ``ECRIRE_DELIVERY_FILES``, else
    ``deliveries/`` in the app's instance folder."""
    value = _setting(FILES_SETTING)
    if value is None:
        value = Path(current_app.instance_path if has_app_context() else "instance") / "deliveries"
    return Path(value)


def files_dir(section_code: str, channel: str) -> Path:
    """The folder of one section's files from one channel."""
    return files_root() / section_code / channel


def lease() -> dt.timedelta:
    """The lease: the ``ECRIRE_DELIVERY_LEASE_SECONDS`` setting, else ``LEASE``."""
    value = _setting(LEASE_SETTING)
    return LEASE if value is None else dt.timedelta(seconds=float(value))


@dataclass(frozen=True)
class _Claimed:
    id: int
    channel: str | None
    attempts: int
    item: DeliveryItem
    #: Set for a bundle row: what ``deliver_batch`` gets.
    batch: DeliveryBatch | None = None


def _recipient(row: Delivery) -> Recipient:
    r = row.recipient or {}
    return Recipient(r.get("name", ""), r.get("title", ""), tuple(r.get("address", ())), r.get("email"))


def _item(row: Delivery, settings: Any, attempt: int | None = None, section: Any = None) -> DeliveryItem:
    return DeliveryItem(
        id=row.id,
        key=row.key,
        section_code=row.section_code,
        case_id=row.case_id,
        kind=row.kind,
        recipient=_recipient(row),
        body=row.body,
        attempt=row.attempts if attempt is None else attempt,
        settings=settings,
        section=section,
        files_dir=files_dir(row.section_code, row.channel or "none"),
    )


def _settings(state, row: Delivery) -> Any:
    try:
        return state.channel_settings(row.section_code, row.channel or "")
    except Exception:  # a broken channel plugin is reported when delivering
        return {}


def _case(state, session, section, case_id: str | None):
    if case_id is None:
        return None
    try:
        sources = state.case_sources(section.code)
        return state.catalogue.case(session, section, sources, section.default_language, case_id, include_hidden=True)
    except Exception:  # the channel gets no case rather than no delivery
        log.exception("could not load case %r for a bundle", case_id)
        return None


def _batch(state, session, row: Delivery, settings: Any) -> DeliveryBatch:
    members = session.scalars(  # not the items cancelled since (an erasure)
        select(Delivery).where(Delivery.batch_id == row.id, Delivery.status == "bundled").order_by(Delivery.id)
    )
    section = state.registry.sections[row.section_code]
    return DeliveryBatch(
        id=row.id,
        key=row.key,
        section=section,
        case_id=row.case_id,
        case=_case(state, session, section, row.case_id),
        kind=(row.body or {}).get("kind", ""),
        recipient=_recipient(row),
        items=[_item(m, settings, attempt=row.attempts, section=section) for m in members],
        attempt=row.attempts,
        files_dir=files_dir(row.section_code, row.channel or "none"),
        settings=settings,
    )


def _claim(state, limit: int, lease_for: dt.timedelta) -> list[_Claimed]:
    now = utcnow()
    with state.db.writing() as session:
        query = (
            select(Delivery)
            .where(
                Delivery.bundle.is_(False),
                or_(
                    and_(Delivery.status == "pending", Delivery.next_attempt_at <= now),
                    and_(Delivery.status == "sending", Delivery.updated_at <= now - lease_for),
                ),
            )
            .order_by(Delivery.id)
            .limit(limit)
        )
        if state.db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(session.scalars(query))
        claimed = []
        for row in rows:
            row.status, row.attempts, row.updated_at = "sending", row.attempts + 1, now
            settings = _settings(state, row)
            batch = _batch(state, session, row, settings) if row.kind == bundles.BUNDLE_KIND else None
            section = state.registry.sections.get(row.section_code)
            claimed.append(_Claimed(row.id, row.channel, row.attempts, _item(row, settings, section=section), batch))
        return claimed


def _deliver_one(state, claimed: _Claimed) -> DeliveryResult:
    try:
        channel = state.channels_for(claimed.item.section_code).get(claimed.channel or "")
        if channel is None:
            return RetryLater(f"channel {claimed.channel!r} is not enabled for section {claimed.item.section_code!r}")
        if claimed.batch is not None:
            if not claimed.batch.items:  # every item was cancelled (erased) since the bundle closed
                return Delivered(reference="nothing left to send: every item was cancelled")
            return channel.deliver_batch(claimed.batch)
        return channel.deliver(claimed.item)
    except Exception as exc:  # a crashing channel is a temporary failure
        log.exception("delivery channel %r raised", claimed.channel)
        return RetryLater(f"{type(exc).__name__}: {exc}")


def _mark(state, claimed: _Claimed, result: DeliveryResult, report: WorkerReport) -> None:
    """Record the channel's answer, unless the row was taken again meanwhile
    (our lease ran out): then the newer claim owns it."""
    now = utcnow()
    if isinstance(result, Delivered):
        values: dict[str, Any] = {
            "status": "done",
            "last_error": None,
            "reference": result.reference or None,
            "files": list(result.files) or None,
        }
    elif isinstance(result, Undeliverable) or claimed.attempts >= MAX_ATTEMPTS:
        values = {"status": "failed", "last_error": result.reason}
    else:
        values = {"status": "pending", "last_error": result.reason, "next_attempt_at": now + backoff(claimed.attempts)}
    with state.db.writing() as session:
        changed = session.execute(
            update(Delivery)
            .where(Delivery.id == claimed.id, Delivery.status == "sending", Delivery.attempts == claimed.attempts)
            .values(updated_at=now, **values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed and claimed.batch is not None and values["status"] in ("done", "failed"):
            session.execute(  # the items share their bundle's outcome
                update(Delivery)
                .where(Delivery.batch_id == claimed.id, Delivery.status == "bundled")
                .values(status=values["status"], last_error=values["last_error"], updated_at=now)
                .execution_options(synchronize_session=False)
            )
    if not changed:
        log.warning("delivery #%s was claimed again before it was marked (lease too short?)", claimed.id)
    if values["status"] == "done":
        report.delivered += 1
        return
    report.errors.append(f"#{claimed.id}: {values['last_error']}")
    if values["status"] == "failed":
        report.failed += 1
    else:
        report.retrying += 1


def _release(state, claimed: list[_Claimed]) -> None:
    """Hand back rows claimed but not tried, so they need not wait a lease."""
    with state.db.writing() as session:
        for c in claimed:
            session.execute(
                update(Delivery)
                .where(Delivery.id == c.id, Delivery.status == "sending", Delivery.attempts == c.attempts)
                .values(status="pending", attempts=c.attempts - 1, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )


def deliver_due(state, limit: int = 100, *, should_stop: Callable[[], bool] | None = None) -> WorkerReport:
    """Claim up to ``limit`` due items and deliver them; returns what happened.

    ``should_stop`` is asked between items (never between a send and its
    mark): once it answers true, the rest of the batch is handed back.
    Channels may use ``flask.current_app``: call this inside an app context
    (``flask deliveries run`` does).
    """
    report = WorkerReport()
    bundles.close_bundles(state)
    batch = _claim(state, limit, lease())
    for index, claimed in enumerate(batch):
        if should_stop is not None and should_stop():
            _release(state, batch[index:])
            report.released = len(batch) - index
            break
        _mark(state, claimed, _deliver_one(state, claimed), report)
    return report


def drain(
    state,
    batch: int = 100,
    *,
    should_stop: Callable[[], bool] | None = None,
    on_batch: Callable[[WorkerReport, float], None] | None = None,
) -> WorkerReport:
    """Deliver batches until one handles nothing (items to retry wait for
    their back-off) or a stop is asked for: ``flask deliveries run --once``,
    and one round of the long-running worker."""
    total = WorkerReport()
    while not (should_stop and should_stop()):
        started = time.monotonic()
        report = deliver_due(state, batch, should_stop=should_stop)
        if on_batch is not None:
            on_batch(report, time.monotonic() - started)
        total.add(report)
        if not report.handled:
            break
    return total


class NotRetryable(ValueError):
    """The row is not waiting or failed (it is done, being sent, held for
    its window, unrouted, or travels inside a bundle)."""


#: Statuses "retry now" accepts.
RETRYABLE = ("failed", "pending")


def retry_now(state, section_code: str, delivery_id: int) -> None:
    """Make a failed or waiting item (or bundle row) due now.

    ``attempts`` is reset to 0: a failed row has usually spent all its
    attempts, and keeping them would turn the next temporary failure into a
    final one; the idempotency key is kept, so a channel still recognises
    the item. ``last_error`` is kept until the next attempt replaces it.
    A bundle's items go back to ``bundled`` and follow it again. An item
    inside a bundle is retried through its bundle, never alone.

    Raises ``LookupError`` for a row missing or of another section (alike),
    :class:`NotRetryable` for a row in another state.
    """
    now = utcnow()
    with state.db.writing() as session:
        row = session.get(Delivery, delivery_id, with_for_update=True)
        if row is None or row.section_code != section_code:
            raise LookupError(f"no delivery #{delivery_id} in section {section_code!r}")
        if row.status not in RETRYABLE or row.batch_id is not None:
            raise NotRetryable(f"delivery #{delivery_id} is {row.status}: it cannot be retried now")
        row.status, row.attempts, row.next_attempt_at, row.updated_at = "pending", 0, now, now
        if row.kind == bundles.BUNDLE_KIND:
            session.execute(
                update(Delivery)
                .where(Delivery.batch_id == row.id)
                .values(status="bundled", updated_at=now)
                .execution_options(synchronize_session=False)
            )
