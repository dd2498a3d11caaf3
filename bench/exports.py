"""Benchmark: a 300,000-gift donations list taken away (.xlsx and .csv), next to a bare export of the same rows.

    .venv/bin/python bench/exports.py                   # 300,000 gifts
    .venv/bin/python bench/exports.py --rows 30000 --strict

A temp dir gets a migrated SQLite database with the demo unit tree and --rows gifts of one commune (ST-TP-P2) from
20,000 donors, each with its receipt, written as rows. Measured, each printed as
"service  baseline  ratio  floor  ok/FAIL":

(a) the donations list as .xlsx through fundsvc.documents.lists.write (what GET /donations/export.xlsx and its job
    run: the list's query, the reader's view of each gift, the award list's layout, styled money and date cells),
    next to a bare `SELECT` of the same columns written by openpyxl's write-only mode with no styles; floor: 3×.
(b) the same as .csv, next to the bare `SELECT` through csv.writer; floor: 3×.
(c) the peak resident memory the .xlsx export added to the process, next to what the bare .xlsx added: the list
    is read a batch at a time and written as it comes; floor: below 200 MiB at any size.

Timings are the median of --repeat runs, the service and its baseline taking turns. Exit status 0 unless --strict
and a floor is missed.
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from _memory import peak_mib, reset_peak  # noqa: E402  (bench/ is on sys.path when run as a script)

TIME_FLOOR = 3.0
MIB_FLOOR = 200
UNIT = "ST-TP-P2"
DONORS = 20_000

# The export's columns, bare: the same joins as donations_query and its eager loads, in its order.
BARE_SQL = """
SELECT d.received_on, r.code, o.name, o.phone, o.tax_code, d.amount, d.method, f.code, f.name, u.name,
       d.purpose, d.status
