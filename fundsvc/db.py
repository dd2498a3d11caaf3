"""The declarative base, engine tuning and the write-transaction helper shared by every service."""

from __future__ import annotations

import contextvars
import fcntl
import os
import re
import threading
from collections import namedtuple
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import islice
from operator import gt

import orjson
import zstandard
from sqlalchemy import (
    JSON,
    URL,
    BigInteger,
    Boolean,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    cast,
    event,
    func,
    select,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, registry, scoped_session

# Alembic needs deterministic constraint names to be able to alter them later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Money is an integer number of đồng; BIGINT so a province's yearly total never overflows.
Money = BigInteger
# JSONB on PostgreSQL (indexable, compact), plain JSON text on SQLite.
JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")


def encode_json(document) -> bytes:
    """A document as compact JSON text, keys in the document's own order (so the same document gives the same
    bytes). orjson: a province's 10 MB allocation result takes the json module half a second to write. Every
    key must be a string (else TypeError): allowing others (OPT_NON_STR_KEYS) makes orjson half as slow again."""
    return orjson.dumps(document)


class CompressedDocument(bytes):
    """A JSON document compressed by `CompressedJSON.compress`: a CompressedJSON column stores it as it is."""


class CompressedJSON(TypeDecorator):
    """A JSON document stored whole, zstd-compressed (bytea on PostgreSQL, BLOB on SQLite); read back decoded.

    For documents written and read whole and never queried inside, like a round's allocation result: 10.8 MB of
    JSON for 100,000 nominations, 0.9 MB compressed. Storing the text was most of the cost of an allocation's
    write (PostgreSQL validates json, pglz-compresses it into TOAST and WAL-logs it: 0.2-0.5 s; SQLite writes
    it through its page cache and WAL), and on SQLite every other writer waits for it; zstd's fastest level
    makes a twelfth of the bytes in about 2 ms a MB, and reads them back in 1 ms a MB.

    A value to store may be a document (encoded by `encode_json`), its JSON text already encoded (`bytes` or
    `str`: a service that encodes a document anyway, for its answer or a hash, does not encode it twice, so a
    document that is itself a JSON string must be given encoded), or a CompressedDocument from `compress`
    (stored as it is: compressed before a write transaction, the lock is not held meanwhile). None is NULL.
    Read, a value is the decoded document; `text` selects the stored JSON text instead, decompressed only.
    """

    impl = LargeBinary
    cache_ok = True

    # zstd's fastest level: higher ones take several times as long for a few percent fewer bytes.
    LEVEL = 1

    @classmethod
    def compress(cls, value) -> CompressedDocument:
        """A document, or its JSON text, compressed as a CompressedJSON column stores it."""
        if isinstance(value, CompressedDocument):
            return value
        if isinstance(value, str):
            value = value.encode()
        elif not isinstance(value, bytes | bytearray | memoryview):
            value = encode_json(value)
        # The module's function makes a compression context per call (9 µs): one context must not be shared
        # between threads, and a threaded worker stores from several.
        return CompressedDocument(zstandard.compress(value, cls.LEVEL))

    @staticmethod
    def text(column):
        """`column` selected as the stored document's JSON text (bytes, or None): decompressed, not decoded,
        for an answer that is the document itself."""
        return type_coerce(column, _CompressedJSONText())

    def process_bind_param(self, value, dialect):
        return None if value is None else self.compress(value)

    def process_result_value(self, value, dialect):
        return None if value is None else orjson.loads(zstandard.decompress(value))


class _CompressedJSONText(TypeDecorator):
    """A CompressedJSON column read as its JSON text (see CompressedJSON.text)."""

    impl = LargeBinary
    cache_ok = True

    def process_result_value(self, value, dialect):
        return None if value is None else zstandard.decompress(value)


class UTCDateTime(TypeDecorator):
    """A UTC instant, timezone-aware when read back on every engine.

    SQLite keeps no offset, so it would hand back naive datetimes: an idempotent replay (read from the
    database) would then print `created_at` without the `+00:00` its first answer had.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    # Timestamps are UTC instants (timestamptz on PostgreSQL); printing converts to Asia/Ho_Chi_Minh.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (stored as such on both engines)."""
    return datetime.now(UTC)


# By default, how long a write waits for a lock (SQLite: its turn in the writers' queue, then the busy timeout;
# PostgreSQL: lock_timeout) before the request is answered 503.
WRITE_WAIT_SECONDS = 30.0

# SQLite's result codes for a lock held by someone else (primary codes: extended ones carry them in the low byte).
_SQLITE_BUSY_OR_LOCKED = {5, 6}
# PostgreSQL SQLSTATEs after which the same transaction may succeed if simply run again: serialization failure,
# deadlock, lock not available (lock_timeout), server shutting down or starting up, too many connections.
_PG_RETRYABLE = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300"}


def is_transient(error: DBAPIError) -> bool:
    """Whether a database error is a moment's unavailability (the whole transaction rolled back, worth a retry)
    rather than a fault: a lock held too long, a deadlock or serialization failure, a lost connection."""
    if error.connection_invalidated:
        return True
    original = error.orig
    code = getattr(original, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _SQLITE_BUSY_OR_LOCKED
    state = getattr(original, "sqlstate", None)
    if state is not None:
        return state in _PG_RETRYABLE or state.startswith("08")  # class 08: connection exceptions
    return False


def _wait_for_turn(fd: int, seconds: float | None) -> bool:
    """flock(fd, LOCK_EX), waiting at most `seconds` (None or 0: no limit); False when the turn did not come in
    time, and then `fd` is no longer the caller's: it is closed when the late lock comes.

    The wait stays in the kernel, which wakes the next writer the moment the lock is free. A flock cannot be told
    to give up, and a signal could break it only in the main thread (a threaded worker's requests run in others),
    so a bounded wait is made by a thread of its own: the request waits for it at most `seconds`, and if the lock
    comes later, that thread gives it back at once.
    """
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        pass
    if not seconds:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return True
    got = threading.Event()
    handover = threading.Lock()  # settles a lock coming at the very moment the request gives up
    abandoned = False

    def wait() -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with handover:
            if not abandoned:
                got.set()
                return
        os.close(fd)  # releases the lock nobody waits for any more

    threading.Thread(target=wait, name="writers-queue", daemon=True).start()
    if got.wait(seconds):
        return True
    with handover:
        if got.is_set():
            return True
        abandoned = True
    return False


class _WriterQueue:
    """The SQLite writers' queue: an exclusive flock on `<database>-writers`, taken just before BEGIN IMMEDIATE.

    SQLite's busy handler makes a writer that finds the database locked sleep and retry in growing steps
    (up to 100 ms each), so under concurrent writes the workers spend their time asleep while the lock is
    free, and p99 explodes. Writers queued on the flock instead block in the kernel, which wakes them the
    moment the holder commits. The queue only orders the writers that go through write_transaction: the
    lock taken by BEGIN IMMEDIATE still guards the data (any other writer keeps the busy_timeout), and the
    kernel drops the flock when its process dies, so a SIGKILLed worker never leaves it held. Each write
    transaction opens a file descriptor of its own, so the lock also excludes threads of one process.
    """

    def __init__(self) -> None:
        self.fd: int | None = None

    def join(self, url: URL, seconds: float | None = WRITE_WAIT_SECONDS) -> None:
        """Wait for our turn, at most `seconds` (no-op for an in-memory database, or when already in the queue's
        lock); Unavailable (503, nothing written) when it does not come."""
        if self.fd is not None or not is_shared_file(url):
            return
        fd = os.open(os.path.abspath(url.database) + "-writers", os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            turn = _wait_for_turn(fd, seconds)
        except BaseException:
            os.close(fd)
            raise
        if not turn:
            from fundsvc.errors import database_busy

            raise database_busy()
        self.fd = fd

    def leave(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # releases the flock
            self.fd = None


# Set while a service runs a write transaction: SQLite then starts it with BEGIN IMMEDIATE,
# taking the database write lock up front so a counter read and its increment can never
# interleave with another writer (a deferred BEGIN would fail with SQLITE_BUSY on upgrade),
# after waiting for its turn in the writers' queue.
_writing: contextvars.ContextVar[_WriterQueue | None] = contextvars.ContextVar("writing", default=None)


def configure_engine(engine: Engine, write_wait_seconds: float = WRITE_WAIT_SECONDS) -> None:
    """Install the per-connection settings the service relies on (SQLite pragmas, explicit BEGIN).

    `write_wait_seconds`: how long a writer waits for its turn (SQLite: the writers' queue, then the busy timeout;
    PostgreSQL: a row or table lock, as `lock_timeout`) before the request is answered 503.
    """
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "connect")
        def _postgresql_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every PostgreSQL test
            # A session setting, so outside any transaction (a rolled-back SET would be undone).
            autocommit = dbapi_conn.autocommit
            dbapi_conn.autocommit = True
            with dbapi_conn.cursor() as cur:
                cur.execute(f"SET lock_timeout = {int(write_wait_seconds * 1000)}")
            dbapi_conn.autocommit = autocommit

    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every test
        # pysqlite's own transaction handling is disabled so that we emit BEGIN ourselves.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before we answer 201, surviving a power cut, not only a crash.
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(write_wait_seconds * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):
        # Straight on the DB-API connection: SQLAlchemy's execution path would cost more than the BEGIN
        # (see DriverStatement), and every request begins at least one transaction.
        queue = _writing.get()
        if queue is None:
            on_driver(conn, "BEGIN")
            return
        # Here, not when write_transaction starts: the connection is checked out (and pinged) by now,
        # so the turn is spent on the transaction's own statements only.
        queue.join(conn.engine.url, write_wait_seconds)
        on_driver(conn, "BEGIN IMMEDIATE")


def on_driver(conn: Connection, statement: str) -> None:
    """A statement without parameters (BEGIN, SAVEPOINT…) run on the DB-API connection, bypassing SQLAlchemy's
    transaction bookkeeping; a driver error (SQLITE_BUSY past the busy timeout) raised as SQLAlchemy's."""
    dbapi = conn.dialect.loaded_dbapi
    try:
        conn.connection.dbapi_connection.execute(statement)
    except dbapi.Error as error:
        raise DBAPIError.instance(statement, (), error, dbapi.Error) from error


def begin_write(conn: Connection) -> _WriterQueue:
    """Begin `conn`'s transaction as a write transaction (SQLite: after its turn in the writers' queue, with
    BEGIN IMMEDIATE); the queue to leave once the transaction has ended. For a transaction on a Connection
    rather than a Session (see fundsvc.group_commit)."""
    queue = _WriterQueue()
    token = _writing.set(queue)
    try:
        conn.begin()
    except BaseException:
        queue.leave()
        raise
    finally:
        _writing.reset(token)
    return queue


def is_shared_file(url: URL) -> bool:
    """Whether `url` is a SQLite database file that other connections and processes share (not in memory)."""
    return bool(url.database) and url.database != ":memory:" and not url.database.startswith("file:")


@event.listens_for(Session, "after_commit")
def _leave_writers_queue(_session: Session) -> None:
    """The data is committed: the next writer may go, before this one returns its connection to the pool."""
    queue = _writing.get()
    if queue is not None:
        queue.leave()


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """Run the block as the request's one write transaction; commit on success, roll back on error.

    Any read transaction the request already opened (e.g. to authenticate) is closed first, so the
    write transaction starts fresh and, on SQLite, with the write lock held from its first statement.
    Keep the block short, with reads and checks done before it: on SQLite every other writer waits.
    """
    if isinstance(session, scoped_session):
        session = session()
    if session.in_transaction():
        session.commit()
    # One nested in another (which SQLAlchemy then refuses) must not wait in the queue behind its own outer one.
    outer = _writing.get()
    queue = outer or _WriterQueue()
    token = _writing.set(queue)
    try:
        with session.begin():
            yield session
    finally:
        _writing.reset(token)
        if outer is None:
            queue.leave()  # after a rollback (a commit has left the queue already: _leave_writers_queue)


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


def fetch_columns(connection: Connection, columns: list, *, where, order_by, parallel: bool = False) -> Columns:
    """The rows `where` holds, in the order of `order_by` (a unique integer or text column), column by column: typed as
    SQLAlchemy would type them, and as JSON texts of the values as the database gave them (what a hash of
    the inputs should cover).

    For large reads (a province's 100,000 nominations). The database gathers each column into one JSON
    array (json_group_array on SQLite, json_agg on PostgreSQL), which orjson reads in C: one row of a
    dozen texts instead of 100,000 rows of driver tuples that would then be transposed. Such columns
    (dates, marks, codes, flags) hold few distinct values, so each distinct value is converted once, and
    equal converted values and texts share one object, which later dict lookups on them compare by identity.
    Supported: integers, strings, booleans, dates and Numerics; anything else raises TypeError.

    `parallel`, on PostgreSQL: the columns are gathered on two other connections of the pool, half on each,
    at once and on one snapshot (see _gather_in_parallel). The read then does not see what `connection`'s
    own transaction has written and not committed.
    """
    dialect = connection.dialect
    if not isinstance(order_by.type, Integer | String):
        raise TypeError(f"fetch_columns: order by an integer or text column, not {order_by.type!r}")
    converters = [_json_converter(column, dialect) for column in columns]
    at = next((i for i, column in enumerate(columns) if column is order_by), None)
    if dialect.name == "postgresql":
        # Numerics as text: a JSON number would come back a float, not the exact Decimal.
        selected = [cast(c, Text) if _is_decimal(c.type) else c for c in columns]
        gather = func.json_agg
    else:
        selected = columns
        gather = func.json_group_array
    # The rows are put in order here, not by the database: they mostly come in order already (SQLite reads
    # them through an index, PostgreSQL in the order they were written), and PostgreSQL would otherwise sort
    # the whole table, or sort it once per column with an ORDER BY inside each aggregate.
    read = selected if at is not None else [*selected, order_by]
    rows = select(*read).where(where).subquery()
    aggregates = [cast(gather(column), Text) for column in rows.c]
    gathered = None
    if parallel and dialect.name == "postgresql" and len(aggregates) > 2:
        gathered = _gather_in_parallel(connection.engine, aggregates, at if at is not None else len(aggregates) - 1)
    if gathered is None:
        gathered = connection.execute(select(*aggregates)).one()
    texts = [text if text is not None else "[]" for text in gathered]
    values = [orjson.loads(text) for text in texts]
    if at is None:  # read only to order the rows by
        order = values.pop()
        texts.pop()
    else:
        order = values[at]
    if any(map(gt, order, islice(order, 1, None))):
        ranks = sorted(range(len(order)), key=order.__getitem__)
        values = [[column[i] for i in ranks] for column in values]
        texts = [orjson.dumps(column).decode() for column in values]
    typed = []
    for column, column_values, convert in zip(columns, values, converters, strict=True):
        if convert is not None:
            # Each distinct value converted once, and its converted value shared by all its rows.
            converted = {value: None if value is None else convert(value) for value in set(column_values)}
            typed.append(list(map(converted.__getitem__, column_values)))
        elif isinstance(column.type, String) and not _mostly_distinct(column_values):
            # The first of the texts equal under == stands for them all (one pass in C): a text's hash is
            # then worked out once, and lookups find their keys by identity.
            first = {}
            typed.append(list(map(first.setdefault, column_values, column_values)))
        else:
            typed.append(column_values)  # numbers, flags (true and false are one object each), ids, codes
    return Columns(texts, typed)


# What pg_export_snapshot() returns, checked before it is written into SET TRANSACTION SNAPSHOT (which takes
# no bound parameter).
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")


def _gather_in_parallel(engine: Engine, aggregates: list, order_at: int) -> list | None:
    """The one row of `select(*aggregates)`, half of the aggregates computed by a second backend at the same
    time; None if the two halves did not gather the rows in one order.

    PostgreSQL runs a query on one core, and building a province's JSON arrays is most of the read (about
    0.27 s for 100,000 nominations, while the client waits); two backends do it in about half the time on two
    cores. Both halves must describe the same rows in the same order: the first connection exports its
    snapshot (REPEATABLE READ) and the second one reads on it; neither joins the other's scan midway (a
    synchronized scan starts where a running one is), and both gather the order column
    (aggregates[order_at]), which must come out the same.
    """
    order = aggregates[order_at]
    others = [i for i in range(len(aggregates)) if i != order_at]
    halves = [[order_at, *others[0::2]], [order_at, *others[1::2]]]
    rows: dict = {}

    def gather(half: int, connection: Connection) -> None:
        connection.exec_driver_sql("SET LOCAL synchronize_seqscans = off")
        rows[half] = connection.execute(select(order, *(aggregates[i] for i in halves[half][1:]))).one()

    with engine.connect() as first:
        first.execution_options(isolation_level="REPEATABLE READ")
        snapshot = first.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
        if not _SNAPSHOT_ID.fullmatch(snapshot):
            raise RuntimeError(f"unexpected snapshot id {snapshot!r}")

        def gather_the_second_half():
            try:
                with engine.connect() as second:
                    second.execution_options(isolation_level="REPEATABLE READ")
                    second.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                    gather(1, second)
            except BaseException as error:  # raised again in the calling thread
                rows["error"] = error

        beside = threading.Thread(target=gather_the_second_half, name="fetch_columns", daemon=True)
        beside.start()
        try:
            gather(0, first)
        finally:
            beside.join()
    if "error" in rows:
        raise rows["error"]
    if rows[0][0] != rows[1][0]:
        return None
    gathered: list = [None] * len(aggregates)
    for half, row in rows.items():
        for i, text in zip(halves[half], row, strict=True):
            gathered[i] = text
    return gathered


def _mostly_distinct(values: list, sample: int = 1024) -> bool:
    return len(set(islice(values, sample))) > min(len(values), sample) // 2


def _is_decimal(type_) -> bool:
    return isinstance(type_, Numeric) and type_.asdecimal


def _json_converter(column, dialect):
    """What turns a value of `column` as the database writes it in JSON into SQLAlchemy's typed value."""
    type_ = column.type
    if not isinstance(type_, Integer | String | Boolean | Date | Numeric) or isinstance(type_, DateTime):
        raise TypeError(f"fetch_columns: column {column.key!r} of type {type_!r} is not supported")
    if dialect.name == "postgresql":
        if _is_decimal(type_):
            return Decimal
        return date.fromisoformat if isinstance(type_, Date) else None
    # SQLite's JSON holds the very values its driver would return (integers, reals, text, NULL).
    return type_.dialect_impl(dialect).result_processor(dialect, None)


@dataclass(frozen=True)
class Columns:
    """A query's result column by column: see fetch_columns."""

    texts: list[str]  # each column as the JSON array the database sent
    typed: list[list]  # as SQLAlchemy's column types convert the values (dates, Decimals, bools)


def insert_ignore(connection: Connection, table, values: dict) -> None:
    """INSERT … ON CONFLICT DO NOTHING on either engine (used to create counter rows race-free)."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    connection.execute(insert(table).values(**values).on_conflict_do_nothing())
