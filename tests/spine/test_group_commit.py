"""Group commit on SQLite (fundsvc.group_commit): threads of one process share a transaction, each in a savepoint.

On a bare SQLite file with the service's engine settings, so that each case controls exactly who is waiting when
a group forms. The multi-process proof (gunicorn -k gthread, numbering, kill -9) is in test_concurrency.py and
test_crash.py, which run with threaded workers too.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import IntegrityError

from fundsvc.db import configure_engine
from fundsvc.group_commit import GroupCommit


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'group.sqlite3'}")
    configure_engine(engine, write_wait_seconds=5)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        connection.exec_driver_sql(
            "CREATE TABLE gift (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
            "parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
        )
    engine.commits = []
    event.listen(engine, "commit", lambda conn: engine.commits.append(threading.get_ident()))
    yield engine
    engine.dispose()


def insert(name: str, parent_id: int | None = None):
    def work(connection):
        connection.execute(text("INSERT INTO gift (name, parent_id) VALUES (:n, :p)"), {"n": name, "p": parent_id})
        return name

    return work


def stored(engine) -> list[str]:
    with engine.connect() as connection:
        return [n for (n,) in connection.execute(text("SELECT name FROM gift ORDER BY id"))]


def run_group(engine, works: list) -> list:
    """Run `works[0]` in a thread, and `works[1:]` in threads that arrive while it is still writing: one group.

    The first work is held until every other thread waits for its turn, so the group is formed for sure.
    Returns each work's outcome: its result, or the exception it raised.
    """
    group = GroupCommit()
    outcomes: list = [None] * len(works)
    release = threading.Event()

    def first(connection):
        release.wait(timeout=30)
        return works[0](connection)

    def run(index, work):
        try:
            outcomes[index] = group.run(engine, work)
        except Exception as error:  # the outcome under test
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(0, first))]
    threads[0].start()
    while group._group is None:
        time.sleep(0.001)
    threads += [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(works[1:], start=1)]
    for t in threads[1:]:
        t.start()
    while group._waiting < len(works) - 1:
        time.sleep(0.001)
    release.set()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_threads_waiting_while_a_gift_is_written_share_its_transaction_and_one_commit(engine):
    names = [f"gift-{i}" for i in range(6)]
    outcomes = run_group(engine, [insert(n) for n in names])
    assert outcomes == names
    assert len(engine.commits) == 1
    assert sorted(stored(engine)) == sorted(names)


def test_a_failing_gift_is_rolled_back_alone_and_its_thread_gets_its_error(engine):
    def insert_then_fail(connection):
        insert("doomed")(connection)
        raise ValueError("refused after writing")

    outcomes = run_group(engine, [insert("a"), insert_then_fail, insert("b"), insert("a")])
    assert outcomes[0] == "a" and outcomes[2] == "b"
    assert isinstance(outcomes[1], ValueError)
    assert isinstance(outcomes[3], IntegrityError)  # the same name as the first: UNIQUE refuses it
    assert len(engine.commits) == 1
    assert sorted(stored(engine)) == ["a", "b"]


def test_a_commit_that_fails_fails_every_gift_of_the_group_and_stores_none(engine):
    # A deferred foreign key is checked at COMMIT: the one bad gift makes the shared commit fail.
    outcomes = run_group(engine, [insert("a"), insert("orphan", parent_id=999), insert("b")])
    assert all(isinstance(o, IntegrityError) for o in outcomes), outcomes
    assert stored(engine) == []
    # The next gift starts a new group on a sound connection.
    assert GroupCommit().run(engine, insert("after")) == "after"
    assert stored(engine) == ["after"]


def test_a_gift_alone_commits_at_once(engine):
    group = GroupCommit()
    assert [group.run(engine, insert(f"g{i}")) for i in range(3)] == ["g0", "g1", "g2"]
    assert len(engine.commits) == 3
    assert group._group is None  # nothing left open, no lock held
    other = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer gets the lock at once
    other.execute("ROLLBACK")
    other.close()


def test_disposing_the_engine_closes_the_group_connection(engine, tmp_path):
    """It is no pooled connection: without this, the WAL of a disposed engine would stay unmerged into the file."""
    from fundsvc.group_commit import _group_of

    group = _group_of(engine)
    group.run(engine, insert("kept"))
    assert group._connection is not None
    engine.dispose()
    assert group._connection is None
    # The last connection closed has checkpointed the WAL: a copy of the file alone holds the gift.
    copy = tmp_path / "copy.sqlite3"
    copy.write_bytes(open(engine.url.database, "rb").read())
    assert sqlite3.connect(copy).execute("SELECT name FROM gift").fetchall() == [("kept",)]
