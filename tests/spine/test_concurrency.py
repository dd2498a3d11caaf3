"""Gapless receipt numbers and idempotent replays under real concurrency, on SQLite and on PostgreSQL.

gunicorn serves the app with 4 worker processes (sync, and threaded: see conftest.WORKER_KINDS); 8+ client
processes post at once (released together by a barrier). The database is then read directly, not through the app
under test.
"""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.spine.gunicorn_helpers import MP, Gunicorn, gift, make_token, read_book, run_processes

pytestmark = pytest.mark.slow

UNIT, YEAR = "ST-TP-P2", 2024
CLIENTS, PER_CLIENT = 8, 25


def post_donations(base: str, token: str, client: int, count: int, barrier) -> list[tuple[int, int, dict]]:
    """One client: `count` donations, one after another on a keep-alive session; returns (amount, status, body)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    barrier.wait(timeout=60)
    answers = []
    for i in range(count):
        # Distinct amounts, so a lost, doubled or swapped row would show in the sums.
        amount = 1_000 * (client * 1_000 + i + 1)
        response = session.post(
            f"{base}/api/v1/donations", json=gift(UNIT, amount, name=f"Khách {client}-{i}"), timeout=120
        )
        answers.append((amount, response.status_code, response.json()))
    session.close()
    return answers


def post_same_key(base: str, token: str, key: str, body: dict, barrier) -> tuple[int, dict]:
    """One client of a key race: wait at the barrier, then post the shared body under the shared key."""
    session = requests.Session()
    barrier.wait(timeout=60)
    response = session.post(
        f"{base}/api/v1/donations",
        json=body,
        timeout=120,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
    )
    return response.status_code, response.json()


def test_many_processes_posting_to_one_unit_get_gapless_numbers(engine_url, worker_args, tmp_path):
    token = make_token(engine_url, "treasurer", "ST-TP")
    barrier = MP.Barrier(CLIENTS)
    with Gunicorn(engine_url, tmp_path / "gunicorn.log", extra_args=worker_args) as server:
        results = run_processes(post_donations, [(server.base, token, c, PER_CLIENT, barrier) for c in range(CLIENTS)])
        funds = requests.get(
            f"{server.base}/api/v1/funds", headers={"Authorization": f"Bearer {token}"}, timeout=60
        ).json()
    answers = [a for client in results for a in client]
    total = CLIENTS * PER_CLIENT
    assert [status for _, status, _ in answers] == [201] * total, [b for _, s, b in answers if s != 201][:3]

    book = read_book(engine_url, UNIT, YEAR)
    # Stored numbers of the unit's 2024 book: exactly 1..N, no gap, no repeat.
    assert book.numbers == list(range(1, total + 1))
    # Every number answered is the one stored for that donation, with that amount.
    answered = {body["receipt"]["number"]: (body["id"], amount) for amount, _, body in answers}
    assert len(answered) == total
    assert {n: (d, a) for n, (d, a, _) in book.by_number.items()} == answered
    assert all(body["receipt"]["book"] == str(YEAR) for _, _, body in answers)
    # The fund's balance is the sum of what was recorded: by the API, by the ledger and by the donations.
    posted = sum(amount for amount, _, _ in answers)
    kh = next(f for f in funds if f["code"] == "KH")
    assert kh["balance"] == book.balance == book.donations_total == posted
    assert book.idempotency_orphans == 0


def test_same_idempotency_key_at_the_same_moment_makes_one_donation(engine_url, worker_args, tmp_path):
    token = make_token(engine_url, "treasurer", "ST-TP")
    racers, rounds = 10, 3
    with Gunicorn(engine_url, tmp_path / "gunicorn.log", extra_args=worker_args) as server:
        outcomes = []
        for r in range(rounds):
            barrier = MP.Barrier(racers)
            body = gift(UNIT, 2_500_000 + r, name=f"Bà Lan {r}", phone=f"09120001{r:02d}")
            outcomes.append(
                run_processes(post_same_key, [(server.base, token, f"race-{r}", body, barrier) for _ in range(racers)])
            )
    donation_ids = []
    for answers in outcomes:
        statuses = [status for status, _ in answers]
        assert set(statuses) <= {201, 409}, answers
        created = [body for status, body in answers if status == 201]
        assert created, "at least the winner is answered 201"
        # Every 201 is the very same answer: one donation, one receipt.
        assert all(body == created[0] for body in created), [b for b in created if b != created[0]][:1] + created[:1]
        donation_ids.append(created[0]["id"])

    book = read_book(engine_url, UNIT, YEAR)
    assert sorted(d for d, _, _ in book.by_number.values()) == sorted(donation_ids)
    assert book.numbers == list(range(1, rounds + 1))
    assert book.donation_count == rounds
    assert book.balance == sum(2_500_000 + r for r in range(rounds))
    assert book.idempotency_orphans == 0


METHODS = ("cash", "bank_transfer", "in_kind")


def post_gifts_of_every_kind(base: str, token: str, client: int, count: int, barrier) -> list[tuple[str, int, dict]]:
    """One client: `count` gifts cycling through cash, bank transfer and goods; returns (method, status, body)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    barrier.wait(timeout=60)
    answers = []
    for i in range(count):
        method = METHODS[(client + i) % len(METHODS)]
        body = {**gift(UNIT, 1_000 * (client * 1_000 + i + 1), name=f"Khách {client}-{i}"), "method": method}
        if method == "in_kind":
            body.update(in_kind_description="Vở học sinh", quantity=10, unit_of_measure="cuốn")
        response = session.post(f"{base}/api/v1/donations", json=body, timeout=120)
        answers.append((method, response.status_code, response.json()))
    session.close()
    return answers


