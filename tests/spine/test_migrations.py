"""The migrations themselves: `upgrade head` on an empty database yields exactly the models' schema, on both engines,
the whole chain goes down to `base` and up again, and a migration that converts data carries it over both ways."""

from __future__ import annotations

import hashlib
import json
import os
from itertools import count

import pytest
import zstandard
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import JSON, create_engine, inspect, select, text

from fundsvc import (
    create_app,
    models,  # noqa: F401  (every model on the metadata)
)
from fundsvc.allocation.models import Round
from fundsvc.db import Base, CompressedJSON
from fundsvc.extensions import db
from fundsvc.jobs.queues import owned_by_the_queue

_names = count()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path) -> str:
    """A database with nothing in it at all, not even the alembic_version table."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    server = request.getfixturevalue("pg_server")
    name = f"mig{os.getpid()}_{next(_names)}"
    engine = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    engine.dispose()
    return server.url(name)


def schema_diff(url: str) -> list:
    """Alembic's autogenerate comparison of the live schema against the models (empty when they agree)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            # procrastinate's tables (PostgreSQL) are its schema's, made by 0019, not the models'.
            opts = {"compare_type": True, "include_name": owned_by_the_queue}
            return compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata)
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def run(url: str, step) -> None:
    """Run a Flask-Migrate command (`upgrade` / `downgrade`) against `url`, as `flask db …` would."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        try:
            step()
        finally:
            db.session.remove()
            db.engine.dispose()


def test_upgrade_head_on_empty_database_gives_the_models_schema(empty_url):
    assert tables(empty_url) == set()
    run(empty_url, upgrade)
    # On PostgreSQL also procrastinate's (the job queue's) own tables, made by its schema in 0019.
    queue = {"procrastinate_jobs", "procrastinate_workers", "procrastinate_events", "procrastinate_periodic_defers"}
    expected = (
        set(Base.metadata.tables) | {"alembic_version"} | (queue if empty_url.startswith("postgresql") else set())
    )
    assert tables(empty_url) == expected
    assert schema_diff(empty_url) == []


def test_downgrade_base_then_upgrade_head(empty_url):
    run(empty_url, upgrade)
    run(empty_url, lambda: downgrade(revision="base"))
    # Everything the migrations made is gone again; only Alembic's bookkeeping table is left.
    assert tables(empty_url) <= {"alembic_version"}
    run(empty_url, upgrade)
    assert schema_diff(empty_url) == []
    # And the upgraded database works: the demo tree loads into it.
    from fundsvc.demo.load import load_demo

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_url})
    with app.app_context():
        try:
            assert load_demo(db.session, donations=3, users=False).created
        finally:
            db.session.remove()
            db.engine.dispose()


# A round's documents as 0005 stored them: JSON text kept as written (spaces, non-ASCII), which 0006 must carry
# over byte for byte (result_hash is the sha256 of that text).
OLD_RESULT = '{"round": 1, "allocated": 5000000, "awarded": [{"nomination_id": 1, "full_name": "Nguyễn Thị Ánh"}]}'
OLD_RANKED = '[{"nomination_id": 1, "outcome": "awarded", "score": "9.25"}]'
OLD_RANKED_BY_COLUMN = {
    "nomination_id": [1],
    "score": ["9.25"],
    "amount": [None],
    "tier": [None],
    "outcome": ["awarded"],
}


def _fill_0005(url: str) -> None:
    """Two rounds in a database at 0005: one allocated and approved (with an award, so other rows refer to it),
    one draft without documents."""
    engine = create_engine(url)
    postgresql = engine.dialect.name == "postgresql"
    document = "CAST(:{} AS json)" if postgresql else ":{}"
    statements = [
        (
            "INSERT INTO units (id, code, name, level, path, created_at)"
            " VALUES (1, 'ST', 'Sóc Trăng', 'province', '/1/', :t)",
            {},
        ),
        ("INSERT INTO funds (id, code, name, unit_id, created_at) VALUES (1, 'KH', 'Quỹ Khuyến học', 1, :t)", {}),
        (
            "INSERT INTO rounds (id, name, academic_year, fund_id, unit_id, budget, rules, rules_hash, status, result,"
            f" ranked, result_hash, created_at) VALUES (1, 'Đợt 1', '2024-2025', 1, 1, 5000000, {document.format('r')},"
            f" 'h', 'approved', {document.format('result')}, {document.format('ranked')}, 'sha256:x', :t)",
            {"r": "{}", "result": OLD_RESULT, "ranked": OLD_RANKED},
        ),
        (
            "INSERT INTO rounds (id, name, academic_year, fund_id, unit_id, budget, rules, rules_hash, status,"
            f" created_at) VALUES (2, 'Đợt 2', '2024-2025', 1, 1, 1, {document.format('r')}, 'h', 'draft', :t)",
            {"r": "{}"},
        ),
        (
            "INSERT INTO students (id, identity_key, full_name, birth_date, school, created_at)"
            " VALUES (1, 'k', 'Nguyễn Thị Ánh', '2012-05-01', 'THCS 1', :t)",
            {},
        ),
        (
            "INSERT INTO nominations (id, student_id, academic_year, unit_id, status, full_name, birth_date,"
            " ethnic_minority, school, grade, household, orphan, disability, achievement, created_at, updated_at)"
            " VALUES (1, 1, '2024-2025', 1, 'active', 'Nguyễn Thị Ánh', '2012-05-01', :no, 'THCS 1', '6', 'poor',"
            " :no, :no, 'none', :t, :t)",
            {"no": False},
        ),
        (
            "INSERT INTO awards (id, round_id, nomination_id, amount, rank, score, status, promoted, created_at)"
            " VALUES (1, 1, 1, 5000000, 1, '9.25', 'approved', :no, :t)",
            {"no": False},
        ),
    ]
    try:
        with engine.begin() as conn:
            for sql, params in statements:
                conn.execute(text(sql), {"t": "2024-10-01 00:00:00+00:00", **params})
    finally:
        engine.dispose()


def _documents(url: str) -> dict:
    """Each round's documents as JSON text, as a database at 0005 holds them."""
    engine = create_engine(url)
    stored = "CAST({} AS text)" if engine.dialect.name == "postgresql" else "{}"
    try:
        with engine.connect() as conn:
            query = f"SELECT id, {stored.format('result')}, {stored.format('ranked')} FROM rounds ORDER BY id"
            return {row[0]: tuple(row[1:]) for row in conn.execute(text(query))}
    finally:
        engine.dispose()


