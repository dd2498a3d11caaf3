"""Movements besides gifts and awards (docs/books.md): opening balances, other income, expenses, transfers, adjustments.

Each movement is one ledger entry in its fund and money account and one numbered document of its unit; a transfer is
two movements (the paying side's and the receiving side's), written in one transaction. The same rules as every
document hold: dates (fundsvc.ledger.periods), numbers in date order (fundsvc.numbering), no account or fund's
`available` below zero (fundsvc.ledger.accounts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from fundsvc.audit.service import record
from fundsvc.auth.service import Actor, require_role, require_unit
from fundsvc.db import utcnow, write_transaction
from fundsvc.donations.models import IdempotencyRecord
from fundsvc.errors import Conflict, Invalid, NotFound
from fundsvc.idempotency import once_per_key
from fundsvc.ledger.accounts import require_cover
from fundsvc.ledger.models import Fund, MoneyAccount, Movement, MovementCategory
from fundsvc.ledger.periods import check_books_opened, check_open
from fundsvc.ledger.service import get_fund, post_entry, require_available
from fundsvc.numbering import document_code, take_number
from fundsvc.units.identity import identity_chain, resolved_identity
from fundsvc.units.models import Unit
from fundsvc.units.service import visible_unit

TREASURY = ("treasurer",)
# The direction each kind moves money in; an adjustment says its own.
DIRECTION_OF_KIND = {"opening_balance": "in", "income": "in", "expense": "out"}


def _require_may_book(actor: Actor, kind: str) -> None:
    """Treasurers book movements; an opening balance is for admins only (require_role with no role: admins)."""
    if kind == "opening_balance":
        require_role(actor)
    else:
        require_role(actor, *TREASURY)


def document_kind(kind: str, direction: str, account: MoneyAccount) -> str:
    """The document series of a movement: by its kind, then its direction and money account (docs/books.md table)."""
    if kind == "opening_balance":
        return "opening"
    if kind == "adjustment":
        return "adjustment"
    if account.kind == "cash":
        return "receipt" if direction == "in" else "voucher"
    return "bank_credit" if direction == "in" else "bank_payment"


@dataclass(frozen=True)
class Side:
    """One side of a movement, resolved and checked: where the money goes in or comes out."""

    unit: Unit
    fund: Fund
    account: MoneyAccount
    direction: str


def _side(session: Session, actor: Actor, unit_code: str, fund_code: str, account_id: int, direction: str, at: str):
    """Resolve a side's unit, fund and money account; 422 naming the field when they do not fit together."""
    unit = visible_unit(session, actor, unit_code, field=f"{at}unit")
    fund = get_fund(session, actor, fund_code, field=f"{at}fund")
    if not unit.path.startswith(fund.unit.path):
        raise Invalid(
            f"Quỹ {fund.code} không thuộc đơn vị {unit.code} hoặc cấp trên (fund not available to unit)",
            {f"{at}fund": [f"fund {fund.code} does not belong to {unit.code} or a unit above it"]},
        )
    account = session.get(MoneyAccount, account_id)
    if account is None or account.unit_id != unit.id:
        raise Invalid(
            f"Tài khoản {account_id} không phải tài khoản tiền của {unit.code} (not a money account of the unit)",
            {f"{at}account": [f"not a money account of {unit.code}"]},
        )
    return Side(unit, fund, account, direction)


def _category(session: Session, code: str | None, direction: str) -> MovementCategory | None:
    if code is None:
        return None
    category = session.scalar(select(MovementCategory).where(MovementCategory.code == code))
    if category is None or category.direction != direction:
        raise Invalid(
            f"Không có loại thu/chi {code!r} cho chiều này (unknown category for this direction)",
            {"category": [f"unknown {'income' if direction == 'in' else 'expense'} category {code!r}"]},
        )
    return category


def record_movement(
    session: Session,
    actor: Actor,
    data: dict,
    *,
    idempotency_key: str | None = None,
    fingerprint: str | None = None,
) -> tuple[list[Movement], bool]:
    """Record a movement (both sides of a transfer); returns (its movements, the paying side first; replayed).

    Under an Idempotency-Key the same request again answers the movements it recorded the first time.
    """
    kind = data["kind"]
    _require_may_book(actor, kind)
    return once_per_key(
        session,
        actor,
        idempotency_key,
        fingerprint or "",
        made="movement_id",
        load=lambda movement_id: _sides(session, movement_id),
        create=lambda: _record(session, actor, kind, data, idempotency_key, fingerprint or ""),
    )


def _sides(session: Session, movement_id: int) -> list[Movement]:
    """A movement recorded earlier, with the other side of its transfer (the paying side first)."""
    first = session.get(Movement, movement_id)
    if first.transfer_id is None:
        return [first]
    sides = session.scalars(select(Movement).where(Movement.transfer_id == first.transfer_id).order_by(Movement.id))
    return list(sides)


