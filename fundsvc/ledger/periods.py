"""The rules of a document's date and of the months of a unit's books (docs/books.md "Dates and periods").

A document's date is never after today in Vietnam (the schemas' DocumentDate), never before the unit's books
opened, never before the last document of its series (fundsvc.numbering), and never in a closed month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from fundsvc.audit.service import record
from fundsvc.auth.service import Actor, require_role
from fundsvc.db import DriverStatement, utcnow, write_transaction
from fundsvc.documents.words import today_in_vietnam
from fundsvc.errors import Conflict, Invalid
from fundsvc.ledger.models import Period
from fundsvc.units.models import Unit, UnitRef
from fundsvc.units.service import visible_unit


def month_of(day: date) -> str:
    """The period a date lies in: "YYYY-MM"."""
    return f"{day.year:04d}-{day.month:02d}"


def _parse_month(month: str) -> date:
    """The first day of a "YYYY-MM" month; 422 for anything else."""
    try:
        first = datetime.strptime(month, "%Y-%m").date()
    except ValueError:
        raise Invalid(
            f"Tháng {month!r} không hợp lệ, cần dạng YYYY-MM (invalid month)", {"month": ["YYYY-MM"]}
        ) from None
    return first


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def check_books_opened(unit: Unit | UnitRef, day: date, *, field: str = "date") -> None:
    """422 when `day` lies before the unit's books were opened (ngày mở sổ), naming the earliest allowed date."""
    opened = unit.books_opened_on
    if opened is not None and day < opened:
        raise Invalid(
            f"Ngày chứng từ trước ngày mở sổ của đơn vị ({opened:%d/%m/%Y}) (date before the books were opened; "
            f"earliest allowed {opened.isoformat()})",
            {field: [f"must be on or after {opened.isoformat()}, the day the unit's books were opened"]},
        )


_CLOSED = Period.__table__
_IS_CLOSED = DriverStatement(
    select(_CLOSED.c.id).where(
        _CLOSED.c.unit_id == bindparam("unit_id"), _CLOSED.c.month == bindparam("month"), _CLOSED.c.status == "closed"
    )
)


def check_unit_active(unit: Unit | UnitRef) -> None:
    """409 once the unit has been merged into another or retired: it takes no new document, whatever its date, and
    none of its documents is voided (its balances have passed on; docs/admin.md "Units and the 2025 reorganisation").
    """
    if unit.closed_on is not None:
        raise Conflict(
            f"Đơn vị {unit.code} đã sáp nhập hoặc giải thể từ ngày {unit.closed_on:%d/%m/%Y}: không nhận chứng từ mới "
            "(the unit was merged or retired and accepts no new movement)",
            {"unit": [f"{unit.code} was merged or retired on {unit.closed_on.isoformat()}"]},
        )


def check_open(connection: Connection, unit: Unit | UnitRef, day: date, *, action: str = "ghi") -> None:
    """409 when the month of `day` is closed for the unit: nothing dated in it is created, changed or voided;
    and when the unit itself is closed (check_unit_active)."""
    check_unit_active(unit)
    if _IS_CLOSED.first(connection, {"unit_id": unit.id, "month": month_of(day)}) is not None:
        raise Conflict(
            f"Tháng {day:%m/%Y} của {unit.code} đã khóa sổ: không thể {action} chứng từ trong tháng này; "
            "hãy lập bút toán điều chỉnh trong kỳ đang mở (period closed; book an adjustment in the open period)",
            {"date": [f"the period {month_of(day)} is closed"]},
        )


def check_document_date(connection: Connection, unit: Unit | UnitRef, day: date, *, field: str = "date") -> None:
    """Every check of a new document's date but its series' order, which numbering makes with the number."""
    check_books_opened(unit, day, field=field)
    check_open(connection, unit, day)


@dataclass(frozen=True)
class PeriodState:
    month: str
    status: str
    closed_at: datetime | None = None
    closed_by: int | None = None