def test_0006_compresses_the_round_documents_and_back(empty_url):
    run(empty_url, lambda: upgrade(revision="0005"))
    _fill_0005(empty_url)
    run(empty_url, lambda: upgrade(revision="0006"))
    run(empty_url, lambda: upgrade())  # and on to head, so the models' schema is the one to compare
    assert schema_diff(empty_url) == []

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_url})
    with app.app_context():
        try:
            texts = db.session.execute(
                select(CompressedJSON.text(Round.result), CompressedJSON.text(Round.ranked)).order_by(Round.id)
            ).all()
            assert [row[0] for row in texts] == [OLD_RESULT.encode(), None]
            approved = db.session.get(Round, 1)
            # The ranking carried over, and by 0014 rewritten by column.
            assert approved.result == json.loads(OLD_RESULT) and approved.ranked == OLD_RANKED_BY_COLUMN
            assert db.session.get(Round, 2).result is None
        finally:
            db.session.remove()
            db.engine.dispose()

    run(empty_url, lambda: downgrade(revision="0005"))
    documents = _documents(empty_url)
    assert documents[2] == (None, None) and documents[1][0] == OLD_RESULT
    # Back through 0014 the ranking is one entry per dict again, each with its rank and every column.
    assert json.loads(documents[1][1]) == [{"rank": 1, **{k: v[0] for k, v in OLD_RANKED_BY_COLUMN.items()}}]
    engine = create_engine(empty_url)
    try:
        columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("rounds")}
    finally:
        engine.dispose()
    assert all(isinstance(columns[name], JSON) for name in ("result", "ranked")), columns


def test_0007_gives_existing_users_a_session_version(empty_url):
    run(empty_url, lambda: upgrade(revision="0006"))
    engine = create_engine(empty_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO users (username, role, active, created_at) VALUES ('lan', 'treasurer', true, :now)"),
                {"now": "2026-01-01 00:00:00"},
            )
        run(empty_url, lambda: upgrade(revision="0007"))
        with engine.connect() as connection:
            assert connection.execute(text("SELECT session_version FROM users")).scalar_one() == 0
        run(empty_url, lambda: downgrade(revision="0006"))
        columns = {c["name"] for c in inspect(engine).get_columns("users")}
        assert "session_version" not in columns
    finally:
        engine.dispose()


