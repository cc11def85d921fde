"""The delivery worker: claims due outbox rows and hands each to its channel.

A row is claimed (status ``sending``) in its own short transaction before the
channel is called, and marked after, so a slow channel holds no lock. A
worker killed in between leaves the row ``sending``; once its lease runs out
it is claimed again with the same key, which channels use to deduplicate.
Bundled items (post batches, hand-overs) wait for their bundler.
"""
from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select

from core.models import Delivery, utcnow
from core.types import Delivered, DeliveryItem, Recipient, RetryLater, Undeliverable

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_SECONDS = 30.0
LEASE = dt.timedelta(minutes=10)


@dataclass
class WorkerReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.delivered + self.retrying + self.failed


def backoff(attempt: int) -> dt.timedelta:
    """Exponential back-off with jitter: about 30 s, 1 min, 2 min, ..."""
    base = BACKOFF_SECONDS * (2 ** (attempt - 1))
    return dt.timedelta(seconds=base * random.uniform(0.8, 1.2))


def _claim(state, limit: int) -> list[int]:
    now = utcnow()
    with state.db.writing() as session:
        query = (
            select(Delivery)
            .where(
                Delivery.bundle.is_(False),
                or_(
                    and_(Delivery.status == "pending", Delivery.next_attempt_at <= now),
                    and_(Delivery.status == "sending", Delivery.updated_at <= now - LEASE),
                ),
            )
            .order_by(Delivery.id)
            .limit(limit)
        )
        if state.db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(session.scalars(query))
        for row in rows:
            row.status, row.attempts, row.updated_at = "sending", row.attempts + 1, now
        return [row.id for row in rows]


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


def _deliver_one(state, row: Delivery):
    channels = state.channels_for(row.section_code)
    channel = channels.get(row.channel or "")
    if channel is None:
        return RetryLater(f"channel {row.channel!r} is not enabled for section {row.section_code!r}")
    try:
        return channel.deliver(_item(row))
    except Exception as exc:  # a crashing channel is a temporary failure
        log.exception("delivery channel %r raised", row.channel)
        return RetryLater(f"{type(exc).__name__}: {exc}")


def deliver_due(state, limit: int = 100) -> WorkerReport:
    """Deliver what is due now, once; returns what happened."""
    report = WorkerReport()
    for delivery_id in _claim(state, limit):
        with state.db.session() as session:
            row = session.get(Delivery, delivery_id)
            result = _deliver_one(state, row)
        with state.db.writing() as session:
            row = session.get(Delivery, delivery_id)
            row.updated_at = utcnow()
            if isinstance(result, Delivered):
                row.status, row.last_error = "done", None
                report.delivered += 1
            elif isinstance(result, Undeliverable) or row.attempts >= MAX_ATTEMPTS:
                row.status, row.last_error = "failed", result.reason
                report.failed += 1
                report.errors.append(f"#{row.id}: {result.reason}")
            else:
                row.status, row.last_error = "pending", result.reason
                row.next_attempt_at = utcnow() + backoff(row.attempts)
                report.retrying += 1
                report.errors.append(f"#{row.id}: {result.reason}")
    return report