FROM donations d
JOIN units u ON u.id = d.unit_id
JOIN funds f ON f.id = d.fund_id
JOIN donors o ON o.id = d.donor_id
JOIN receipts r ON r.donation_id = d.id
ORDER BY d.received_on DESC, d.id DESC
"""


def prepare(path: str, rows: int) -> None:
    """The database: migrated, the demo tree, `rows` gifts to UNIT with their receipts (rows, as the service
    writes them: one receipt per gift, numbered in its year's series)."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from fundsvc import create_app
    from fundsvc.demo.load import load_demo
    from fundsvc.donations.identity import fold
    from fundsvc.donations.models import Donation, Donor, Receipt, ReceiptBook
    from fundsvc.extensions import db
    from fundsvc.ledger.models import Fund
    from fundsvc.units.models import Unit

    logging.disable(logging.INFO)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        upgrade()
        load_demo(db.session, donations=0, users=False)
        unit = db.session.scalar(select(Unit).where(Unit.code == UNIT))
        fund = db.session.scalar(select(Fund).where(Fund.unit_id == unit.id))
        names = ["Nguyễn Văn", "Trần Thị", "Lê Minh", "Phạm Ngọc", "Huỳnh Văn", "Võ Thị", "Đặng Quốc", "Bùi Thị"]
        db.session.execute(
            insert(Donor),
            [
                {
                    "id": i,
                    "name": f"{names[i % len(names)]} {i}",
                    "name_folded": fold(f"{names[i % len(names)]} {i}"),
                    "kind": "person",
                    "phone": f"09{i:08d}",
                    "unit_id": unit.id,
                }
                for i in range(1, DONORS + 1)
            ],
        )
        start = date(2021, 1, 1)
        books, gifts, receipts = {}, [], []
        for i in range(1, rows + 1):
            day = start + timedelta(days=i * 1400 // rows)
            if day.year not in books:
                book = ReceiptBook(unit_id=unit.id, kind="receipt", year=day.year, last_number=0)
                db.session.add(book)
                db.session.flush()
                books[day.year] = book
            book = books[day.year]
            book.last_number += 1
            gifts.append(
                {
                    "id": i,
                    "donor_id": 1 + i % DONORS,
                    "fund_id": fund.id,
                    "unit_id": unit.id,
                    "amount": 100_000 + (i % 50) * 10_000,
                    "method": "cash",
                    "received_on": day,
                    "purpose": f"Ủng hộ Quỹ Khuyến học năm {day.year}",
                    "status": "void" if i % 97 == 0 else "recorded",
                }
            )
            receipts.append(
                {
                    "donation_id": i,
                    "book_id": book.id,
                    "unit_id": unit.id,
                    "year": day.year,
                    "number": book.last_number,
                    "code": f"{UNIT}/{day.year}/{book.last_number:05d}",
                    "kind": "receipt",
                }
            )
        db.session.execute(insert(Donation), gifts)
        db.session.execute(insert(Receipt), receipts)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def taking_turns(service, baseline, repeat: int) -> tuple[float, float]:
    """Medians of `repeat` runs of each, alternating."""
    s_times, b_times = [], []
    for _ in range(repeat):
        for fn, times in ((service, s_times), (baseline, b_times)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return statistics.median(s_times), statistics.median(b_times)


def row(label: str, service: float, baseline: float, floor: float, unit: str = "s", ratio: bool = True) -> bool:
    value = service / baseline if ratio else service
    ok = value <= floor
    shown = f"{value:6.2f}×" if ratio else f"{value:6.0f} "
    print(f"{label:44} {service:10.3f}{unit:>4} {baseline:10.3f}{unit:>4} {shown} {floor:>6} {'ok' if ok else 'FAIL'}")
    return ok


def bare_xlsx(bare: sqlite3.Connection, out) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Danh sách")
    for i, values in enumerate(bare.execute(BARE_SQL), 1):
        ws.append([i, *values])
    wb.save(out)


def bare_csv(bare: sqlite3.Connection, out) -> None:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    for i, values in enumerate(bare.execute(BARE_SQL), 1):
        writer.writerow([i, *values])
    text.flush()
    text.detach()


def measure(path: str, rows: int, repeat: int) -> bool:
    from fundsvc import create_app
    from fundsvc.auth.service import SYSTEM
    from fundsvc.documents import lists
    from fundsvc.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    bare = sqlite3.connect(path)
    folder = tempfile.mkdtemp(prefix="fundsvc-exports-")
    target = os.path.join(folder, "out.xlsx")  # (the .csv runs write the same file)

    def service(ext: str):
        def run():
            with open(target, "wb") as out:
                lists.write(db.session, SYSTEM, "donations", ext, {}, out)
            db.session.rollback()

        return run

    def baseline(write):
        def run():
            with open(target, "wb") as out:
                write(bare, out)

        return run

    ok = True
    with app.app_context():
        # (c) first, on a fresh process peak: the bare export's, then the service's.
        reset_peak()
        before = peak_mib()
        baseline(bare_xlsx)()
        bare_mib = peak_mib() - before
        reset_peak()
        before = peak_mib()
        service("xlsx")()
        size = os.path.getsize(target)
        service_mib = peak_mib() - before
        from openpyxl import load_workbook

        ws = load_workbook(target, read_only=True).active
        written = sum(1 for r in ws.iter_rows(values_only=True) if r and isinstance(r[0], int))
        if written != rows:
            raise SystemExit(f"the export holds {written:,} gifts, not {rows:,}")
        print(f"donations list: {rows:,} gifts, .xlsx {size / 2**20:.1f} MiB")
        s, b = taking_turns(service("xlsx"), baseline(bare_xlsx), repeat)
        ok &= row("(a) .xlsx export vs bare SELECT + openpyxl", s, b, TIME_FLOOR)
        s, b = taking_turns(service("csv"), baseline(bare_csv), repeat)
        ok &= row("(b) .csv export vs bare SELECT + csv", s, b, TIME_FLOOR)
        ok &= row("(c) peak MiB added, .xlsx (bare beside)", service_mib, max(bare_mib, 0.001), MIB_FLOOR, "MiB", False)
    shutil.rmtree(folder, ignore_errors=True)
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a floor is missed")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="fundsvc-bench-exports-")
    try:
        path = os.path.join(folder, "bench.sqlite3")
        started = time.perf_counter()
        prepare(path, args.rows)
        print(f"data: {args.rows:,} gifts of {UNIT}, {DONORS:,} donors (made in {time.perf_counter() - started:.0f} s)")
        print(f"{'measure':44} {'service':>14} {'baseline':>14} {'ratio':>7} {'floor':>6}")
        ok = measure(path, args.rows, args.repeat)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if args.strict and not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