def _fill_0007(url: str) -> None:
    """Version 1's books at 0007: a province and a ward; at the ward a cash gift, a bank transfer, 200 sets of
    textbooks (counted as money then), and a 2024 cash gift voided in 2026 (its reversal dated 2026); a province
    round whose award to a pupil of the ward was paid (charged to the ward then)."""
    engine = create_engine(url)
    postgresql = engine.dialect.name == "postgresql"
    document = "CAST(:{} AS json)" if postgresql else ":{}"
    t = "2024-01-05 00:00:00+00:00"
    rows = [
        "INSERT INTO units (id, code, name, level, path, created_at)"
        " VALUES (1, 'ST', 'Tỉnh Sóc Trăng', 'province', '/1/', :t)",
        "INSERT INTO units (id, code, name, level, parent_id, path, created_at)"
        " VALUES (2, 'ST-P2', 'Phường 2', 'commune', 1, '/1/2/', :t)",
        "INSERT INTO units (id, code, name, level, path, created_at)"
        " VALUES (3, 'XX', 'Tỉnh trống', 'province', '/3/', :t)",
        "INSERT INTO funds (id, code, name, unit_id, created_at) VALUES (1, 'KH', 'Quỹ Khuyến học', 1, :t)",
        "INSERT INTO donors (id, name, kind, unit_id, created_at) VALUES (1, 'Bà Lan', 'person', 2, :t)",
        "INSERT INTO receipt_books (id, unit_id, kind, year, last_number) VALUES (1, 2, 'receipt', 2024, 4)",
        "INSERT INTO receipt_books (id, unit_id, kind, year, last_number) VALUES (2, 1, 'voucher', 2024, 1)",
    ]
    gifts = [  # id, method, amount, received_on, status
        (1, "cash", 1_000_000, "2024-03-02", "recorded"),
        (2, "bank_transfer", 3_000_000, "2024-03-05", "recorded"),
        (3, "in_kind", 15_000_000, "2024-03-09", "recorded"),
        (4, "cash", 500_000, "2024-04-01", "void"),
    ]
    for gid, method, amount, on, status in gifts:
        description = "'200 bộ sách giáo khoa'" if method == "in_kind" else "NULL"
        rows += [
            "INSERT INTO donations (id, donor_id, fund_id, unit_id, amount, method, in_kind_description, received_on,"
            f" anonymous, status, created_at) VALUES ({gid}, 1, 1, 2, {amount}, '{method}', {description}, '{on}',"
            f" :no, '{status}', :t)",
            "INSERT INTO receipts (id, donation_id, book_id, unit_id, year, number, code, created_at)"
            f" VALUES ({gid}, {gid}, 1, 2, 2024, {gid}, 'ST-P2/2024/0000{gid}', :t)",
            "INSERT INTO ledger_entries (fund_id, unit_id, entry_date, kind, amount, method, donation_id,"
            f" document_code, description, created_at) VALUES (1, 2, '{on}', 'donation', {amount}, '{method}', {gid},"
            f" 'ST-P2/2024/0000{gid}', 'Thu', :t)",
        ]
    rows += [
        "INSERT INTO ledger_entries (fund_id, unit_id, entry_date, kind, amount, method, donation_id, document_code,"
        " description, created_at) VALUES (1, 2, '2026-02-01', 'reversal', -500000, 'cash', 4, 'ST-P2/2024/00004',"
        " 'Hủy', :t)",
        "INSERT INTO students (id, identity_key, full_name, birth_date, school, created_at)"
        " VALUES (1, 'k', 'Nguyễn Thị Ánh', '2012-05-01', 'THCS 1', :t)",
        "INSERT INTO nominations (id, student_id, academic_year, unit_id, status, full_name, birth_date,"
        " ethnic_minority, school, grade, household, orphan, disability, achievement, created_at, updated_at)"
        " VALUES (1, 1, '2024-2025', 2, 'active', 'Nguyễn Thị Ánh', '2012-05-01', :no, 'THCS 1', '6', 'poor',"
        " :no, :no, 'none', :t, :t)",
        "INSERT INTO rounds (id, name, academic_year, fund_id, unit_id, budget, rules, rules_hash, status, created_at)"
        f" VALUES (1, 'Đợt 1', '2024-2025', 1, 1, 800000, {document.format('r')}, 'h', 'approved', :t)",
        "INSERT INTO awards (id, round_id, nomination_id, amount, rank, score, status, promoted, paid_on,"
        " voucher_number, voucher_code, created_at) VALUES (1, 1, 1, 800000, 1, '9', 'paid', :no, '2024-05-06', 1,"
        " 'PC-ST/2024/00001', :t)",
        "INSERT INTO ledger_entries (fund_id, unit_id, entry_date, kind, amount, method, award_id, document_code,"
        " description, created_at) VALUES (1, 2, '2024-05-06', 'disbursement', -800000, 'cash', 1,"
        " 'PC-ST/2024/00001', 'Chi', :t)",
    ]
    try:
        with engine.begin() as conn:
            for sql in rows:
                conn.execute(text(sql), {"t": t, "no": False, "r": "{}"})
    finally:
        engine.dispose()


