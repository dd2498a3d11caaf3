"""Benchmark: donor search by a folded prefix on 100,000 donors, through the API next to a bare indexed SELECT.

    .venv/bin/python bench/search.py                  # 100,000 donors
    .venv/bin/python bench/search.py --donors 20000 --strict

A temp dir gets a migrated SQLite database with the demo unit tree and --donors donors spread over its communes
(Vietnamese names from bench/_names.py, a company now and then), stored as the service stores them: the folded name
and the folded words of donor_name_words, made by fundsvc.donations.identity. Each query is a prefix typed without
diacritics, as people type on phones ("ngu", "dang th", "hoang minh", "thach"), and is measured as

    `GET /api/v1/donors?q=…&page_size=20` through the Flask test client (token, scope, the search condition of
    fundsvc.donations.service.donor_found_by, the page and its count, the JSON), next to a bare `SELECT` of the
    same page and the count of the donors found (which the answer carries) by sqlite3 on the same indexes
    (donor_name_words' primary key as a range, the donors by primary key).

The figure is the median over --repeat rounds of every query, the service and its baseline taking turns; floor: the
API within 3× of the bare SELECT. Exit status 0 unless --strict and the floor is missed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from _names import FAMILY, GIVEN, MIDDLE  # noqa: E402  (bench/ is on sys.path when run as a script)

FLOOR = 3.0
PAGE = 20
QUERIES = ["ngu", "dang th", "hoang minh", "thach", "le van an", "cong ty", "kim ngoc", "vo"]

# The page the API answers, bare: every word typed starts a word of the name (one range of the word index per
# word), donors not merged, in folded name order.
WORD_IN = "d.id IN (SELECT donor_id FROM donor_name_words WHERE word >= ? AND word < ?)"
FOUND_SQL = "FROM donors d JOIN units u ON u.id = d.unit_id WHERE d.merged_into_id IS NULL AND {words}"
PAGE_SQL = (
    "SELECT d.id, d.name, d.kind, d.phone, d.email, d.address, d.tax_code, u.code "
    f"{FOUND_SQL} ORDER BY d.name_folded, d.id LIMIT {PAGE}"
)
# The answer carries the number of donors found (X-Pagination), so the bare read counts them too.
COUNT_SQL = f"SELECT count(*) {FOUND_SQL}"


def prepare(path: str, count: int) -> str:
    """The database with `count` donors; an admin token."""
    from flask_migrate import upgrade

    from fundsvc import create_app
    from fundsvc.auth.service import create_user
    from fundsvc.demo.load import load_demo
    from fundsvc.extensions import db

    logging.disable(logging.INFO)  # alembic's progress lines
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        upgrade()
        load_demo(db.session, donations=0, users=False)
        _user, token = create_user(db.session, "bench-admin", "admin", full_name="Lê Thị Bench")
        db.session.remove()
        db.engine.dispose()
    started = time.perf_counter()
    _store_donors(path, count)
    print(f"data: {count:,} donors (stored in {time.perf_counter() - started:.1f} s)")
    return token


def _store_donors(path: str, count: int) -> None:
    """`count` donors, their folded names and words, as fundsvc.donations.service writes them."""
    from fundsvc.donations.identity import name_words
    from fundsvc.students.normalize import fold

    rng = random.Random(22)
    connection = sqlite3.connect(path)
    with connection:
        units = [row[0] for row in connection.execute("SELECT id FROM units WHERE level = 'commune'")]
        donors, words = [], []
        for donor_id in range(1, count + 1):
            if donor_id % 20 == 0:
                name, kind = f"Công ty TNHH {rng.choice(GIVEN)} {rng.choice(FAMILY)} {donor_id}", "organization"
            else:
                name, kind = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}", "person"
            phone = f"091{donor_id:07d}"
            donors.append((donor_id, name, fold(name), kind, phone, rng.choice(units), "2024-01-01 00:00:00"))
            words += [(word, donor_id) for word in name_words(name)]
        connection.executemany(
            "INSERT INTO donors (id, name, name_folded, kind, phone, unit_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            donors,
        )
        connection.executemany("INSERT INTO donor_name_words (word, donor_id) VALUES (?, ?)", words)
    connection.execute("ANALYZE")
    connection.close()


def bare_page(connection: sqlite3.Connection, query: str) -> list:
    from fundsvc.donations.identity import after_prefix, search_words

    words = search_words(query)
    params = [bound for word in words for bound in (word, after_prefix(word))]
    condition = " AND ".join([WORD_IN] * len(words))
    connection.execute(COUNT_SQL.format(words=condition), params).fetchone()
    return connection.execute(PAGE_SQL.format(words=condition), params).fetchall()


def measure(path: str, token: str, repeat: int) -> bool:
    from fundsvc import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    connection = sqlite3.connect(path)

    def service(query: str) -> list:
        response = client.get("/api/v1/donors", query_string={"q": query, "page_size": PAGE}, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"GET /api/v1/donors?q={query}: {response.status_code} {response.get_data()[:300]!r}")
        return response.json

    for query in QUERIES:  # warm-up, and the two answer the same page
        answered, bare = [d["id"] for d in service(query)], [row[0] for row in bare_page(connection, query)]
        if answered != bare:
            raise SystemExit(f"q={query!r}: the API answered {answered[:5]}…, the bare SELECT {bare[:5]}…")
        paging = client.get("/api/v1/donors", query_string={"q": query, "page_size": 1}, headers=headers)
        found = json.loads(paging.headers["X-Pagination"])["total"]
        print(f"q={query!r:14} {found:7,} donors found, first: {service(query)[0]['name'] if found else '-'}")
    service_times, bare_times = [], []
    for _ in range(repeat):
        for query in QUERIES:
            start = time.perf_counter()
            service(query)
            service_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            bare_page(connection, query)
            bare_times.append(time.perf_counter() - start)
    connection.close()
    api, bare = statistics.median(service_times) * 1000, statistics.median(bare_times) * 1000
    ratio = api / bare
    ok = ratio <= FLOOR
    print(f"{'measure':44} {'service':>12} {'baseline':>12} {'ratio':>7} {'floor':>6}")
    print(
        f"{'donor search by folded prefix (median)':44} {api:9.2f} ms {bare:9.2f} ms {ratio:6.2f}× {FLOOR:>5}× "
        f"{'PASS' if ok else 'FAIL'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--donors", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--strict", action="store_true", help="exit 1 when the floor is missed")
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="bench-search-")
    try:
        path = os.path.join(directory, "search.sqlite3")
        token = prepare(path, args.donors)
        ok = measure(path, token, args.repeat)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
