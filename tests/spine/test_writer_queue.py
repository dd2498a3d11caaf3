"""The SQLite writers' queue: write transactions take an flock next to the database, and always give it back."""

from __future__ import annotations

import fcntl
import os

import pytest
from sqlalchemy import text

from fundsvc.db import write_transaction
from fundsvc.extensions import db


def queue_is_held(app) -> bool:
    """Whether some write transaction holds the queue lock (probed from a file descriptor of our own)."""
    fd = os.open(db.engine.url.database + "-writers", os.O_RDONLY | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_a_write_transaction_holds_the_queue_until_it_has_committed(app):
    with write_transaction(db.session):
        db.session.execute(text("SELECT 1"))
        assert queue_is_held(app)
    assert not queue_is_held(app)
    # A plain read does not queue.
    assert db.session.execute(text("SELECT 1")).scalar() == 1
    assert not queue_is_held(app)


def test_a_failed_write_transaction_gives_the_queue_back(app):
    with pytest.raises(RuntimeError), write_transaction(db.session):
        db.session.execute(text("SELECT 1"))
        raise RuntimeError("boom")
    assert not queue_is_held(app)
    with write_transaction(db.session):
        db.session.execute(text("SELECT 1"))
    assert not queue_is_held(app)
