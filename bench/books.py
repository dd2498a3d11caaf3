"""Benchmark: the books of a busy unit and the summary of a province, next to bare SQL of the same rows, same run.

    .venv/bin/python bench/books.py                      # 200,000 movements, a province of 10 × 10 communes
    .venv/bin/python bench/books.py --movements 20000 --strict

A temp dir gets a migrated SQLite database holding a province of --districts × --communes communes
(bench/_books_data.py): its first commune has --movements documents of every kind of movement (cash and bank
gifts, voids, other income, expenses, transfers between its accounts and to its district, and a list of awards paid
each month) over four years of books (2021–2024), so that a year's cash book is about 35,000 lines and its PDF
about 1,800 pages; every other commune has --others. tests/reports/test_reports_agree.py checks the same data, small,
against the reports. Three measures, each printed as
"service  baseline  ratio  floor  ok/FAIL":

(a) the commune's cash book of 2024 as JSON, `GET /api/v1/reports/cash-book` through the Flask test client (token,
    scope, the query, the book's rule, the JSON), next to a bare `SELECT` of the same rows (the same columns and
    joins, fetched whole by sqlite3); floor: within 3×.
(b) the same cash book as PDF, `GET /api/v1/reports/cash-book.pdf`, rendered in chunks of books.CHUNK_LINES lines by
    the process pool, in a process of its own: the peak resident memory of that process and of every render
    process (RUSAGE_CHILDREN: the largest reaped child), next to a fresh Python that rendered one chunk; floor:
    no process above 500 MiB.
(c) `GET /api/v1/reports/summary` of the province for 2024, next to a bare aggregate of the same ledger rows (the
    opening and the year's sums grouped by unit, fund and kind of line, the movements joined); floor: within 3×.

Timings are the median of --repeat runs, the service and its baseline taking turns. Exit status 0 unless --strict
and a floor is missed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from _memory import peak_mib, reset_peak  # noqa: E402  (bench/ is on sys.path when run as a script)

JSON_FLOOR = 3.0
SUMMARY_FLOOR = 3.0
MIB_FLOOR = 500
YEAR = 2024

# The cash book's rows as its query reads them (fundsvc.reports.books._account_entries), bare.
CASH_BOOK_SQL = """
SELECT e.entry_date, e.kind, e.amount, e.document_code, e.description, d.method, d.anonymous, d.purpose, o.name
FROM ledger_entries e
LEFT JOIN donations d ON d.id = e.donation_id
LEFT JOIN donors o ON o.id = d.donor_id
WHERE e.account_id = ? AND e.entry_date BETWEEN ? AND ?
ORDER BY e.entry_date, e.id
"""
OPENING_SQL = "SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE account_id = ? AND entry_date < ?"
# The summary's money, bare: the opening per unit and fund, the year's lines per unit, fund and kind of line.
SUMMARY_SQL = [
    """SELECT unit_id, fund_id, sum(amount) FROM ledger_entries WHERE entry_date < ? GROUP BY unit_id, fund_id""",
    """SELECT e.unit_id, e.fund_id, e.kind, e.method, m.kind, m.direction, sum(e.amount)
       FROM ledger_entries e LEFT JOIN movements m ON m.id = e.movement_id
       WHERE e.entry_date BETWEEN ? AND ? GROUP BY e.unit_id, e.fund_id, e.kind, e.method, m.kind, m.direction""",
]


def prepare(path: str, args) -> dict:
    """The database (bench/_books_data.py) and an admin token; returns what the measures need."""
    from _books_data import generate, verify
    from flask_migrate import upgrade

    from fundsvc import create_app
    from fundsvc.auth.service import create_user
    from fundsvc.extensions import db

    logging.disable(logging.INFO)  # alembic's progress lines
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        info = generate(
            db.session, movements=args.movements, districts=args.districts, communes=args.communes, others=args.others
        )
        verify(db.session, info)
        _user, token = create_user(db.session, "bench-admin", "admin", full_name="Lê Thị Bench")
        counts = {
            table: db.session.execute(db.text(f"SELECT count(*) FROM {table}")).scalar()
            for table in ("movements", "donations", "ledger_entries", "units")
        }
        db.session.remove()
        db.engine.dispose()
    print(
        f"data: {counts['movements']:,} movement rows, {counts['donations']:,} gifts, "
        f"{counts['ledger_entries']:,} ledger entries, {counts['units']} units "
        f"(made in {time.perf_counter() - started:.0f} s)"
    )
    return {**info, "token": token, "db": path}


def median_time(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def taking_turns(service, baseline, repeat: int) -> tuple[float, float, object, object]:
    """Medians of `repeat` runs of each, alternating, after one warm-up run of each."""
    service(), baseline()
    s_times, b_times, s_result, b_result = [], [], None, None
    for _ in range(repeat):
        t, s_result = median_time(service, 1)
        s_times.append(t)
        t, b_result = median_time(baseline, 1)
        b_times.append(t)
    return statistics.median(s_times), statistics.median(b_times), s_result, b_result


def row(label: str, service: float, baseline: float, floor: float, unit: str = "s", ratio: bool = True) -> bool:
    value = service / baseline if ratio else service
    ok = value <= floor
    shown = f"{value:6.2f}×" if ratio else f"{value:6.0f} "
    print(f"{label:44} {service:10.3f}{unit:>4} {baseline:10.3f}{unit:>4} {shown} {floor:>6} {'ok' if ok else 'FAIL'}")
    return ok


def measure_json(info: dict, repeat: int) -> bool:
    from fundsvc import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{info['db']}"})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {info['token']}"}
    url = f"/api/v1/reports/cash-book?unit={info['unit']}&from={YEAR}-01-01&to={YEAR}-12-31"
    bare = sqlite3.connect(info["db"])
    period = (info["cash_account"], f"{YEAR}-01-01", f"{YEAR}-12-31")

    def service():
        response = client.get(url, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"GET {url}: {response.status_code} {response.get_data(as_text=True)[:300]}")
        return response.get_json()

    def baseline():
        opening = bare.execute(OPENING_SQL, (info["cash_account"], f"{YEAR}-01-01")).fetchone()[0]
        return opening, bare.execute(CASH_BOOK_SQL, period).fetchall()

    with app.app_context():
        s, b, book, (opening, rows) = taking_turns(service, baseline, repeat)
    if book["opening_balance"] != opening or book["closing_balance"] != opening + sum(r[2] for r in rows):
        raise SystemExit("the cash book's figures differ from the bare select's")
    voided = sum(1 for r in rows if r[1] == "reversal")
    print(f"cash book {YEAR}: {len(book['lines']):,} lines ({len(rows):,} entries, {voided:,} reversals)")
    return row("(a) cash book JSON vs bare SELECT", s, b, JSON_FLOOR)


def measure_summary(info: dict, repeat: int) -> bool:
    from fundsvc import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{info['db']}"})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {info['token']}"}
    url = f"/api/v1/reports/summary?unit={info['province']}&from={YEAR}-01-01&to={YEAR}-12-31"
    bare = sqlite3.connect(info["db"])

    def service():
        response = client.get(url, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"GET {url}: {response.status_code} {response.get_data(as_text=True)[:300]}")
        return response.get_json()

    def baseline():
        opening = bare.execute(SUMMARY_SQL[0], (f"{YEAR}-01-01",)).fetchall()
        return opening, bare.execute(SUMMARY_SQL[1], (f"{YEAR}-01-01", f"{YEAR}-12-31")).fetchall()

    with app.app_context():
        s, b, report, (opening, lines) = taking_turns(service, baseline, repeat)
    closing = sum(r[2] for r in opening) + sum(r[6] for r in lines)
    if report["totals"]["closing_balance"] != closing:
        raise SystemExit(f"the summary closes at {report['totals']['closing_balance']}, the bare sums at {closing}")
    print(f"summary {YEAR}: {len(report['units'])} units, {len(report['funds'])} funds")
    return row("(c) province summary vs bare aggregate", s, b, SUMMARY_FLOOR)


def measure_pdf(info: dict) -> bool:
    """The PDF in a process of its own (and, as the baseline, one chunk rendered by a fresh process)."""
    case = subprocess.run(
        [sys.executable, __file__, "--case", "pdf", json.dumps(info)], capture_output=True, text=True, check=False
    )
    chunk = subprocess.run(
        [sys.executable, __file__, "--case", "chunk", json.dumps(info)], capture_output=True, text=True, check=False
    )
    for done in (case, chunk):
        if done.returncode != 0:
            raise SystemExit(f"bench case failed:\n{done.stderr[-3000:]}")
    service, alone = json.loads(case.stdout.splitlines()[-1]), json.loads(chunk.stdout.splitlines()[-1])
    print(
        f"cash book {YEAR} PDF: {service['pages']:,} pages, {service['bytes'] / 1e6:.1f} MB in "
        f"{service['seconds']:.0f} s ({service['cpu']:.0f} s CPU); main process {service['self_mib']:.0f} MiB, "
        f"largest render process {service['children_mib']:.0f} MiB"
    )
    peak = max(service["self_mib"], service["children_mib"])
    return row("(b) cash book PDF, peak MiB of any process", peak, alone["mib"], MIB_FLOOR, "MiB", ratio=False)


def case_pdf(info: dict) -> dict:
    from pypdf import PdfReader

    from fundsvc import create_app

    # As a job's worker renders it: at once, not queued (no job threshold), with no request time limit.
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{info['db']}", "JOB_THRESHOLD": 10**9, "REQUEST_TIMEOUT": 0}
    )
    client = app.test_client()
    headers = {"Authorization": f"Bearer {info['token']}"}
    url = f"/api/v1/reports/cash-book.pdf?unit={info['unit']}&from={YEAR}-01-01&to={YEAR}-12-31"
    reset_peak()
    cpu = _cpu()
    start = time.perf_counter()
    with app.app_context():
        response = client.get(url, headers=headers)
    seconds = time.perf_counter() - start
    body = response.get_data()
    if response.status_code != 200 or not body.startswith(b"%PDF"):
        raise SystemExit(f"GET {url}: {response.status_code} {body[:300]!r}")
    import io

    pages = len(PdfReader(io.BytesIO(body)).pages)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "seconds": seconds,
        "cpu": _cpu() - cpu,
        "pages": pages,
        "bytes": len(body),
        "self_mib": peak_mib(),
        "children_mib": children,
    }


def case_chunk(info: dict) -> dict:
    """One chunk of the book rendered alone by a fresh process: the least a chunked render can take."""
    from datetime import date

    from fundsvc import create_app
    from fundsvc.auth.service import SYSTEM
    from fundsvc.documents.render import render_pdf_with_pages
    from fundsvc.extensions import db
    from fundsvc.reports.books import CHUNK_LINES, cash_book

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{info['db']}"})
    with app.app_context():
        book = cash_book(db.session, SYSTEM, info["unit"], date(YEAR, 1, 1), date(YEAR, 1, 31))
    context = {
        **book,
        "identity": {"printed_name": "", "parent_printed_name": "", "signatories": {}},
        "period_text": "",
        "today": date(YEAR, 12, 31),
        "preparer": "",
        "rows": book.pop("lines")[:CHUNK_LINES],
        "chunked": True,
        "chunk": {"index": 1, "first": False, "last": False, "row_offset": CHUNK_LINES},
    }
    render_pdf_with_pages("documents/account_book.html", context)
    return {"mib": peak_mib()}


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--movements", type=int, default=200_000, help="documents of the busy commune")
    parser.add_argument("--districts", type=int, default=10)
    parser.add_argument("--communes", type=int, default=10, help="communes per district")
    parser.add_argument("--others", type=int, default=300, help="movements of every other commune")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each measure (median)")
    parser.add_argument("--skip-pdf", action="store_true", help="only (a) and (c): the PDF takes minutes")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a floor is missed")
    parser.add_argument("--case", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        name, info = args.case
        result = (case_pdf if name == "pdf" else case_chunk)(json.loads(info))
        print(json.dumps(result))
        return 0

    tmp = tempfile.mkdtemp(prefix="fundsvc-bench-books-")
    try:
        info = prepare(os.path.join(tmp, "books.sqlite3"), args)
        print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; medians of {args.repeat} runs")
        print(f"{'':44} {'service':>14} {'baseline':>14} {'ratio':>7} {'floor':>6}")
        results = [measure_json(info, args.repeat)]
        if not args.skip_pdf:
            results.append(measure_pdf(info))
        results.append(measure_summary(info, args.repeat))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if args.strict and not all(results) else 0


if __name__ == "__main__":
    sys.exit(main())
