"""Funds and the ledger: balances, reservations and statements all come from the entries."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Select, and_, bindparam, case, false, func, not_, or_, select, true
from sqlalchemy.orm import Session, joinedload

from fundsvc.audit.service import record
from fundsvc.auth.service import Actor, require_role, require_unit
from fundsvc.db import DriverStatement, connection_of, utcnow, write_transaction
from fundsvc.db.pages import plain_rows, row_class
from fundsvc.documents.words import format_vnd
from fundsvc.errors import Conflict, Invalid, NotFound
from fundsvc.ledger.models import Fund, InKindEntry, LedgerEntry, Reservation
from fundsvc.units.models import Unit, UnitRef
from fundsvc.units.service import ancestors, visible_unit


@dataclass(frozen=True)
class FundPosition:
    """A fund's money (balance, reserved for approved awards, available) and, beside it, the goods it holds."""

    fund: Fund
    balance: int
    reserved: int
    in_kind_value: int = 0

    @property
    def available(self) -> int:
        return self.balance - self.reserved


def fund_visible(actor: Actor, fund: Fund) -> bool:
    """A fund is visible when its unit is in the actor's subtree or above the actor's unit."""
    return _owner_visible(actor, fund.unit.path)


def _owner_visible(actor: Actor, owner_path: str) -> bool:
    return actor.unit_path is None or owner_path.startswith(actor.unit_path) or actor.unit_path.startswith(owner_path)


def _unknown_fund(code: str, field: str | None) -> Invalid | NotFound:
    if field:
        return Invalid(f"Không có quỹ mã {code!r} (unknown fund)", {field: [f"unknown fund {code!r}"]})
    return NotFound(f"Không có quỹ mã {code!r} (unknown fund)")


@dataclass(frozen=True, slots=True)
class FundRef:
    """What recording a gift needs of its fund, read as one plain row (no ORM object)."""

    id: int
    code: str
    unit_path: str  # the owning unit's


_FUNDS, _UNITS = Fund.__table__, Unit.__table__
_FUND_REF_BY_CODE = DriverStatement(
    select(_FUNDS.c.id, _FUNDS.c.code, _UNITS.c.path)
    .join(_UNITS, _UNITS.c.id == _FUNDS.c.unit_id)
    .where(_FUNDS.c.code == bindparam("code"))
)


def get_fund_ref(session: Session, actor: Actor, code: str, *, field: str | None = None) -> FundRef:
    """A fund visible to the actor, as one plain row (every gift reads its fund: the ORM would cost more than the
    query); unknown or out of sight → 404 (or 422 naming `field` when the code came from a body)."""
    row = _FUND_REF_BY_CODE.first(session.connection(), {"code": code})
    if row is None or not _owner_visible(actor, row.path):
        raise _unknown_fund(code, field)
    return FundRef(*row)


def get_fund(session: Session, actor: Actor, code: str, *, field: str | None = None) -> Fund:
    """get_fund_ref's fund as the ORM object, with its unit."""
    return session.get(Fund, get_fund_ref(session, actor, code, field=field).id, options=[joinedload(Fund.unit)])


def default_fund_ref(session: Session, unit: Unit | UnitRef) -> FundRef | None:
    """default_fund_for, as a FundRef."""
    fund = default_fund_for(session, unit)
    return FundRef(fund.id, fund.code, fund.unit.path) if fund is not None else None


def default_fund_for(session: Session, unit: Unit | UnitRef) -> Fund | None:
    """The unit's default fund, else the nearest ancestor's."""
    for candidate in ancestors(session, unit):
        if candidate.default_fund_id is not None:
            return session.get(Fund, candidate.default_fund_id)
    return None


def balance(session: Session, fund_id: int) -> int:
    """The fund's balance: the sum of its ledger entries."""
    return int(
        session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.fund_id == fund_id))
    )


def reserved(session: Session, fund_id: int) -> int:
    """Money held for approved, unpaid awards."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Reservation.amount), 0)).where(
                Reservation.fund_id == fund_id, Reservation.released_at.is_(None)
            )
        )
    )


def in_kind_value(session: Session, fund_id: int) -> int:
    """The agreed value of the goods given to the fund and still held (never part of its money)."""
    return int(
        session.scalar(select(func.coalesce(func.sum(InKindEntry.value), 0)).where(InKindEntry.fund_id == fund_id))
    )


def position(session: Session, fund: Fund) -> FundPosition:
    """Balance, reserved and available of one fund."""
    return FundPosition(fund, balance(session, fund.id), reserved(session, fund.id), in_kind_value(session, fund.id))


def require_available(session: Session, fund_id: int, amount: int, what: str) -> None:
    """409 unless the fund's available money (balance less what approved awards hold) covers `amount`."""
    available = balance(session, fund_id) - reserved(session, fund_id)
    if available < amount:
        raise Conflict(
            f"Số tiền khả dụng của quỹ không đủ để {what}: còn {format_vnd(available)} đồng (fund available too low)",
            {"fund": [f"available {available} is less than {amount}"]},
        )


