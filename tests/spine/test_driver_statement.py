"""DriverStatement: Core statements run on the DB-API cursor must store, return and fail exactly as SQLAlchemy would."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from fundsvc.audit.models import AuditEvent
from fundsvc.db import DriverStatement, write_transaction
from fundsvc.donations.models import ReceiptBook
from fundsvc.extensions import db
from fundsvc.units.models import Unit

EVENTS = AuditEvent.__table__
BOOKS = ReceiptBook.__table__


def _event(entity_id: str) -> dict:
    return {
        "at": datetime(2024, 10, 1, 8, 30, 0, tzinfo=UTC),  # microsecond 0: the format must still match Core's
        "user_id": None,
        "username": "thủ quỹ",
        "action": "test.driver",
        "entity": "donation",
        "entity_id": entity_id,
        "unit_id": None,
        "before": None,
        "after": {"amount": 100_000, "received_on": "2024-10-01", "tên": "Nguyễn Văn An"},
    }


def test_an_insert_stores_what_core_stores_and_returns_its_id(any_app):
    driver = DriverStatement(insert(EVENTS).returning(EVENTS.c.id))
    with write_transaction(db.session):
        (driver_id,) = driver.execute(db.session.connection(), _event("driver"))
        core_id = db.session.connection().execute(insert(EVENTS).returning(EVENTS.c.id), _event("core")).scalar_one()
    assert isinstance(driver_id, int) and driver_id != core_id

    columns = [c for c in EVENTS.c if c.key not in ("id", "entity_id")]
    stored = {
        row.entity_id: row
        for row in db.session.execute(select(EVENTS.c.entity_id, *columns).where(EVENTS.c.action == "test.driver"))
    }
    assert stored["driver"][1:] == stored["core"][1:]
    assert stored["driver"].at == datetime(2024, 10, 1, 8, 30, 0, tzinfo=UTC)
    assert stored["driver"].after["tên"] == "Nguyễn Văn An"
    # Byte for byte as stored (SQLite keeps dates and JSON as text: the same text sorts and compares alike).
    raw = dict(
        db.session.execute(
            text("SELECT entity_id, CAST(at AS TEXT) || CAST(after AS TEXT) FROM audit_events WHERE action = :a"),
            {"a": "test.driver"},
        ).all()
    )
    assert raw["driver"] == raw["core"]


def test_an_update_with_returning_gives_the_new_values(any_app):
    """The statement's own literals (the `+ 1`) are bound too, and RETURNING reads the updated row."""
    unit_id = db.session.scalar(select(Unit.id).limit(1))
    bump = DriverStatement(
        update(BOOKS)
        .where(BOOKS.c.unit_id == bindparam("book_unit"), BOOKS.c.year == bindparam("book_year"))
        .values(last_number=BOOKS.c.last_number + 1)
        .returning(BOOKS.c.last_number)
    )
    with write_transaction(db.session):
        db.session.connection().execute(
            insert(BOOKS), {"unit_id": unit_id, "kind": "test", "year": 1999, "last_number": 41}
        )
        numbers = [bump.execute(db.session.connection(), {"book_unit": unit_id, "book_year": 1999}) for _ in range(2)]
        missing = bump.execute(db.session.connection(), {"book_unit": unit_id, "book_year": 1998})
    assert numbers == [(42,), (43,)]
    assert missing is None


def test_a_constraint_violation_is_sqlalchemys_integrity_error_and_nothing_is_kept(any_app):
    driver = DriverStatement(insert(EVENTS))
    with write_transaction(db.session):
        (event_id,) = db.session.connection().execute(insert(EVENTS).returning(EVENTS.c.id), _event("first")).one()
    with pytest.raises(IntegrityError), write_transaction(db.session):
        driver.execute(db.session.connection(), {**_event("second"), "id": 10**9})
        driver.execute(db.session.connection(), {**_event("third"), "id": event_id})
    kept = db.session.scalars(select(EVENTS.c.entity_id).where(EVENTS.c.action == "test.driver")).all()
    assert kept == ["first"]


def test_first_is_cores_first_row_typed_and_named(any_app):
    """The lookups every request makes (token, unit, fund, donor): same values and types as Core, by name too."""
    with write_transaction(db.session):
        for n in range(2):
            db.session.connection().execute(
                insert(EVENTS), {**_event(f"first-{n}"), "at": datetime(2024, 3, 1 + n, 7, 5, tzinfo=UTC)}
            )
    query = (
        select(EVENTS.c.id, EVENTS.c.at, EVENTS.c.entity_id, EVENTS.c.user_id, Unit.__table__.c.code.label("unit"))
        .outerjoin(Unit.__table__, Unit.__table__.c.id == EVENTS.c.unit_id)
        .where(EVENTS.c.entity_id == bindparam("entity"))
    )
    lookup = DriverStatement(query)
    for entity in ("first-0", "first-1"):  # the second call reuses the compiled statement and row shape
        row = lookup.first(db.session.connection(), {"entity": entity})
        core = db.session.connection().execute(query, {"entity": entity}).one()
        assert tuple(row) == tuple(core)
        assert row._asdict() == dict(core._mapping)
        assert isinstance(row.at, datetime) and row.at.tzinfo is not None
        assert row.unit is None and row.entity_id == entity
    assert lookup.first(db.session.connection(), {"entity": "nobody"}) is None
