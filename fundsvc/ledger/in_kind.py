"""The in-kind register's hand-outs (docs/books.md "Where money is"): goods given to pupils or schools, each with its
numbered Biên bản bàn giao hiện vật (HVX- series). Goods are never money: no fund's or account's balance moves."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundsvc.audit.service import record
from fundsvc.auth.service import Actor, require_role
from fundsvc.db import utcnow, write_transaction
from fundsvc.donations.service import get_donation
from fundsvc.errors import Conflict, Invalid
from fundsvc.ledger.models import InKindEntry
from fundsvc.ledger.periods import check_books_opened, check_open
from fundsvc.numbering import document_code, take_number


def held(session: Session, donation_id: int) -> tuple[int, int | None]:
    """The value and the quantity of a gift of goods still held (received less voided and handed out)."""
    value, quantity = session.execute(
        select(func.coalesce(func.sum(InKindEntry.value), 0), func.sum(InKindEntry.quantity)).where(
            InKindEntry.donation_id == donation_id
        )
    ).one()
    return int(value), (int(quantity) if quantity is not None else None)


def hand_out(session: Session, actor: Actor, donation_id: int, data: dict) -> InKindEntry:
    """Hand out some or all of a gift of goods; its value leaves the register in proportion to the quantity."""
    require_role(actor, "treasurer")
    with write_transaction(session):
        donation = get_donation(session, actor, donation_id, lock=True)
        if donation.method != "in_kind":
            raise Conflict("Chỉ bàn giao được quà hiện vật (only goods can be handed out)")
        if donation.status == "void":
            raise Conflict(f"Quà {donation.receipt.code} đã bị hủy (the gift is void)")
        when = data["date"]
        if when < donation.received_on:
            raise Invalid(
                f"Ngày bàn giao trước ngày nhận quà ({donation.received_on:%d/%m/%Y}) (hand-out before the gift)",
                {"date": [f"must be on or after {donation.received_on.isoformat()}"]},
            )
        check_books_opened(donation.unit, when)
        check_open(session.connection(), donation.unit, when, action="bàn giao")
        value_left, quantity_left = held(session, donation.id)
        quantity = data.get("quantity")
        if quantity_left is None:
            if quantity is not None:
                raise Invalid(
                    "Quà này không ghi số lượng: bàn giao cả (the gift has no quantity)", {"quantity": ["omit"]}
                )
            value = value_left
        else:
            quantity = quantity_left if quantity is None else quantity
            if quantity > quantity_left:
                raise Conflict(
                    f"Chỉ còn {quantity_left} {donation.unit_of_measure or ''} để bàn giao (more than is held)".replace(
                        "  ", " "
                    ),
                    {"quantity": [f"at most {quantity_left}"]},
                )
            # The last hand-out takes what value is left, so rounding never leaves a đồng behind.
            value = value_left if quantity == quantity_left else donation.amount * quantity // donation.quantity
        if value_left <= 0:
            raise Conflict("Quà này đã bàn giao hết (nothing left to hand out)")
        _book, number = take_number(session.connection(), donation.unit, when, "in_kind_out")
        entry = InKindEntry(
            unit_id=donation.unit_id,
            fund_id=donation.fund_id,
            donation_id=donation.id,
            entry_date=when,
            kind="handed_out",
            description=f"Bàn giao cho {data['to']}: {data.get('description') or donation.in_kind_description}"[:1000],
            quantity=-quantity if quantity is not None else None,
            unit_of_measure=donation.unit_of_measure,
            value=-value,
            document_code=document_code(donation.unit, when.year, number, "in_kind_out"),
            created_at=utcnow(),
            created_by=actor.user_id,
        )
        session.add(entry)
        session.flush()
        record(
            session,
            actor,
            "in_kind.hand_out",
            "in_kind_entry",
            entry.id,
            None,
            {
                "donation_id": donation.id,
                "to": data["to"],
                "quantity": quantity,
                "value": value,
                "document": entry.document_code,
            },
            donation.unit_id,
        )
    return entry
