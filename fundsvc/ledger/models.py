"""Funds, the ledger of every money movement, and reservations of approved awards."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundsvc.db import Base, JSONType, Money, utcnow
from fundsvc.units.models import Unit

ENTRY_KINDS = ("donation", "reversal", "disbursement", "adjustment")


class Fund(Base):
    __tablename__ = "funds"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    # A condition in the RULES.md language; None means unrestricted.
    restriction: Mapped[Any | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    entries: Mapped[list[LedgerEntry]] = relationship(back_populates="fund")


class LedgerEntry(Base):
    """One money movement. Signed: gifts are positive, reversals and payments negative. Never updated."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    entry_date: Mapped[date] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Money)
    method: Mapped[str | None] = mapped_column(String(16))
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"), index=True)
    award_id: Mapped[int | None] = mapped_column(index=True)
    document_code: Mapped[str | None] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    fund: Mapped[Fund] = relationship(back_populates="entries")


class Reservation(Base):
    """Money promised to an approved award and not yet paid; released on payment or cancellation."""

    __tablename__ = "reservations"

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    award_id: Mapped[int] = mapped_column(unique=True)
    amount: Mapped[int] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(index=True)
