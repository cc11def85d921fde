"""CSV exports of a section's actions, written as a stream of small chunks.

Shared by the admin's export view and ``bench/export.py``: rows are fetched
``CHUNK_ROWS`` at a time (a server-side cursor on PostgreSQL) and each chunk
is written to its own small buffer, so the memory used does not grow with
the number of rows.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core.models import Action, Supporter

#: Rows fetched and written per chunk.
CHUNK_ROWS = 2000
#: Lets spreadsheet programs recognise UTF-8.
BOM = "\ufeff"

HEADER = ("action_id", "created_at", "case_id", "action_type", "count", "status", "language")
PERSONAL_HEADER = HEADER + ("email", "name", "country")

#: First characters that make a spreadsheet read a cell as a formula.
_FORMULA_START = frozenset("=+-@\t\r")


@dataclass(frozen=True)
class ExportFilters:
    """What to export; None means every value."""

    case_id: str | None = None
    action_type: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    personal: bool = False

    def describe(self) -> dict[str, Any]:
        """The filters as the audit log keeps them."""
        return {
            "case_id": self.case_id,
            "action_type": self.action_type,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }


def safe_cell(value: Any) -> Any:
    """Neutralise text a spreadsheet would run as a formula (names are
    user-written): a leading quote makes it plain text."""
    if isinstance(value, str) and value[:1] in _FORMULA_START:
        return "'" + value
    return value


def _iso_utc(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:  # SQLite gives back naive values, stored in UTC
        return value.isoformat() + "+00:00"
    return value.astimezone(dt.timezone.utc).isoformat()


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.timezone.utc)


def export_query(scoped: Any, filters: ExportFilters) -> Select:
    """The rows to export, limited to the section by ``scoped`` (an
    ``access.Scope``), in id order."""
    columns: list[Any] = [
        Action.id,
        Action.created_at,
        Action.case_id,
        Action.action_type,
        Action.count,
        Action.status,
        Action.payload["language"].as_string().label("language"),
    ]
    if filters.personal:
        columns += [Supporter.email, Supporter.name, Supporter.country]
    query: Select = scoped.where(select(*columns), Action)
    if filters.personal:
        query = query.outerjoin(Supporter, Supporter.id == Action.supporter_id)
    if filters.case_id:
        query = query.where(Action.case_id == filters.case_id)
    if filters.action_type:
        query = query.where(Action.action_type == filters.action_type)
    if filters.since:
        query = query.where(Action.created_at >= _day_start(filters.since))
    if filters.until:
        query = query.where(Action.created_at < _day_start(filters.until + dt.timedelta(days=1)))
    return query.order_by(Action.id)


def format_rows(rows: Iterable[Sequence[Any]], personal: bool) -> str:
    """One chunk of CSV text. Only cells that come from supporters can hold
    a formula (case ids, action types and statuses are the portal's own), so
    only they go through :func:`safe_cell`: this runs a million times."""
    buffer = io.StringIO()
    write = csv.writer(buffer, lineterminator="\r\n").writerow
    safe = safe_cell
    iso = _iso_utc
    for row in rows:
        cells = [row[0], iso(row[1]), row[2], row[3], row[4], row[5], safe(row[6] or "")]
        if personal:
            cells += [safe(row[7] or ""), safe(row[8] or ""), safe(row[9] or "")]
        write(cells)
    return buffer.getvalue()


def header(personal: bool) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(PERSONAL_HEADER if personal else HEADER)
    return BOM + buffer.getvalue()


def stream_csv(session: Session, query: Select, personal: bool, chunk_rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """The export as UTF-8 chunks: the header, then one chunk per batch of
    rows; only one batch is ever held in memory."""
    yield header(personal).encode("utf-8")
    result = session.execute(query, execution_options={"yield_per": chunk_rows, "stream_results": True})
    try:
        for rows in result.partitions():
            yield format_rows(rows, personal).encode("utf-8")
    finally:
        result.close()


def filename(section_code: str, today: dt.date, personal: bool) -> str:
    return f"actions-{section_code}-{today.isoformat()}{'-personal' if personal else ''}.csv"
