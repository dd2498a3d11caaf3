"""Allocating reads and ranks before its write transaction: other writers are not held up, and a round
approved meanwhile is refused, not overwritten."""

from __future__ import annotations

import pytest

from fundsvc.allocation import engine
from fundsvc.extensions import db
from tests.rounds.test_worked_example import example_round  # noqa: F401  (a fixture)


def _write_elsewhere(sql_by_dialect: dict[str, tuple[str, tuple]]) -> None:
    """Run one write on a connection of its own, waiting at most 0.2 s for any lock, and commit it."""
    dialect = db.engine.dialect.name
    sql, params = sql_by_dialect[dialect]
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if dialect == "sqlite":
            cursor.execute("PRAGMA busy_timeout = 200")
            cursor.execute("BEGIN IMMEDIATE")  # fails at once if the allocation held the write lock
        else:
            cursor.execute("SET lock_timeout = '200ms'")
        cursor.execute(sql, params)
        if dialect == "sqlite":
            cursor.execute("COMMIT")
        else:
            raw.commit()
    finally:
        raw.close()


@pytest.fixture
def during_the_ranking(monkeypatch):
    """during_the_ranking(fn): fn() runs while the engine ranks (after its result is made)."""

    def install(fn):
        real = engine.allocate

        def ranking(*args, **kwargs):
            result = real(*args, **kwargs)
            fn()
            return result

        monkeypatch.setattr(engine, "allocate", ranking)

    return install


def test_other_writers_are_not_held_up_while_a_round_is_ranked(admin, example_round, during_the_ranking):  # noqa: F811
    round_id = example_round["id"]
    renamed = "Học bổng (đổi tên trong lúc xếp hạng)"
    during_the_ranking(
        lambda: _write_elsewhere(
            {
                "sqlite": ("UPDATE rounds SET name = ? WHERE id = ?", (renamed, round_id)),
                "postgresql": ("UPDATE rounds SET name = %s WHERE id = %s", (renamed, round_id)),
            }
        )
    )
    response = admin.post(f"/api/v1/rounds/{round_id}/allocate")
    assert response.status_code == 200, response.json
    round_ = admin.get(f"/api/v1/rounds/{round_id}").json
    assert (round_["status"], round_["name"]) == ("allocated", renamed)


def test_a_round_approved_while_it_is_ranked_is_not_overwritten(admin, example_round, during_the_ranking):  # noqa: F811
    round_id = example_round["id"]
    first = admin.post(f"/api/v1/rounds/{round_id}/allocate").json
    # Approved by another process (its own connection): this request's session has the round loaded already.
    during_the_ranking(
        lambda: _write_elsewhere(
            {
                "sqlite": ("UPDATE rounds SET status = 'approved' WHERE id = ?", (round_id,)),
                "postgresql": ("UPDATE rounds SET status = 'approved' WHERE id = %s", (round_id,)),
            }
        )
    )
    response = admin.post(f"/api/v1/rounds/{round_id}/allocate")
    assert response.status_code == 409, response.json
    assert admin.get(f"/api/v1/rounds/{round_id}").json["status"] == "approved"
    assert admin.get(f"/api/v1/rounds/{round_id}/allocation").json == first
