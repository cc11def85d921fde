"""What the outbox holds: counts by status and channel, the items that need
a person, and the held items waiting for their window.

One query set for ``flask deliveries status`` (install-wide) and the admin's
Deliveries page (one section): the caller passes ``restrict``, which the
admin builds from ``core.admin.access.scope`` so section scoping stays in
its one place.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core.bundles import BUNDLE_KIND
from core.models import Delivery

#: Limits a query (to a section); the identity for the whole install.
Restrict = Callable[[Select], Select]

#: Statuses a person has to look at.
PROBLEMS = ("failed", "unrouted")


def _everything(query: Select) -> Select:
    return query


@dataclass(frozen=True)
class StatusCount:
    status: str
    channel: str | None
    count: int


@dataclass(frozen=True)
class HeldGroup:
    """Held items of one channel and kind for one case, closing together."""

    channel: str | None
    kind: str
    case_id: str | None
    #: When the window closes; None: only an admin closes it (a hand-over).
    closes_at: dt.datetime | None
    count: int


@dataclass
class DeliverySummary:
    #: Items (never bundle rows), by status and channel.
    items: list[StatusCount] = field(default_factory=list)
    #: Bundle rows, by status and channel: counted apart from the items they carry.
    bundles: list[StatusCount] = field(default_factory=list)
    #: Failed and unrouted rows (items and bundles), oldest problem first.
    problems: list[Delivery] = field(default_factory=list)
    held: list[HeldGroup] = field(default_factory=list)

    @staticmethod
    def _by_status(counts: list[StatusCount]) -> dict[str, int]:
        totals: dict[str, int] = {}
        for row in counts:
            totals[row.status] = totals.get(row.status, 0) + row.count
        return dict(sorted(totals.items()))

    @property
    def items_by_status(self) -> dict[str, int]:
        return self._by_status(self.items)

    @property
    def bundles_by_status(self) -> dict[str, int]:
        return self._by_status(self.bundles)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def summary(session: Session, restrict: Restrict = _everything, *, limit: int = 50) -> DeliverySummary:
    """The outbox as ``restrict`` lets it be seen; at most ``limit`` problem
    rows and held groups (counts are always complete)."""
    counted = select(Delivery.status, Delivery.channel, func.count()).group_by(Delivery.status, Delivery.channel)
    items = session.execute(restrict(counted.where(Delivery.kind != BUNDLE_KIND))).all()
    bundle_rows = session.execute(restrict(counted.where(Delivery.kind == BUNDLE_KIND))).all()
    problems = session.scalars(
        restrict(select(Delivery).where(Delivery.status.in_(PROBLEMS)).order_by(Delivery.status, Delivery.id).limit(limit))
    ).all()
    held = session.execute(
        restrict(
            select(Delivery.channel, Delivery.kind, Delivery.case_id, Delivery.next_attempt_at, func.count())
            .where(Delivery.status == "held")
            .group_by(Delivery.channel, Delivery.kind, Delivery.case_id, Delivery.next_attempt_at)
            .order_by(Delivery.next_attempt_at, Delivery.channel, Delivery.case_id)
            .limit(limit)
        )
    ).all()

    def ordered(rows) -> list[StatusCount]:
        return [StatusCount(s, c, int(n)) for s, c, n in sorted(rows, key=lambda r: (r[0], r[1] or ""))]

    for row in problems:
        session.expunge(row)
    return DeliverySummary(
        items=ordered(items),
        bundles=ordered(bundle_rows),
        problems=list(problems),
        held=[HeldGroup(channel, kind, case_id, _aware(closes), int(n)) for channel, kind, case_id, closes, n in held],
    )
