"""Bench of a province's year at full size: the lists and the summary at 300,000 gifts, and gift intake there.

    .venv/bin/python bench/province.py                  # the data set built once, cached under /tmp
    .venv/bin/python bench/province.py --gifts 30000 --nominations 10000 --repeat 5

The data set is `flask demo load --scale province` (fundsvc.demo.province) into a migrated SQLite database, built
once and kept in /tmp/fundsvc-bench/ by its size and a digest of the migrations' texts; after a new migration it is
copied from the data set built on the ones before (unchanged) and upgraded, a migration edited in place builds it
anew.
Then, in the same run, best of --repeat each (service and baseline taking turns), every figure next to its
baseline:

* each API list (the first page and the last, deep one) through the Flask test client with an admin token: the
  fund ledger of the busiest commune (keyset pages of 1,000), the round's awards, the gifts (pages of 1,000),
  next to the bare SQL of the same answer (plain sqlite3, tuples): the same rows and columns of the same page,
  found through the list's index and then joined, and the figures the answer carries beside them (the ledger's
  period figures, a list's total count): floor 3×;
* GET /api/v1/funds next to a bare GROUP BY of the ledger by fund: floor 3×;
* the province summary for the year next to a bare GROUP BY over the ledger (unit, fund, kind): floor 3×;
* a month's cash book PDF of the busiest commune (its last whole month, about 3,700 lines) in pages per second next
  to the chunked rate of that commune's award list PDF (about 8,500 pupils): at least 0.7 of it;
* the year's fund book of the busiest commune as XLSX (about 70,000 lines) next to a bare write-only openpyxl
  workbook of the same rows (values only): floor 2×;
* the peak memory of any process (this one, each document's, their render processes): floor 500 MiB;
* gifts recorded through record_donation at that size (a copy of the data set) next to a fresh database's.

A missed floor is printed as MISSED; with --strict the exit status is then 1 (not by default, so `make bench` runs
every bench).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _memory import peak_mib, reset_peak  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import select  # noqa: E402

from fundsvc import create_app  # noqa: E402
from fundsvc.auth.models import User  # noqa: E402
from fundsvc.auth.service import SYSTEM, create_user, issue_token  # noqa: E402
from fundsvc.db import write_transaction  # noqa: E402
from fundsvc.demo.load import load_demo  # noqa: E402
from fundsvc.demo.province import PROVINCE_GIFTS, PROVINCE_NOMINATIONS, load_province  # noqa: E402
from fundsvc.documents.words import today_in_vietnam  # noqa: E402
from fundsvc.donations.service import record_donation  # noqa: E402
from fundsvc.extensions import db  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "fundsvc-bench"
LIST_FLOOR = 3.0
SUMMARY_FLOOR = 3.0
MEMORY_FLOOR_MIB = 500
INTAKE_GIFTS = 200
BUSIEST_UNIT = "ST-TP-P2"
BUSIEST_FUND = BUSIEST = "KH-ST-TP-P2"
PDF_RATE_FLOOR = 0.7  # of the award list's pages per second
XLSX_FLOOR = 2.0
PAGE = 1000


def _app(path: Path):
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "TESTING": True, "SECRET_KEY": "bench"})


def _migrations() -> dict[str, str]:
    """Each migration file's name and the digest of its text (a migration edited in place changes the schema too)."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:16]
        for p in sorted((ROOT / "migrations" / "versions").glob("*.py"))
    }


def _digest(migrations: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(migrations, sort_keys=True).encode()).hexdigest()[:12]


def data_set(gifts: int, nominations: int) -> Path:
    """The cached province database: built when missing, or copied from one built on fewer migrations (those it
    was built on unchanged) and upgraded to the head, as a deployed database would be."""
    migrations = _migrations()
    stem = f"province-{gifts}-{nominations}"
    path = CACHE / f"{stem}-{_digest(migrations)}.sqlite3"
    if path.exists():
        return path
    CACHE.mkdir(exist_ok=True)
    building = path.with_suffix(".building")
    building.unlink(missing_ok=True)
    older = _older_data_set(stem, migrations)
    app = _app(building)
    started = time.perf_counter()
    with app.app_context():
        if older is not None:
            shutil.copyfile(older, building)
            upgrade()
            print(f"data set {older.name} upgraded to the migrations' head")
        else:
            upgrade()
            print(load_province(db.session, gifts=gifts, nominations=nominations).describe())
        db.session.remove()
        db.engine.dispose()
    print(f"data set ready in {time.perf_counter() - started:.0f} s: {path}")
    path.with_suffix(".json").write_text(json.dumps(migrations))
    building.rename(path)
    return path


