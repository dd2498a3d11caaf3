"""The migrations themselves: `upgrade head` on an empty database yields exactly the models' schema, on both engines,
and the whole chain goes down to `base` and up again."""

from __future__ import annotations

import os
from itertools import count

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from fundsvc import (
    create_app,
    models,  # noqa: F401  (every model on the metadata)
)
from fundsvc.db import Base
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
