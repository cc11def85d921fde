"""Bundled deliveries: items held per window, then closed into bundle rows.

A route with ``bundle=True`` stores its item as *held*, with the time its
window closes in ``next_attempt_at`` (none when only an admin closes it, as
for a hand-over on a chosen day). Closing turns the held items of one
(section, case, channel, kind, recipient) into one outbox row of kind ``bundle``
(several when there are more than the channel's ``batch_size``). The worker
then claims, retries and marks a bundle row like any other row, and its
items follow its fate, so bundles get the same never-lost, never-doubled
guarantees as single items.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator, Sequence

from sqlalchemy import select, update

from core.models import Delivery, utcnow
from core.types import DeliveryChannel, Route

log = logging.getLogger(__name__)

#: Windows are aligned on this Monday, so weekly bundles close on Mondays
#: 00:00 UTC whatever day the first item came.
EPOCH = dt.datetime(1970, 1, 5, tzinfo=dt.timezone.utc)
BUNDLE_KIND = "bundle"


def closes_at(route: Route, now: dt.datetime) -> dt.datetime | None:
    """When the window an item routed now belongs to closes."""
    if route.bundle_every is None:
        return None
    windows = (now - EPOCH) // route.bundle_every
    return EPOCH + (windows + 1) * route.bundle_every


def _chunks(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _batch_size(state, section_code: str, channel: str) -> int:
    try:
        found = state.channels_for(section_code).get(channel)
    except Exception:  # a broken channel plugin: bundle anyway, the worker reports it
        log.exception("could not load the channels of section %r", section_code)
        found = None
    return max(1, int(getattr(found, "batch_size", DeliveryChannel.batch_size)))


def close_bundles(
    state, *, now: dt.datetime | None = None, force: bool = False, section_code: str | None = None
) -> list[int]:
    """Close the held items whose window has ended (all of them with
    ``force``) into bundle rows, due now; returns the new rows' ids.

    Runs in one write transaction; on PostgreSQL held rows are locked with
    ``SKIP LOCKED``, so two workers closing at once never bundle an item
    twice.
    """
    due = utcnow()
    now = now or due
    query = select(
        Delivery.id, Delivery.section_code, Delivery.case_id, Delivery.channel, Delivery.kind, Delivery.recipient
    ).where(
        Delivery.status == "held"
    )
    if not force:
        query = query.where(Delivery.next_attempt_at <= now)
    if section_code is not None:
        query = query.where(Delivery.section_code == section_code)
    query = query.order_by(Delivery.id)
    if state.db.dialect == "postgresql":
        query = query.with_for_update(skip_locked=True)
    created: list[int] = []
    with state.db.writing() as session:
        groups: dict[tuple, list[int]] = {}
        recipients: dict[tuple, dict] = {}
        for row_id, section, case_id, channel, kind, recipient in session.execute(query):
            key = (section, case_id, channel or "", kind, json.dumps(recipient, sort_keys=True))
            groups.setdefault(key, []).append(row_id)
            recipients.setdefault(key, recipient)
        for key, ids in groups.items():
            section, case_id, channel, kind, _ = key
            for chunk in _chunks(ids, _batch_size(state, section, channel)):
                bundle = Delivery(
                    key=f"{BUNDLE_KIND}:{section}:{chunk[0]}",
                    section_code=section,
                    case_id=case_id,
                    kind=BUNDLE_KIND,
                    channel=channel,
                    bundle=False,
                    recipient=recipients[key],
                    body={"kind": kind, "count": len(chunk)},
                    status="pending",
                    next_attempt_at=due,
                )
                session.add(bundle)
                session.flush()
                session.execute(
                    update(Delivery)
                    .where(Delivery.id.in_(chunk), Delivery.status == "held")
                    .values(status="bundled", batch_id=bundle.id, updated_at=due)
                    .execution_options(synchronize_session=False)
                )
                created.append(bundle.id)
    if created:
        log.info("closed %d bundle(s)", len(created))
    return created
