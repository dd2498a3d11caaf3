"""Gapless document numbers (receipts, payment vouchers) per unit and calendar year."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundsvc.db import insert_ignore
from fundsvc.donations.models import ReceiptBook
from fundsvc.units.models import Unit


def take_number(session: Session, unit: Unit, year: int, kind: str = "receipt") -> tuple[ReceiptBook, int]:
    """Take the next number of the unit's `kind` book for `year`, holding the book's row lock until commit.

    The book row is created race-free (INSERT … ON CONFLICT DO NOTHING) and then locked
    (SELECT … FOR UPDATE on PostgreSQL; SQLite already holds the write lock from BEGIN IMMEDIATE),
    so two transactions never read the same counter value, and a rolled-back transaction gives its
    number back: the sequence has no gap and no repeat.
    """
    insert_ignore(session, ReceiptBook.__table__, {"unit_id": unit.id, "kind": kind, "year": year, "last_number": 0})
    book = session.scalar(
        select(ReceiptBook).where(ReceiptBook.unit_id == unit.id, ReceiptBook.kind == kind, ReceiptBook.year == year)
        .with_for_update().execution_options(populate_existing=True)
    )
    book.last_number += 1
    return book, book.last_number


def document_code(unit: Unit, year: int, number: int, prefix: str = "") -> str:
    """The printed code of a numbered document, e.g. ST-TP-P2/2024/00047 (vouchers: PC-…)."""
    return f"{prefix}{unit.code}/{year}/{number:05d}"
