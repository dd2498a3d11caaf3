"""Group commit on SQLite: the gifts that one worker process's threads write at the same moment share one
transaction, and so one wait for the disk.

With synchronous=FULL every COMMIT waits until the WAL is on disk (one to two milliseconds here), and SQLite's
single write lock is held all that time, while a gift's own statements take a fraction of it: one commit per gift
caps a server at a few hundred gifts a second, whatever its cores. Under a threaded server (gunicorn -k gthread)
a gift that finds the transaction of another gift of its process still open writes into it instead of queueing
for one of its own, and the last gift of the group commits for all. This is the group commit databases have
always done; durability and numbering are unchanged:

* each gift runs in a SAVEPOINT of its own: a gift that fails (an Idempotency-Key taken, a constraint) is rolled
  back to it, its receipt number given back, and the others of the group go on;
* a thread answers only once the COMMIT holding its gift has returned, the WAL synced; when that COMMIT fails,
  every gift of the group fails with its error and none is stored;
* a group grows while threads of the process are waiting to write, up to MAX_GROUP gifts, then commits: other
  processes (which wait for the writers' queue meanwhile) get their turn.

Under sync workers (one thread per process) every group has one gift: the same transaction as without grouping.
PostgreSQL, which groups commits itself and locks rows rather than the database, runs a plain write transaction.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session, scoped_session

from fundsvc.db import begin_write, is_shared_file, on_driver, write_transaction
from fundsvc.observability.metrics import waited_for_write
from fundsvc.request_limit import shielded, stop_if_past_limit

T = TypeVar("T")

# A bound on how long one process keeps SQLite's write lock, and so on the wait of the other processes' writers.
MAX_GROUP = 32


def grouped_write(session: Session, work: Callable[[Connection], T]) -> T:
    """`work(connection)` committed as a write transaction of its own, or (SQLite file) as part of a group commit.

    `work` runs with the write lock held: it must only write, on the connection it is given, with every read
    and check done before. Any read transaction the session has open is ended first (as write_transaction does).
    """
    if isinstance(session, scoped_session):
        session = session()
    engine = session.get_bind()
    if engine.dialect.name != "sqlite" or not is_shared_file(engine.url):
        with write_transaction(session):
            return work(session.connection())
    if session.in_transaction():
        session.commit()
    # A group is never cut midway (other requests' gifts share its commit); a request past its limit is stopped
    # before it joins one or once its gift is committed (fundsvc.request_limit).
    with shielded():
        stop_if_past_limit()
        return _group_of(engine).run(engine, work)


class _Group:
    """One shared transaction: how many gifts it holds, and, once committed (`done`), the commit's error if any."""

    __slots__ = ("done", "error", "size")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.size = 0


class GroupCommit:
    """The open group of one engine in one process, the connection it is written on (kept from one group to the
    next), and the turn the process's threads take to write into it."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self._turn = threading.Lock()  # one thread at a time writes (they share one connection)
        self._arrivals = threading.Lock()
        self._waiting = 0  # threads waiting for the turn: the group stays open for them
        self._group: _Group | None = None
        self._connection: Connection | None = None
        self._queue = None

    def run(self, engine: Engine, work: Callable[[Connection], T]) -> T:
        """`work(connection)` in a savepoint of the open group (a new group if none is open); returns or raises
        what it did once the group has committed. The last thread in, when nobody else waits, commits."""
        with self._arrivals:
            self._waiting += 1
        asked = time.perf_counter()
        try:
            self._turn.acquire()
        finally:
            with self._arrivals:
                self._waiting -= 1
        waited = time.perf_counter() - asked
        failure: BaseException | None = None
        try:
            group = self._group or self._open(engine)
            group.size += 1
            try:
                result = self._in_savepoint(work)
            except BaseException as error:
                failure = error
            if self._group is group and (self._waiting == 0 or group.size >= MAX_GROUP):
                self._commit(group)
        finally:
            self._turn.release()
        group.done.wait()
        waited_for_write("group", waited)  # counted with no lock held
        if group.error is not None:
            raise group.error
        if failure is not None:
            raise failure
        return result

    def _open(self, engine: Engine) -> _Group:
        """Begin the group's write transaction (after the writers' queue) on the process's group connection."""
        if self._connection is None:
            self._connection = engine.connect()
        try:
            self._queue = begin_write(self._connection)
        except BaseException:
            self._drop_connection()  # its transaction state is unknown
            raise
        self._group = _Group()
        return self._group

    def close(self, _engine: Engine | None = None) -> None:
        """Close the group connection (when its engine is disposed, as it is not in the pool: a disposed engine
        must leave no connection open, so that its last one checkpoints SQLite's WAL into the database file)."""
        with self._turn:
            if self._connection is not None:
                self._drop_connection()

    def _drop_connection(self) -> None:
        self._connection.invalidate()
        self._connection.close()
        self._connection = None

    def _in_savepoint(self, work: Callable[[Connection], T]) -> T:
        connection = self._connection
        on_driver(connection, "SAVEPOINT grouped")
        try:
            result = work(connection)
        except BaseException:
            try:
                on_driver(connection, "ROLLBACK TO grouped")
                on_driver(connection, "RELEASE grouped")
            except BaseException as broken:
                # The transaction itself is gone (SQLite rolls it back on some I/O errors): so is the group.
                self._abort(broken)
            raise
        on_driver(connection, "RELEASE grouped")
        return result

    def _commit(self, group: _Group) -> None:
        try:
            self._connection.commit()
        except BaseException as error:
            self._abort(error)
            return
        self._end(group)

    def _abort(self, error: BaseException) -> None:
        """The group's transaction cannot commit: roll it back; every gift of the group fails with `error`."""
        group = self._group
        group.error = error
        # Closing the driver's connection rolls its transaction back, whatever state a failed COMMIT left it in
        # (SQLite keeps the transaction open when a deferred constraint refuses the COMMIT); aborts are rare.
        self._drop_connection()
        self._end(group)

    def _end(self, group: _Group) -> None:
        """The transaction is over: the next writer (of any process) may go; the group's threads may answer."""
        self._queue.leave()
        self._queue = self._group = None
        group.done.set()


_groups_lock = threading.Lock()


def _group_of(engine: Engine) -> GroupCommit:
    """The engine's GroupCommit in this process (a forked worker makes its own: locks do not cross a fork).

    Kept on the engine itself, so that it (and its connection) goes when the engine goes.
    """
    with _groups_lock:
        group = getattr(engine, "fundsvc_group_commit", None)
        if group is None or group.pid != os.getpid():
            group = engine.fundsvc_group_commit = GroupCommit()
            event.listen(engine, "engine_disposed", group.close)
        return group