def list_periods(session: Session, actor: Actor, unit_code: str) -> list[PeriodState]:
    """Every month from the one the books opened in to the current one, oldest first, with its state."""
    unit = visible_unit(session, actor, unit_code)
    stored = {p.month: p for p in session.scalars(select(Period).where(Period.unit_id == unit.id))}
    states, first = [], date(unit.books_opened_on.year, unit.books_opened_on.month, 1)
    current = today_in_vietnam().replace(day=1)
    while first <= current:
        row = stored.get(month_of(first))
        if row is not None and row.status == "closed":
            states.append(PeriodState(row.month, "closed", row.closed_at, row.closed_by))
        else:
            states.append(PeriodState(month_of(first), "open"))
        first = _next_month(first)
    return states


def close_month(session: Session, actor: Actor, unit_code: str, month: str) -> PeriodState:
    """Close a month of a unit's books; every earlier month (since the books opened) must be closed already."""
    require_role(actor, "treasurer")
    first = _parse_month(month)
    with write_transaction(session):
        unit = visible_unit(session, actor, unit_code)
        if _next_month(first) > today_in_vietnam():
            raise Invalid(
                f"Tháng {first:%m/%Y} chưa kết thúc, chưa thể khóa sổ (the month has not ended yet)",
                {"month": ["only a month that has ended can be closed"]},
            )
        opened = date(unit.books_opened_on.year, unit.books_opened_on.month, 1)
        if first < opened:
            raise Invalid(
                f"Sổ của {unit.code} mở từ {unit.books_opened_on:%d/%m/%Y}: không có tháng {first:%m/%Y} để khóa "
                "(month before the books were opened)",
                {"month": [f"the books open on {unit.books_opened_on.isoformat()}"]},
            )
        stored = {p.month: p for p in session.scalars(select(Period).where(Period.unit_id == unit.id))}
        if month in stored and stored[month].status == "closed":
            raise Conflict(f"Tháng {first:%m/%Y} đã khóa sổ (already closed)")
        earlier = opened
        while earlier < first:
            row = stored.get(month_of(earlier))
            if row is None or row.status != "closed":
                raise Conflict(
                    f"Phải khóa sổ tháng {earlier:%m/%Y} trước (an earlier month is still open)",
                    {"month": [f"{month_of(earlier)} is still open"]},
                )
            earlier = _next_month(earlier)
        period = stored.get(month) or Period(unit_id=unit.id, month=month)
        period.status, period.closed_at, period.closed_by = "closed", utcnow(), actor.user_id
        session.add(period)
        session.flush()
        record(session, actor, "period.close", "period", period.id, None, {"unit": unit.code, "month": month}, unit.id)
    return PeriodState(month, "closed", period.closed_at, period.closed_by)


def reopen_month(session: Session, actor: Actor, unit_code: str, month: str, reason: str) -> list[str]:
    """Reopen a closed month and every later one (admin, with a reason, audited); returns the months reopened."""
    require_role(actor, "admin")
    _parse_month(month)
    with write_transaction(session):
        unit = visible_unit(session, actor, unit_code)
        closed = list(
            session.scalars(
                select(Period)
                .where(Period.unit_id == unit.id, Period.month >= month, Period.status == "closed")
                .order_by(Period.month)
            )
        )
        if not closed or closed[0].month != month:
            raise Conflict(f"Tháng {month} của {unit.code} chưa khóa sổ (the month is not closed)")
        now = utcnow()
        for period in closed:
            period.status, period.reopened_at, period.reopened_by, period.reopen_reason = (
                "open",
                now,
                actor.user_id,
                reason,
            )
        session.flush()
        reopened = [p.month for p in closed]
        record(
            session,
            actor,
            "period.reopen",
            "period",
            closed[0].id,
            {"unit": unit.code, "closed": reopened},
            {"unit": unit.code, "reopened": reopened, "reason": reason},
            unit.id,
        )
    return reopened
