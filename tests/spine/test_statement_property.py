"""Property: the statement of a fund over a period (fundsvc.ledger.service.statement, the books' one ordered pass) is
the ledger's keyset pages joined (ledger_page, the API's way, and how the books read it before) and the plain rule,
on random ledgers and on both databases: the same opening balance, the same lines in (date, id) order, the same
running balances, for any period and any `within` (a unit path or a set of unit ids, as the fund book passes it).
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from fundsvc.extensions import db
from fundsvc.ledger.models import Fund, LedgerEntry, MoneyAccount
from fundsvc.ledger.service import ledger_page, statement
from fundsvc.units.models import Unit

START = date(2024, 1, 1)
_funds = itertools.count()

# Few days, so that many entries share a date and the id decides their order; entries inserted out of date order.
ENTRY = st.tuples(st.integers(0, 20), st.integers(0, 9), st.integers(-40, 60).map(lambda n: n * 50_000))
DAY = st.none() | st.integers(-2, 22)
WITHIN = st.tuples(st.sampled_from([None, "path", "ids"]), st.integers(0, 9))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    entries=st.lists(ENTRY, max_size=40),
    owner=st.integers(0, 9),
    period=st.tuples(DAY, DAY),
    within=WITHIN,
    page_size=st.integers(1, 7),
)
def test_the_statement_is_the_pages_joined_and_the_plain_rule(any_app, entries, owner, period, within, page_size):
    session = db.session
    units = session.execute(select(Unit.id, Unit.path).order_by(Unit.path).limit(10)).all()  # a province, a few below
    fund = _new_fund(session, units[owner % len(units)].id)
    account_id = session.scalar(select(MoneyAccount.id).order_by(MoneyAccount.id))
    rows = [
        {
            "fund_id": fund.id,
            "unit_id": units[unit % len(units)].id,
            "entry_date": START + timedelta(days=day),
            "kind": "donation" if amount > 0 else "disbursement",
            "amount": amount,
            "account_id": account_id,
            "description": f"Bút toán {n}",
        }
        for n, (day, unit, amount) in enumerate(entries)
    ]
    if rows:
        session.execute(insert(LedgerEntry), rows)
    session.commit()
    date_from, date_to = (None if day is None else START + timedelta(days=day) for day in period)
    how, which = within
    scope_path = units[which % len(units)].path
    subtree = {unit_id for unit_id, path in units if path.startswith(scope_path)}
    within_arg = {"path": scope_path, "ids": subtree, None: None}[how]

    opening, streamed = statement(session, fund, date_from, date_to, within=within_arg)
    lines = [(line.entry, line.running_balance) for line in streamed]

    page_opening, page_lines = _pages_joined(session, fund, date_from, date_to, within_arg, page_size)
    assert (opening, lines) == (page_opening, page_lines)

    in_scope = None if how is None or fund.unit_id in subtree else subtree
    expected_opening, expected = _plain_rule(session, fund, date_from, date_to, in_scope)
    assert opening == expected_opening
    assert [(entry.id, balance) for entry, balance in lines] == expected


def _new_fund(session, unit_id: int) -> Fund:
    fund = Fund(code=f"PROP-{next(_funds)}", name="Quỹ thử", unit_id=unit_id)
    session.add(fund)
    session.flush()
    return fund


def _pages_joined(session, fund, date_from, date_to, within, page_size: int):
    """The period read as the API reads it, a keyset page at a time (each page's balance before it computed by the
    database), the pages joined."""
    page = ledger_page(session, fund, date_from, date_to, within=within, limit=page_size)
    lines = [(line.entry, line.running_balance) for line in page.lines]
    while page.next_after is not None:
        page = ledger_page(session, fund, date_from, date_to, within=within, after=page.next_after, limit=page_size)
        lines += [(line.entry, line.running_balance) for line in page.lines]
    return page.opening_balance, lines


def _plain_rule(session, fund, date_from, date_to, units: set[int] | None):
    """The statement by its definition, in Python: the fund's entries (of `units` only, unless None) up to
    `date_to`; the opening is the sum of those before `date_from`, then each later one in (date, id) order with the
    sum up to it."""
    entries = session.execute(
        select(LedgerEntry.id, LedgerEntry.unit_id, LedgerEntry.entry_date, LedgerEntry.amount).where(
            LedgerEntry.fund_id == fund.id
        )
    ).all()
    kept = sorted(
        (e for e in entries if (units is None or e.unit_id in units) and (date_to is None or e.entry_date <= date_to)),
        key=lambda e: (e.entry_date, e.id),
    )
    opening = sum(e.amount for e in kept if date_from is not None and e.entry_date < date_from)
    running, lines = opening, []
    for e in kept:
        if date_from is None or e.entry_date >= date_from:
            running += e.amount
            lines.append((e.id, running))
    return opening, lines
