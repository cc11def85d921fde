"""Engine and sessions: SQLite by default, PostgreSQL when DATABASE_URL says so.

SQLite gets WAL, a busy timeout, foreign keys, and ``BEGIN IMMEDIATE`` for
write transactions, so concurrent gunicorn workers wait for each other
instead of failing with "database is locked" when a read turns into a write.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker


def _is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    engine = create_engine(url, **kwargs)
    if _is_sqlite(engine):

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" event emit BEGIN itself (see below).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "")
            conn.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


class Database:
    """One engine per app; sessions for reading and for writing."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        writer_bind = self.engine.execution_options(sqlite_begin="IMMEDIATE") if _is_sqlite(self.engine) else self.engine
        self._writer = sessionmaker(writer_bind, expire_on_commit=False)
        self._statements: dict[str, Any] = {}

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        """A session for reads (and occasional writes that can't conflict)."""
        return self._reader()

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A transaction that is going to write: committed on success,
        rolled back on any exception."""
        session = self._writer()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    def insert(self, table: Any) -> Any:
        """The dialect's INSERT, which supports ON CONFLICT on both SQLite
        and PostgreSQL."""
        module = postgresql if self.dialect == "postgresql" else sqlite
        return module.insert(table)

    def statement(self, builder: Callable[[Database], Any]) -> Any:
        """A statement built once per database (with bind parameters) and
        reused: building it per request cost more than running it."""
        stmt = self._statements.get(builder.__qualname__)
        if stmt is None:
            stmt = self._statements[builder.__qualname__] = builder(self)
        return stmt

    def dispose(self) -> None:
        self.engine.dispose()
