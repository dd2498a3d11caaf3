"""Fixtures: a fresh, migrated database per test on SQLite, and on a real PostgreSQL server where asked.

Services own their transactions (they commit), so instead of rolling back each test we give each
test its own database: a copy of a migrated template (a file copy on SQLite, CREATE DATABASE …
TEMPLATE on PostgreSQL). That is as fast and exercises the real commit paths.
"""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from fundsvc import create_app
from fundsvc.auth.service import create_user
from fundsvc.extensions import db as _db

# The worked example and the sample spreadsheet, kept with the tests (copied from the specification's data/, which
# the project does not need to run or test).
SHARED_DATA = Path(__file__).resolve().parent / "data"
# The worked example's money (tests/data): a gift into the province fund KH, amount added by each test. In cash,
# so that the province's cash box holds what its awards are paid from in cash.
WORKED_EXAMPLE_GIFT = {
    "donor": {"name": "Quỹ từ thiện Ánh Dương", "kind": "organization"},
    "unit": "ST",
    "fund": "KH",
    "method": "cash",
    "received_on": "2024-09-01",
}
_counter = itertools.count()


def migrate(url: str, *, with_tree: bool = False) -> None:
    """Apply the Alembic migrations to an empty database (the only way the schema is made)."""
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        if with_tree:
            load_tree()
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_empty_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "empty.sqlite3"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """Migrated, with the demo unit tree and its funds (no donations, no users)."""
    path = tmp_path_factory.mktemp("tpl") / "template.sqlite3"
    migrate(f"sqlite:///{path}", with_tree=True)
    return path


@pytest.fixture(scope="session")
def pg_server():
    if os.environ.get("FUNDSVC_SKIP_PG"):
        pytest.skip("FUNDSVC_SKIP_PG set")
    from tests.pgserver import PostgresServer

    server = PostgresServer().start()
    engine = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE DATABASE fundsvc_template"))
    engine.dispose()
    migrate(server.url("fundsvc_template"), with_tree=True)
    yield server
    server.stop()


def new_pg_database(server) -> str:
    name = f"t{os.getpid()}_{next(_counter)}"
    engine = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE fundsvc_template'))
    engine.dispose()
    return server.url(name)


def new_sqlite_database(template: Path, tmp_path: Path) -> str:
    path = tmp_path / f"db{next(_counter)}.sqlite3"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def _make_app(url: str):
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": True})
    return app


@pytest.fixture
def database_url(sqlite_template, tmp_path) -> str:
    return new_sqlite_database(sqlite_template, tmp_path)


@pytest.fixture
def empty_app(sqlite_empty_template, tmp_path):
    """The app on a migrated database holding nothing at all."""
    app = _make_app(new_sqlite_database(sqlite_empty_template, tmp_path))
    with app.app_context():
        yield app
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def app(database_url):
    app = _make_app(database_url)
    with app.app_context():
        yield app
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_url(request, sqlite_template, tmp_path) -> str:
    """A fresh database on each engine: for every test of money, numbering and concurrency."""
    if request.param == "sqlite":
        return new_sqlite_database(sqlite_template, tmp_path)
    return new_pg_database(request.getfixturevalue("pg_server"))


@pytest.fixture
def any_app(engine_url):
    """The app on SQLite and on PostgreSQL in turn."""
    app = _make_app(engine_url)
    with app.app_context():
        yield app
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def db(app):
    return _db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Api:
    """A test client bound to one user's token; methods return the response."""

    def __init__(self, client, token: str):
        self.client, self.token = client, token

    def _h(self, headers):
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, url, headers=None, **kw):
        return self.client.get(url, headers=self._h(headers), **kw)

    def post(self, url, json=None, headers=None, **kw):
        return self.client.post(url, json=json, headers=self._h(headers), **kw)

    def patch(self, url, json=None, headers=None, **kw):
        return self.client.patch(url, json=json, headers=self._h(headers), **kw)


@pytest.fixture
def make_api():
    """Factory: make_api(app, role, unit=None, username=None) → an Api client for a new user."""
    names = itertools.count(1)

    def make(app, role: str, unit: str | None = None, username: str | None = None) -> Api:
        _user, token = create_user(_db.session, username or f"{role}{next(names)}", role, unit)
        return Api(app.test_client(), token)

    return make


@pytest.fixture
def tree(app):
    """Every test database already holds the demo unit tree with a fund per unit (KH at the province)."""


def load_tree() -> None:
    from fundsvc.demo.load import load_demo

    load_demo(_db.session, donations=0, users=False)


@pytest.fixture
def admin(app, tree, make_api) -> Api:
    return make_api(app, "admin")