def _record(session, actor, kind: str, data: dict, idempotency_key: str | None, fingerprint: str) -> list[Movement]:
    if kind == "transfer":
        if not data.get("to"):
            raise Invalid("Chuyển tiền cần nơi nhận (transfer needs 'to')", {"to": ["required for a transfer"]})
        directions = ["out", "in"]
    elif kind == "adjustment":
        if not data.get("direction"):
            raise Invalid("Bút toán điều chỉnh cần chiều (adjustment needs a direction)", {"direction": ["required"]})
        if not data.get("corrects"):
            raise Invalid(
                "Bút toán điều chỉnh cần số chứng từ được điều chỉnh (adjustment needs 'corrects')",
                {"corrects": ["required: the code of the document corrected"]},
            )
        directions = [data["direction"]]
    else:
        directions = [DIRECTION_OF_KIND[kind]]
    when: date = data["date"]
    with write_transaction(session):
        sides = [_side(session, actor, data["unit"], data["fund"], data["account"], directions[0], "")]
        if kind == "transfer":
            to = data["to"]
            sides.append(_side(session, actor, to["unit"], to.get("fund") or data["fund"], to["account"], "in", "to."))
            if sides[0].account.id == sides[1].account.id and sides[0].fund.id == sides[1].fund.id:
                raise Invalid("Nơi nhận trùng nơi chuyển (a transfer to itself)", {"to": ["same fund and account"]})
        category = _category(session, data.get("category"), directions[0]) if kind in ("income", "expense") else None
        if kind == "opening_balance":
            _check_opening(session, sides[0], when)
        movements = write_sides(session, actor, kind, sides, category, data)
        if idempotency_key:
            session.add(
                IdempotencyRecord(
                    user_id=actor.user_id, key=idempotency_key, request_hash=fingerprint, movement_id=movements[0].id
                )
            )
            session.flush()
    return movements


def write_sides(session: Session, actor: Actor, kind: str, sides: list[Side], category, data: dict) -> list[Movement]:
    """Write a movement's sides (a transfer's two: paying, then receiving) in the caller's write transaction, each
    with its date checks, number, ledger entry and audit event; `data` holds the date, amount and description."""
    movements = [_write_side(session, actor, kind, side, category, data) for side in sides]
    if kind == "transfer":
        movements[1].transfer_id = movements[0].transfer_id = movements[0].id
    session.flush()
    for movement in movements:
        record(session, actor, "movement.record", "movement", movement.id, None, _state(movement), movement.unit_id)
    return movements


def _check_opening(session: Session, side: Side, when: date) -> None:
    """An opening balance: once per fund and money account, dated the day the unit's books opened."""
    if when != side.unit.books_opened_on:
        raise Invalid(
            f"Số dư đầu kỳ phải ghi ngày mở sổ {side.unit.books_opened_on:%d/%m/%Y} (opening balance on the books' "
            "opening day)",
            {"date": [f"must be {side.unit.books_opened_on.isoformat()}, the day the books were opened"]},
        )
    earlier = session.scalar(
        select(Movement.id).where(
            Movement.kind == "opening_balance",
            Movement.status == "recorded",
            Movement.fund_id == side.fund.id,
            Movement.account_id == side.account.id,
        )
    )
    if earlier is not None:
        raise Conflict("Quỹ và tài khoản này đã có số dư đầu kỳ (opening balance already recorded)")


def _write_side(session: Session, actor: Actor, kind: str, side: Side, category, data: dict) -> Movement:
    """One side: its date checks, its number, its ledger entry; the money must be there to leave."""
    when, amount = data["date"], data["amount"]
    check_books_opened(side.unit, when)
    check_open(session.connection(), side.unit, when)
    if side.direction == "out":
        require_cover(session, side.account.id, amount, "chi")
        require_available(session, side.fund.id, amount, "chi")
    series = document_kind(kind, side.direction, side.account)
    _book, number = take_number(session.connection(), side.unit, when, series)
    counterparty = data.get("counterparty") or {}
    movement = Movement(
        kind=kind,
        direction=side.direction,
        unit_id=side.unit.id,
        fund_id=side.fund.id,
        account_id=side.account.id,
        amount=amount,
        movement_date=when,
        category=category,
        counterparty_name=counterparty.get("name"),
        counterparty_address=counterparty.get("address"),
        description=data["description"],
        corrects=data.get("corrects"),
        bank_reference=data.get("bank_reference"),
        document_kind=series,
        document_number=number,
        document_code=document_code(side.unit, when.year, number, series),
        issuer=resolved_identity(identity_chain(session, side.unit)),
        status="recorded",
        created_by=actor.user_id,
    )
    session.add(movement)
    session.flush()
    sign = 1 if side.direction == "in" else -1
    post_entry(
        session,
        actor,
        fund_id=side.fund.id,
        unit_id=side.unit.id,
        account_id=side.account.id,
        entry_date=when,
        kind="movement",
        amount=sign * amount,
        method="cash" if side.account.kind == "cash" else "bank_transfer",
        movement_id=movement.id,
        document_code=movement.document_code,
        description=f"{movement.document_code}: {data['description']}"[:500],
    )
    return movement


