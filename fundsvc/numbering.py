"""Gapless document numbers (receipts, payment vouchers) per unit and calendar year."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, update

from fundsvc.db import DriverStatement, insert_ignore
from fundsvc.donations.models import ReceiptBook
from fundsvc.units.models import Unit, UnitRef

_BOOKS = ReceiptBook.__table__
# Built once: it runs inside every numbered write transaction, where each statement's cost is paid by every
# writer waiting for the lock.
_BUMP = DriverStatement(
    update(_BOOKS)
    .where(
        _BOOKS.c.unit_id == bindparam("book_unit"),
        _BOOKS.c.kind == bindparam("book_kind"),
        _BOOKS.c.year == bindparam("book_year"),
    )
    .values(last_number=_BOOKS.c.last_number + 1)
    .returning(_BOOKS.c.id, _BOOKS.c.last_number)
)


def take_number(connection: Connection, unit: Unit | UnitRef, year: int, kind: str = "receipt") -> tuple[int, int]:
    """Take the next number of the unit's `kind` book for `year`; returns (book id, number).

    One `UPDATE … SET last_number = last_number + 1 … RETURNING` increments and reads the counter in a
    single statement and holds the book row's lock until commit (PostgreSQL: the row lock, which a
    concurrent taker waits for and then re-reads the committed value; SQLite: the write lock already
    held since BEGIN IMMEDIATE). So two transactions never get the same number, and a rolled-back
    transaction gives its number back: the sequence has no gap and no repeat. A year's first number
    finds no book row: it is created race-free (INSERT … ON CONFLICT DO NOTHING) and the UPDATE repeated.
    """
    book = {"book_unit": unit.id, "book_kind": kind, "book_year": year}
    row = _BUMP.execute(connection, book)
    if row is None:
        insert_ignore(connection, _BOOKS, {"unit_id": unit.id, "kind": kind, "year": year, "last_number": 0})
        row = _BUMP.execute(connection, book)
    book_id, number = row
    return book_id, number


def document_code(unit: Unit | UnitRef, year: int, number: int, prefix: str = "") -> str:
    """The printed code of a numbered document, e.g. ST-TP-P2/2024/00047 (vouchers: PC-…)."""
    return f"{prefix}{unit.code}/{year}/{number:05d}"
