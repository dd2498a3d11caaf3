"""fetch_columns: a large read column by column must give exactly the values and types Core gives, in order."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    insert,
    select,
    true,
    update,
)

import fundsvc.db.columns
from fundsvc.db import fetch_columns, write_transaction
from fundsvc.db.columns import _SNAPSHOT_ID
from fundsvc.extensions import db

METADATA = MetaData()
PUPILS = Table(
    "fetch_columns_pupils",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("code", String(20), unique=True),
    Column("name", String(80)),
    Column("born", Date),
    Column("gpa", Numeric(4, 2)),
    Column("orphan", Boolean),
    Column("level", String(20)),
    Column("stamp", DateTime),
    Column("extra", JSON),
)
READ = [PUPILS.c.id, PUPILS.c.code, PUPILS.c.name, PUPILS.c.born, PUPILS.c.gpa, PUPILS.c.orphan, PUPILS.c.level]

# Written in neither id nor code order; with empty values, diacritics, quotes and exact decimals.
ROWS = [
    {"id": 7, "code": "HS-03", "name": 'Lê "Tí" \\ Hoa', "born": date(2010, 2, 28), "gpa": Decimal("6.50"),
     "orphan": True, "level": "primary"},
    {"id": 2, "code": "HS-10", "name": "Nguyễn Văn An", "born": None, "gpa": Decimal("10.00"), "orphan": False,
     "level": "primary"},
    {"id": 9, "code": "HS-01", "name": None, "born": date(2009, 9, 1), "gpa": None, "orphan": None,
     "level": "upper_secondary"},
    {"id": 4, "code": "HS-07", "name": "Hờ A Páo", "born": date(2010, 2, 28), "gpa": Decimal("6.50"),
     "orphan": True, "level": None},
]  # fmt: skip


@pytest.fixture
def pupils(any_app):
    with write_transaction(db.session):
        connection = db.session.connection()
        METADATA.create_all(connection)
        connection.execute(insert(PUPILS), ROWS)
    return db.session


def _core_columns(order_by) -> list[list]:
    rows = db.session.execute(select(*READ).order_by(order_by)).all()
    return [list(column) for column in zip(*rows, strict=True)]


@pytest.mark.parametrize("order_by", ["id", "code"])
@pytest.mark.parametrize("parallel", [False, True])
def test_values_and_types_are_cores_in_the_order_asked_for(pupils, order_by, parallel):
    fetched = fetch_columns(pupils.connection(), READ, where=true(), order_by=PUPILS.c[order_by], parallel=parallel)
    expected = _core_columns(PUPILS.c[order_by])
    assert fetched.typed == expected
    for got, want in zip(fetched.typed, expected, strict=True):
        assert [type(v) for v in got] == [type(v) for v in want]
    gpa = fetched.typed[READ.index(PUPILS.c.gpa)]
    assert [str(v) for v in gpa if v is not None] == [str(v) for v in expected[4] if v is not None]  # 6.50, not 6.5


def test_equal_values_share_one_object(pupils):
    fetched = fetch_columns(pupils.connection(), READ, where=true(), order_by=PUPILS.c.id)
    born = fetched.typed[READ.index(PUPILS.c.born)]
    by_id = dict(zip(fetched.typed[0], born, strict=True))
    assert by_id[4] is by_id[7]


@pytest.mark.parametrize("parallel", [False, True])
def test_a_row_moved_by_an_update_is_still_read_in_order(pupils, parallel):
    with write_transaction(db.session):
        # PostgreSQL writes the new version of the row at the end of the table.
        db.session.connection().execute(update(PUPILS).where(PUPILS.c.id == 2).values(name="Nguyễn Văn Ân"))
    fetched = fetch_columns(pupils.connection(), READ, where=true(), order_by=PUPILS.c.id, parallel=parallel)
    assert fetched.typed == _core_columns(PUPILS.c.id)


def test_texts_follow_the_values(pupils):
    read = fetch_columns(pupils.connection(), READ, where=true(), order_by=PUPILS.c.id)
    again = fetch_columns(pupils.connection(), READ, where=true(), order_by=PUPILS.c.id)
    assert read.texts == again.texts
    with write_transaction(db.session):
        db.session.connection().execute(update(PUPILS).where(PUPILS.c.id == 9).values(gpa=Decimal("7.25")))
    changed = fetch_columns(pupils.connection(), READ, where=true(), order_by=PUPILS.c.id)
    assert [a == b for a, b in zip(read.texts, changed.texts, strict=True)] == [c is not PUPILS.c.gpa for c in READ]


@pytest.mark.parametrize("parallel", [False, True])
def test_a_where_that_holds_for_no_row_gives_empty_columns(pupils, parallel):
    fetched = fetch_columns(pupils.connection(), READ, where=PUPILS.c.id > 100, order_by=PUPILS.c.id, parallel=parallel)
    assert fetched.typed == [[] for _ in READ]


@pytest.mark.parametrize("column", ["stamp", "extra"])
def test_types_it_cannot_carry_exactly_are_refused(pupils, column):
    with pytest.raises(TypeError, match=column):
        fetch_columns(pupils.connection(), [PUPILS.c.id, PUPILS.c[column]], where=true(), order_by=PUPILS.c.id)


@pytest.mark.parametrize("parallel", [False, True])
def test_the_order_column_need_not_be_read(pupils, parallel):
    read = READ[1:]  # no id
    fetched = fetch_columns(pupils.connection(), read, where=true(), order_by=PUPILS.c.id, parallel=parallel)
    assert fetched.typed == _core_columns(PUPILS.c.id)[1:]
    assert len(fetched.texts) == len(read)


def test_order_by_a_column_it_could_not_order_exactly_is_refused(pupils):
    with pytest.raises(TypeError, match="order by"):
        fetch_columns(pupils.connection(), READ, where=true(), order_by=PUPILS.c.gpa)


@pytest.mark.parametrize("engine_url", ["postgresql"], indirect=True)  # parallel reads are PostgreSQL's
def test_a_parallel_read_sees_one_moment(pupils, monkeypatch):
    """On PostgreSQL both halves of a parallel read see the snapshot of its start, not a change committed while
    they run: here, between the snapshot's export and either half's query."""
    before = fetch_columns(pupils.connection(), READ, where=true(), order_by=PUPILS.c.id)
    pupils.commit()

    class CommitsMeanwhile:
        def fullmatch(self, snapshot):
            with db.engine.begin() as other:
                other.execute(update(PUPILS).values(gpa=Decimal("9.75"), level="university"))
                other.execute(insert(PUPILS), {"id": 11, "code": "HS-11", "level": "primary"})
            return _SNAPSHOT_ID.fullmatch(snapshot)

    monkeypatch.setattr(fundsvc.db.columns, "_SNAPSHOT_ID", CommitsMeanwhile())
    during = fetch_columns(pupils.connection(), READ, where=true(), order_by=PUPILS.c.id, parallel=True)
    assert during == before
    monkeypatch.undo()
    after = fetch_columns(pupils.connection(), READ, where=true(), order_by=PUPILS.c.id, parallel=True)
    assert after.typed[0] == [2, 4, 7, 9, 11] and set(after.typed[READ.index(PUPILS.c.level)]) == {
        "university",
        "primary",
    }