def _query(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def test_0008_carries_version_1_books_into_accounts_and_the_in_kind_register(empty_url):
    run(empty_url, lambda: upgrade(revision="0007"))
    _fill_0007(empty_url)
    run(empty_url, lambda: upgrade(revision="0008"))
    run(empty_url, lambda: upgrade())
    assert schema_diff(empty_url) == []

    accounts = _query(
        empty_url, "SELECT id, unit_id, kind, name, ledger_account FROM money_accounts ORDER BY unit_id, kind"
    )
    # Every unit its cash account; a bank account "to be completed" where transfers were received.
    assert [(u, k, a) for _, u, k, _, a in accounts] == [
        (1, "cash", "111"),
        (2, "bank", "112"),
        (2, "cash", "111"),
        (3, "cash", "111"),
    ]
    assert accounts[1][3] == "Tài khoản ngân hàng (chưa khai báo)"
    account = {(u, k): i for i, u, k, _, _ in accounts}
    entries = _query(
        empty_url,
        "SELECT donation_id, award_id, unit_id, account_id, kind, amount, entry_date FROM ledger_entries ORDER BY id",
    )
    as_text = [(d, a, u, acc, k, amt, str(on)[:10]) for d, a, u, acc, k, amt, on in entries]
    assert as_text == [
        (1, None, 2, account[(2, "cash")], "donation", 1_000_000, "2024-03-02"),
        (2, None, 2, account[(2, "bank")], "donation", 3_000_000, "2024-03-05"),
        (4, None, 2, account[(2, "cash")], "donation", 500_000, "2024-04-01"),
        # The void annuls in the gift's own period, not in 2026.
        (4, None, 2, account[(2, "cash")], "reversal", -500_000, "2024-04-01"),
        # The payment counts for the province, whose round paid it, from its cash.
        (None, 1, 1, account[(1, "cash")], "disbursement", -800_000, "2024-05-06"),
    ]
    # The textbooks left the money for the register, at their value.
    register = _query(empty_url, "SELECT unit_id, donation_id, kind, description, value FROM in_kind_entries")
    assert register == [(2, 3, "received", "200 bộ sách giáo khoa", 15_000_000)]
    donations = _query(empty_url, "SELECT id, account_id FROM donations ORDER BY id")
    assert donations == [(1, account[(2, "cash")]), (2, account[(2, "bank")]), (3, None), (4, account[(2, "cash")])]
    # Issued documents keep their numbers and codes; each series remembers its last date.
    assert _query(empty_url, "SELECT kind, COUNT(*) FROM receipts GROUP BY kind") == [("receipt", 4)]
    books = {k: str(d)[:10] for k, d in _query(empty_url, "SELECT kind, last_date FROM receipt_books")}
    assert books == {"receipt": "2024-04-01", "voucher": "2024-05-06"}
    opened = {c: str(d)[:10] for c, d in _query(empty_url, "SELECT code, books_opened_on FROM units")}
    assert opened == {"ST": "2024-05-06", "ST-P2": "2024-03-02", "XX": "2024-01-01"}
    assert _query(empty_url, "SELECT paid_from_account_id FROM awards") == [(account[(1, "cash")],)]

    # And back: version 1's shape, the goods in the ledger again, the payment on the pupil's unit.
    run(empty_url, lambda: downgrade(revision="0007"))
    back = _query(empty_url, "SELECT donation_id, award_id, unit_id, kind, amount FROM ledger_entries ORDER BY id")
    assert (3, None, 2, "donation", 15_000_000) in back and (None, 1, 2, "disbursement", -800_000) in back
    assert "money_accounts" not in tables(empty_url)


def test_0014_rewrites_a_ranking_stored_by_entry_by_column_and_back(empty_url):
    """A round allocated before the ranking was kept by column: its entries, with quota groups, in rank order."""
    entries = [
        {
            "nomination_id": 7,
            "rank": 2,
            "score": "8.5",
            "amount": 1000000,
            "tier": "B",
            "outcome": "waitlisted",
            "groups": {"district": "ST-MX"},
        },
        {
            "nomination_id": 3,
            "rank": 1,
            "score": "9.25",
            "amount": 2000000,
            "tier": "A",
            "outcome": "awarded",
            "groups": {"district": "ST-TP"},
        },
    ]
    by_column = {
        "nomination_id": [3, 7],
        "score": ["9.25", "8.5"],
        "amount": [2000000, 1000000],
        "tier": ["A", "B"],
        "outcome": ["awarded", "waitlisted"],
        "groups": {"district": ["ST-TP", "ST-MX"]},
    }
    run(empty_url, lambda: upgrade(revision="0005"))
    _fill_0005(empty_url)
    run(empty_url, lambda: upgrade(revision="0013"))
    engine = create_engine(empty_url)
    try:
        with engine.begin() as conn:
            ranked = CompressedJSON.compress(entries)
            conn.execute(text("UPDATE rounds SET ranked = :r WHERE id = 1"), {"r": bytes(ranked)})
        run(empty_url, lambda: upgrade(revision="0014"))

        def stored():
            with engine.connect() as conn:
                data = conn.execute(text("SELECT ranked FROM rounds WHERE id = 1")).scalar_one()
            return json.loads(zstandard.decompress(data))

        assert stored() == by_column
        from fundsvc.allocation.engine import ranked_entries

        assert ranked_entries(stored()) == sorted(entries, key=lambda e: e["rank"])
        run(empty_url, lambda: downgrade(revision="0013"))
        assert stored() == sorted(entries, key=lambda e: e["rank"])
    finally:
        engine.dispose()


def test_0020_keeps_existing_tokens_and_units_working(empty_url):
    """0020 only adds columns: a token issued before it still authenticates (no expiry, no name, never used), and
    a unit from before it is active (neither merged nor retired)."""
    from fundsvc.auth.service import authenticate_token
    from fundsvc.units.service import get_unit

    run(empty_url, lambda: upgrade(revision="0015"))
    token = "fs_before-0020-" + "x" * 30
    engine = create_engine(empty_url)
    try:
        with engine.begin() as connection:
            now = {"now": "2026-01-01 00:00:00+00:00"}
            connection.execute(
                text(
                    "INSERT INTO units (id, code, name, level, path, books_opened_on, created_at)"
                    " VALUES (1, 'ST', 'Tỉnh Sóc Trăng', 'province', '/1/', '2024-01-01', :now)"
                ),
                now,
            )
            connection.execute(
                text(
                    "INSERT INTO users (id, username, role, unit_id, active, session_version, created_at)"
                    " VALUES (1, 'lan', 'treasurer', 1, true, 0, :now)"
                ),
                now,
            )
            connection.execute(
                text(
                    "INSERT INTO api_tokens (user_id, token_hash, prefix, created_at)"
                    " VALUES (1, :hash, 'fs_before', :now)"
                ),
                {**now, "hash": hashlib.sha256(token.encode()).hexdigest()},
            )
    finally:
        engine.dispose()
    run(empty_url, lambda: upgrade(revision="0020"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_url})
    with app.app_context():
        try:
            actor = authenticate_token(db.session, token)
            assert actor is not None and actor.username == "lan" and actor.unit_path == "/1/"
            assert get_unit(db.session, "ST").closed_on is None
            row = db.session.execute(text("SELECT name, expires_on, last_used_at FROM api_tokens")).one()
            assert row.name is None and row.expires_on is None and row.last_used_at is not None  # its use noted
        finally:
            db.session.remove()
            db.engine.dispose()
    run(empty_url, lambda: downgrade(revision="0015"))
    engine = create_engine(empty_url)
    try:
        assert "organisation_settings" not in inspect(engine).get_table_names()
        assert "merged_on" not in {c["name"] for c in inspect(engine).get_columns("units")}
    finally:
        engine.dispose()


def test_0016_normalises_existing_donors_and_indexes_their_folded_names(empty_url):
    """Donors and nominations stored before 0016, as they were typed: afterwards matched and found as new ones are."""
    run(empty_url, lambda: upgrade(revision="0015"))
    engine = create_engine(empty_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO units (id, code, name, level, path, books_opened_on, created_at)"
                    " VALUES (1, 'ST', 'Sóc Trăng', 'province', '/1/', '2024-01-01', :t)"
                ),
                {"t": "2024-01-01 00:00:00"},
            )
            donors = [
                (1, "Trần Thị Hồng Nhung", "0912 345 678", "0312.345.678 001"),
                (2, "ĐẶNG VĂN ÚT", "+84 913.555.777", None),
                (3, "Công ty Minh Phát", "không rõ", "2200123456"),
            ]
            for donor_id, name, phone, tax_code in donors:
                conn.execute(
                    text(
                        "INSERT INTO donors (id, name, kind, phone, tax_code, unit_id, created_at)"
                        " VALUES (:id, :name, 'person', :phone, :tax_code, 1, :t)"
                    ),
                    {"id": donor_id, "name": name, "phone": phone, "tax_code": tax_code, "t": "2024-01-01 00:00:00"},
                )
            for pupil_id, name in [(1, "Đặng Thị Ánh"), (2, "NGUYỄN  Văn Út")]:
                conn.execute(
                    text(
                        "INSERT INTO students (id, identity_key, full_name, birth_date, school, created_at)"
                        " VALUES (:id, :key, :name, '2012-05-01', 'THCS 1', :t)"
                    ),
                    {"id": pupil_id, "key": f"k{pupil_id}", "name": name, "t": "2024-01-01 00:00:00"},
                )
                conn.execute(
                    text(
                        "INSERT INTO nominations (id, student_id, academic_year, unit_id, status, full_name,"
                        " birth_date, ethnic_minority, school, grade, household, orphan, disability, achievement,"
                        " created_at, updated_at) VALUES (:id, :id, '2024-2025', 1, 'active', :name, '2012-05-01',"
                        " :no, 'THCS 1', '6', 'poor', :no, :no, 'none', :t, :t)"
                    ),
                    {"id": pupil_id, "name": name, "no": False, "t": "2024-01-01 00:00:00"},
                )
    finally:
        engine.dispose()
    run(empty_url, lambda: upgrade(revision="0016"))
    assert _query(empty_url, "SELECT id, name_folded, phone, tax_code FROM donors ORDER BY id") == [
        (1, "tran thi hong nhung", "0912345678", "0312345678-001"),
        (2, "dang van ut", "0913555777", None),
        # What cannot be normalised is kept as typed.
        (3, "cong ty minh phat", "không rõ", "2200123456"),
    ]
    words = _query(empty_url, "SELECT donor_id, word FROM donor_name_words ORDER BY donor_id, word")
    assert [(d, w) for d, w in words if d == 2] == [(2, "dang"), (2, "ut"), (2, "van")]
    assert len(words) == 4 + 3 + 4
    # "dang" and "nguy…" find by the index's range, as the service asks it.
    assert _query(empty_url, "SELECT donor_id FROM donor_name_words WHERE word >= 'dan' AND word < 'dao'") == [(2,)]
    assert _query(empty_url, "SELECT id, name_folded FROM nominations ORDER BY id") == [
        (1, "dang thi anh"),
        (2, "nguyen van ut"),
    ]
    run(empty_url, lambda: downgrade(revision="0015"))
    assert "donor_name_words" not in tables(empty_url)
    run(empty_url, upgrade)
    assert schema_diff(empty_url) == []


