"""The SQLite writers' queue: write transactions take an flock next to the database, and always give it back."""

from __future__ import annotations

import fcntl
import os
import threading

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


def in_a_thread(call):
    """`call()` run in a thread of its own, as a threaded worker (gunicorn -k gthread) runs a request; its answer."""
    answers = []
    thread = threading.Thread(target=lambda: answers.append(call()))
    thread.start()
    thread.join(timeout=60)
    return answers[0]


@pytest.mark.parametrize("where", ["main thread", "worker thread"])
def test_a_writer_that_does_not_get_its_turn_is_answered_503_and_nothing_is_stored(database_url, where):
    """The queue's wait is bounded (FUNDSVC_WRITE_WAIT_SECONDS): past it, 503 with Retry-After, not a hung worker."""
    import time

    from fundsvc import create_app
    from fundsvc.auth.service import create_user
    from tests.spine.gunicorn_helpers import gift

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "WRITE_WAIT_SECONDS": 0.3})
    with app.app_context():
        _user, token = create_user(db.session, "thu-quy-cho", "treasurer", "ST-TP")
        client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
        holder = os.open(db.engine.url.database + "-writers", os.O_RDONLY | os.O_CREAT)
        try:
            fcntl.flock(holder, fcntl.LOCK_EX)  # another process's long write, as the queue sees it
            started = time.monotonic()

            def post():
                return client.post("/api/v1/donations", json=gift("ST-TP-P2", 100_000), headers=headers)

            refused = post() if where == "main thread" else in_a_thread(post)
            waited = time.monotonic() - started
        finally:
            os.close(holder)
        assert refused.status_code == 503, refused.json
        assert refused.headers["Retry-After"] == "2"
        assert refused.json["code"] == 503 and "database busy" in refused.json["message"]
        assert 0.3 <= waited < 5
        # The refused writer's wait ends when the holder lets go: it takes the lock and gives it back at once.
        deadline = time.monotonic() + 5
        while queue_is_held(app) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not queue_is_held(app)

        recorded = client.post("/api/v1/donations", json=gift("ST-TP-P2", 100_000), headers=headers)
        assert recorded.status_code == 201, recorded.json
        assert recorded.json["receipt"]["number"] == 1  # the refused gift took no number
        assert db.session.execute(text("SELECT count(*) FROM donations")).scalar() == 1
        db.session.remove()
        db.engine.dispose()
