"""Moving, merging and retiring units (CONTRACT "Units: identity and lifecycle"; docs/admin.md "Units and the 2025
reorganisation").

Each runs in one write transaction and is audited; nothing is ever deleted. A merge passes every balance of the
merged units to the unit they merge into by paired transfer documents dated the merger day (the movements'
own transfers: fundsvc.ledger.movements), and the goods their in-kind registers hold by a paired goods record
(fundsvc.ledger.in_kind.pass_goods), closes their books through that month, marks them merged, carries
their donors and their pupils' nominations over and cancels their open pledges. Their documents keep the identity
they were issued under (each stores it), so they print exactly as before. From then on a merged or retired unit
takes no new document (fundsvc.ledger.periods.check_unit_active).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import String, func, literal, select, update
from sqlalchemy.orm import Session

from fundsvc.audit.service import record
from fundsvc.auth.service import Actor, require_role
from fundsvc.db import utcnow, write_transaction
from fundsvc.errors import Conflict, Invalid
from fundsvc.units.models import LEVELS, Unit, UnitMove
from fundsvc.units.service import visible_unit


@dataclass
class MergeOutcome:
    """What a merge did: the transfer documents (paying side, receiving side), what was carried over."""

    into: Unit
    merged: list[Unit]
    on: date
    transfers: list[tuple[str, str, int]] = field(default_factory=list)  # (out code, in code, amount)
    goods: list = field(default_factory=list)  # fundsvc.ledger.in_kind.GoodsPassed, one per merged unit holding goods
    donors: int = 0
    nominations: int = 0
    pledges: int = 0  # open pledges of the merged units, cancelled (their codes would name a closed unit)


def _active_children(session: Session, unit: Unit) -> list[str]:
    return list(
        session.scalars(
            select(Unit.code).where(Unit.parent_id == unit.id, Unit.merged_on.is_(None), Unit.retired_on.is_(None))
        )
    )


def _require_active(unit: Unit, field_name: str) -> None:
    if unit.closed_on is not None:
        raise Conflict(
            f"Đơn vị {unit.code} đã sáp nhập hoặc giải thể ngày {unit.closed_on:%d/%m/%Y} (the unit is closed already)",
            {field_name: [f"{unit.code} is merged or retired"]},
        )


def _require_no_active_children(session: Session, unit: Unit, what: str) -> None:
    children = _active_children(session, unit)
    if children:
        raise Conflict(
            f"Đơn vị {unit.code} còn đơn vị trực thuộc ({', '.join(children)}): hãy chuyển hoặc sáp nhập các đơn vị "
            f"đó trước khi {what} (the unit still has active units below it)",
            {"units": children},
        )


def move_unit(session: Session, actor: Actor, code: str, parent_code: str, on: date) -> Unit:
    """Put a unit (and its subtree) under another parent from `on` (a dissolved district's communes moved up to the
    province). The level must stay below the new parent's; a unit never moves under itself. The move is kept
    (UnitMove), so that reports of periods ended before `on` roll up along the tree as it was."""
    require_role(actor)
    with write_transaction(session):
        unit = visible_unit(session, actor, code)
        parent = visible_unit(session, actor, parent_code, field="parent")
        _require_active(unit, "unit")
        _require_active(parent, "parent")
        if parent.path.startswith(unit.path):
            raise Invalid(
                f"Không thể chuyển {unit.code} vào dưới chính nó (a unit cannot move under itself)",
                {"parent": ["inside the unit moved"]},
            )
        if LEVELS.index(unit.level) <= LEVELS.index(parent.level):
            raise Invalid(
                f"Cấp '{unit.level}' không thể nằm dưới cấp '{parent.level}' (level must be below parent's)",
                {"parent": [f"a {unit.level} cannot sit below a {parent.level}"]},
            )
        if parent.id == unit.parent_id:
            raise Conflict(f"{unit.code} đã ở dưới {parent.code} (already there)", {"parent": ["unchanged"]})
        before = {"parent": unit.parent.code if unit.parent else None, "path": unit.path}
        old_path, new_path = unit.path, f"{parent.path}{unit.id}/"
        session.execute(
            update(Unit)
            .where(Unit.path.startswith(old_path))
            .values(path=literal(new_path, String) + func.substr(Unit.path, len(old_path) + 1))
            .execution_options(synchronize_session=False)
        )
        unit.parent_id = parent.id
        session.add(
            UnitMove(unit_id=unit.id, moved_on=on, old_path=old_path, new_path=new_path, created_by=actor.user_id)
        )
        session.flush()
        session.refresh(unit)
        record(
            session,
            actor,
            "unit.move",
            "unit",
            unit.id,
            before,
            {"parent": parent.code, "path": unit.path, "on": on},
            unit.id,
        )
    return unit


def retire_unit(session: Session, actor: Actor, code: str, on: date, reason: str) -> Unit:
    """Retire a unit that holds no money and has no active unit below it: it takes no new document from then on.
    A unit holding money is merged instead, so that its balances pass on by documents."""
    from fundsvc.ledger.models import LedgerEntry, MoneyAccount

    require_role(actor)
    with write_transaction(session):
        unit = visible_unit(session, actor, code)
        _require_active(unit, "unit")
        _require_no_active_children(session, unit, "giải thể")
        held = session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0))
            .join(MoneyAccount, MoneyAccount.id == LedgerEntry.account_id)
            .where(MoneyAccount.unit_id == unit.id)
        )
        if held:
            raise Conflict(
                f"Đơn vị {unit.code} còn giữ {held:,} đồng: hãy sáp nhập vào đơn vị khác để chuyển số dư bằng chứng từ "
                "(the unit still holds money; merge it instead)".replace(",", "."),
                {"unit": ["holds money"]},
            )
        check_not_before_last_document(session, unit, on)
        unit.retired_on = on
        session.flush()
        record(session, actor, "unit.retire", "unit", unit.id, None, {"retired_on": on, "reason": reason}, unit.id)
    return unit


def check_not_before_last_document(session: Session, unit: Unit, on: date) -> None:
    """409 when the unit has money or goods dated after `on`: its books cannot end before their last document."""
    from fundsvc.ledger.models import InKindEntry, LedgerEntry

    last = max(
        (
            day
            for day in (
                session.scalar(select(func.max(LedgerEntry.entry_date)).where(LedgerEntry.unit_id == unit.id)),
                session.scalar(select(func.max(InKindEntry.entry_date)).where(InKindEntry.unit_id == unit.id)),
            )
            if day is not None
        ),
        default=None,
    )
    if last is not None and last > on:
        raise Conflict(
            f"Đơn vị {unit.code} có chứng từ ngày {last:%d/%m/%Y}, sau ngày {on:%d/%m/%Y} (documents after the date; "
            f"the earliest date allowed is {last.isoformat()})",
            {"on": [f"must be on or after {last.isoformat()}"]},
        )


def merge_units(
    session: Session, actor: Actor, codes: list[str], into_code: str, on: date, reason: str
) -> MergeOutcome:
    """Merge units into another on a date (see the module's docstring), all or nothing."""
    require_role(actor)
    if len(set(codes)) != len(codes) or into_code in codes:
        raise Invalid(
            "Danh sách đơn vị sáp nhập lặp lại hoặc chứa đơn vị nhận (repeated unit, or the receiving unit itself)",
            {"from": ["each unit once, not the one merged into"]},
        )
    with write_transaction(session):
        into = visible_unit(session, actor, into_code, field="into")
        _require_active(into, "into")
        merged = [visible_unit(session, actor, code, field="from") for code in codes]
        outcome = MergeOutcome(into=into, merged=merged, on=on)
        for unit in merged:
            _check_mergeable(session, unit, into, on)
        for unit in merged:
            outcome.transfers += _pass_balances(session, actor, unit, into, on, reason)
            goods = _pass_goods(session, actor, unit, into, on)
            if goods is not None:
                outcome.goods.append(goods)
            outcome.donors += _carry_donors(session, unit, into)
            outcome.nominations += _carry_nominations(session, unit, into)
            outcome.pledges += _cancel_open_pledges(session, actor, unit)
            _close_books(session, actor, unit, on)
            unit.merged_into_id, unit.merged_on = into.id, on
            session.flush()
            record(
                session,
                actor,
                "unit.merge",
                "unit",
                unit.id,
                {"name": unit.name, "merged_into": None},
                {
                    "merged_into": into.code,
                    "merged_on": on,
                    "reason": reason,
                    "transfers": [f"{out} → {in_}" for out, in_, _ in outcome.transfers],
                    "goods": [f"{g.out_code} → {g.in_code}" for g in outcome.goods],
                },
                unit.id,
            )
    return outcome


def _check_mergeable(session: Session, unit: Unit, into: Unit, on: date) -> None:
    from fundsvc.allocation.models import Award, Round
    from fundsvc.ledger.models import Reservation

    _require_active(unit, "from")
    if into.path.startswith(unit.path):
        raise Invalid(
            f"Không thể sáp nhập {unit.code} vào đơn vị trực thuộc nó (cannot merge a unit into one below it)",
            {"into": ["below a merged unit"]},
        )
    _require_no_active_children(session, unit, "sáp nhập")
    if on < unit.books_opened_on:
        raise Invalid(
            f"Ngày sáp nhập trước ngày mở sổ của {unit.code} ({unit.books_opened_on:%d/%m/%Y}) "
            "(before the books opened)",
            {"on": [f"must be on or after {unit.books_opened_on.isoformat()}"]},
        )
    check_not_before_last_document(session, unit, on)
    promised = session.scalar(
        select(func.count())
        .select_from(Reservation)
        .join(Award, Award.id == Reservation.award_id)
        .join(Round, Round.id == Award.round_id)
        .where(Round.unit_id == unit.id, Reservation.released_at.is_(None))
    )
    if promised:
        raise Conflict(
            f"Đơn vị {unit.code} còn {promised} học bổng đã duyệt chưa chi: hãy chi hoặc hủy trước khi sáp nhập "
            "(approved awards not yet paid)",
            {"from": [f"{unit.code} has {promised} approved unpaid awards"]},
        )


def _pass_balances(session: Session, actor: Actor, unit: Unit, into: Unit, on: date, reason: str) -> list:
    """One transfer per fund and money account of `unit` holding money, into the matching fund and account of
    `into` (docs/admin.md "Where the money goes")."""
    from fundsvc.ledger.models import Fund, LedgerEntry, MoneyAccount
    from fundsvc.ledger.movements import Side, write_sides

    held = session.execute(
        select(LedgerEntry.fund_id, LedgerEntry.account_id, func.sum(LedgerEntry.amount))
        .join(MoneyAccount, MoneyAccount.id == LedgerEntry.account_id)
        .where(MoneyAccount.unit_id == unit.id)
        .group_by(LedgerEntry.fund_id, LedgerEntry.account_id)
        .order_by(LedgerEntry.account_id, LedgerEntry.fund_id)
    ).all()
    done = []
    for fund_id, account_id, amount in held:
        if not amount:
            continue
        fund, account = session.get(Fund, fund_id), session.get(MoneyAccount, account_id)
        target = Side(into, _receiving_fund(session, fund, into), _receiving_account(session, account, into), "in")
        paying = Side(unit, fund, account, "out")
        description = f"Chuyển số dư do sáp nhập {unit.name} vào {into.name}: {reason}"[:500]
        out, in_ = write_sides(
            session,
            actor,
            "transfer",
            [paying, target],
            None,
            {"date": on, "amount": int(amount), "description": description},
        )
        done.append((out.document_code, in_.document_code, int(amount)))
    return done


def _pass_goods(session: Session, actor: Actor, unit: Unit, into: Unit, on: date):
    """The goods `unit`'s in-kind register holds, passed to `into`'s by a paired goods record, each gift under the
    fund its money would go to (docs/admin.md "Where the goods go")."""
    from fundsvc.ledger.in_kind import pass_goods

    description = f"Chuyển hiện vật do sáp nhập {unit.name} vào {into.name}"
    return pass_goods(session, actor, unit, into, on, description, lambda fund: _receiving_fund(session, fund, into))


def _receiving_fund(session: Session, fund, into: Unit):
    """The fund a merged unit's money goes to: the same one when `into` may use it (a fund of a unit above both);
    for the merged unit's own fund, `into`'s fund with the same restriction: its default fund when unrestricted."""
    from fundsvc.ledger.models import Fund
    from fundsvc.ledger.service import default_fund_for

    if into.path.startswith(fund.unit.path):
        return fund
    if fund.restriction is None:
        default = default_fund_for(session, into)
        if default is not None and into.path.startswith(default.unit.path) and default.restriction is None:
            return default
    else:
        for candidate in session.scalars(select(Fund).where(Fund.unit_id == into.id).order_by(Fund.id)):
            if candidate.restriction == fund.restriction:
                return candidate
    raise Conflict(
        f"{into.code} chưa có quỹ nhận tiền của quỹ {fund.code} ({fund.name}): hãy tạo cho {into.code} một quỹ "
        f"{'cùng điều kiện' if fund.restriction is not None else 'mặc định không điều kiện'} trước "
        "(no fund of the receiving unit to take this fund's money)",
        {"into": [f"needs a fund for the money of {fund.code}"]},
    )


def _receiving_account(session: Session, account, into: Unit):
    """Cash goes to `into`'s cash; a bank account's money to `into`'s first bank account."""
    from fundsvc.ledger.models import MoneyAccount

    found = session.scalar(
        select(MoneyAccount)
        .where(MoneyAccount.unit_id == into.id, MoneyAccount.kind == account.kind)
        .order_by(MoneyAccount.id)
        .limit(1)
    )
    if found is None:
        raise Conflict(
            f"{into.code} chưa có tài khoản ngân hàng để nhận số dư của {account.name}: hãy thêm tài khoản trước "
            "(the receiving unit has no bank account)",
            {"into": ["needs a bank account"]},
        )
    return found


def _carry_donors(session: Session, unit: Unit, into: Unit) -> int:
    """The merged unit's donors become the receiving unit's (their gifts stay where they were recorded)."""
    from fundsvc.donations.models import Donor

    moved = session.execute(
        update(Donor)
        .where(Donor.unit_id == unit.id)
        .values(unit_id=into.id)
        .execution_options(synchronize_session=False)
    )
    return moved.rowcount


def _carry_nominations(session: Session, unit: Unit, into: Unit) -> int:
    """The merged unit's nominations that no round has awarded pass to the receiving unit; those of a round stay
    with it, as its award lists printed them."""
    from fundsvc.allocation.models import Award
    from fundsvc.students.models import Nomination

    moved = session.execute(
        update(Nomination)
        .where(Nomination.unit_id == unit.id, Nomination.id.not_in(select(Award.nomination_id)))
        .values(unit_id=into.id)
        .execution_options(synchronize_session=False)
    )
    return moved.rowcount


def _cancel_open_pledges(session: Session, actor: Actor, unit: Unit) -> int:
    """The merged unit's open pledges are cancelled: a transfer announced for a unit that takes no document could
    never be recorded; the new unit makes its own codes."""
    from fundsvc.bank.models import Pledge

    pledges = list(session.scalars(select(Pledge).where(Pledge.unit_id == unit.id, Pledge.status == "open")))
    for pledge in pledges:
        pledge.status = "cancelled"
        record(
            session, actor, "pledge.cancel", "pledge", pledge.id, {"status": "open"}, {"status": "cancelled"}, unit.id
        )
    return len(pledges)


def _close_books(session: Session, actor: Actor, unit: Unit, on: date) -> None:
    """Every month of the merged unit's books through the merger's is closed (the month of the merger too: nothing
    more is ever dated in the unit)."""
    from fundsvc.ledger.models import Period
    from fundsvc.ledger.periods import month_of

    stored = {p.month: p for p in session.scalars(select(Period).where(Period.unit_id == unit.id))}
    first, last = unit.books_opened_on.replace(day=1), on.replace(day=1)
    now = utcnow()
    while first <= last:
        period = stored.get(month_of(first)) or Period(unit_id=unit.id, month=month_of(first))
        if period.status != "closed":
            period.status, period.closed_at, period.closed_by = "closed", now, actor.user_id
            session.add(period)
        first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    session.flush()
