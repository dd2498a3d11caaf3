"""The database layer every service shares, by what it does:

- `types`: the declarative base and the column types (money, JSON, compressed documents, UTC instants);
- `transactions`: engine settings, the write transaction and SQLite's writers' queue, transient errors;
- `driver`: statements run straight on the DB-API cursor, INSERT … ON CONFLICT DO NOTHING;
- `columns`: large reads column by column;
- `statistics`: the planner's statistics kept current (ANALYZE, PRAGMA optimize).

The names services use are importable from `fundsvc.db` itself.
"""

from fundsvc.db.columns import Columns, fetch_columns
from fundsvc.db.driver import DriverStatement, connection_of, insert_ignore
from fundsvc.db.statistics import analyze, keep_statistics
from fundsvc.db.transactions import (
    WRITE_WAIT_SECONDS,
    begin_write,
    configure_engine,
    is_shared_file,
    is_transient,
    on_driver,
    write_transaction,
)
from fundsvc.db.types import (
    NAMING_CONVENTION,
    Base,
    CompressedDocument,
    CompressedJSON,
    JSONType,
    Money,
    UTCDateTime,
    encode_json,
    utcnow,
)

__all__ = [
    "NAMING_CONVENTION",
    "WRITE_WAIT_SECONDS",
    "Base",
    "Columns",
    "CompressedDocument",
    "CompressedJSON",
    "DriverStatement",
    "JSONType",
    "Money",
    "UTCDateTime",
    "analyze",
    "begin_write",
    "configure_engine",
    "connection_of",
    "encode_json",
    "fetch_columns",
    "insert_ignore",
    "is_shared_file",
    "is_transient",
    "keep_statistics",
    "on_driver",
    "utcnow",
    "write_transaction",
]
