"""A bank account reconciled on a date (docs/bank.md "Đối chiếu số dư"): the balance the bank printed on its last
statement line up to that date against the books' balance of the account, and the difference explained by

- the statement lines not in the books (unmatched, suggested or ignored: a gift not yet confirmed, a bank fee), and
- the book entries of the account not (yet) on the statement ("unbooked movements": recorded in the books, not
  booked by the bank), from the first statement line on; before it, the bank's opening balance covers them.

difference = bank_balance - book_balance = lines not in the books - entries not on the statement + unexplained.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundsvc.auth.service import Actor
from fundsvc.bank.models import StatementLine
from fundsvc.errors import Invalid
from fundsvc.ledger.accounts import get_account
from fundsvc.ledger.models import LedgerEntry

MAX_ITEMS = 200  # of each list; the totals count every one


def closing_balance(day_lines: list[tuple[int, int, int]]) -> int:
    """The balance after the last transaction of a day, from (id, signed amount, balance after) of its lines with a
    balance: the one whose balance no other line started from (a file may list a day newest first). When the
    chain does not tell (equal balances), the line stored last."""
    opened_from = {balance - signed for _id, signed, balance in day_lines}
    ends = [(line_id, balance) for line_id, _signed, balance in day_lines if balance not in opened_from]
    return max(ends or [(i, b) for i, _s, b in day_lines])[1]


@dataclass(frozen=True)
class Reconciliation:
    on: dt.date
    bank_balance: int | None
    bank_balance_on: dt.date | None
    book_balance: int
    unmatched_lines: dict
    unbooked_movements: dict

    @property
    def difference(self) -> int | None:
        return None if self.bank_balance is None else self.bank_balance - self.book_balance

    @property
    def unexplained(self) -> int | None:
        if self.difference is None:
            return None
        return self.difference - self.unmatched_lines["total"] + self.unbooked_movements["total"]


def _signed(line: StatementLine) -> int:
    return line.amount if line.direction == "in" else -line.amount


def reconcile(session: Session, actor: Actor, account_id: int, on: dt.date) -> Reconciliation:
    account = get_account(session, actor, account_id)
    if account.kind != "bank":
        raise Invalid("Chỉ đối chiếu tài khoản ngân hàng (not a bank account)", {"account": ["not a bank account"]})
    lines = select(StatementLine).where(StatementLine.account_id == account.id, StatementLine.line_date <= on)
    last_day = session.scalar(
        select(func.max(StatementLine.line_date)).where(
            StatementLine.account_id == account.id, StatementLine.line_date <= on, StatementLine.balance.is_not(None)
        )
    )
    bank_balance = None
    if last_day is not None:
        day = session.scalars(lines.where(StatementLine.line_date == last_day, StatementLine.balance.is_not(None)))
        bank_balance = closing_balance([(x.id, _signed(x), x.balance) for x in day])
    book_balance = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.account_id == account.id, LedgerEntry.entry_date <= on
        )
    )
    not_in_books = session.scalars(
        lines.where(StatementLine.status != "matched").order_by(StatementLine.line_date, StatementLine.id)
    ).all()
    return Reconciliation(
        on,
        bank_balance,
        last_day,
        int(book_balance),
        _listed([(x, _signed(x)) for x in not_in_books]),
        _listed([(e, e.amount) for e in _entries_not_on_statement(session, account.id, on)]),
    )


def _entries_not_on_statement(session: Session, account_id: int, on: dt.date) -> list[LedgerEntry]:
    """The account's book entries from its first statement line to `on` that no matched line stands for."""
    first_day = session.scalar(select(func.min(StatementLine.line_date)).where(StatementLine.account_id == account_id))
    if first_day is None:
        return []
    rows = session.execute(
        select(StatementLine.donation_id, StatementLine.movement_id, StatementLine.award_id).where(
            StatementLine.account_id == account_id, StatementLine.status == "matched"
        )
    ).all()
    donations, movements, awards = ({row[i] for row in rows} - {None} for i in range(3))
    entries = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.account_id == account_id, LedgerEntry.entry_date.between(first_day, on))
        .order_by(LedgerEntry.entry_date, LedgerEntry.id)
    )
    return [
        e
        for e in entries
        if e.donation_id not in donations and e.movement_id not in movements and e.award_id not in awards
    ]


def _listed(items: list[tuple[object, int]]) -> dict:
    return {"count": len(items), "total": sum(s for _x, s in items), "items": [x for x, _s in items[:MAX_ITEMS]]}