def test_each_document_series_stays_gapless_when_kinds_are_mixed(engine_url, worker_args, tmp_path):
    """Receipts, acknowledgements (XN-) and goods records (HV-) of one unit, recorded at once by 8 processes: each
    series is exactly 1..N, and only the money reaches the fund."""
    token = make_token(engine_url, "treasurer", "ST-TP")
    barrier = MP.Barrier(CLIENTS)
    per_client = 12
    with Gunicorn(engine_url, tmp_path / "gunicorn.log", extra_args=worker_args) as server:
        results = run_processes(
            post_gifts_of_every_kind, [(server.base, token, c, per_client, barrier) for c in range(CLIENTS)]
        )
        funds = requests.get(
            f"{server.base}/api/v1/funds", headers={"Authorization": f"Bearer {token}"}, timeout=60
        ).json()
    answers = [a for client in results for a in client]
    assert [status for _, status, _ in answers] == [201] * len(answers), [b for _, s, b in answers if s != 201][:3]
    kinds = {"cash": "receipt", "bank_transfer": "acknowledgement", "in_kind": "in_kind_record"}
    prefixes = {"cash": f"{UNIT}/", "bank_transfer": f"XN-{UNIT}/", "in_kind": f"HV-{UNIT}/"}
    for method in METHODS:
        mine = [body["receipt"] for m, _, body in answers if m == method]
        assert all(r["kind"] == kinds[method] and r["code"].startswith(prefixes[method]) for r in mine)
        assert sorted(r["number"] for r in mine) == list(range(1, len(mine) + 1)), method
    engine = create_engine(engine_url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(
                text("SELECT r.kind, r.number FROM receipts r JOIN units u ON u.id = r.unit_id WHERE u.code = :unit"),
                {"unit": UNIT},
            ).all()
    finally:
        engine.dispose()
    for kind in kinds.values():
        numbers = sorted(n for k, n in stored if k == kind)
        assert numbers == list(range(1, len(numbers) + 1)), kind
    money = sum(body["amount"] for m, _, body in answers if m != "in_kind")
    goods = sum(body["amount"] for m, _, body in answers if m == "in_kind")
    kh = next(f for f in funds if f["code"] == "KH")
    assert kh["balance"] == money and kh["in_kind_value"] == goods
