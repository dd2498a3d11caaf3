"""A database that is busy or unreachable for a moment is a 503 with Retry-After; any other database fault is a 500."""

from __future__ import annotations

import sqlite3

import psycopg.errors
import pytest
from sqlalchemy.exc import DBAPIError

from fundsvc.db import is_transient
from tests.spine.gunicorn_helpers import gift


def _sqlite_busy(tmp_path) -> sqlite3.OperationalError:
    """A real SQLITE_BUSY: a second connection wants the write lock the first one holds."""
    path = tmp_path / "busy.sqlite3"
    first = sqlite3.connect(path, isolation_level=None)
    second = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        first.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as caught:
            second.execute("BEGIN IMMEDIATE")
        return caught.value
    finally:
        first.close()
        second.close()


def _sqlite_no_table() -> sqlite3.OperationalError:
    with pytest.raises(sqlite3.OperationalError) as caught:
        sqlite3.connect(":memory:").execute("SELECT * FROM nothing_here")
    return caught.value


def test_which_database_errors_are_transient(tmp_path):
    assert is_transient(DBAPIError.instance("BEGIN", None, _sqlite_busy(tmp_path), sqlite3.Error))
    assert not is_transient(DBAPIError.instance("SELECT", None, _sqlite_no_table(), sqlite3.Error))
    for transient in (
        psycopg.errors.SerializationFailure,
        psycopg.errors.DeadlockDetected,
        psycopg.errors.LockNotAvailable,
        psycopg.errors.AdminShutdown,
        psycopg.errors.TooManyConnections,
        psycopg.errors.ConnectionFailure,
    ):
        assert is_transient(DBAPIError.instance("SELECT", None, transient("x"), psycopg.Error)), transient
    for fault in (psycopg.errors.UndefinedTable, psycopg.errors.SyntaxError, psycopg.errors.DivisionByZero):
        assert not is_transient(DBAPIError.instance("SELECT", None, fault("x"), psycopg.Error)), fault


@pytest.mark.parametrize("transient", [True, False])
def test_the_api_answers_503_for_a_busy_database_and_500_for_a_fault(app, make_api, monkeypatch, tmp_path, transient):
    from fundsvc.donations import service

    error = _sqlite_busy(tmp_path) if transient else _sqlite_no_table()

    def failing(*_args, **_kwargs):
        raise DBAPIError.instance("INSERT …", None, error, sqlite3.Error)

    monkeypatch.setattr(service, "record_donation", failing)
    treasurer = make_api(app, "treasurer", "ST-TP")
    response = treasurer.post("/api/v1/donations", gift("ST-TP-P2", 100_000))
    if transient:
        assert response.status_code == 503 and response.headers["Retry-After"] == "2"
        assert set(response.json) == {"code", "status", "message", "errors"}
        assert response.json["status"] == "Service Unavailable"
    else:
        assert response.status_code == 500 and "Retry-After" not in response.headers
        assert response.json["code"] == 500


def test_a_write_held_up_by_another_connections_lock_is_answered_503(engine_url):
    """Past FUNDSVC_WRITE_WAIT_SECONDS behind a lock the queue does not see (SQLite: a writer outside the service;
    PostgreSQL: a row lock, through lock_timeout), the gift is refused with 503 and takes no number."""
    from sqlalchemy import create_engine, text

    from fundsvc import create_app
    from fundsvc.auth.service import create_user
    from fundsvc.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": engine_url, "TESTING": True, "WRITE_WAIT_SECONDS": 0.3})
    with app.app_context():
        _user, token = create_user(db.session, "thu-quy-khoa", "treasurer", "ST-TP")
        client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
        assert client.post("/api/v1/donations", json=gift("ST-TP-P2", 1_000), headers=headers).status_code == 201
        other = create_engine(engine_url)
        with other.connect() as holder:
            if other.dialect.name == "sqlite":
                holder.exec_driver_sql("BEGIN IMMEDIATE")
            holder.execute(text("UPDATE receipt_books SET last_number = last_number"))  # holds the book's row
            refused = client.post("/api/v1/donations", json=gift("ST-TP-P2", 2_000), headers=headers)
            holder.rollback()
        other.dispose()
        assert refused.status_code == 503, refused.json
        assert refused.headers["Retry-After"] == "2"
        recorded = client.post("/api/v1/donations", json=gift("ST-TP-P2", 3_000), headers=headers)
        assert recorded.status_code == 201, recorded.json
        assert recorded.json["receipt"]["number"] == 2
        db.session.remove()
        db.engine.dispose()
