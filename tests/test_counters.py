"""Counts: sharded on write, bounded on read, correct under concurrency."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from core import counters
from core.models import CounterShard


def test_increments_spread_over_shards_and_add_up(app):
    portal = app.extensions["ecrire"]
    for _ in range(200):
        with portal.db.writing() as session:
            counters.increment(portal.db, session, "fr", "damisoa", "petition")
    with portal.db.writing() as session:
        counters.increment(portal.db, session, "be", "damisoa", "petition", by=5)
    with portal.db.session() as session:
        rows = session.scalar(select(func.count()).select_from(CounterShard))
        counts = counters.read(session)
    # Bounded by shards per key, however many actions there were.
    assert rows <= counters.SHARDS + 1 and rows > 2
    assert counts.case("fr", "damisoa") == 200
    assert counts.case_world("damisoa") == 205
    assert counts.world() == 205 and counts.section("be") == 5
    assert counts.by_action_type("fr") == {"petition": 200}


def count_concurrently(portal, writers: int, each: int) -> int:
    """``writers`` threads each count ``each`` actions on one hot key, in
    their own transactions; returns the count read back."""

    def writer():
        for _ in range(each):
            with portal.db.writing() as session:
                counters.increment(portal.db, session, "fr", "damisoa", "petition")

    threads = [threading.Thread(target=writer) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with portal.db.session() as session:
        return counters.read(session).case("fr", "damisoa")


def test_concurrent_writers_lose_no_count(app):
    assert count_concurrently(app.extensions["ecrire"], writers=4, each=25) == 100


def test_page_views_share_a_short_lived_snapshot(app):
    portal = app.extensions["ecrire"]
    cache = counters.CountCache(max_age=60)
    with portal.db.session() as session:
        assert cache.get(session).world() == 0
    with portal.db.writing() as writing:
        counters.increment(portal.db, writing, "fr", "damisoa", "petition")
    with portal.db.session() as session:
        assert cache.get(session).world() == 0  # still the cached snapshot
    with portal.db.session() as session:
        assert cache.get(session, fresh=True).world() == 1
