"""Donors, donations, receipt books and receipts, and idempotency records of POST /donations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from fundsvc.db import Base, JSONType, Money, utcnow
from fundsvc.ledger.models import Fund
from fundsvc.units.models import Unit

DONOR_KINDS = ("person", "organization")
METHODS = ("cash", "bank_transfer", "in_kind")
DONATION_STATUSES = ("recorded", "void")


class Donor(Base):
    __tablename__ = "donors"
    __table_args__ = (CheckConstraint(f"kind IN {DONOR_KINDS!r}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    # fold(name) (fundsvc.donations.identity): what names are compared with and listed in order of.
    name_folded: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Stored normalised (fundsvc.donations.identity): national digits for a Vietnamese number, E.164 otherwise.
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    tax_code: Mapped[str | None] = mapped_column(String(20), index=True)
    # The unit where the donor was first recorded; donors are matched within its tree.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    # A donor merged into another is kept (audit, old links) but listed nowhere: its gifts are the survivor's.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("donors.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship()
    donations: Mapped[list[Donation]] = relationship(back_populates="donor")


# Folded words compare byte by byte on PostgreSQL too, so that a prefix is a range of the index whatever the
# database's locale (SQLite compares bytes already).
_WORD = String(60).with_variant(String(60, collation="C"), "postgresql")


class DonorNameWord(Base):
    """One folded word of a donor's name (fundsvc.donations.identity.name_words): the index a search by the start
    of any word of the name runs on ("nguyen", "nhung", "dang" …)."""

    __tablename__ = "donor_name_words"

    word: Mapped[str] = mapped_column(_WORD, primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), primary_key=True, index=True)


class Donation(Base):
    __tablename__ = "donations"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(f"method IN {METHODS!r}", name="method"),
        CheckConstraint(f"status IN {DONATION_STATUSES!r}", name="status"),
        # A unit's gifts of a period with what the summary counts: its counts and donors from the index alone.
        Index("ix_donations_unit_received", "unit_id", "received_on", "status", "fund_id", "donor_id", "amount"),
        # The lists' order, newest first, on either database.
        Index("ix_donations_received_id", "received_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    amount: Mapped[int] = mapped_column(Money)
    method: Mapped[str] = mapped_column(String(16))
    in_kind_description: Mapped[str | None] = mapped_column(String(1000))
    quantity: Mapped[int | None]
    unit_of_measure: Mapped[str | None] = mapped_column(String(40))
    # Where the money went: the unit's cash account, or the bank account a transfer reached. None for goods.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("money_accounts.id"), index=True)
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    received_on: Mapped[date] = mapped_column(index=True)
    purpose: Mapped[str | None] = mapped_column(String(500))
    anonymous: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="recorded", index=True)
    void_reason: Mapped[str | None] = mapped_column(String(500))
    voided_at: Mapped[datetime | None]
    voided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    donor: Mapped[Donor] = relationship(back_populates="donations")
    fund: Mapped[Fund] = relationship()
    unit: Mapped[Unit] = relationship()
    receipt: Mapped[Receipt] = relationship(back_populates="donation", uselist=False)


DOCUMENT_KINDS = ("receipt", "acknowledgement", "in_kind_record")


class ReceiptBook(Base):
    """A unit's series of one document kind for one calendar year: receipts ("receipt"), acknowledgements of bank
    transfers ("acknowledgement", XN-), goods records ("in_kind_record", HV-), payment vouchers ("voucher", PC-).

    `last_number` is the gapless counter.
    """

    __tablename__ = "receipt_books"
    __table_args__ = (UniqueConstraint("unit_id", "kind", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    kind: Mapped[str] = mapped_column(String(16), default="receipt")
    year: Mapped[int]
    last_number: Mapped[int] = mapped_column(default=0)
    # The date of the last document numbered: a later one may not be dated before it (numbers follow dates).
    last_date: Mapped[date | None]


class Receipt(Base):
    """The numbered document of a gift, of the kind its method calls for (docs/books.md "Documents and their
    series")."""

    __tablename__ = "receipts"
    __table_args__ = (
        UniqueConstraint("book_id", "number"),
        CheckConstraint(f"kind IN {DOCUMENT_KINDS!r}", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), unique=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("receipt_books.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    year: Mapped[int]
    number: Mapped[int]
    code: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="receipt")
    # The issuing unit's effective identity when the document was issued: a later rename or a new head does not
    # change what an issued document prints (fundsvc.units.identity).
    issuer: Mapped[Any | None] = mapped_column(JSONType)
    # Rendered once and kept: every fetch returns these bytes (a void receipt: the stamped ones).
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    void_pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    void_pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    donation: Mapped[Donation] = relationship(back_populates="receipt")
    book: Mapped[ReceiptBook] = relationship()


class IdempotencyRecord(Base):
    """Remembers (user, Idempotency-Key) → the request's fingerprint and the donation or the movement it created."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"))
    movement_id: Mapped[int | None] = mapped_column(ForeignKey("movements.id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
