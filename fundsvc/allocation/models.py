"""Scholarship rounds and their awards."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from fundsvc.db import Base, CompressedJSON, JSONType, Money, utcnow
from fundsvc.ledger.models import Fund
from fundsvc.students.models import Nomination
from fundsvc.units.models import Unit

ROUND_STATUSES = ("draft", "allocated", "approved")
AWARD_STATUSES = ("approved", "paid", "cancelled")
HELD = ("approved", "paid")  # awards that count as given


class Round(Base):
    __tablename__ = "rounds"
    __table_args__ = (CheckConstraint(f"status IN {ROUND_STATUSES!r}", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    academic_year: Mapped[str] = mapped_column(String(9), index=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    budget: Mapped[int] = mapped_column(Money)
    rules: Mapped[Any] = mapped_column(JSONType)
    rules_hash: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # The last allocation: docs/rules.md "Result", the engine's ranking (Ranking.stored(), for promotion after a
    # cancellation) and the hash of the nominations it was computed from (approve refuses a stale
    # one). The documents are compressed (about 12 MB of JSON for a province), and deferred: only a few
    # readers need them.
    result: Mapped[Any | None] = deferred(mapped_column(CompressedJSON))
    ranked: Mapped[Any | None] = deferred(mapped_column(CompressedJSON))
    # What the round's page shows of the last allocation besides its entries (allocated, remaining, each list's
    # count), and the entries one row each (RoundDecision): fundsvc.allocation.decisions. Written with the result.
    result_summary: Mapped[Any | None] = mapped_column(JSONType)
    inputs_hash: Mapped[str | None] = mapped_column(String(80))
    result_hash: Mapped[str | None] = mapped_column(String(80))
    allocated_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    fund: Mapped[Fund] = relationship()
    unit: Mapped[Unit] = relationship()
    awards: Mapped[list[Award]] = relationship(back_populates="round", order_by="Award.rank")


class Award(Base):
    __tablename__ = "awards"
    __table_args__ = (
        UniqueConstraint("round_id", "nomination_id"),
        CheckConstraint(f"status IN {AWARD_STATUSES!r}", name="status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        # The round's awards in rank order: a page of them found in the index, however deep.
        Index("ix_awards_round_rank", "round_id", "rank", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id"), index=True)
    amount: Mapped[int] = mapped_column(Money)
    rank: Mapped[int]
    score: Mapped[str] = mapped_column(String(20))
    tier: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="approved", index=True)
    promoted: Mapped[bool] = mapped_column(default=False)
    paid_on: Mapped[date | None]
    received_by: Mapped[str | None] = mapped_column(String(200))
    voucher_number: Mapped[int | None]
    # Shared by the awards of a list paid at once (one Phiếu chi for the total, the signature sheet attached).
    voucher_code: Mapped[str | None] = mapped_column(String(60), index=True)
    paid_in_list: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The money account the award was paid from, and the paying unit's identity when its voucher was issued.
    paid_from_account_id: Mapped[int | None] = mapped_column(ForeignKey("money_accounts.id"))
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    voucher_issuer: Mapped[Any | None] = mapped_column(JSONType)
    voucher_pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    voucher_pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    round: Mapped[Round] = relationship(back_populates="awards")
    nomination: Mapped[Nomination] = relationship()


class RoundDecision(Base):
    """One entry of a round's allocation result (docs/rules.md "Result"), at its place in its list: the round's
    page reads a page of them, not the whole result (10.8 MB of JSON for a province's 100,000 nominations). The
    round's `result_summary` names the allocation whose decisions are current (fundsvc.allocation.decisions)."""

    __tablename__ = "round_decisions"
    __table_args__ = (
        Index("ix_round_decisions_nomination", "round_id", "allocation", "nomination_id"),
        # A list in rank order (an approved round's waitlist), a page found in the index however deep.
        Index("ix_round_decisions_rank", "round_id", "allocation", "outcome", "rank"),
    )

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    allocation: Mapped[int] = mapped_column(primary_key=True)  # the key of the allocation they were decided by
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)  # the result's list: awarded, waitlisted…
    position: Mapped[int] = mapped_column(primary_key=True)  # its place in that list, from 0
    nomination_id: Mapped[int]
    rank: Mapped[int | None]  # awarded and waitlisted entries
    amount: Mapped[int | None] = mapped_column(Money)
    entry: Mapped[str] = mapped_column(Text)  # the entry as the result holds it, JSON text
