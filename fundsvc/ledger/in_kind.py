"""The in-kind register's hand-outs (docs/books.md "Where money is"): goods given to pupils or schools, each with its
numbered Biên bản bàn giao hiện vật (HVX- series), and goods passed from one unit's register to another's when a
unit merges (docs/admin.md "Units and the 2025 reorganisation"). Goods are never money: no fund's or account's
balance moves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundsvc.audit.service import record
from fundsvc.auth.service import Actor, require_role
from fundsvc.db import utcnow, write_transaction
from fundsvc.donations.models import Donation
from fundsvc.errors import Conflict, Invalid, NotFound
from fundsvc.ledger.models import Fund, InKindEntry
from fundsvc.ledger.periods import check_books_opened, check_open
from fundsvc.numbering import document_code, take_number
from fundsvc.units.models import Unit


def held(session: Session, donation_id: int, unit_id: int) -> tuple[int, int | None]:
    """The value and the quantity of a gift of goods that a unit's register still holds (received or passed in,
    less voided, handed out and passed out)."""
    value, quantity = session.execute(
        select(func.coalesce(func.sum(InKindEntry.value), 0), func.sum(InKindEntry.quantity)).where(
            InKindEntry.donation_id == donation_id, InKindEntry.unit_id == unit_id
        )
    ).one()
    return int(value), (int(quantity) if quantity is not None else None)


@dataclass(frozen=True)
class Holding:
    """Where a gift of goods is kept: the unit whose register holds it now and the fund it is entered under there."""

    unit: Unit
    fund_id: int | None


def holding(session: Session, donation: Donation) -> Holding:
    """The unit that received the gift, or the one its goods last passed to (a merger)."""
    passed = session.execute(
        select(InKindEntry.unit_id, InKindEntry.fund_id)
        .where(InKindEntry.donation_id == donation.id, InKindEntry.kind == "transfer_in")
        .order_by(InKindEntry.id.desc())
        .limit(1)
    ).first()
    if passed is None:
        return Holding(donation.unit, donation.fund_id)
    return Holding(session.get(Unit, passed.unit_id), passed.fund_id)


def _gift_of_goods(session: Session, actor: Actor, donation_id: int) -> tuple[Donation, Holding]:
    """The gift, locked, and where it is kept, when the actor sees the unit keeping it; 404 otherwise."""
    donation = session.scalar(select(Donation).where(Donation.id == donation_id).with_for_update())
    where = holding(session, donation) if donation is not None else None
    if where is None or not actor.sees(where.unit):
        raise NotFound(f"Không có khoản thu {donation_id} (unknown donation)")
    return donation, where


def hand_out(session: Session, actor: Actor, donation_id: int, data: dict) -> InKindEntry:
    """Hand out some or all of a gift of goods from the register that holds it; its value leaves the register in
    proportion to the quantity."""
    require_role(actor, "treasurer")
    with write_transaction(session):
        donation, where = _gift_of_goods(session, actor, donation_id)
        unit = where.unit
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
        check_books_opened(unit, when)
        check_open(session.connection(), unit, when, action="bàn giao")
        value_left, quantity_left = held(session, donation.id, unit.id)
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
        _book, number = take_number(session.connection(), unit, when, "in_kind_out")
        entry = InKindEntry(
            unit_id=unit.id,
            fund_id=where.fund_id,
            donation_id=donation.id,
            entry_date=when,
            kind="handed_out",
            description=f"Bàn giao cho {data['to']}: {data.get('description') or donation.in_kind_description}"[:1000],
            quantity=-quantity if quantity is not None else None,
            unit_of_measure=donation.unit_of_measure,
            value=-value,
            document_code=document_code(unit, when.year, number, "in_kind_out"),
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
            unit.id,
        )
    return entry


@dataclass(frozen=True)
class GoodsPassed:
    """The goods one unit's register passed to another's: the giving side's record (HVX-), the receiving side's
    (HV-), how many gifts and their value."""

    out_code: str
    in_code: str
    gifts: int
    value: int


def pass_goods(
    session: Session,
    actor: Actor,
    giver: Unit,
    receiver: Unit,
    on: date,
    description: str,
    receiving_fund: Callable[[Fund], Fund],
) -> GoodsPassed | None:
    """Pass every gift of goods the giver's register still holds to the receiver's, in the caller's write
    transaction: one Biên bản bàn giao hiện vật of the giver (HVX-) and one Biên bản tiếp nhận hiện vật of the
    receiver (HV-) dated `on`, a line of each per gift with what is left of it (quantity and value), so the giver's
    register closes at zero and the receiver's opens with the goods. Each gift goes under the receiver's fund that
    `receiving_fund` names for its fund (the rule of the money passed alongside). None when nothing is held."""
    gifts = session.execute(
        select(
            InKindEntry.donation_id,
            InKindEntry.fund_id,
            func.sum(InKindEntry.value).label("value"),
            func.sum(InKindEntry.quantity).label("quantity"),
        )
        .where(InKindEntry.unit_id == giver.id, InKindEntry.donation_id.is_not(None))
        .group_by(InKindEntry.donation_id, InKindEntry.fund_id)
        .having(func.sum(InKindEntry.value) > 0)
        .order_by(InKindEntry.donation_id)
    ).all()
    if not gifts:
        return None
    connection = session.connection()
    for unit in (giver, receiver):
        check_books_opened(unit, on, field="on")
        check_open(connection, unit, on, action="bàn giao")
    out_code = document_code(
        giver, on.year, take_number(connection, giver, on, "in_kind_out", field="on")[1], "in_kind_out"
    )
    in_code = document_code(
        receiver, on.year, take_number(connection, receiver, on, "in_kind_record", field="on")[1], "in_kind_record"
    )
    now = utcnow()
    for gift in gifts:
        donation = session.get(Donation, gift.donation_id)
        fund = session.get(Fund, gift.fund_id) if gift.fund_id is not None else None
        fund_in = receiving_fund(fund).id if fund is not None else None
        quantity = int(gift.quantity) if gift.quantity is not None else None
        for unit, fund_id, sign, kind, code in (
            (giver, gift.fund_id, -1, "transfer_out", out_code),
            (receiver, fund_in, 1, "transfer_in", in_code),
        ):
            session.add(
                InKindEntry(
                    unit_id=unit.id,
                    fund_id=fund_id,
                    donation_id=donation.id,
                    entry_date=on,
                    kind=kind,
                    description=f"{description}: {donation.in_kind_description}"[:1000],
                    quantity=sign * quantity if quantity is not None else None,
                    unit_of_measure=donation.unit_of_measure,
                    value=sign * int(gift.value),
                    document_code=code,
                    created_at=now,
                    created_by=actor.user_id,
                )
            )
    session.flush()
    passed = GoodsPassed(out_code, in_code, len(gifts), sum(int(gift.value) for gift in gifts))
    record(
        session,
        actor,
        "in_kind.pass",
        "unit",
        giver.id,
        None,
        {"to": receiver.code, "on": on, "documents": [out_code, in_code], "gifts": passed.gifts, "value": passed.value},
        giver.id,
    )
    return passed
