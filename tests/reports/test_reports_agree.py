"""The reports checked against the books, on the demo data and on a generated province (issue "Every movement of
the fund": "the reports' figures checked against the books"), on both databases.

The generated province is the demo tree (a province, four districts, six communes) played through the services by
the books property test's `_play`: gifts in cash, by bank and in kind, other income, expenses, transfers between a
unit's accounts and between units, voids and month closings; then awards paid, one at a time and as a ceremony
list, from a district's fund for pupils of its communes. For the year, `assert_reports_agree` holds:

- every money account's book closes at opening + in − out, and at the sum of its ledger entries;
- a unit's funds hold what its money accounts hold, and the summary's figure of the unit is its books';
- every roll-up of the summary is the sum of its units, and the totals the sum of all;
- the public statement's money is the books' (opening, closing) and the summary's lines, its honour roll totals
  the gifts counted as income;
- voids nowhere: each line equals the documents that stand (never a voided one), no reversal is counted, a voided
  document's line in a book carries no amount;
- in-kind on its own line: goods' value apart from the money, never in a balance.
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fundsvc import create_app
from fundsvc.allocation.models import Award, Round
from fundsvc.audit.models import AuditEvent
from fundsvc.auth.service import SYSTEM
from fundsvc.db import write_transaction
from fundsvc.demo import province
from fundsvc.demo.load import load_demo
from fundsvc.demo.province import VOID_REASON, plan_gifts
from fundsvc.demo.tree import MERGER_ON
from fundsvc.documents.words import today_in_vietnam
from fundsvc.donations.models import Donation, Receipt, ReceiptBook
from fundsvc.donations.service import record_donation, void_donation
from fundsvc.extensions import db
from fundsvc.ledger.models import InKindEntry, LedgerEntry, MoneyAccount, Movement
from fundsvc.reports.books import account_book
from fundsvc.reports.service import statement_figures, summary
from fundsvc.units.models import Unit
from tests.conftest import new_pg_database, new_sqlite_database
from tests.reports.conftest import COMMUNES, DISTRICTS, give, pay_award
from tests.reports.conftest import UNITS as TREE
from tests.reports.test_books_property import _play
from tests.reports.test_properties import additive, equal, plus


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, sqlite_template, sqlite_empty_template, tmp_path):
    """(url of a database holding the demo tree, url of an empty migrated one) on each engine."""
    if request.param == "sqlite":
        return lambda tree: new_sqlite_database(sqlite_template if tree else sqlite_empty_template, tmp_path)
    server = request.getfixturevalue("pg_server")
    return lambda tree: _pg_database(server, tree)


def _pg_database(server, tree: bool) -> str:
    url = new_pg_database(server)
    if tree:
        return url
    # An empty database: the template holds the demo tree, so the demo is loaded into a fresh one by its CLI path.
    from tests.conftest import migrate

    name = url.rsplit("/", 1)[1] + "e"
    from sqlalchemy import create_engine, text

    engine = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    migrate(server.url(name))
    return server.url(name)


def _in_app(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "test"})


def test_the_demo_data(database):
    app = _in_app(database(False))
    with app.app_context():
        try:
            # The demo's whole year (fundsvc/demo/life.py): openings, interest, fees, transfers, expenses, a round
            # paid in part, a published statement; the books, the summary and the statements must still agree.
            load_demo(db.session, donations=120, users=False, life=True)
            last_year = today_in_vietnam().year - 1
            assert_reports_agree(db.session, "ST", last_year)
            # The ward whose year is closed: its statement is final, "số dư cuối năm".
            assert assert_reports_agree(db.session, "ST-TP-P2", last_year)["final"]
            assert_reports_agree(db.session, "ST", last_year + 1)  # this year: an interim statement, to today
            # The year of the 2025 reorganisation (fundsvc/demo/tree.py): an old commune's books to the merger and
            # the new ward's after it agree with its reports too, and the old commune ends the year holding nothing.
            merger_year = MERGER_ON.year
            assert assert_reports_agree(db.session, "ST-TP-P5", merger_year)["money"]["closing_balance"] == 0
            assert assert_reports_agree(db.session, "ST-PST", merger_year)["money"]["closing_balance"] > 0
        finally:
            db.session.remove()
            db.engine.dispose()


def _plan(seed: int, size: int) -> list[tuple]:
    """A seeded sequence of `_play`'s steps over the whole tree: every unit's first gifts, then everything."""
    rnd = random.Random(seed)
    steps: list[tuple] = [
        ("gift", 0, unit, method, 30_000_000) for unit in TREE for method in ("cash", "bank_transfer")
    ]
    amounts = [n * 250_000 for n in range(1, 40)]
    for _ in range(size):
        day, unit, money = rnd.randint(1, 300), rnd.choice(TREE), rnd.choice(amounts)
        kind = rnd.choices(["gift", "income", "expense", "accounts", "units", "void", "close"], [5, 1, 3, 2, 2, 2, 1])[
            0
        ]
        if kind == "gift":
            steps.append(("gift", day, unit, rnd.choice(["cash", "cash", "bank_transfer", "in_kind"]), money))
        elif kind in ("income", "expense"):
            steps.append((kind, day, unit, rnd.choice(["cash", "bank"]), money))
        elif kind == "accounts":
            steps.append(("between_accounts", day, unit, rnd.choice(["cash", "bank"]), money))
        elif kind == "units":
            steps.append(("between_units", day, unit, rnd.choice(TREE), money))
        elif kind == "void":
            steps.append(("void", day, rnd.randrange(200)))
        else:
            steps.append(("close", day, unit))
    return sorted(steps, key=lambda step: step[1])


@pytest.mark.parametrize("size", [60])
def test_a_generated_province(database, size):
    app = _in_app(database(True))
    with app.app_context():
        try:
            _play(db.session, _plan(20, size))
            # Awards paid by the districts from their own funds for pupils of their communes, after the last
            # month closed by the plan (day 300 at most): one at a time, in cash and by bank.
            for i, commune in enumerate(COMMUNES):
                district = next(d for d in DISTRICTS if commune.startswith(d))
                payment = {"method": "bank_transfer", "bank_reference": f"FT{i:08d}"} if i % 2 else {}
                if payment:
                    payment["account"] = _bank_of(db.session, district)
                pay_award(db.session, f"KH-{district}", commune, 1_000_000, on=date(2024, 12, 20), **payment)
            paid = db.session.scalar(select(func.count()).select_from(Award).where(Award.status == "paid"))
            assert paid == len(COMMUNES)
            assert db.session.scalar(select(func.count()).select_from(Movement).where(Movement.status == "void"))
            assert db.session.scalar(
                select(func.count()).select_from(Movement).where(Movement.transfer_id.is_not(None))
            )
            for scope in ("ST", "ST-MX", "ST-TP-P2"):
                assert_reports_agree(db.session, scope, 2024)
        finally:
            db.session.remove()
            db.engine.dispose()


def _bank_of(session, unit_code: str) -> int:
    owner = select(Unit.id).where(Unit.code == unit_code).scalar_subquery()
    return session.scalar(select(MoneyAccount.id).where(MoneyAccount.unit_id == owner, MoneyAccount.kind == "bank"))


def assert_reports_agree(session, scope_code: str, year: int) -> dict:
    """Everything the module's docstring lists, for the subtree of `scope_code` and the statement's year; returns
    the statement's figures."""
    scope = session.scalar(select(Unit).where(Unit.code == scope_code))
    statement = statement_figures(session, scope, year, "Hội Khuyến học")
    date_from, date_to = date.fromisoformat(statement["from"]), date.fromisoformat(statement["to"])
    units = list(session.scalars(select(Unit).where(Unit.path.startswith(scope.path)).order_by(Unit.path)))
    report = summary(session, SYSTEM, unit=scope_code, date_from=date_from, date_to=date_to)
    rows = {row["code"]: row for row in report["units"]}
    assert set(rows) == {u.code for u in units}

    opening = closing = 0
    for unit in units:
        books = _books_of(session, unit, date_from, date_to)
        own = rows[unit.code]["own"]
        assert own["opening_balance"] == sum(b["opening_balance"] for b in books), unit.code
        assert own["closing_balance"] == sum(b["closing_balance"] for b in books), unit.code
        by_fund = session.execute(
            select(LedgerEntry.fund_id, func.sum(LedgerEntry.amount))
            .where(LedgerEntry.unit_id == unit.id, LedgerEntry.entry_date <= date_to)
            .group_by(LedgerEntry.fund_id)
        ).all()
        assert sum(int(total) for _fund, total in by_fund) == own["closing_balance"], unit.code
        opening += own["opening_balance"]
        closing += own["closing_balance"]
    for unit in units:
        subtree = [rows[u.code]["own"] for u in units if u.path.startswith(unit.path)]
        assert equal(additive(rows[unit.code]), plus(*(additive(own) for own in subtree))), unit.code
    assert equal(additive(report["totals"]), plus(*(additive(rows[u.code]["own"]) for u in units)))

    totals, money = report["totals"], statement["money"]
    assert (
        (money["opening_balance"], money["closing_balance"])
        == (opening, closing)
        == (
            totals["opening_balance"],
            totals["closing_balance"],
        )
    )
    for line in ("in", "other_in", "out_by", "reversals", "adjustments", "net"):
        assert money[line] == totals[line], line
    assert statement["honour_roll_total"] == money["in"]["total"]
    assert statement["honour_roll_in_kind"] == money["in"]["in_kind"]
    assert statement["awards"]["amount"] == money["out_by"]["awards"]
    _assert_lines_are_the_standing_documents(session, scope, date_from, date_to, totals)
    return statement