def _older_data_set(stem: str, migrations: dict[str, str]) -> Path | None:
    """A cached data set of the same size built on a part of today's migrations, unchanged since (the newest)."""
    for described in sorted(CACHE.glob(f"{stem}-*.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        built_on = json.loads(described.read_text())
        database = described.with_suffix(".sqlite3")
        if database.exists() and all(migrations.get(name) == digest for name, digest in built_on.items()):
            return database
    return None


def best_of_turns(repeat: int, service, baseline) -> tuple[float, float]:
    """The best time of `repeat` runs of each, taking turns: a burst of load on a shared machine then falls on
    both, not on one."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for run, kept in zip((service, baseline), times, strict=True):
            started = time.perf_counter()
            run()
            kept.append(time.perf_counter() - started)
    return min(times[0]), min(times[1])


def _token() -> str:
    with write_transaction(db.session):
        user = db.session.scalar(select(User).where(User.username == "admin"))
        return issue_token(db.session, user)


def _line(name: str, service: float, baseline: float, floor: float) -> bool:
    ratio = service / baseline if baseline else float("inf")
    ok = ratio <= floor
    print(
        f"{name:34s} {service * 1000:9.1f} ms  bare {baseline * 1000:8.1f} ms  ×{ratio:6.2f} (floor {floor}×) "
        f"{'ok' if ok else 'MISSED'}"
    )
    return ok


# The bare SQL of each answer: what a hand-written query reads for it, the same rows, the same columns and the same
# page (found through the list's index first, then joined), and the figures the answer carries beside its rows
# (the ledger's period figures, a list's total), fetched whole as tuples by plain sqlite3. (CROSS JOIN: SQLite then
# joins in the order written, from the page, where its planner would start from a small joined table.)
LEDGER_ROWS_SQL = (
    "SELECT id, entry_date, kind, amount, method, document_code, description, donation_id, award_id "
    "FROM ledger_entries WHERE fund_id = ? AND (entry_date > ? OR (entry_date = ? AND id > ?)) "
    "ORDER BY entry_date, id LIMIT ?"
)
LEDGER_FIGURES_SQL = (
    "SELECT count(*), sum(amount), sum(CASE WHEN amount > 0 THEN amount ELSE 0 END), "
    "sum(CASE WHEN amount < 0 THEN amount ELSE 0 END), "
    "sum(CASE WHEN entry_date < ? OR (entry_date = ? AND id <= ?) THEN amount ELSE 0 END) "
    "FROM ledger_entries WHERE fund_id = ?"
)
AWARD_ROWS_SQL = (
    "WITH page AS (SELECT id, rank FROM awards WHERE round_id = ? ORDER BY rank, id LIMIT ? OFFSET ?) "
    "SELECT a.id, a.round_id, a.nomination_id, n.student_code, n.full_name, n.school, n.grade, u.code, n.level, "
    "a.amount, a.rank, a.score, a.tier, a.status, a.promoted, a.paid_on, a.received_by, a.voucher_code, "
    "a.bank_reference, a.cancel_reason "
    "FROM page CROSS JOIN awards a ON a.id = page.id JOIN nominations n ON n.id = a.nomination_id "
    "JOIN units u ON u.id = n.unit_id ORDER BY page.rank, page.id"
)
GIFT_ROWS_SQL = (
    "WITH page AS (SELECT id, received_on FROM donations ORDER BY received_on DESC, id DESC LIMIT ? OFFSET ?) "
    "SELECT d.id, d.amount, d.status, d.method, d.in_kind_description, d.quantity, d.unit_of_measure, "
    "d.account_id, d.bank_reference, d.received_on, d.purpose, d.anonymous, d.void_reason, d.voided_at, "
    "d.created_at, f.code, u.code, o.id, o.name, o.kind, o.phone, o.email, o.address, o.tax_code, ou.code, "
    "o.merged_into_id, r.id, r.year, r.number, r.code, r.kind "
    "FROM page CROSS JOIN donations d ON d.id = page.id JOIN funds f ON f.id = d.fund_id "
    "JOIN units u ON u.id = d.unit_id JOIN donors o ON o.id = d.donor_id JOIN units ou ON ou.id = o.unit_id "
    "LEFT JOIN receipts r ON r.donation_id = d.id ORDER BY page.received_on DESC, page.id DESC"
)
FUNDS_SQL = "SELECT fund_id, sum(amount) FROM ledger_entries GROUP BY fund_id"


def _bare(bare: sqlite3.Connection, *queries: tuple[str, tuple]):
    """A run of the bare statements `queries` ((sql, parameters) each), every row fetched."""

    def run():
        return [bare.execute(sql, params).fetchall() for sql, params in queries]

    return run


def _bare_ledger(bare: sqlite3.Connection, fund_id: int, after: tuple[str, int]):
    day, entry_id = after
    return _bare(
        bare,
        (LEDGER_ROWS_SQL, (fund_id, day, day, entry_id, PAGE)),
        (LEDGER_FIGURES_SQL, (day, day, entry_id, fund_id)),
    )


def _bare_awards(bare: sqlite3.Connection, round_id: int, offset: int):
    count = "SELECT count(*) FROM awards WHERE round_id = ?"
    return _bare(bare, (AWARD_ROWS_SQL, (round_id, PAGE, offset)), (count, (round_id,)))


def _bare_gifts(bare: sqlite3.Connection, offset: int):
    return _bare(bare, (GIFT_ROWS_SQL, (PAGE, offset)), ("SELECT count(*) FROM donations", ()))


def lists(path: Path, repeat: int) -> list[bool]:
    """The API lists and the summary next to their bare SQL."""
    bare = sqlite3.connect(path)
    app = _app(path)
    results = []
    with app.app_context():
        client, headers = app.test_client(), {"Authorization": f"Bearer {_token()}"}

        def get(url: str):
            response = client.get(url, headers=headers)
            assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:300])
            return response

        fund_id, entries = bare.execute(
            "SELECT f.id, count(*) FROM funds f JOIN ledger_entries e ON e.fund_id = f.id WHERE f.code = ?", (BUSIEST,)
        ).fetchone()
        last_date, last_id = bare.execute(
            "SELECT entry_date, id FROM ledger_entries WHERE fund_id = ? ORDER BY entry_date, id LIMIT 1 OFFSET ?",
            (fund_id, max(entries - PAGE - 1, 0)),
        ).fetchone()
        round_id, awards = bare.execute("SELECT round_id, count(*) FROM awards GROUP BY round_id").fetchone()
        (gifts,) = bare.execute("SELECT count(*) FROM donations").fetchone()
        last_awards, last_gifts = -(-awards // PAGE), -(-gifts // PAGE)
        first = ("0000-00-00", 0)
        cases = [
            (f"ledger {BUSIEST} first page", f"/api/v1/funds/{BUSIEST}/ledger", _bare_ledger(bare, fund_id, first)),
            (
                f"ledger {BUSIEST} last page",
                f"/api/v1/funds/{BUSIEST}/ledger?after={last_date}.{last_id}",
                _bare_ledger(bare, fund_id, (last_date, last_id)),
            ),
            ("awards first page", f"/api/v1/rounds/{round_id}/awards", _bare_awards(bare, round_id, 0)),
            (
                "awards last page",
                f"/api/v1/rounds/{round_id}/awards?page={last_awards}",
                _bare_awards(bare, round_id, (last_awards - 1) * PAGE),
            ),
            ("gifts first page", f"/api/v1/donations?page_size={PAGE}", _bare_gifts(bare, 0)),
            (
                "gifts last page",
                f"/api/v1/donations?page_size={PAGE}&page={last_gifts}",
                _bare_gifts(bare, (last_gifts - 1) * PAGE),
            ),
            ("GET /funds", "/api/v1/funds", _bare(bare, (FUNDS_SQL, ()))),
        ]
        print(f"at size: {gifts:,} gifts, {entries:,} entries in {BUSIEST}'s ledger, {awards:,} awards")
        for name, url, baseline_run in cases:
            service, baseline = best_of_turns(repeat, lambda url=url: get(url), baseline_run)
            results.append(_line(name, service, baseline, LIST_FLOOR))
        today = today_in_vietnam()
        year_ago = today - timedelta(days=365)
        summary_url = f"/api/v1/reports/summary?unit=ST&from={year_ago}&to={today}"
        group_by = "SELECT unit_id, fund_id, kind, sum(amount) FROM ledger_entries GROUP BY unit_id, fund_id, kind"
        service, baseline = best_of_turns(repeat, lambda: get(summary_url), lambda: bare.execute(group_by).fetchall())
        results.append(_line("summary of the province's year", service, baseline, SUMMARY_FLOOR))
        db.session.remove()
        db.engine.dispose()
    bare.close()
    return results


def intake_rate(path: Path, count: int) -> float:
    """Gifts per second recorded one by one through record_donation (as SYSTEM) into the database at `path`."""
    app = _app(path)
    with app.app_context():
        today = today_in_vietnam()
        started = time.perf_counter()
        for i in range(count):
            data = {
                "donor": {"name": f"Nhà hảo tâm {i}", "kind": "person", "phone": f"091{i:07d}"},
                "unit": "ST-TP-P2",
                "amount": 200_000,
                "method": "cash",
                "received_on": today,
            }
            record_donation(db.session, SYSTEM, data)
        rate = count / (time.perf_counter() - started)
        db.session.remove()
        db.engine.dispose()
    return rate


def fresh_database(directory: Path) -> Path:
    path = directory / "fresh.sqlite3"
    app = _app(path)
    with app.app_context():
        upgrade()
        load_demo(db.session, donations=0)
        create_user(db.session, "bench-admin", "admin", None)
        db.session.remove()
        db.engine.dispose()
    return path


# --------------------------------------------------------------------------- documents, each in a process of its own


def _document_app(path: Path, scratch: str):
    """The app as a worker renders a big document: at once, not as a job (no threshold), with an empty cache."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "TESTING": True,
            "SECRET_KEY": "bench",
            "JOB_THRESHOLD": 10**9,
            "DOCUMENTS_CACHE_DIR": scratch,
        }
    )