def list_positions(session: Session, actor: Actor) -> list[FundPosition]:
    """Every fund visible to the actor with its balance and reservations (two grouped queries)."""
    funds = [f for f in session.scalars(select(Fund).order_by(Fund.code)) if fund_visible(actor, f)]
    balances = dict(
        session.execute(select(LedgerEntry.fund_id, func.sum(LedgerEntry.amount)).group_by(LedgerEntry.fund_id)).all()
    )
    holds = dict(
        session.execute(
            select(Reservation.fund_id, func.sum(Reservation.amount))
            .where(Reservation.released_at.is_(None))
            .group_by(Reservation.fund_id)
        ).all()
    )
    goods = dict(
        session.execute(select(InKindEntry.fund_id, func.sum(InKindEntry.value)).group_by(InKindEntry.fund_id)).all()
    )
    return [
        FundPosition(f, int(balances.get(f.id) or 0), int(holds.get(f.id) or 0), int(goods.get(f.id) or 0))
        for f in funds
    ]


def create_fund(session: Session, actor: Actor, data: dict, *, validate_restriction=None) -> Fund:
    """Create a fund owned by a unit; the first fund of a unit becomes its default."""
    require_role(actor, "admin", "treasurer")
    with write_transaction(session):
        if session.scalar(select(Fund.id).where(Fund.code == data["code"])) is not None:
            raise Invalid(f"Mã quỹ {data['code']!r} đã tồn tại (code already used)", {"code": ["already exists"]})
        unit = visible_unit(session, actor, data["unit"])
        require_unit(actor, unit)
        fund = Fund(
            code=data["code"],
            name=data["name"],
            unit=unit,
            restriction=data.get("restriction"),
            ledger_account=data.get("ledger_account"),
        )
        session.add(fund)
        session.flush()
        if unit.default_fund_id is None or data.get("default"):
            unit.default_fund_id = fund.id
        record(
            session,
            actor,
            "fund.create",
            "fund",
            fund.id,
            None,
            {"code": fund.code, "name": fund.name, "unit": unit.code, "restriction": fund.restriction},
            unit.id,
        )
    return fund


def update_fund(session: Session, actor: Actor, code: str, data: dict) -> Fund:
    """Rename a fund, change its restriction (None: unrestricted) or make it its unit's default (admin of the unit
    or above). A new restriction applies to the rounds allocated from then on; awards already made stay."""
    require_role(actor)
    with write_transaction(session):
        fund = get_fund(session, actor, code)
        require_unit(actor, fund.unit)
        before = _fund_state(fund)
        if data.get("name"):
            fund.name = data["name"]
        if "restriction" in data:
            fund.restriction = data["restriction"] or None
        if data.get("default"):
            fund.unit.default_fund_id = fund.id
        session.flush()
        record(session, actor, "fund.update", "fund", fund.id, before, _fund_state(fund), fund.unit_id)
    return fund


def _fund_state(fund: Fund) -> dict:
    return {
        "name": fund.name,
        "restriction": fund.restriction,
        "default": fund.unit.default_fund_id == fund.id,
    }


_INSERT_ENTRY = DriverStatement(LedgerEntry.__table__.insert())  # inside every gift's write lock: see DriverStatement


def post_entry(target: Session | Connection, actor: Actor, **values) -> None:
    """Append a ledger entry (never changed afterwards) in the caller's transaction (`target`: its session or its
    connection), at once, by one INSERT: no unit-of-work flush, so a gift's write lock is held as briefly as possible.
    `values` are the entry's columns (ids, not objects)."""
    connection = connection_of(target)
    _INSERT_ENTRY.execute(connection, {"created_by": actor.user_id, "created_at": utcnow(), **values})


# What a line of a fund's ledger shows of its entry, read as a plain row (no ORM object): a page of 1,000 lines
# loaded as entities took longer than the query.
LEDGER_LINE_COLUMNS = (
    LedgerEntry.id,
    LedgerEntry.entry_date,
    LedgerEntry.kind,
    LedgerEntry.amount,
    LedgerEntry.method,
    LedgerEntry.document_code,
    LedgerEntry.description,
    LedgerEntry.donation_id,
    LedgerEntry.award_id,
)


@dataclass(frozen=True, slots=True)
class StatementLine:
    entry: tuple  # the entry's LEDGER_LINE_COLUMNS as a named tuple (fundsvc.db.pages.plain_rows)
    running_balance: int


# The most lines of a ledger page, and how many a page holds unless asked (docs/api.md "The fund's ledger").
LEDGER_PAGE_MAX = 5000
LEDGER_PAGE_DEFAULT = 1000


@dataclass(frozen=True)
class LedgerPage:
    """A period of a fund's ledger, one page of its lines: the period's figures (from the database, whatever the
    page) and the page's lines, oldest first, each with its running balance; `next_after` the cursor of the page
    after this one (None on the last)."""

    opening_balance: int
    closing_balance: int
    total_in: int
    total_out: int
    entry_count: int
    lines: list[StatementLine]
    next_after: tuple[date, int] | None