def test_0025_keeps_an_earlier_statement_import_with_its_balances_not_recorded(empty_url):
    """0025 only adds the balance columns: an import made before it keeps its lines, and its balances read as not
    recorded (NULL, never a zero that would claim the file added up or did not), on the page's service too."""
    from fundsvc.auth.models import User
    from fundsvc.auth.service import actor_for
    from fundsvc.bank import statement_service

    run(empty_url, lambda: upgrade(revision="0021"))
    engine = create_engine(empty_url)
    try:
        with engine.begin() as connection:
            now = {"now": "2026-10-05 00:00:00+00:00"}
            for sql in (
                "INSERT INTO units (id, code, name, level, path, books_opened_on, created_at)"
                " VALUES (1, 'ST', 'Tỉnh Sóc Trăng', 'province', '/1/', '2024-01-01', :now)",
                "INSERT INTO users (id, username, role, unit_id, active, session_version, created_at)"
                " VALUES (1, 'lan', 'treasurer', 1, true, 0, :now)",
                "INSERT INTO money_accounts (id, unit_id, kind, name, ledger_account, bank_bin, account_number,"
                " created_at) VALUES (1, 1, 'bank', 'VCB', '112', '970436', '1012345678', :now)",
                "INSERT INTO statement_imports (id, account_id, bank, filename, sha256, created_at, created_by)"
                " VALUES (1, 1, 'VCB', 'sao-ke-thang-9.xlsx', :sha, :now, 1)",
                "INSERT INTO statement_lines (id, account_id, import_id, dedupe_key, line_date, amount, direction,"
                " description, balance, status) VALUES (1, 1, 1, 'ref|FT1|in|500000|0', '2026-09-30', 500000, 'in',"
                " 'ung ho', 10500000, 'unmatched')",
            ):
                connection.execute(text(sql), {**now, "sha": "0" * 64})
    finally:
        engine.dispose()
    run(empty_url, lambda: upgrade(revision="0025"))
    assert _query(
        empty_url, "SELECT id, opening_balance, closing_balance, money_in, money_out FROM statement_imports"
    ) == [(1, None, None, None, None)]
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_url})
    with app.app_context():
        try:
            actor = actor_for(db.session.get(User, 1))
            (earlier,) = statement_service.recent_imports(db.session, actor, 1)
            assert earlier.filename == "sao-ke-thang-9.xlsx" and earlier.balance_gap is None
            assert statement_service.balance_warnings(earlier) == []
        finally:
            db.session.remove()
            db.engine.dispose()
    assert _query(empty_url, "SELECT id, import_id, amount FROM statement_lines") == [(1, 1, 500000)]
    run(empty_url, lambda: downgrade(revision="0021"))
    assert _query(empty_url, "SELECT id, filename FROM statement_imports") == [(1, "sao-ke-thang-9.xlsx")]
    assert "money_in" not in {c["name"] for c in inspect(create_engine(empty_url)).get_columns("statement_imports")}


