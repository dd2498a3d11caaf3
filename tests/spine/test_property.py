"""Property: any sequence of gifts, voids and replays keeps the books straight.

Through the services directly (no HTTP), each example on a fresh copy of the migrated template:
- every fund's balance (the sum of its ledger entries) is the sum of its non-void donations;
- receipt numbers run 1..n per (unit, year) book, each gift getting the next one;
- a replay (same Idempotency-Key, same body) returns the first donation and creates nothing;
  the same key with another body is refused (422);
- voiding twice raises Conflict, and a void keeps the receipt's number.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from fundsvc import models  # noqa: F401  (every model on the metadata)
from fundsvc.auth.service import actor_for, create_user
from fundsvc.db import configure_engine
from fundsvc.donations.models import Donation, IdempotencyRecord, Receipt
from fundsvc.donations.service import record_donation, void_donation
from fundsvc.errors import Conflict, Invalid
from fundsvc.idempotency import request_fingerprint
from fundsvc.ledger.models import Fund
from fundsvc.ledger.service import balance
from fundsvc.units.models import Unit

# Weighted towards one unit and year, so that books grow long; keys are few, so that they get reused.
UNITS = ["ST-TP-P2"] * 3 + ["ST-TP-P5", "ST-MX-DT"]
YEARS = [2024] * 3 + [2025]
KEYS = [None] * 4 + ["k1", "k2", "k3"]
_n = itertools.count()

gifts = st.tuples(
    st.just("record"),
    st.sampled_from(UNITS),
    st.sampled_from(YEARS),
    st.sampled_from(["KH", None]),  # None: the unit's default fund (its own KH-<unit>)
    st.integers(1, 5),  # amounts from a small set, so that equal bodies (true replays) also arise by chance
    st.sampled_from(KEYS),
)
replays = st.tuples(st.just("replay"), st.integers(0, 50))
voids = st.tuples(st.just("void"), st.integers(0, 50))
operations = st.lists(st.one_of(gifts, gifts, gifts, replays, voids), min_size=3, max_size=30)


def body_for(unit: str, year: int, fund: str | None, amount: int) -> dict:
    """The JSON body of POST /donations (what the fingerprint is taken of)."""
    body = {
        "donor": {"name": "Nhà hảo tâm", "kind": "person", "phone": "0912000111"},
        "unit": unit,
        "amount": amount * 100_000,
        "method": "cash",
        "received_on": f"{year}-06-15",
    }
    if fund:
        body["fund"] = fund
    return body


def data_for(body: dict) -> dict:
    """The body as the input schema hands it to the service."""
    return {**body, "received_on": date.fromisoformat(body["received_on"])}


@pytest.fixture(scope="module")
def template(sqlite_template) -> Path:
    return sqlite_template


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=operations)
def test_books_stay_straight(template, ops):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"p{next(_n)}.sqlite3"
        shutil.copyfile(template, path)
        engine = create_engine(f"sqlite:///{path}")
        configure_engine(engine)
        try:
            with Session(engine, expire_on_commit=False) as session:
                run_operations(session, ops)
        finally:
            engine.dispose()


def run_operations(session: Session, ops) -> None:
    user, _token = create_user(session, "thuquy", "treasurer")
    actor = actor_for(user)
    # The model: what the books must say.
    donations: list[dict] = []  # in recording order: id, unit, year, fund, amount, number, void
    keyed: dict[str, tuple[dict, int]] = {}  # key → (body, donation id)
    book_sizes: Counter = Counter()

    for op in ops:
        if op[0] == "record":
            _, unit, year, fund, amount, key = op
            body = body_for(unit, year, fund, amount)
            before = session.scalar(select(func.count()).select_from(Donation))
            if key in keyed and keyed[key][0] != body:
                with pytest.raises(Invalid):
                    record_donation(
                        session, actor, data_for(body), idempotency_key=key, fingerprint=request_fingerprint(body)
                    )
                session.rollback()
                assert session.scalar(select(func.count()).select_from(Donation)) == before
                continue
            donation, replayed = record_donation(
                session, actor, data_for(body), idempotency_key=key, fingerprint=request_fingerprint(body)
            )
            if key in keyed:  # same key, same body: the first answer again
                assert replayed and donation.id == keyed[key][1]
                assert session.scalar(select(func.count()).select_from(Donation)) == before
                continue
            assert not replayed
            book_sizes[(unit, year)] += 1
            assert (donation.receipt.year, donation.receipt.number) == (year, book_sizes[(unit, year)])
            donations.append(
                {
                    "id": donation.id,
                    "unit": unit,
                    "year": year,
                    "fund": fund or f"KH-{unit}",
                    "amount": body["amount"],
                    "number": donation.receipt.number,
                    "void": False,
                }
            )
            if key:
                keyed[key] = (body, donation.id)
        elif op[0] == "replay":
            if not keyed:
                continue
            key = sorted(keyed)[op[1] % len(keyed)]
            body, donation_id = keyed[key]
            before = session.scalar(select(func.count()).select_from(Donation))
            donation, replayed = record_donation(
                session, actor, data_for(body), idempotency_key=key, fingerprint=request_fingerprint(body)
            )
            assert replayed and donation.id == donation_id
            assert session.scalar(select(func.count()).select_from(Donation)) == before
        else:
            if not donations:
                continue
            target = donations[op[1] % len(donations)]
            if target["void"]:
                with pytest.raises(Conflict):
                    void_donation(session, actor, target["id"], "lần hai")
                session.rollback()
            else:
                voided = void_donation(session, actor, target["id"], "Ghi nhầm")
                assert voided.status == "void" and voided.receipt.number == target["number"]
                target["void"] = True
        check_books(session, donations)


def check_books(session: Session, donations: list[dict]) -> None:
    """The stored state against the model."""
    session.expire_all()
    # Balances: each fund's ledger sum equals its non-void donations.
    expected: Counter = Counter()
    for d in donations:
        expected[d["fund"]] += 0 if d["void"] else d["amount"]
    for fund in session.scalars(select(Fund)):
        assert balance(session, fund.id) == expected.get(fund.code, 0), fund.code
    # Numbers: 1..n per (unit, year), no gap, no repeat; each donation keeps the number it was given.
    books: dict[tuple[str, int], list[int]] = defaultdict(list)
    rows = session.execute(
        select(Unit.code, Receipt.year, Receipt.number, Receipt.donation_id).join(Unit, Unit.id == Receipt.unit_id)
    ).all()
    for code, year, number, _ in rows:
        books[(code, year)].append(number)
    for numbers in books.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    assert {donation_id: number for _, _, number, donation_id in rows} == {d["id"]: d["number"] for d in donations}
    # Statuses and nothing extra: no donation the model does not know, no key left claimed without one.
    stored = dict(session.execute(select(Donation.id, Donation.status)).all())
    assert stored == {d["id"]: "void" if d["void"] else "recorded" for d in donations}
    assert (
        session.scalar(
            select(func.count()).select_from(IdempotencyRecord).where(IdempotencyRecord.donation_id.is_(None))
        )
        == 0
    )
    session.rollback()