def ledger_page(
    session: Session,
    fund: Fund,
    date_from: date | None,
    date_to: date | None,
    *,
    within: str | Collection[int] | None = None,
    after: tuple[date, int] | None = None,
    limit: int = LEDGER_PAGE_DEFAULT,
) -> LedgerPage:
    """The page of the fund's ledger in a period that follows the entry `after` (its date and id), in (date, id)
    order: keyset pagination, each page one range of the (fund, date, id) index however deep.

    The period's opening balance, totals and count, and the balance before the page, are one aggregate pass over
    that index (its amount included: no table row is read). `within` (a unit path, the actor's scope): for a fund
    owned above that unit, only the entries made inside its subtree, so a commune does not read the other
    communes' gifts in the provincial fund.
    """
    conditions = _ledger_conditions(session, fund, date_to, within)
    in_period = LedgerEntry.entry_date >= date_from if date_from is not None else true()
    before_page = _at_or_before(after) if after is not None else false()
    amount = LedgerEntry.amount

    def total(*when):
        return func.coalesce(func.sum(case((and_(*when), amount), else_=0)), 0)

    opening, count, money_in, money_out, before = session.execute(
        select(
            total(not_(in_period)),
            func.count(case((in_period, 1))),
            total(in_period, amount > 0),
            total(in_period, amount < 0),
            total(in_period, before_page),
        ).where(*conditions)
    ).one()
    query = select(*LEDGER_LINE_COLUMNS).where(*conditions, in_period, not_(before_page))
    entries = plain_rows(session.execute(query.order_by(LedgerEntry.entry_date, LedgerEntry.id).limit(limit + 1)))
    lines, running = [], int(opening) + int(before)
    for entry in entries[:limit]:
        running += entry.amount
        lines.append(StatementLine(entry, running))
    last = entries[limit - 1] if len(entries) > limit else None
    return LedgerPage(
        opening_balance=int(opening),
        closing_balance=int(opening) + int(money_in) + int(money_out),
        total_in=int(money_in),
        total_out=-int(money_out),
        entry_count=int(count),
        lines=lines,
        next_after=(last.entry_date, last.id) if last is not None else None,
    )


def _at_or_before(key: tuple[date, int]):
    """Entries at or before `key` in the ledger's (date, id) order."""
    day, entry_id = key
    return or_(LedgerEntry.entry_date < day, and_(LedgerEntry.entry_date == day, LedgerEntry.id <= entry_id))


def _ledger_conditions(
    session: Session, fund: Fund, date_to: date | None, within: str | Collection[int] | None
) -> list:
    """The entries of the fund up to `date_to`, made inside `within` (a unit path or a set of unit ids; None: all)."""
    conditions = [LedgerEntry.fund_id == fund.id]
    if isinstance(within, str):
        if not fund.unit.path.startswith(within):
            units = session.scalars(select(Unit.id).where(Unit.path.startswith(within))).all()
            conditions.append(LedgerEntry.unit_id.in_(units))
    elif within is not None and fund.unit_id not in within:
        conditions.append(LedgerEntry.unit_id.in_(sorted(within)))
    if date_to is not None:
        conditions.append(LedgerEntry.entry_date <= date_to)
    return conditions


# Rows of a statement fetched from the database at a time: a year of a busy commune (70,000 lines) streams through.
STATEMENT_BATCH = 2000


def statement(
    session: Session,
    fund: Fund,
    date_from: date | None,
    date_to: date | None,
    *,
    within: str | Collection[int] | None = None,
    joined: Callable[[Select], Select] | None = None,
) -> tuple[int, Iterator[StatementLine]]:
    """The opening balance before `date_from` and every entry of the period, oldest first, with running balance:
    for the books that want the whole period (the API reads it a page at a time: ledger_page).

    The opening is one aggregate over the (fund, date) index; the lines are one ordered pass over the period,
    streamed STATEMENT_BATCH rows at a time, the running balance added up here. `joined` may add columns (and
    the joins they need) to the lines' select: a book that names each gift's donor reads it in the same pass.
    The lines are read as they are consumed: read them before the session runs anything else.
    """
    conditions = _ledger_conditions(session, fund, date_to, within)
    if date_from is not None:
        earlier = (*conditions, LedgerEntry.entry_date < date_from)
        before = session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(*earlier))
        conditions.append(LedgerEntry.entry_date >= date_from)
    opening = int(before) if date_from is not None else 0
    query = select(*LEDGER_LINE_COLUMNS).where(*conditions).order_by(LedgerEntry.entry_date, LedgerEntry.id)
    if joined is not None:
        query = joined(query)
    result = session.execute(query.execution_options(yield_per=STATEMENT_BATCH))
    return opening, running_lines(opening, map(row_class(tuple(result.keys()))._make, result))


def running_lines(opening: int, entries: Iterable) -> Iterator[StatementLine]:
    """Each entry (in the ledger's order, with its `amount`) with the balance after it, from `opening`."""
    running = opening
    for entry in entries:
        running += entry.amount
        yield StatementLine(entry, running)
