"""The migrations themselves: `upgrade head` on an empty database yields exactly the models' schema, on both engines,
the whole chain goes down to `base` and up again, and a migration that converts data carries it over both ways."""

from __future__ import annotations

import json
import os
from itertools import count

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import JSON, create_engine, inspect, select, text

from fundsvc import (
    create_app,
    models,  # noqa: F401  (every model on the metadata)
)
from fundsvc.allocation.models import Round
from fundsvc.db import Base, CompressedJSON
from fundsvc.extensions import db

_names = count()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path) -> str:
    """A database with nothing in it at all, not even the alembic_version table."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    server = request.getfixturevalue("pg_server")
    name = f"mig{os.getpid()}_{next(_names)}"
    engine = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    engine.dispose()
    return server.url(name)


def schema_diff(url: str) -> list:
    """Alembic's autogenerate comparison of the live schema against the models (empty when they agree)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def run(url: str, step) -> None:
    """Run a Flask-Migrate command (`upgrade` / `downgrade`) against `url`, as `flask db …` would."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        try:
            step()
        finally:
            db.session.remove()
            db.engine.dispose()


def test_upgrade_head_on_empty_database_gives_the_models_schema(empty_url):
    assert tables(empty_url) == set()
    run(empty_url, upgrade)
    assert tables(empty_url) == set(Base.metadata.tables) | {"alembic_version"}
    assert schema_diff(empty_url) == []


def test_downgrade_base_then_upgrade_head(empty_url):
    run(empty_url, upgrade)
    run(empty_url, lambda: downgrade(revision="base"))
    # Everything the migrations made is gone again; only Alembic's bookkeeping table is left.
    assert tables(empty_url) <= {"alembic_version"}
    run(empty_url, upgrade)
    assert schema_diff(empty_url) == []
    # And the upgraded database works: the demo tree loads into it.
    from fundsvc.demo.load import load_demo

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_url})
    with app.app_context():
        try:
            assert load_demo(db.session, donations=3, users=False).created
        finally:
            db.session.remove()
            db.engine.dispose()


# A round's documents as 0005 stored them: JSON text kept as written (spaces, non-ASCII), which 0006 must carry
# over byte for byte (result_hash is the sha256 of that text).
OLD_RESULT = '{"round": 1, "allocated": 5000000, "awarded": [{"nomination_id": 1, "full_name": "Nguyễn Thị Ánh"}]}'
OLD_RANKED = '[{"nomination_id": 1, "outcome": "awarded", "score": "9.25"}]'


def _fill_0005(url: str) -> None:
    """Two rounds in a database at 0005: one allocated and approved (with an award, so other rows refer to it),
    one draft without documents."""
    engine = create_engine(url)
    postgresql = engine.dialect.name == "postgresql"
    document = "CAST(:{} AS json)" if postgresql else ":{}"
    statements = [
        (
            "INSERT INTO units (id, code, name, level, path, created_at)"
            " VALUES (1, 'ST', 'Sóc Trăng', 'province', '/1/', :t)",
            {},
        ),
        ("INSERT INTO funds (id, code, name, unit_id, created_at) VALUES (1, 'KH', 'Quỹ Khuyến học', 1, :t)", {}),
        (
            "INSERT INTO rounds (id, name, academic_year, fund_id, unit_id, budget, rules, rules_hash, status, result,"
            f" ranked, result_hash, created_at) VALUES (1, 'Đợt 1', '2024-2025', 1, 1, 5000000, {document.format('r')},"
            f" 'h', 'approved', {document.format('result')}, {document.format('ranked')}, 'sha256:x', :t)",
            {"r": "{}", "result": OLD_RESULT, "ranked": OLD_RANKED},
        ),
        (
            "INSERT INTO rounds (id, name, academic_year, fund_id, unit_id, budget, rules, rules_hash, status,"
            f" created_at) VALUES (2, 'Đợt 2', '2024-2025', 1, 1, 1, {document.format('r')}, 'h', 'draft', :t)",
            {"r": "{}"},
        ),
        (
            "INSERT INTO students (id, identity_key, full_name, birth_date, school, created_at)"
            " VALUES (1, 'k', 'Nguyễn Thị Ánh', '2012-05-01', 'THCS 1', :t)",
            {},
        ),
        (
            "INSERT INTO nominations (id, student_id, academic_year, unit_id, status, full_name, birth_date,"
            " ethnic_minority, school, grade, household, orphan, disability, achievement, created_at, updated_at)"
            " VALUES (1, 1, '2024-2025', 1, 'active', 'Nguyễn Thị Ánh', '2012-05-01', :no, 'THCS 1', '6', 'poor',"
            " :no, :no, 'none', :t, :t)",
            {"no": False},
        ),
        (
            "INSERT INTO awards (id, round_id, nomination_id, amount, rank, score, status, promoted, created_at)"
            " VALUES (1, 1, 1, 5000000, 1, '9.25', 'approved', :no, :t)",
            {"no": False},
        ),
    ]
    try:
        with engine.begin() as conn:
            for sql, params in statements:
                conn.execute(text(sql), {"t": "2024-10-01 00:00:00+00:00", **params})
    finally:
        engine.dispose()


def _documents(url: str) -> dict:
    """Each round's documents as JSON text, as a database at 0005 holds them."""
    engine = create_engine(url)
    stored = "CAST({} AS text)" if engine.dialect.name == "postgresql" else "{}"
    try:
        with engine.connect() as conn:
            query = f"SELECT id, {stored.format('result')}, {stored.format('ranked')} FROM rounds ORDER BY id"
            return {row[0]: tuple(row[1:]) for row in conn.execute(text(query))}
    finally:
        engine.dispose()


