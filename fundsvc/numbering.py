"""Gapless document numbers per unit, document kind and calendar year, in date order."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, bindparam, or_, select, update

from fundsvc.db import DriverStatement, insert_ignore
from fundsvc.donations.models import ReceiptBook
from fundsvc.errors import Invalid
from fundsvc.units.models import Unit, UnitRef

# Each document kind's series and the prefix of its codes (docs/books.md "Documents and their series").
PREFIXES = {
    "receipt": "",  # Phiếu thu: cash in
    "acknowledgement": "XN-",  # a gift by bank transfer
    "in_kind_record": "HV-",  # goods received
    "in_kind_out": "HVX-",  # goods handed out (biên bản bàn giao hiện vật)
    "voucher": "PC-",  # Phiếu chi: cash out
    "bank_credit": "BC-",  # other money in by bank (the bank's credit advice, giấy báo Có)
    "bank_payment": "UNC-",  # money out by bank (ủy nhiệm chi)
    "opening": "DK-",  # an opening balance (số dư đầu kỳ)
    "adjustment": "DC-",  # an adjustment of a closed period (bút toán điều chỉnh)
}

_BOOKS = ReceiptBook.__table__
# Built once: it runs inside every numbered write transaction, where each statement's cost is paid by every
# writer waiting for the lock.
_BUMP = DriverStatement(
    update(_BOOKS)
    .where(
        _BOOKS.c.unit_id == bindparam("book_unit"),
        _BOOKS.c.kind == bindparam("book_kind"),
        _BOOKS.c.year == bindparam("book_year"),
        or_(_BOOKS.c.last_date.is_(None), _BOOKS.c.last_date <= bindparam("on")),
    )
    .values(last_number=_BOOKS.c.last_number + 1, last_date=bindparam("on"))
    .returning(_BOOKS.c.id, _BOOKS.c.last_number)
)
_LAST_DATE = DriverStatement(
    select(_BOOKS.c.last_date).where(
        _BOOKS.c.unit_id == bindparam("book_unit"),
        _BOOKS.c.kind == bindparam("book_kind"),
        _BOOKS.c.year == bindparam("book_year"),
    )
)


def take_number(
    connection: Connection, unit: Unit | UnitRef, on: date, kind: str = "receipt", *, field: str = "date"
) -> tuple[int, int]:
    """Take the next number of the unit's `kind` series for the year of `on`; returns (book id, number).

    One `UPDATE … SET last_number = last_number + 1 … RETURNING` increments and reads the counter in a
    single statement and holds the book row's lock until commit (PostgreSQL: the row lock, which a
    concurrent taker waits for and then re-reads the committed value; SQLite: the write lock already
    held since BEGIN IMMEDIATE). So two transactions never get the same number, and a rolled-back
    transaction gives its number back: the sequence has no gap and no repeat. A year's first number
    finds no book row: it is created race-free (INSERT … ON CONFLICT DO NOTHING) and the UPDATE repeated.

    Numbers follow dates: the same UPDATE refuses a date before the series' last document (422, naming the
    earliest date allowed), so the check and the number are one atomic step.
    """
    book = {"book_unit": unit.id, "book_kind": kind, "book_year": on.year, "on": on}
    row = _BUMP.execute(connection, book)
    if row is None:
        insert_ignore(connection, _BOOKS, {"unit_id": unit.id, "kind": kind, "year": on.year, "last_number": 0})
        row = _BUMP.execute(connection, book)
    if row is None:
        (last,) = _LAST_DATE.first(connection, book)
        earliest = last.strftime("%d/%m/%Y")
        raise Invalid(
            f"Ngày chứng từ không được trước ngày của chứng từ cuối cùng trong sổ ({earliest}): số chứng từ đi theo "
            f"thứ tự ngày (date before the last document of the series; earliest allowed {last.isoformat()})",
            {field: [f"must be on or after {last.isoformat()}, the date of the last document of this series"]},
        )
    book_id, number = row
    return book_id, number


def document_code(unit: Unit | UnitRef, year: int, number: int, kind: str = "receipt") -> str:
    """The printed code of a numbered document, e.g. ST-TP-P2/2024/00047 (XN-…, HV-…, PC-… for the other kinds)."""
    return f"{PREFIXES[kind]}{unit.code}/{year}/{number:05d}"
