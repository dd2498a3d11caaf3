"""Engine settings and the write transaction: SQLite's pragmas and writers' queue, PostgreSQL's lock timeout,
and which database errors are a moment's unavailability (503, retry) rather than a fault."""

from __future__ import annotations

import contextvars
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import URL, Connection, Engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, scoped_session

from fundsvc.observability.metrics import waited_for_write
from fundsvc.request_limit import shielded, stop_if_past_limit, unshielded

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
        self.waited: float | None = None  # seconds the turn took to come, counted once the turn is given back

    def join(self, url: URL, seconds: float | None = WRITE_WAIT_SECONDS) -> None:
        """Wait for our turn, at most `seconds` (no-op for an in-memory database, or when already in the queue's
        lock); Unavailable (503, nothing written) when it does not come."""
        if self.fd is not None or not is_shared_file(url):
            return
        fd = os.open(os.path.abspath(url.database) + "-writers", os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        asked = time.perf_counter()
        try:
            turn = _wait_for_turn(fd, seconds)
            self.waited = time.perf_counter() - asked
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
        if self.waited is not None:  # counted with the lock given back, so the next writer does not wait for it
            waited_for_write("writers", self.waited)
            self.waited = None


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
    # A request past its limit (fundsvc.request_limit) is stopped in the block's own statements, never while the
    # transaction begins or ends; past its limit at the end, the block is rolled back, not committed.
    with shielded():
        if session.in_transaction():
            session.commit()
        # One nested in another (which SQLAlchemy then refuses) must not wait in the queue behind its own outer one.
        outer = _writing.get()
        queue = outer or _WriterQueue()
        token = _writing.set(queue)
        try:
            with session.begin():
                with unshielded():
                    yield session
                stop_if_past_limit()
        finally:
            _writing.reset(token)
            if outer is None:
                queue.leave()  # after a rollback (a commit has left the queue already: _leave_writers_queue)