def test_0006_compresses_the_round_documents_and_back(empty_url):
    run(empty_url, lambda: upgrade(revision="0005"))
    _fill_0005(empty_url)
    run(empty_url, lambda: upgrade(revision="0006"))
    run(empty_url, lambda: upgrade())  # and on to head, so the models' schema is the one to compare
    assert schema_diff(empty_url) == []

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_url})
    with app.app_context():
        try:
            texts = db.session.execute(
                select(CompressedJSON.text(Round.result), CompressedJSON.text(Round.ranked)).order_by(Round.id)
            ).all()
            assert [tuple(row) for row in texts] == [(OLD_RESULT.encode(), OLD_RANKED.encode()), (None, None)]
            approved = db.session.get(Round, 1)
            assert approved.result == json.loads(OLD_RESULT) and approved.ranked == json.loads(OLD_RANKED)
            assert db.session.get(Round, 2).result is None
        finally:
            db.session.remove()
            db.engine.dispose()

    run(empty_url, lambda: downgrade(revision="0005"))
    assert _documents(empty_url) == {1: (OLD_RESULT, OLD_RANKED), 2: (None, None)}
    engine = create_engine(empty_url)
    try:
        columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("rounds")}
    finally:
        engine.dispose()
    assert all(isinstance(columns[name], JSON) for name in ("result", "ranked")), columns


def test_0007_gives_existing_users_a_session_version(empty_url):
    run(empty_url, lambda: upgrade(revision="0006"))
    engine = create_engine(empty_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO users (username, role, active, created_at) VALUES ('lan', 'treasurer', true, :now)"),
                {"now": "2026-01-01 00:00:00"},
            )
        run(empty_url, lambda: upgrade(revision="0007"))
        with engine.connect() as connection:
            assert connection.execute(text("SELECT session_version FROM users")).scalar_one() == 0
        run(empty_url, lambda: downgrade(revision="0006"))
        columns = {c["name"] for c in inspect(engine).get_columns("users")}
        assert "session_version" not in columns
    finally:
        engine.dispose()