def test_0024_moves_a_withdrawal_reason_out_of_the_note_and_back(empty_url):
    """Before 0024 a withdrawal appended " [Rút: reason]" to the school's note: afterwards the note is the school's
    again and the reason has its column; a note without such a reason (or an active nomination's) is untouched."""
    run(empty_url, lambda: upgrade(revision="0021"))
    notes = {
        1: ("withdrawn", "Em học giỏi [Rút: Chuyển trường]"),
        2: ("withdrawn", "[Rút: Gia đình chuyển đi]"),
        3: ("withdrawn", "Không có lý do ghi"),
        4: ("active", "Ghi chú có [Rút: chữ này] của trường"),
    }
    engine = create_engine(empty_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO units (id, code, name, level, path, books_opened_on, created_at)"
                    " VALUES (1, 'ST', 'Sóc Trăng', 'province', '/1/', '2024-01-01', :t)"
                ),
                {"t": "2024-01-01 00:00:00"},
            )
            for pupil_id, (status, note) in notes.items():
                conn.execute(
                    text(
                        "INSERT INTO students (id, identity_key, full_name, birth_date, school, created_at)"
                        " VALUES (:id, :key, 'Lâm Thị Mai', '2012-05-01', 'THCS 1', :t)"
                    ),
                    {"id": pupil_id, "key": f"k{pupil_id}", "t": "2024-01-01 00:00:00"},
                )
                conn.execute(
                    text(
                        "INSERT INTO nominations (id, student_id, academic_year, unit_id, status, full_name,"
                        " name_folded, birth_date, ethnic_minority, school, grade, household, orphan, disability,"
                        " achievement, note, created_at, updated_at) VALUES (:id, :id, '2024-2025', 1, :status,"
                        " 'Lâm Thị Mai', 'lam thi mai', '2012-05-01', :no, 'THCS 1', '6', 'poor', :no, :no, 'none',"
                        " :note, :t, :t)"
                    ),
                    {"id": pupil_id, "status": status, "note": note, "no": False, "t": "2024-01-01 00:00:00"},
                )
    finally:
        engine.dispose()
    run(empty_url, lambda: upgrade(revision="0024"))
    assert _query(empty_url, "SELECT id, note, withdrawal_reason FROM nominations ORDER BY id") == [
        (1, "Em học giỏi", "Chuyển trường"),
        (2, None, "Gia đình chuyển đi"),
        (3, "Không có lý do ghi", None),
        (4, "Ghi chú có [Rút: chữ này] của trường", None),
    ]
    run(empty_url, lambda: downgrade(revision="0021"))
    assert _query(empty_url, "SELECT id, note FROM nominations ORDER BY id") == [
        (pupil_id, note) for pupil_id, (_status, note) in notes.items()
    ]
    run(empty_url, upgrade)
    assert schema_diff(empty_url) == []


