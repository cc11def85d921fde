"""Action counts: contention-free on the write path, O(1) on the read path.

Each (section, case, action type) key is split over ``SHARDS`` rows and an
action adds one to a random shard with an upsert, so concurrent writers
rarely touch the same row (the hot single counter row is what the UK
petitions site had to replace in 2019). Reads add up the shard rows, whose
number depends on sections x cases x action types, never on how many
actions were taken; a page view reuses a snapshot at most
``COUNTER_CACHE_SECONDS`` old.
"""
from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from core.database import Database
from core.models import CounterShard

SHARDS = 8


def _upsert(db: Database):
    table = CounterShard.__table__
    stmt = db.insert(table).values({name: bindparam(name) for name in ("section_code", "case_id", "action_type", "shard", "value")})
    return stmt.on_conflict_do_update(
        index_elements=["section_code", "case_id", "action_type", "shard"],
        set_={"value": table.c.value + stmt.excluded.value},
    )


def increment(db: Database, session: Session, section_code: str, case_id: str, action_type: str, by: int = 1) -> None:
    """Count ``by`` actions, inside the caller's transaction."""
    params = {
        "section_code": section_code,
        "case_id": case_id,
        "action_type": action_type,
        "shard": random.randrange(SHARDS),
        "value": by,
    }
    session.execute(db.statement(_upsert), params)


@dataclass(frozen=True)
class Counts:
    """A snapshot of every count, keyed (section, case, action type)."""

    by_key: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def _sum(self, section: str | None = None, case: str | None = None, action_type: str | None = None) -> int:
        return sum(
            n
            for (s, c, t), n in self.by_key.items()
            if (section is None or s == section) and (case is None or c == case) and (action_type is None or t == action_type)
        )

    def case(self, section_code: str, case_id: str) -> int:
        return self._sum(section_code, case_id)

    def case_world(self, case_id: str) -> int:
        return self._sum(case=case_id)

    def section(self, section_code: str) -> int:
        return self._sum(section_code)

    def world(self) -> int:
        return self._sum()

    def by_action_type(self, section_code: str) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for (s, _c, t), n in self.by_key.items():
            if s == section_code:
                totals[t] += n
        return dict(totals)


def read(session: Session) -> Counts:
    rows = session.execute(
        select(CounterShard.section_code, CounterShard.case_id, CounterShard.action_type, func.sum(CounterShard.value)).group_by(
            CounterShard.section_code, CounterShard.case_id, CounterShard.action_type
        )
    )
    return Counts({(s, c, t): int(n or 0) for s, c, t, n in rows})


class CountCache:
    """A per-process snapshot shared by page views for a few seconds."""

    def __init__(self, max_age: float) -> None:
        self.max_age = max_age
        self._lock = threading.Lock()
        self._snapshot: Counts | None = None
        self._taken = 0.0

    def get(self, session: Session, fresh: bool = False) -> Counts:
        now = time.monotonic()
        snapshot = self._snapshot
        if fresh or snapshot is None or now - self._taken > self.max_age:
            snapshot = read(session)
            with self._lock:
                self._snapshot, self._taken = snapshot, now
        return snapshot