def case_get(info: dict) -> dict:
    """GET info["url"] through the test client: seconds, the PDF's pages, the peak memory of this process and of
    its render processes (RUSAGE_CHILDREN: the largest reaped)."""
    from pypdf import PdfReader

    with tempfile.TemporaryDirectory() as scratch:
        app = _document_app(Path(info["db"]), scratch)
        with app.app_context():
            client, headers = app.test_client(), {"Authorization": f"Bearer {_token()}"}
            reset_peak()
            started = time.perf_counter()
            response = client.get(info["url"], headers=headers)
            seconds = time.perf_counter() - started
            body = response.get_data()
            db.session.remove()
            db.engine.dispose()
    if response.status_code != 200:
        raise SystemExit(f"GET {info['url']}: {response.status_code} {body[:300]!r}")
    pages = len(PdfReader(io.BytesIO(body)).pages) if body.startswith(b"%PDF") else 0
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "pages": pages, "bytes": len(body), "self_mib": peak_mib(), "children_mib": children}


# The fund book's lines as its query reads them (ledger_page's columns, a gift's donor named), bare.
FUND_BOOK_SQL = (
    "SELECT e.entry_date, e.document_code, e.description, e.amount, d.method, d.purpose, o.name "
    "FROM ledger_entries e LEFT JOIN donations d ON d.id = e.donation_id "
    "LEFT JOIN donors o ON o.id = d.donor_id "
    "WHERE e.fund_id = (SELECT id FROM funds WHERE code = ?) AND e.entry_date BETWEEN ? AND ? "
    "ORDER BY e.entry_date, e.id"
)