# A round's result as the engine writes it (docs/rules.md "Result"), each list with an entry.
RESULT_0021 = {
    "round": 1,
    "budget": 5000000,
    "allocated": 5000000,
    "remaining": 0,
    "rules_hash": "h",
    "awarded": [
        {"nomination_id": 1, "student_code": "A1", "rank": 1, "score": "9.25", "amount": 5000000, "tier": None}
    ],
    "waitlisted": [
        {
            "nomination_id": 2,
            "student_code": "B2",
            "rank": 2,
            "score": "8.5",
            "amount": 3000000,
            "tier": "Vượt khó",
            "reason": "budget",
            "quota": None,
        }
    ],
    "ineligible": [{"nomination_id": 3, "student_code": "C3", "reasons": ["điểm trung bình 6.0 < 7.0"]}],
}


def test_0028_writes_the_summary_and_decisions_of_rounds_allocated_before(empty_url):
    from fundsvc.allocation.decisions import result_page
    from fundsvc.allocation.models import RoundDecision
    from fundsvc.allocation.service import current_result

    run(empty_url, lambda: upgrade(revision="0005"))
    _fill_0005(empty_url)
    run(empty_url, lambda: upgrade(revision="0021"))
    engine = create_engine(empty_url)
    try:
        with engine.begin() as conn:
            result = bytes(CompressedJSON.compress(RESULT_0021))
            conn.execute(text("UPDATE rounds SET result = :r WHERE id = 1"), {"r": result})
        run(empty_url, lambda: upgrade(revision="0028"))
        run(empty_url, lambda: upgrade())
        assert schema_diff(empty_url) == []
        app = create_app({"SQLALCHEMY_DATABASE_URI": empty_url})
        with app.app_context():
            try:
                approved, draft = db.session.get(Round, 1), db.session.get(Round, 2)
                assert approved.result_summary == {
                    "allocation": 1,
                    "allocated": 5000000,
                    "remaining": 0,
                    "counts": {"awarded": 1, "waitlisted": 1, "ineligible": 1},
                }
                assert (
                    draft.result_summary is None
                    and result_page(db.session, draft, "awarded", 1, 10, personal=True) is None
                )
                rows = db.session.scalars(select(RoundDecision).order_by(RoundDecision.outcome)).all()
                assert [(r.outcome, r.position, r.nomination_id, r.rank, r.amount) for r in rows] == [
                    ("awarded", 0, 1, 1, 5000000),
                    ("ineligible", 0, 3, None, None),
                    ("waitlisted", 0, 2, 2, 3000000),
                ]
                # The page of an approved round (award 1 held) reads what current_result makes of the whole result.
                reference = current_result(db.session, approved)
                for tab in ("awarded", "waitlisted", "ineligible", "cancelled"):
                    page = result_page(db.session, approved, tab, 1, 10, personal=True)
                    assert page.entries == reference[tab], tab
                    assert page.counts[tab] == len(reference[tab])
                assert (page.allocated, page.remaining) == (reference["allocated"], reference["remaining"])
            finally:
                db.session.remove()
                db.engine.dispose()
        run(empty_url, lambda: downgrade(revision="0021"))
        assert "round_decisions" not in tables(empty_url)
        with engine.connect() as conn:
            assert "result_summary" not in {c["name"] for c in inspect(engine).get_columns("rounds")}
            stored = conn.execute(text("SELECT result FROM rounds WHERE id = 1")).scalar_one()
        assert json.loads(zstandard.decompress(stored)) == RESULT_0021
    finally:
        engine.dispose()