def void_movement(session: Session, actor: Actor, movement_id: int, reason: str) -> list[Movement]:
    """Void a movement in its own period (both sides of a transfer): reversals dated the movement's date.

    409 when it is void already, when its month is closed (book an adjustment instead), or when the money it
    brought in has left since.
    """
    with write_transaction(session):
        movement = get_movement(session, actor, movement_id)
        _require_may_book(actor, movement.kind)
        if movement.status == "void":
            raise Conflict(f"Chứng từ {movement.document_code} đã bị hủy trước đó (already void)")
        group = [movement]
        if movement.transfer_id is not None:
            group = list(session.scalars(select(Movement).where(Movement.transfer_id == movement.transfer_id)))
        now = utcnow()
        for side in group:
            require_unit(actor, side.unit)
            check_open(session.connection(), side.unit, side.movement_date, action="hủy")
            if side.direction == "in":
                require_cover(session, side.account_id, side.amount, f"hủy {side.document_code}")
                require_available(session, side.fund_id, side.amount, f"hủy {side.document_code}")
            before = _state(side)
            post_entry(
                session,
                actor,
                fund_id=side.fund_id,
                unit_id=side.unit_id,
                account_id=side.account_id,
                entry_date=side.movement_date,
                kind="reversal",
                amount=-side.amount if side.direction == "in" else side.amount,
                method="cash" if side.account.kind == "cash" else "bank_transfer",
                movement_id=side.id,
                document_code=side.document_code,
                description=f"Hủy {side.document_code}: {reason}"[:500],
            )
            side.status, side.void_reason, side.voided_at, side.voided_by = "void", reason, now, actor.user_id
            session.flush()
            record(session, actor, "movement.void", "movement", side.id, before, _state(side), side.unit_id)
    return group


def get_movement(session: Session, actor: Actor, movement_id: int) -> Movement:
    """A movement of a unit in the actor's scope; 404 otherwise."""
    movement = session.scalar(
        select(Movement).where(Movement.id == movement_id).options(joinedload(Movement.unit), joinedload(Movement.fund))
    )
    if movement is None or not actor.sees(movement.unit):
        raise NotFound(f"Không có chứng từ {movement_id} (unknown movement)")
    return movement


def movements_query(
    session: Session, actor: Actor, *, unit=None, fund=None, account=None, kind=None, date_from=None, date_to=None
):
    """The movements in the actor's scope, oldest first, with the contract's filters."""
    query = (
        select(Movement)
        .join(Unit, Unit.id == Movement.unit_id)
        .options(joinedload(Movement.unit), joinedload(Movement.fund), joinedload(Movement.category))
        .order_by(Movement.movement_date, Movement.id)
    )
    if actor.unit_path is not None:
        query = query.where(Unit.path.startswith(actor.unit_path))
    if unit:
        query = query.where(Unit.path.startswith(visible_unit(session, actor, unit).path))
    if fund:
        query = query.where(Movement.fund_id == get_fund(session, actor, fund, field="fund").id)
    if account:
        query = query.where(Movement.account_id == account)
    if kind:
        query = query.where(Movement.kind == kind)
    if date_from:
        query = query.where(Movement.movement_date >= date_from)
    if date_to:
        query = query.where(Movement.movement_date <= date_to)
    return query


def list_categories(session: Session) -> list[MovementCategory]:
    return list(session.scalars(select(MovementCategory).order_by(MovementCategory.direction, MovementCategory.id)))


def add_category(session: Session, actor: Actor, data: dict) -> MovementCategory:
    """A new category of income or expense (admin)."""
    require_role(actor)
    with write_transaction(session):
        if session.scalar(select(MovementCategory.id).where(MovementCategory.code == data["code"])) is not None:
            raise Invalid(f"Mã loại {data['code']!r} đã tồn tại (code already used)", {"code": ["already exists"]})
        category = MovementCategory(**data)
        session.add(category)
        session.flush()
        record(session, actor, "category.create", "movement_category", category.id, None, dict(data), None)
    return category


def _state(movement: Movement) -> dict:
    return {
        "kind": movement.kind,
        "direction": movement.direction,
        "amount": movement.amount,
        "date": movement.movement_date,
        "fund_id": movement.fund_id,
        "account_id": movement.account_id,
        "document": movement.document_code,
        "status": movement.status,
        "void_reason": movement.void_reason,
    }
