"""An import records the gifts of its matched lines together, inside its own transaction: it must store exactly what
recording them one by one stores (the gifts, their numbers, the ledger entries, the audit events, the idempotency
records, the lines and pledges settled), on a random statement, on both engines. A month closed among the lines
makes some gifts refused inside the batch: their numbers are given back, their lines left as suggestions."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import select

from fundsvc.auth.service import actor_for, create_user
from fundsvc.bank import statement_service
from fundsvc.bank.service import create_pledge
from fundsvc.db.types import Base
from fundsvc.documents.words import today_in_vietnam
from fundsvc.extensions import db
from fundsvc.ledger.models import MoneyAccount, Period
from fundsvc.units.models import Unit
from tests.bank.statement_samples import workbook
from tests.conftest import _make_app, new_pg_database, new_sqlite_database

UNIT = "ST-TP-P2"
# What an import writes, directly or through the gifts it records.
TABLES = (
    "statement_imports",
    "statement_lines",
    "pledges",
    "donors",
    "donor_name_words",
    "donations",
    "receipt_books",
    "receipts",
    "ledger_entries",
    "idempotency_records",
    "audit_events",
    "jobs",
)


@pytest.fixture(params=["sqlite", "postgresql"])
def two_databases(request, sqlite_template, tmp_path) -> tuple[str, str]:
    if request.param == "sqlite":
        return new_sqlite_database(sqlite_template, tmp_path), new_sqlite_database(sqlite_template, tmp_path)
    server = request.getfixturevalue("pg_server")
    return new_pg_database(server), new_pg_database(server)


def statement(rng: random.Random, pledges: list[dict], today: dt.date) -> list[tuple]:
    """Lines over the last 50 days: pledge codes as banks rewrite them (the amount promised or another one), a code
    one slip away, plain memos; one in eight is money out."""
    rows = []
    for n in range(rng.randint(40, 80)):
        day = (today - dt.timedelta(days=rng.randint(0, 50))).strftime("%d/%m/%Y")
        if rng.random() < 0.125:
            rows.append((day, f"UNC{n}", rng.choice([100_000, 250_000]), None, "Chi hoc bong"))
            continue
        pledge, kind = rng.choice(pledges), rng.random()
        code = pledge["code"]
        amount = pledge["amount"] or 300_000
        if kind < 0.5:
            memo = f"MBVCB.{rng.randrange(10**9)}.{rng.choice([code, code.replace(' ', ''), code.lower()])} ung ho"
            amount = amount if rng.random() < 0.85 else amount + 1_000
        elif kind < 0.65:
            memo = f"ung ho {code.replace(' ', '')}7"  # one digit too many
        else:
            memo = rng.choice(["ung ho quy khuyen hoc", "chuyen tien", "IBFT ung ho"])
        rows.append((day, rng.choice([f"FT{n:06d}", None]), None, amount, memo))
    return sorted(rows, key=lambda row: dt.datetime.strptime(row[0], "%d/%m/%Y"))


def import_and_read(url: str, seed: int, together: bool, files: dict, monkeypatch) -> tuple[dict, dict]:
    """Import a random statement into a fresh database, its gifts recorded together (the import's way) or one by one
    (each in its own transactions, as a notified line's gift is); (what the tables hold, the import's answer).
    The file is made once (`files`): a workbook's bytes hold the moment it was written, its hash is stored."""
    rng = random.Random(seed)
    app = _make_app(url)
    with app.app_context():
        session = db.session
        user, _token = create_user(session, "thuquy.gifts", "treasurer", UNIT)
        actor = actor_for(user)
        unit = session.scalar(select(Unit).where(Unit.code == UNIT))
        account = session.scalar(
            select(MoneyAccount.id).where(MoneyAccount.unit_id == unit.id, MoneyAccount.kind == "bank")
        )
        pledges = []
        for i in range(12):
            named = {"donor": {"name": f"Nhà hảo tâm {i}", "kind": "person"}} if i % 3 else {}
            pledge = create_pledge(session, actor, {"unit": UNIT, "amount": rng.choice([None, 200_000]), **named})
            pledges.append({"code": pledge.code, "amount": pledge.amount})
        today = today_in_vietnam()
        last_month = today.replace(day=1) - dt.timedelta(days=1)
        session.add(Period(unit_id=unit.id, month=f"{last_month:%Y-%m}", status="closed"))
        session.commit()
        rows = statement(rng, pledges, today)
        data = files.setdefault(seed, workbook("VCB", rows, continuation=False, balances=(None, None)))
        if together:
            answer = statement_service.import_statement(session, actor, account, data, "sao-ke.xlsx")
        else:
            with monkeypatch.context() as patched:
                patched.setattr(statement_service, "_record_matched_together", lambda *_args: 0)
                answer = statement_service.import_statement(session, actor, account, data, "sao-ke.xlsx")
            matched = session.scalars(
                select(statement_service.StatementLine)
                .where(statement_service.StatementLine.status == "matched")
                .order_by(statement_service.StatementLine.id)
            )
            statement_service.record_matched(session, actor, list(matched))
        stored = {table: stored_rows(session, table) for table in TABLES}
        db.session.remove()
        db.engine.dispose()
    return stored, answer


def stored_rows(session, table: str) -> list[dict]:
    """A table's rows in id order (or in every column's order), without the moments they were written at."""
    rows = session.execute(select(Base.metadata.tables[table])).mappings()
    kept = [{k: v for k, v in row.items() if not isinstance(v, dt.datetime)} for row in rows]
    return sorted(kept, key=lambda row: [str(row[k]) for k in sorted(row)] if "id" not in row else [row["id"]])


@pytest.mark.parametrize("seed", [3, 21])
def test_the_gifts_recorded_together_are_the_gifts_recorded_one_by_one(two_databases, seed, monkeypatch):
    files: dict = {}
    together, answer = import_and_read(two_databases[0], seed, True, files, monkeypatch)
    one_by_one, _ = import_and_read(two_databases[1], seed, False, files, monkeypatch)
    assert together["donations"], "the statement names no pledge with a donor: nothing was compared"
    lines = together["statement_lines"]
    refused = [line for line in lines if "chưa ghi được" in (line["why"] or "")]
    assert refused, "no gift was refused: the savepoint's rollback was not compared"
    assert len(together["donations"]) == sum(line["donation_id"] is not None for line in lines)
    for book in {receipt["book_id"] for receipt in together["receipts"]}:
        numbers = sorted(receipt["number"] for receipt in together["receipts"] if receipt["book_id"] == book)
        assert numbers == list(range(1, len(numbers) + 1)), "a refused gift kept its number"
    for table in TABLES:
        assert together[table] == one_by_one[table], table
    assert answer["matched"] == sum(line["status"] == "matched" for line in lines)
    assert answer["suggested"] == sum(line["status"] == "suggested" for line in lines)
