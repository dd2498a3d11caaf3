"""The planner's statistics: kept current so that it picks the right index as tables grow.

SQLite never gathers statistics by itself: without them it guesses, and at a province's size it guessed wrong
(the status index for "today's gifts", 0.12 s against 0.000 s). So `ANALYZE` runs after a bulk load (the
province data set, an import of nominations) and after migrations, and `PRAGMA optimize` (which re-analyzes only
the tables whose size changed much since, bounded by `analysis_limit`) whenever a pooled connection is closed.
PostgreSQL's autovacuum keeps its own; an explicit `ANALYZE` after a bulk load spares the wait for it.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import Session

from fundsvc.db.driver import connection_of

# Rows SQLite reads per index when it analyzes (the documented recommendation): bounds PRAGMA optimize's cost.
ANALYSIS_LIMIT = 1000


def analyze(target: Session | Connection) -> None:
    """Gather fresh statistics of every table, in the caller's transaction, then commit it (a Session)."""
    connection_of(target).execute(text("ANALYZE"))
    if isinstance(target, Session):
        target.commit()


def keep_statistics(engine: Engine) -> None:
    """SQLite: bound the cost of analyzing, and run `PRAGMA optimize` as each pooled connection closes."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _limit(dbapi_conn, _record):  # pragma: no cover - exercised by every test
        dbapi_conn.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")

    @event.listens_for(engine, "close")
    def _optimize(dbapi_conn, _record):  # pragma: no cover - exercised by every test that closes its engine
        try:
            dbapi_conn.execute("PRAGMA optimize")
        except sqlite3.OperationalError:
            # Another connection holds the write lock (or the file is gone): statistics can wait for the next
            # close; raising here would turn the request that closed this connection into an error of its own.
            pass
