"""Funds, the ledger of every money movement, and reservations of approved awards."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundsvc.db import Base, JSONType, Money, utcnow
from fundsvc.units.models import Unit

ENTRY_KINDS = ("donation", "reversal", "disbursement", "adjustment", "movement")


class Fund(Base):
    __tablename__ = "funds"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    # A condition in the docs/rules.md language; None means unrestricted.
    restriction: Mapped[Any | None] = mapped_column(JSONType)
    # The fund's own account in the chart (the other side of every money document); None: the configured default.
    ledger_account: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    entries: Mapped[list[LedgerEntry]] = relationship(back_populates="fund")


class LedgerEntry(Base):
    """One money movement. Signed: gifts are positive, reversals and payments negative. Never updated.

    Money only: goods received are entered in the in-kind register (InKindEntry). A void's reversal is dated the
    voided document's own date, so the pair annuls itself in that period (docs/books.md "Voids").
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        # A fund's entries in (date, id) order with their amounts: keyset pages of its ledger, its balance and a
        # period's totals read from the index alone.
        Index("ix_ledger_entries_fund_date", "fund_id", "entry_date", "id", "amount"),
        # A unit's entries of a period with what the summary groups them by: its aggregates from the index alone.
        Index(
            "ix_ledger_entries_unit_date",
            "unit_id",
            "entry_date",
            "fund_id",
            "kind",
            "method",
            "amount",
            "movement_id",
            "donation_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    entry_date: Mapped[date] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Money)
    method: Mapped[str | None] = mapped_column(String(16))
    # The money account the money is in (or left): every entry names its fund and its money account.
    account_id: Mapped[int] = mapped_column(ForeignKey("money_accounts.id"), index=True)
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"), index=True)
    award_id: Mapped[int | None] = mapped_column(index=True)
    movement_id: Mapped[int | None] = mapped_column(ForeignKey("movements.id"), index=True)
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


ACCOUNT_KINDS = ("cash", "bank")
# Default chart-of-accounts numbers of the money side (README "Chart of accounts").
CASH_LEDGER_ACCOUNT = "111"
BANK_LEDGER_ACCOUNT = "112"
CASH_ACCOUNT_NAME = "Quỹ tiền mặt"


class MoneyAccount(Base):
    """Where a unit's money is: its one cash box (quỹ tiền mặt) or one of its bank accounts (tiền gửi ngân hàng)."""

    __tablename__ = "money_accounts"
    __table_args__ = (
        CheckConstraint(f"kind IN {ACCOUNT_KINDS!r}", name="kind"),
        # Exactly one cash account per unit: created with the unit, never a second.
        Index(
            "uq_money_accounts_one_cash",
            "unit_id",
            unique=True,
            sqlite_where=text("kind = 'cash'"),
            postgresql_where=text("kind = 'cash'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(200))
    bank_name: Mapped[str | None] = mapped_column(String(200))
    bank_bin: Mapped[str | None] = mapped_column(String(8))
    account_number: Mapped[str | None] = mapped_column(String(40))
    account_holder: Mapped[str | None] = mapped_column(String(200))
    # The chart-of-accounts number the money side of its documents prints (111 cash, 112 bank by default).
    ledger_account: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship()

    @classmethod
    def cash_of(cls, unit: Unit) -> MoneyAccount:
        """The cash account a new unit is created with."""
        return cls(unit=unit, kind="cash", name=CASH_ACCOUNT_NAME, ledger_account=CASH_LEDGER_ACCOUNT)


PERIOD_STATUSES = ("open", "closed")


class Period(Base):
    """A month of a unit's books once it has been closed (khóa sổ); a month without a row is open."""

    __tablename__ = "periods"
    __table_args__ = (
        UniqueConstraint("unit_id", "month"),
        CheckConstraint(f"status IN {PERIOD_STATUSES!r}", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # "YYYY-MM"
    status: Mapped[str] = mapped_column(String(8))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reopened_at: Mapped[datetime | None]
    reopened_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reopen_reason: Mapped[str | None] = mapped_column(String(500))


# "transfer_out" / "transfer_in": goods passing from one unit's register to another's (a merger), each side with its
# own document (HVX- of the giving unit, HV- of the receiving one).
IN_KIND_KINDS = ("received", "reversal", "handed_out", "transfer_out", "transfer_in")


class InKindEntry(Base):
    """One line of a unit's in-kind register (sổ theo dõi hiện vật): goods received, a received gift voided,
    goods handed out, or goods passed to another unit's register. Goods are never money: nothing here enters a fund's
    or a money account's balance.

    `value` and `quantity` are signed like the ledger's amounts: received (and passed in) positive, voided, handed out
    (and passed out) negative.
    """

    __tablename__ = "in_kind_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    fund_id: Mapped[int | None] = mapped_column(ForeignKey("funds.id"), index=True)
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"), index=True)
    entry_date: Mapped[date] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(1000))
    quantity: Mapped[int | None]
    unit_of_measure: Mapped[str | None] = mapped_column(String(40))
    value: Mapped[int] = mapped_column(Money)
    document_code: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


MOVEMENT_KINDS = ("opening_balance", "income", "expense", "transfer", "adjustment")
DIRECTIONS = ("in", "out")
MOVEMENT_STATUSES = ("recorded", "void")


class MovementCategory(Base):
    """A category of other income or of expenses (configurable by admins): "Lãi tiền gửi", "Chi tổ chức lễ" …"""

    __tablename__ = "movement_categories"
    __table_args__ = (CheckConstraint(f"direction IN {DIRECTIONS!r}", name="direction"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    direction: Mapped[str] = mapped_column(String(4))


class Movement(Base):
    """A movement of money that is neither a gift nor an award (docs/books.md "Movements besides gifts and awards"):
    an opening balance, other income, an expense, one side of a transfer, an adjustment. Each has its numbered
    document of the series its direction and money account call for; a transfer is two rows, one per side, sharing
    `transfer_id`, never one without the other."""

    __tablename__ = "movements"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(f"kind IN {MOVEMENT_KINDS!r}", name="kind"),
        CheckConstraint(f"direction IN {DIRECTIONS!r}", name="direction"),
        CheckConstraint(f"status IN {MOVEMENT_STATUSES!r}", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(4))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("money_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(Money)
    movement_date: Mapped[date] = mapped_column(index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("movement_categories.id"))
    counterparty_name: Mapped[str | None] = mapped_column(String(200))
    counterparty_address: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(String(500))
    corrects: Mapped[str | None] = mapped_column(String(60))
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    document_kind: Mapped[str] = mapped_column(String(16))
    document_number: Mapped[int]
    document_code: Mapped[str] = mapped_column(String(60), unique=True)
    transfer_id: Mapped[int | None] = mapped_column(index=True)
    issuer: Mapped[Any | None] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default="recorded")
    void_reason: Mapped[str | None] = mapped_column(String(500))
    voided_at: Mapped[datetime | None]
    voided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    unit: Mapped[Unit] = relationship()
    fund: Mapped[Fund] = relationship()
    account: Mapped[MoneyAccount] = relationship()
    category: Mapped[MovementCategory | None] = relationship()