def case_bare_xlsx(info: dict) -> dict:
    """The fund book's rows read by plain sqlite3 and written by a bare write-only openpyxl workbook: the values
    only (number, date, document, description, in, out, balance), no style, no heading, no signature."""
    from openpyxl import Workbook

    reset_peak()
    started = time.perf_counter()
    bare = sqlite3.connect(info["db"])
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    balance = 0
    rows = bare.execute(FUND_BOOK_SQL, (BUSIEST_FUND, info["from"], info["to"]))
    for number, (day, code, description, amount, method, purpose, donor) in enumerate(rows, 1):
        balance += amount
        text = f"Thu {method} của {donor} — {purpose}" if donor else description
        sheet.append([number, day, code, text, max(amount, 0) or None, max(-amount, 0) or None, balance])
    out = io.BytesIO()
    workbook.save(out)
    bare.close()
    return {"seconds": time.perf_counter() - started, "bytes": len(out.getvalue()), "self_mib": peak_mib()}


CASES = {"get": case_get, "bare-xlsx": case_bare_xlsx}


def _run_case(name: str, info: dict) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--case", name, json.dumps(info)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"bench case {name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def documents(path: Path) -> tuple[list[bool], float]:
    """The cash book PDF of the busiest commune's last whole month against the chunked rate of the commune's award
    list; the fund book of the year as XLSX against a bare write-only openpyxl of its rows. (results, the largest
    process's peak MiB)."""
    today = today_in_vietnam()
    month_end = today.replace(day=1) - timedelta(days=1)
    month = (month_end.replace(day=1), month_end)
    year = (today - timedelta(days=365), today)
    bare = sqlite3.connect(path)
    (round_id,) = bare.execute("SELECT id FROM rounds WHERE status = 'approved'").fetchone()
    bare.close()
    cash = _run_case(
        "get",
        {"db": str(path), "url": f"/api/v1/reports/cash-book.pdf?unit={BUSIEST_UNIT}&from={month[0]}&to={month[1]}"},
    )
    awards = _run_case("get", {"db": str(path), "url": f"/api/v1/rounds/{round_id}/award-list.pdf?unit={BUSIEST_UNIT}"})
    book_url = f"/api/v1/reports/fund-book.xlsx?fund={BUSIEST_FUND}&from={year[0]}&to={year[1]}"
    xlsx = _run_case("get", {"db": str(path), "url": book_url})
    bare_xlsx = _run_case("bare-xlsx", {"db": str(path), "from": str(year[0]), "to": str(year[1])})
    cash_rate, award_rate = cash["pages"] / cash["seconds"], awards["pages"] / awards["seconds"]
    share = cash_rate / award_rate
    rate_ok = share >= PDF_RATE_FLOOR
    print(
        f"cash book {month[0]:%m/%Y} PDF {cash['pages']:5d} pages {cash['seconds']:6.1f} s {cash_rate:5.1f} pages/s; "
        f"award list {awards['pages']:5d} pages {awards['seconds']:6.1f} s {award_rate:5.1f} pages/s: "
        f"×{share:.2f} of it (floor {PDF_RATE_FLOOR}) {'ok' if rate_ok else 'MISSED'}"
    )
    xlsx_ok = _line("fund book of the year, XLSX", xlsx["seconds"], bare_xlsx["seconds"], XLSX_FLOOR)
    peak = max(
        run[key] for run in (cash, awards, xlsx, bare_xlsx) for key in ("self_mib", "children_mib") if key in run
    )
    print(f"largest document process {peak:.0f} MiB (cash book, award list, fund book XLSX and their render processes)")
    return [rate_ok, xlsx_ok], peak


def main() -> int:
    logging.disable(logging.INFO)  # alembic's progress, one line per request
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gifts", type=int, default=PROVINCE_GIFTS)
    parser.add_argument("--nominations", type=int, default=PROVINCE_NOMINATIONS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a floor is missed")
    parser.add_argument("--skip-documents", action="store_true", help="not the PDFs and the XLSX (minutes)")
    parser.add_argument("--case", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        name, info = args.case
        print(json.dumps(CASES[name](json.loads(info))))
        return 0
    path = data_set(args.gifts, args.nominations)
    results = lists(path, args.repeat)
    document_peak = 0.0
    if not args.skip_documents:
        found, document_peak = documents(path)
        results += found
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "province.sqlite3"
        shutil.copyfile(path, copy)
        at_size = intake_rate(copy, INTAKE_GIFTS)
        fresh = intake_rate(fresh_database(Path(scratch)), INTAKE_GIFTS)
    print(f"gift intake at size {at_size:7.1f} gifts/s, fresh database {fresh:7.1f} gifts/s (×{fresh / at_size:.2f})")
    peak = max(peak_mib(), document_peak)
    memory_ok = peak <= MEMORY_FLOOR_MIB
    print(f"peak memory of any process {peak:.0f} MiB (floor {MEMORY_FLOOR_MIB} MiB) {'ok' if memory_ok else 'MISSED'}")
    missed = not all(results) or not memory_ok
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
