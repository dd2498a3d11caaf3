"""A request that runs past FUNDSVC_REQUEST_TIMEOUT is stopped, whatever the worker class (issue #25).

gunicorn's `timeout` kills a sync worker that is silent too long, but a threaded worker (gthread, what deploy/ runs)
keeps answering its heartbeat while one of its threads renders for ever. So the service bounds each request itself:

* A watchdog thread per process watches the requests in progress. When one passes its limit, the watchdog raises
  `Stopped` in the request's thread (PyThreadState_SetAsyncExc: it lands at the thread's next Python bytecode) and
  interrupts the statement the request's database connection is running (sqlite3's `interrupt()`, psycopg's
  `cancel()`), since a thread inside a long query runs no Python until the query ends.
* The request then ends as any failed request does: the session rolled back when the app context ends (nothing it
  wrote is kept), and the answer is the contract's JSON error 504 (`RequestTimedOut`), logged with its request id.
* What must not be cut in the middle is shielded (`shielded()`): a write transaction's start and end (the SQLite
  writers' queue, COMMIT or ROLLBACK) and a group commit. A request past its limit is stopped as soon as it leaves
  the shield; a write whose request is past its limit when it would commit is rolled back instead
  (`stop_if_past_limit`). Each write transaction is so whole or absent: what a request committed before it was
  stopped stays committed (a gift's Idempotency-Key makes its retry safe), what it was writing is rolled back.

The watchdog covers threads (sync and gthread workers, the development server); greenlet workers (gevent,
eventlet) share one thread and are not supported by it (deploy/ does not use them).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import Engine, event

POLL_SECONDS = 0.05  # how late past its limit a request may be stopped, at most (plus what it runs in C)

_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)
_set_async_exc.restype = ctypes.c_int


class Stopped(BaseException):
    """Raised in a request's thread by the watchdog. A BaseException, so that no `except Exception` of the code it
    interrupts takes it for an error of its own and goes on; the request's dispatch turns it into the 504."""


@dataclass(eq=False)
class Watch:
    """One request in progress: its thread, its limit, and what the watchdog did to it."""

    thread_id: int
    deadline: float
    shield: int = 0  # depth of shielded() blocks the thread is in
    fired: bool = False  # Stopped was sent to the thread
    delivered: bool = False  # … and it was raised there (or taken back)
    done: bool = False
    connections: set = field(default_factory=set)  # DB-API connections the request holds

    @property
    def past_limit(self) -> bool:
        return time.monotonic() >= self.deadline


class Watchdog:
    """The requests in progress in this process and the thread that stops those past their limit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watches: dict[int, Watch] = {}  # by thread id
        self._pid: int | None = None
        self._wake = threading.Event()

    def _ensure_thread(self) -> None:
        """The watchdog's thread in this process (a forked worker starts its own: threads do not cross a fork)."""
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._watches.clear()
        threading.Thread(target=self._run, name="request-watchdog", daemon=True).start()

    def _run(self) -> None:
        while True:
            self._wake.wait(POLL_SECONDS)
            with self._lock:
                for watch in self._watches.values():
                    if not (watch.fired or watch.done or watch.shield) and watch.past_limit:
                        self._fire(watch)

    def _fire(self, watch: Watch) -> None:
        """Stop the request (called with the lock held, so that the thread cannot enter a shield meanwhile)."""
        watch.fired = True
        _set_async_exc(watch.thread_id, ctypes.py_object(Stopped))
        for connection in list(watch.connections):
            _interrupt(connection)

    def current(self) -> Watch | None:
        return self._watches.get(threading.get_ident())

    @contextlib.contextmanager
    def armed(self, seconds: float) -> Iterator[Watch]:
        """Watch the calling thread's request for the block: past `seconds`, Stopped is raised in it."""
        with self._lock:
            self._ensure_thread()
            watch = Watch(threading.get_ident(), time.monotonic() + seconds)
            self._watches[watch.thread_id] = watch
        try:
            yield watch
        finally:
            # Stopped may land while the watch is put away: whatever the request answered stands, try again.
            while True:
                try:
                    self._disarm(watch)
                    break
                except Stopped:
                    watch.delivered = True

    def _disarm(self, watch: Watch) -> None:
        with self._lock:
            watch.done = True
            self._watches.pop(watch.thread_id, None)
            self._take_back(watch)

    def _take_back(self, watch: Watch) -> None:
        """Withdraw a Stopped sent and not yet raised (lock held)."""
        if watch.fired and not watch.delivered:
            _set_async_exc(watch.thread_id, ctypes.py_object())  # NULL: the pending exception is cleared
            watch.delivered = True

    @contextlib.contextmanager
    def shielded(self) -> Iterator[None]:
        """A block the watchdog does not cut: a request past its limit is stopped when it leaves it. Entering
        one with Stopped already sent and not yet raised raises it here, before the block begins."""
        watch = self.current()
        if watch is None:
            yield
            return
        with self._lock:
            stop = watch.fired and not watch.delivered
            if stop:
                self._take_back(watch)
            else:
                watch.shield += 1
        if stop:
            raise Stopped()
        try:
            yield
        finally:
            with self._lock:
                watch.shield -= 1

    @contextlib.contextmanager
    def unshielded(self) -> Iterator[None]:
        """Inside a shield, a block the watchdog may cut again (a write transaction's own statements)."""
        watch = self.current()
        if watch is None or not watch.shield:
            yield
            return
        with self._lock:
            watch.shield -= 1
        try:
            yield
        finally:
            with self._lock:
                watch.shield += 1


