"""Pledges: a gift announced before its transfer arrives, with a short memo code the donor types or scans."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundsvc.bank.statements import balance_gap
from fundsvc.db import Base, JSONType, Money, utcnow
from fundsvc.ledger.models import Fund, MoneyAccount
from fundsvc.units.models import Unit

PLEDGE_STATUSES = ("open", "matched", "cancelled")


class Pledge(Base):
    __tablename__ = "pledges"
    __table_args__ = (
        CheckConstraint(f"status IN {PLEDGE_STATUSES!r}", name="status"),
        CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("money_accounts.id"))
    amount: Mapped[int | None] = mapped_column(Money)
    donor: Mapped[Any | None] = mapped_column(JSONType)
    purpose: Mapped[str | None] = mapped_column(String(500))
    # The memo the donor's transfer carries, e.g. "KH P2 00123": unique (it holds the pledge's id).
    code: Mapped[str] = mapped_column(String(25), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    unit: Mapped[Unit] = relationship()
    fund: Mapped[Fund] = relationship()
    account: Mapped[MoneyAccount] = relationship()


STATEMENT_LINE_STATUSES = ("unmatched", "suggested", "matched", "ignored")
NOTIFICATION_PROVIDERS = ("sepay", "casso")


class StatementImport(Base):
    """One statement file imported into a bank account (its lines are what was new in it)."""

    __tablename__ = "statement_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("money_accounts.id"), index=True)
    bank: Mapped[str | None] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    # What the file prints as its opening and closing balance (None when it prints none, and for imports made
    # before migration 0025), and the totals of all its lines, repeated ones included.
    opening_balance: Mapped[int | None] = mapped_column(Money)
    closing_balance: Mapped[int | None] = mapped_column(Money)
    money_in: Mapped[int | None] = mapped_column(Money)
    money_out: Mapped[int | None] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def balance_gap(self) -> int | None:
        """closing − (opening + money in − money out): 0 when the file adds up, None when it cannot be checked."""
        return balance_gap(self.opening_balance, self.closing_balance, self.money_in, self.money_out)


class StatementLine(Base):
    """A line of a bank statement, kept once per account whatever the overlapping files it came in
    (`dedupe_key`, fundsvc.bank.statements.dedupe_keys), and what it was matched to."""

    __tablename__ = "statement_lines"
    __table_args__ = (
        UniqueConstraint("account_id", "dedupe_key"),
        # A provider's retries of one notification record one line, whatever runs them concurrently.
        UniqueConstraint("provider", "provider_id"),
        CheckConstraint(f"status IN {STATEMENT_LINE_STATUSES!r}", name="status"),
        CheckConstraint(f"provider IS NULL OR provider IN {NOTIFICATION_PROVIDERS!r}", name="provider"),
        CheckConstraint("direction IN ('in', 'out')", name="direction"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("money_accounts.id"), index=True)
    # The file it came in; None for a line a transfer notification brought (`provider`, `provider_id`).
    import_id: Mapped[int | None] = mapped_column(ForeignKey("statement_imports.id"), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(1200))
    line_date: Mapped[date]
    amount: Mapped[int] = mapped_column(Money)
    direction: Mapped[str] = mapped_column(String(4))
    description: Mapped[str] = mapped_column(String(1000))
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    counterparty_account: Mapped[str | None] = mapped_column(String(40))
    # The account's balance after this line, as the bank prints it (None when the file has no balance column).
    balance: Mapped[int | None] = mapped_column(Money)
    provider: Mapped[str | None] = mapped_column(String(10))
    provider_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="unmatched", index=True)
    suggested_pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"))
    suggested_donor_id: Mapped[int | None] = mapped_column(ForeignKey("donors.id"))
    suggested_movement_id: Mapped[int | None] = mapped_column(ForeignKey("movements.id"))
    why: Mapped[str | None] = mapped_column(String(500))
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"))
    movement_id: Mapped[int | None] = mapped_column(ForeignKey("movements.id"))
    award_id: Mapped[int | None] = mapped_column(ForeignKey("awards.id"))
    ignore_reason: Mapped[str | None] = mapped_column(String(500))


class NotificationSecret(Base):
    """The key a transfer-notification provider authenticates itself with for one bank account (docs/bank.md
    "Thông báo chuyển khoản"): SePay's API key, Casso's webhook signing secret. Kept as given (an HMAC needs the secret
    itself) and never shown back beyond its last characters."""

    __tablename__ = "notification_secrets"
    __table_args__ = (
        UniqueConstraint("account_id", "provider"),
        CheckConstraint(f"provider IN {NOTIFICATION_PROVIDERS!r}", name="provider"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("money_accounts.id"), index=True)
    provider: Mapped[str] = mapped_column(String(10))
    secret: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class StatementMapping(Base):
    """The columns of a bank account's statement file of a layout no bank reader knows, chosen once and offered
    again on the account's next upload: {field: the column's header text} (fundsvc.bank.statements.MAPPED_FIELDS)."""

    __tablename__ = "statement_mappings"

    account_id: Mapped[int] = mapped_column(ForeignKey("money_accounts.id"), primary_key=True)
    mapping: Mapped[Any] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
