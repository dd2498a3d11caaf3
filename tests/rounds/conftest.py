import pytest


@pytest.fixture
def app(any_app):
    """Money moves in every test here: each runs on SQLite and on PostgreSQL."""
    return any_app
