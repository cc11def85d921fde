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
Bundled items (post batches, hand-overs) wait for their bundler.
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

from flask import current_app, has_app_context
from sqlalchemy import and_, or_, select, update

from core.models import Delivery, utcnow
from core.types import (
    Delivered,
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


def lease() -> dt.timedelta:
    """The lease: the app's ``ECRIRE_DELIVERY_LEASE_SECONDS`` setting, else the
    environment variable of that name (``core.app.load_config`` reads a fixed
    list of variables, so the worker reads this one itself), else ``LEASE``."""
    value: Any = None
    if has_app_context():
        value = current_app.config.get(LEASE_SETTING)
    if value is None:
        value = os.environ.get(LEASE_SETTING)
    if value in (None, ""):
        return LEASE
    return dt.timedelta(seconds=float(value))


@dataclass(frozen=True)
class _Claimed:
    id: int
    channel: str | None
    attempts: int
    item: DeliveryItem


def _item(row: Delivery) -> DeliveryItem:
    r = row.recipient or {}
    return DeliveryItem(
        id=row.id,
        key=row.key,
        section_code=row.section_code,
        case_id=row.case_id,
        kind=row.kind,
        recipient=Recipient(r.get("name", ""), r.get("title", ""), tuple(r.get("address", ())), r.get("email")),
        body=row.body,
        attempt=row.attempts,
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
            claimed.append(_Claimed(row.id, row.channel, row.attempts, _item(row)))
        return claimed


def _deliver_one(state, claimed: _Claimed) -> DeliveryResult:
    try:
        channel = state.channels_for(claimed.item.section_code).get(claimed.channel or "")
        if channel is None:
            return RetryLater(f"channel {claimed.channel!r} is not enabled for section {claimed.item.section_code!r}")
        return channel.deliver(claimed.item)
    except Exception as exc:  # a crashing channel is a temporary failure
        log.exception("delivery channel %r raised", claimed.channel)
        return RetryLater(f"{type(exc).__name__}: {exc}")


def _mark(state, claimed: _Claimed, result: DeliveryResult, report: WorkerReport) -> None:
    """Record the channel's answer, unless the row was taken again meanwhile
    (our lease ran out): then the newer claim owns it."""
    now = utcnow()
    if isinstance(result, Delivered):
        values: dict[str, Any] = {"status": "done", "last_error": None}
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
