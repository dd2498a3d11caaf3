"""Statements run straight on the DB-API cursor (for the gift path's write lock), and INSERT … ON CONFLICT DO
NOTHING on either engine."""

from __future__ import annotations

from collections import namedtuple

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, scoped_session


class DriverStatement:
    """A Core statement run straight on the DB-API cursor: inside a gift's write lock.

    SQLAlchemy's execution path costs about a tenth of a millisecond of Python per statement, and on SQLite
    every writer waiting for the lock pays it too: a gift's handful of statements made half of the time the
    lock was held. This compiles the statement once per dialect and set of
    parameter names (with the compiler SQLAlchemy would use), converts the values with the same bind
    processors, and runs it on the connection's DB-API cursor inside the connection's transaction. Driver
    errors are raised as SQLAlchemy's (an IntegrityError stays an IntegrityError). What it does not do:
    column defaults (give every value) and result processing of `execute` (RETURNING rows come back as the
    driver's tuples: use it for integer ids and counters).
    """

    def __init__(self, statement) -> None:
        self.statement = statement
        self._compiled: dict = {}
        self._shapes: dict = {}

    def _compile(self, dialect, keys: frozenset):
        compiled = self.statement.compile(dialect=dialect, column_keys=sorted(keys))
        processors = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors[name] = processor
        entry = self._compiled[(dialect.name, keys)] = (compiled, str(compiled), compiled.positiontup, processors)
        return entry

    def _run(self, connection: Connection, values: dict):
        """The DB-API cursor, the statement executed on it with `values` (the caller closes it)."""
        dialect = connection.dialect
        keys = frozenset(values)
        entry = self._compiled.get((dialect.name, keys)) or self._compile(dialect, keys)
        compiled, sql, positions, processors = entry
        params = compiled.construct_params(values)
        for name, processor in processors.items():
            params[name] = processor(params[name])
        if positions is not None:
            params = tuple(params[name] for name in positions)
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(sql, params)
        except BaseException as error:
            cursor.close()
            if isinstance(error, dialect.loaded_dbapi.Error):
                raise DBAPIError.instance(sql, params, error, dialect.loaded_dbapi.Error) from error
            raise
        return cursor

    def _fetch(self, connection: Connection, values: dict, rows: str) -> tuple:
        """Run with `values`; (the cursor's `rows` method's answer, or None when nothing is returned, and the
        cursor's description), the cursor closed whatever happens."""
        cursor = self._run(connection, values)
        try:
            description = cursor.description
            return (getattr(cursor, rows)() if description is not None else None), description
        finally:
            cursor.close()

    def execute(self, connection: Connection, values: dict) -> tuple | None:
        """Run with `values` on the SQLAlchemy connection's transaction; the first row returned, if any."""
        return self._fetch(connection, values, "fetchone")[0]

    def first(self, connection: Connection, values: dict | None = None) -> tuple | None:
        """Run a SELECT; its first row typed as SQLAlchemy would, as a named tuple (fields: the selected keys).

        For the small lookups every request makes (its token, unit, fund, donor): SQLAlchemy's execution and
        Row machinery cost more than the query itself.
        """
        row, description = self._fetch(connection, values or {}, "fetchone")
        if row is None:
            return None
        shape = self._shapes.get(connection.dialect.name) or self._shape(connection.dialect, description)
        named, processors = shape
        return named._make([v if p is None or v is None else p(v) for v, p in zip(row, processors, strict=True)])

    def _shape(self, dialect, description) -> tuple:
        """The named tuple class and the per-column result processors of this SELECT on `dialect`."""
        selected = self.statement.selected_columns
        named = namedtuple("Row", [column.key for column in selected], rename=True)
        processors = [
            column.type.dialect_impl(dialect).result_processor(dialect, described[1])
            for column, described in zip(selected, description, strict=True)
        ]
        shape = self._shapes[dialect.name] = (named, processors)
        return shape


def insert_ignore(connection: Connection, table, values: dict) -> None:
    """INSERT … ON CONFLICT DO NOTHING on either engine (used to create counter rows race-free)."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    connection.execute(insert(table).values(**values).on_conflict_do_nothing())


def connection_of(target: Session | scoped_session | Connection) -> Connection:
    """The connection of a session's transaction (begun if need be), or `target` itself when it is one."""
    return target if isinstance(target, Connection) else target.connection()
