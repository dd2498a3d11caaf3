"""Property: after any sequence of gifts, movements of every kind, voids and month closings across a unit tree, on
both databases, the books and the reports built on them agree to the đồng.

- every money account's book closes at opening + in − out, and at the sum of its ledger entries;
- the sum over a unit's funds equals the sum over its money accounts, and no account is below zero;
- a transfer between units changes the two units' balances by opposite amounts and the total by nothing;
- every roll-up of the summary is the sum of its units' own figures; its lines equal the documents behind them;
- the public statement's figures equal the books', and its honour roll totals exactly the gifts counted as income.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from fundsvc import create_app
from fundsvc.auth.service import SYSTEM
from fundsvc.donations.models import Donation
from fundsvc.errors import Conflict, DomainError
from fundsvc.extensions import db
from fundsvc.ledger import movements as movement_service
from fundsvc.ledger import periods
from fundsvc.ledger.models import LedgerEntry, MoneyAccount, Movement
from fundsvc.reports.books import cash_book
from fundsvc.reports.service import statement_figures, summary
from fundsvc.units.models import Unit
from tests.conftest import new_pg_database, new_sqlite_database
from tests.reports.conftest import fund_code, give, void
from tests.reports.test_properties import additive, equal, plus

UNITS = ["ST", "ST-TP", "ST-TP-P2", "ST-TP-P5"]
START = date(2024, 1, 1)
_examples = itertools.count()

day = st.integers(0, 180)
amount = st.integers(1, 40).map(lambda n: n * 250_000)
unit = st.sampled_from(UNITS)
account_kind = st.sampled_from(["cash", "bank"])
STEP = st.one_of(
    st.tuples(st.just("gift"), day, unit, st.sampled_from(["cash", "bank_transfer", "in_kind"]), amount),
    st.tuples(st.just("income"), day, unit, account_kind, amount),
    st.tuples(st.just("expense"), day, unit, account_kind, amount),
    st.tuples(st.just("between_accounts"), day, unit, account_kind, amount),
    st.tuples(st.just("between_units"), day, unit, unit, amount),
    st.tuples(st.just("void"), day, st.integers(0, 50)),
    st.tuples(st.just("close"), day, unit),
)


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database(request, sqlite_template, tmp_path_factory):
    """A factory of fresh databases holding the demo tree, one per hypothesis example, on each engine."""
    if request.param == "sqlite":
        folder = tmp_path_factory.mktemp("books-prop")
        return lambda: new_sqlite_database(sqlite_template, folder)
    server = request.getfixturevalue("pg_server")
    return lambda: new_pg_database(server)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(STEP, min_size=1, max_size=30))
def test_every_book_and_report_agrees_with_the_ledger(new_database, steps):
    app = create_app({"SQLALCHEMY_DATABASE_URI": new_database(), "TESTING": True, "SECRET_KEY": "test"})
    with app.app_context():
        try:
            _play(db.session, sorted(steps, key=lambda step: step[1]))
            _check(db.session)
        finally:
            db.session.remove()
            db.engine.dispose()


def _account(session, unit_code: str, kind: str) -> MoneyAccount:
    owner = session.scalar(select(Unit.id).where(Unit.code == unit_code))
    return session.scalar(
        select(MoneyAccount).where(MoneyAccount.unit_id == owner, MoneyAccount.kind == kind).order_by(MoneyAccount.id)
    )


def _movement(session, kind: str, on: date, unit_code: str, account: str, money: int, **extra):
    data = {
        "kind": kind,
        "unit": unit_code,
        "fund": fund_code(unit_code),
        "account": _account(session, unit_code, account).id,
        "amount": money,
        "date": on,
        "description": f"Thử {kind}",
        **extra,
    }
    recorded, _replayed = movement_service.record_movement(session, SYSTEM, data)
    return recorded


def _unit_total(session, code: str) -> int:
    owner = select(Unit.id).where(Unit.code == code).scalar_subquery()
    return int(
        session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.unit_id == owner))
    )


def _all_total(session) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))))


def _play(session, steps) -> None:
    # Every unit starts with money in both accounts, so that most expenses and transfers can be paid.
    documents: list[tuple[str, int]] = [
        ("gift", give(session, where, 20_000_000, method=method, on=START).id)
        for where in UNITS
        for method in ("cash", "bank_transfer")
    ]
    for step in steps:
        kind, on = step[0], START + timedelta(days=step[1])
        try:
            if kind == "gift":
                _, _, where, method, money = step
                documents.append(("gift", give(session, where, money, method=method, on=on).id))
            elif kind in ("income", "expense"):
                _, _, where, account, money = step
                category = "thu-khac" if kind == "income" else "chi-khac"
                for m in _movement(session, kind, on, where, account, money, category=category):
                    documents.append(("movement", m.id))
            elif kind == "between_accounts":
                _, _, where, source, money = step
                other = "bank" if source == "cash" else "cash"
                to = {"unit": where, "account": _account(session, where, other).id}
                sides = _movement(session, "transfer", on, where, source, money, to=to)
                documents.append(("movement", sides[0].id))
            elif kind == "between_units":
                _, _, source, target, money = step
                if source == target:
                    continue
                to = {"unit": target, "fund": fund_code(target), "account": _account(session, target, "cash").id}
                before = (_unit_total(session, source), _unit_total(session, target), _all_total(session))
                sides = _movement(session, "transfer", on, source, "cash", money, to=to)
                after = (_unit_total(session, source), _unit_total(session, target), _all_total(session))
                assert (after[0] - before[0], after[1] - before[1], after[2] - before[2]) == (-money, money, 0)
                documents.append(("movement", sides[0].id))
            elif kind == "void" and documents:
                what, ident = documents[step[2] % len(documents)]
                if what == "gift":
                    void(session, ident)
                else:
                    movement_service.void_movement(session, SYSTEM, ident, "Ghi nhầm")
            elif kind == "close":
                _close_before(session, step[2], on)
        except Conflict:
            session.rollback()  # refused whole: money not there, already void, a closed month, …
        except DomainError as error:  # any other refusal is a defect of the generator or of the service
            raise AssertionError(f"{step}: {error.status} {error.message}") from error


def _close_before(session, unit_code: str, on: date) -> None:
    """Close the unit's months up to the one before `on`'s."""
    for state in periods.list_periods(session, SYSTEM, unit_code):
        if state.status == "open" and state.month < periods.month_of(on):
            periods.close_month(session, SYSTEM, unit_code, state.month)


def _check(session) -> None:
    units = {u.code: u for u in session.scalars(select(Unit))}
    for code, the_unit in units.items():
        by_fund = session.execute(
            select(LedgerEntry.fund_id, func.sum(LedgerEntry.amount))
            .where(LedgerEntry.unit_id == the_unit.id)
            .group_by(LedgerEntry.fund_id)
        ).all()
        accounts = session.execute(
            select(MoneyAccount.id, MoneyAccount.kind, func.coalesce(func.sum(LedgerEntry.amount), 0))
            .outerjoin(LedgerEntry, LedgerEntry.account_id == MoneyAccount.id)
            .where(MoneyAccount.unit_id == the_unit.id)
            .group_by(MoneyAccount.id, MoneyAccount.kind)
        ).all()
        assert sum(int(t) for _f, t in by_fund) == sum(int(t) for _a, _k, t in accounts), code
        assert all(int(t) >= 0 for _a, _k, t in accounts), code
        book = cash_book(session, SYSTEM, code, date(2024, 1, 1), date(2024, 12, 31))
        cash = next(int(t) for _a, kind, t in accounts if kind == "cash")
        assert book["closing_balance"] == book["opening_balance"] + book["total_in"] - book["total_out"] == cash

    report = summary(session, SYSTEM, unit="ST")
    rows = {row["code"]: row for row in report["units"]}
    for code, row in rows.items():
        subtree = [r for c, r in rows.items() if units[c].path.startswith(units[code].path)]
        assert equal(additive(row), plus(*(additive(r["own"]) for r in subtree))), code
        total = sum(_unit_total(session, c) for c in rows if units[c].path.startswith(units[code].path))
        assert row["closing_balance"] == total, code
    _check_lines(session, report["totals"])

    statement = statement_figures(session, units["ST"], 2024, "Hội Khuyến học tỉnh Sóc Trăng")
    money = statement["money"]
    assert money["closing_balance"] == _all_total(session)
    assert money["in"] == report["totals"]["in"] and money["out_by"] == report["totals"]["out_by"]
    assert statement["honour_roll_total"] == money["in"]["total"]


def _check_lines(session, totals: dict) -> None:
    """The summary's lines against the documents they come from (recorded ones only)."""
    gifts = Counter()
    for method, money in session.execute(
        select(Donation.method, func.sum(Donation.amount))
        .where(Donation.status == "recorded")
        .group_by(Donation.method)
    ):
        gifts[method] = int(money)
    assert totals["in"]["cash"] == gifts["cash"] and totals["in"]["bank_transfer"] == gifts["bank_transfer"]
    assert totals["in"]["in_kind"] == gifts["in_kind"]
    moved = Counter()
    for kind, direction, money in session.execute(
        select(Movement.kind, Movement.direction, func.sum(Movement.amount))
        .where(Movement.status == "recorded")
        .group_by(Movement.kind, Movement.direction)
    ):
        moved[kind, direction] = int(money)
    assert totals["other_in"]["income"] == moved["income", "in"]
    assert totals["out_by"]["expense"] == moved["expense", "out"]
    assert totals["other_in"]["transfer"] == totals["out_by"]["transfer"] == moved["transfer", "in"]
    assert moved["transfer", "in"] == moved["transfer", "out"]