def _books_of(session, unit: Unit, date_from: date, date_to: date) -> list[dict]:
    """The unit's money books (cash and bank), each closing at opening + in − out and at its account's entries; a
    voided document's line with no amount."""
    books = []
    for account in session.scalars(select(MoneyAccount).where(MoneyAccount.unit_id == unit.id)):
        book = account_book(session, SYSTEM, unit, account, date_from, date_to)
        assert book["closing_balance"] == book["opening_balance"] + book["total_in"] - book["total_out"]
        entries = session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.account_id == account.id, LedgerEntry.entry_date <= date_to
            )
        )
        assert book["closing_balance"] == int(entries), (unit.code, account.kind)
        assert all(line["in"] is None and line["out"] is None for line in book["lines"] if line["void"])
        assert sum(line["in"] or 0 for line in book["lines"]) == book["total_in"]
        books.append(book)
    return books


def _assert_lines_are_the_standing_documents(session, scope: Unit, date_from: date, date_to: date, totals: dict):
    """Voids nowhere, in-kind apart: each line of the summary is the sum of the documents that stand."""
    in_scope = select(Unit.id).where(Unit.path.startswith(scope.path)).scalar_subquery()
    gifts = Counter()
    for method, money in session.execute(
        select(Donation.method, func.sum(Donation.amount))
        .where(
            Donation.unit_id.in_(in_scope),
            Donation.status == "recorded",
            Donation.received_on.between(date_from, date_to),
        )
        .group_by(Donation.method)
    ):
        gifts[method] = int(money)
    assert totals["in"]["cash"] == gifts["cash"] and totals["in"]["bank_transfer"] == gifts["bank_transfer"]
    assert totals["in"]["total"] == gifts["cash"] + gifts["bank_transfer"]  # goods are not money
    assert totals["in"]["in_kind"] == gifts["in_kind"]
    held = session.scalar(
        select(func.coalesce(func.sum(InKindEntry.value), 0)).where(
            InKindEntry.unit_id.in_(in_scope), InKindEntry.kind == "received", InKindEntry.entry_date <= date_to
        )
    )
    assert not gifts["in_kind"] or held  # the goods are in the register …
    assert session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.method == "in_kind")) == 0
    assert totals["reversals"] == 0  # … and a voided document counts nowhere, not even to be subtracted
    moved = Counter()
    for kind, direction, money in session.execute(
        select(Movement.kind, Movement.direction, func.sum(Movement.amount))
        .where(
            Movement.unit_id.in_(in_scope),
            Movement.status == "recorded",
            Movement.movement_date.between(date_from, date_to),
        )
        .group_by(Movement.kind, Movement.direction)
    ):
        moved[kind, direction] = int(money)
    assert totals["other_in"]["income"] == moved["income", "in"]
    assert totals["other_in"]["transfer"] == moved["transfer", "in"]
    assert totals["out_by"]["expense"] == moved["expense", "out"]
    assert totals["out_by"]["transfer"] == moved["transfer", "out"]
    awards = session.scalar(
        select(func.coalesce(func.sum(Award.amount), 0))
        .join(Round, Round.id == Award.round_id)
        .where(Round.unit_id.in_(in_scope), Award.status == "paid", Award.paid_on.between(date_from, date_to))
    )
    assert totals["out_by"]["awards"] == int(awards)