def _interrupt(connection) -> None:
    """Stop the statement a DB-API connection runs, from another thread (sqlite3, psycopg)."""
    stop = getattr(connection, "interrupt", None) or getattr(connection, "cancel", None)
    if stop is None:
        return
    with contextlib.suppress(Exception):  # a connection closing under us: nothing left to stop
        stop()


WATCHDOG = Watchdog()
shielded = WATCHDOG.shielded
unshielded = WATCHDOG.unshielded


def stop_if_past_limit() -> None:
    """Raise Stopped when the calling request is past its limit: a write is not committed after it. (Once it is
    stopped, what its error handling writes, if anything, is committed as usual.)"""
    watch = WATCHDOG.current()
    if watch is not None and not watch.delivered and watch.past_limit:
        with WATCHDOG._lock:
            WATCHDOG._take_back(watch)
            watch.fired = watch.delivered = True
        raise Stopped()


def watch_connections(engine: Engine) -> None:
    """Keep, for each request in progress, the DB-API connections it holds (so that the watchdog can interrupt
    the statement it is stuck in)."""

    @event.listens_for(engine, "checkout")
    def _held(dbapi_connection, _record, _proxy):
        watch = WATCHDOG.current()
        if watch is not None:
            watch.connections.add(_driver_connection(dbapi_connection))

    @event.listens_for(engine, "checkin")
    def _given_back(dbapi_connection, _record):
        watch = WATCHDOG.current()
        if watch is not None and dbapi_connection is not None:
            watch.connections.discard(_driver_connection(dbapi_connection))


def _driver_connection(dbapi_connection):
    """The driver's own connection (SQLAlchemy wraps psycopg's in an adapter)."""
    return getattr(dbapi_connection, "driver_connection", None) or dbapi_connection


def timed_out():
    from fundsvc.errors import TimedOut

    return TimedOut(
        "Yêu cầu chạy quá thời gian cho phép nên đã bị dừng, phần đang ghi dở đã được hủy "
        "(request ran past its time limit and was stopped; its unfinished write was rolled back)"
    )


def dispatch_within_limit(app, dispatch):
    """Run `dispatch()` (Flask's full dispatch: hooks, view, its error handlers) under the app's REQUEST_TIMEOUT;
    a request stopped there is answered as the app answers an error: the 504 of `timed_out()`."""
    seconds = app.config.get("REQUEST_TIMEOUT")
    if not seconds:
        return dispatch()
    with WATCHDOG.armed(seconds) as watch:
        try:
            return dispatch()
        except Stopped:
            watch.delivered = True
            return app.finalize_request(app.handle_user_exception(timed_out()))


def error_to_answer(error: Exception) -> Exception:
    """The error a request answers: a query interrupted because the request ran past its limit (or any error
    that followed from its being stopped) is answered as the time-out it is."""
    from fundsvc.errors import TimedOut

    watch = WATCHDOG.current()
    if watch is not None and watch.fired and not isinstance(error, TimedOut):
        answer = timed_out()
        answer.__cause__ = error
        return answer
    return error
