"""Pledges: a gift announced before its transfer arrives, with a short memo code the donor types or scans."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