def test_the_benchmark_s_province(sqlite_empty_template, tmp_path):
    """bench/books.py's data at a small size (rows written as the services write them, award lists paid through
    the service): valid books, which the services carry on and the reports agree with (SQLite, as the bench)."""
    bench = Path(__file__).resolve().parents[2] / "bench"
    sys.path.insert(0, str(bench))
    try:
        from _books_data import LAST_YEAR, PROVINCE, generate, verify
    finally:
        sys.path.remove(str(bench))
    app = _in_app(new_sqlite_database(sqlite_empty_template, tmp_path))
    with app.app_context():
        try:
            info = generate(db.session, movements=1500, districts=2, communes=3, others=40)
            verify(db.session, info)
            assert db.session.scalar(select(func.count()).select_from(Award).where(Award.status == "paid"))
            for scope in (PROVINCE, info["unit"][:-3], info["unit"]):
                assert_reports_agree(db.session, scope, LAST_YEAR)
        finally:
            db.session.remove()
            db.engine.dispose()


# What the province data set's bulk writer and the services must write alike: every column but the moments of
# writing (the services write them at the time they run, the data set at the hour the gift was entered).
_MOMENTS = {"created_at", "voided_at", "at"}
_GIFT_TABLES = (Donation, Receipt, LedgerEntry, InKindEntry, AuditEvent, ReceiptBook)


def _gift_rows(session) -> dict[str, list[tuple]]:
    rows = {}
    for model in _GIFT_TABLES:
        table = model.__table__
        columns = [c for c in table.columns if c.name not in _MOMENTS and c.name not in ("pdf", "void_pdf")]
        query = select(*columns).order_by(table.c.id)
        if model is AuditEvent:  # the gifts' events (the round's are written by its services alike)
            query = query.where(AuditEvent.entity == "donation")
        rows[table.name] = [tuple(row) for row in session.execute(query)]
    return rows


def _province_through_services(url: str, gifts: int, seed: int) -> dict[str, list[tuple]]:
    """The province data set's gifts (the same plan) recorded and voided one by one through the services."""
    app = _in_app(url)
    with app.app_context():
        try:
            with write_transaction(db.session):
                plan = plan_gifts(db.session, random.Random(seed), gifts)
            for gift in plan:
                data = {**gift.data, "unit": gift.place.unit.code, "fund": gift.place.fund_code}
                donation, _ = record_donation(db.session, SYSTEM, {**data, "donor_id": gift.donor["id"]})
                if gift.voided:
                    void_donation(db.session, SYSTEM, donation.id, VOID_REASON)
            return _gift_rows(db.session)
        finally:
            db.session.remove()
            db.engine.dispose()


def test_the_province_data_set(database, monkeypatch):
    """`demo load --scale province` at a small size: its bulk rows are, column for column, what the services write
    for the same gifts (and voids); the reports agree with its books; the services carry on its numbering."""
    monkeypatch.setattr(province, "VOIDED", 0.05)  # enough voids in a few hundred gifts
    monkeypatch.setattr(province, "DONORS", 200)
    gifts, seed = 400, 7
    expected = _province_through_services(database(True), gifts, seed)
    app = _in_app(database(True))
    with app.app_context():
        try:
            province.load_province(db.session, gifts=gifts, nominations=300, seed=seed)
            written = _gift_rows(db.session)
            assert {name: len(rows) for name, rows in written.items()} == {k: len(v) for k, v in expected.items()}
            assert written == expected
            assert db.session.scalar(select(func.count()).select_from(Donation).where(Donation.status == "void"))
            assert db.session.scalar(select(func.count()).select_from(Award).where(Award.round_id.is_not(None)))
            today = today_in_vietnam()
            for year in sorted({today.year, (today - timedelta(days=365)).year}):
                assert_reports_agree(db.session, "ST", year)
            last = db.session.scalar(
                select(func.max(Receipt.number)).where(
                    Receipt.unit_id == _unit_id("ST-TP-P2"), Receipt.kind == "receipt", Receipt.year == today.year
                )
            )
            gift = give(db.session, "ST-TP-P2", 100_000, on=today)
            assert gift.receipt.number == (last or 0) + 1
        finally:
            db.session.remove()
            db.engine.dispose()


def _unit_id(code: str) -> int:
    return db.session.scalar(select(Unit.id).where(Unit.code == code))
