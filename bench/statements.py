"""Benchmark: a bank statement imported and matched vs a bare parse of the same file, in the same run.

    .venv/bin/python bench/statements.py                  # 50,000 lines, 20,000 open pledges, 100,000 donors
    .venv/bin/python bench/statements.py --lines 5000 --pledges 2000 --donors 10000 --repeat 1
    .venv/bin/python bench/statements.py --repeat 1 --profile tottime --measure import STATEMENT DATABASE  # hot spots

Generates (and caches under /tmp) a Vietcombank-layout .xlsx statement and a migrated SQLite database holding the
demo unit tree, the donors (with phones and tax codes) and the open pledges of one bank account, then measures each
case in its own subprocess so memory peaks do not mix:

* bare   : python_calamine.load_workbook → first sheet → to_python() (the library read, nothing of fundsvc)
* least  : the bare read, then its dated rows stored into statement_lines of a fresh copy of the database by a bare
  sqlite3 executemany (the import's columns, the table's real indexes and constraints), committed: what no import
  can skip, without a check or a match; its ratio is the least any import could reach
* parse  : fundsvc.bank.statements.parse (header layout found, every row read and checked)
* import : the FULL service fundsvc.bank.statement_service.import_statement on a fresh copy of the database: parse,
  duplicate keys, lines stored, every line matched (the Matcher built once), the gifts of named pledge codes recorded
  with their acknowledgements, audit

The memos: a third carry a pledge code as banks rewrite it (spaced, squeezed, lower case, inside a longer memo), a
tenth a code with one typing slip, a fifth a donor's phone, the rest plain text; one line in ten is money out.
Of the pledges carried, one in fifty names its donor (its gift is recorded during the import); the others are
suggestions. Time is the best of --repeat runs; "peak" is the growth of the process's peak RSS over its size just
before the measurement. Floor: import at most 4x the bare parse.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench._memory import peak_mib, reset_peak  # noqa: E402

UNIT = "ST-TP-P2"
HEADERS = ["STT", "Ngày giao dịch", "Số tham chiếu", "Số tiền ghi nợ", "Số tiền ghi có", "Số dư", "Mô tả"]
AMOUNTS = [100_000, 200_000, 300_000, 500_000, 1_000_000, 2_000_000]
FLOOR = 4.0


def _schema() -> str:
    """The migrations' head revision: a database cached under another schema is not this one's."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", os.path.join(ROOT, "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def _paths(args) -> tuple[str, str]:
    tag = f"{args.lines}-{args.pledges}-{args.donors}-schema{_schema()}"
    return f"/tmp/fundsvc-bench-statement-{tag}.xlsx", f"/tmp/fundsvc-bench-statement-{tag}.sqlite3"


def _phone(i: int) -> str:
    return f"09{i:08d}"


def make_database(path: str, pledges: int, donors: int) -> list[str]:
    """A migrated database with the demo tree, `donors` donors and `pledges` open pledges of the unit's bank account;
    returns the pledge codes (named ones first)."""
    import logging

    from flask_migrate import upgrade
    from sqlalchemy import func, insert, select

    from fundsvc import create_app
    from fundsvc.bank.models import Pledge
    from fundsvc.bank.service import pledge_code
    from fundsvc.demo.load import load_demo
    from fundsvc.donations.identity import name_words
    from fundsvc.donations.models import Donor, DonorNameWord
    from fundsvc.extensions import db
    from fundsvc.ledger.models import MoneyAccount
    from fundsvc.ledger.service import default_fund_for
    from fundsvc.students.normalize import fold
    from fundsvc.units.models import Unit

    logging.disable(logging.INFO)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        upgrade()
        load_demo(db.session, donations=0, users=False)
        session = db.session
        unit = session.scalar(select(Unit).where(Unit.code == UNIT))
        account = session.scalar(
            select(MoneyAccount).where(MoneyAccount.unit_id == unit.id, MoneyAccount.kind == "bank")
        )
        fund = default_fund_for(session, unit)
        now = dt.datetime.now(dt.UTC)
        first = (session.scalar(select(func.max(Donor.id))) or 0) + 1
        people = [(first + i, i, f"Nhà hảo tâm {i}") for i in range(1, donors + 1)]
        session.execute(
            insert(Donor),
            [
                {
                    "id": donor_id,
                    "name": name,
                    "name_folded": fold(name),  # what the service stores with a donor (fundsvc.donations.service)
                    "kind": "person" if i % 10 else "organization",
                    "phone": _phone(i) if i % 3 else None,
                    "tax_code": f"03{i:08d}" if i % 10 == 0 else None,
                    "unit_id": unit.id,
                    "created_at": now,
                }
                for donor_id, i, name in people
            ],
        )
        session.execute(
            insert(DonorNameWord),
            [{"donor_id": donor_id, "word": word} for donor_id, _i, name in people for word in name_words(name)],
        )
        codes = [pledge_code(unit.code, i) for i in range(1, pledges + 1)]
        session.execute(
            insert(Pledge),
            [
                {
                    "id": i,
                    "unit_id": unit.id,
                    "fund_id": fund.id,
                    "account_id": account.id,
                    "amount": AMOUNTS[i % len(AMOUNTS)] if i % 4 else None,
                    "donor": {"name": f"Nhà hảo tâm P{i}", "kind": "person"} if i % 50 == 0 else None,
                    "code": codes[i - 1],
                    "status": "open",
                    "created_at": now,
                }
                for i in range(1, pledges + 1)
            ],
        )
        session.commit()
        db.session.remove()
        db.engine.dispose()
    return codes


def _memo(rng: random.Random, codes: list[str], donors: int) -> str:
    kind = rng.random()
    if kind < 0.33:
        code = rng.choice(codes)
        written = rng.choice([code, code.replace(" ", ""), code.lower(), code.replace(" ", "-")])
        return f"MBVCB.{rng.randrange(10**9)}.{written} NGUYEN VAN A chuyen tien"
    if kind < 0.43:
        code = rng.choice(codes).replace(" ", "")
        return f"ung ho {code[:-1]}{(int(code[-1]) + 1) % 10}{code[-1]}"  # one digit too many
    if kind < 0.63:
        return f"CK tu {_phone(rng.randrange(1, donors + 1))} ung ho quy khuyen hoc"
    return rng.choice(["ung ho quy khuyen hoc", "UNG HO HOC BONG", "chuyen tien", "IBFT ung ho"])


def make_statement(path: str, lines: int, codes: list[str], donors: int) -> None:
    """A Vietcombank-layout statement of `lines` lines over the 28 days before today (a balance on every line)."""
    from openpyxl import Workbook

    rng = random.Random(21)
    today = dt.date.today()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Sao ke")
    ws.append(["SAO KÊ TÀI KHOẢN"])
    ws.append(["Số dư đầu kỳ", 10_000_000_000])
    ws.append(HEADERS)
    balance = 10_000_000_000
    for n in range(1, lines + 1):
        day = today - dt.timedelta(days=28 - n * 28 // lines)
        amount = rng.choice(AMOUNTS)
        out = n % 10 == 0
        balance += -amount if out else amount
        memo = "Chi hoc bong" if out else _memo(rng, codes, donors)
        ws.append(
            [n, day.strftime("%d/%m/%Y"), f"FT{n:09d}", amount if out else None, None if out else amount, balance, memo]
        )
    ws.append(["Số dư cuối kỳ", balance])
    tmp = path + ".tmp"
    wb.save(tmp)
    os.replace(tmp, path)


def measure(case: str, statement: str, database: str, repeat: int, profile: str | None = None) -> dict:
    with open(statement, "rb") as f:
        data = f.read()
    prepare = None
    if case == "bare":
        import python_calamine

        def run():
            import io

            book = python_calamine.load_workbook(io.BytesIO(data))
            rows = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
            book.close()
            return len(rows)

    elif case == "least":
        import io
        import sqlite3
        import tempfile

        import python_calamine

        live = os.path.join(tempfile.mkdtemp(prefix="fundsvc-bench-statements-"), "least.sqlite3")

        def prepare():
            shutil.copyfile(database, live)

        def run():
            # The bare read, then each dated row stored as the import stores a line (the same columns, the table's
            # own indexes and constraints), in one transaction: what no import can skip, with no check and no match.
            book = python_calamine.load_workbook(io.BytesIO(data))
            rows = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
            book.close()
            store = sqlite3.connect(live)
            (account,) = store.execute("SELECT id FROM money_accounts WHERE kind = 'bank' ORDER BY id").fetchone()
            lines = []
            for row in rows:
                if len(row) < 7 or not isinstance(row[1], str) or row[1].count("/") != 2:
                    continue
                day, month, year = row[1].split("/")
                out = bool(row[3])
                lines.append(
                    (
                        account,
                        f"ref:{row[2]}",
                        f"{year}-{month}-{day}",
                        int(row[3] or row[4]),
                        "out" if out else "in",
                        row[6],
                        row[2],
                        int(row[5]),
                        "unmatched",
                    )
                )
            store.executemany(
                "INSERT INTO statement_lines (account_id, dedupe_key, line_date, amount, direction, description,"
                " bank_reference, balance, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                lines,
            )
            store.commit()
            store.close()
            return len(lines)

    elif case == "parse":
        from fundsvc.bank.statements import parse

        def run():
            return len(parse(data, "sao-ke.xlsx", dt.date.today()).lines)

    else:
        import logging
        import tempfile

        from sqlalchemy import select

        from fundsvc import create_app
        from fundsvc.auth.models import User
        from fundsvc.auth.service import actor_for, create_user
        from fundsvc.bank.statement_service import import_statement
        from fundsvc.extensions import db
        from fundsvc.ledger.models import MoneyAccount
        from fundsvc.units.models import Unit

        logging.disable(logging.INFO)
        live = os.path.join(tempfile.mkdtemp(prefix="fundsvc-bench-statements-"), "live.sqlite3")
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{live}"})
        state = {}

        def prepare():
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            shutil.copyfile(database, live)
            with app.app_context():
                create_user(db.session, "thuquy.bench", "treasurer", UNIT)
                user = db.session.scalar(select(User).where(User.username == "thuquy.bench"))
                unit = db.session.scalar(select(Unit).where(Unit.code == UNIT))
                state["actor"] = actor_for(user)
                state["account"] = db.session.scalar(
                    select(MoneyAccount.id).where(MoneyAccount.unit_id == unit.id, MoneyAccount.kind == "bank")
                )
                db.session.remove()

        def run():
            with app.app_context():
                result = import_statement(db.session, state["actor"], state["account"], data, "sao-ke.xlsx")
                db.session.remove()
            state["result"] = result
            return result["new"]

    best, count = float("inf"), 0
    rss_growth = 0.0
    for _ in range(repeat):
        if prepare is not None:
            prepare()
        reset_peak()
        before = peak_mib()
        t0 = time.perf_counter()
        if profile:  # where the time goes, on stderr (the figure is then the profiler's, not the bench's)
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            count = profiler.runcall(run)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats(profile).print_stats(40)
        else:
            count = run()
        best = min(best, time.perf_counter() - t0)
        rss_growth = max(rss_growth, peak_mib() - before)
    out = {"case": case, "seconds": best, "peak_mib": rss_growth, "lines": count}
    if case == "import":
        out["result"] = state["result"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=50_000)
    ap.add_argument("--pledges", type=int, default=20_000)
    ap.add_argument("--donors", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--measure", nargs=3, metavar=("CASE", "STATEMENT", "DATABASE"), help=argparse.SUPPRESS)
    ap.add_argument(
        "--profile",
        nargs="?",
        const="cumulative",
        choices=("cumulative", "tottime"),
        help="with --measure: print a cProfile of the case on stderr, sorted so (default cumulative)",
    )
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure, args.repeat, args.profile)))
        return
    statement, database = _paths(args)
    t0 = time.perf_counter()
    if not (os.path.exists(statement) and os.path.exists(database)):
        for stale in (statement, database):
            if os.path.exists(stale):
                os.remove(stale)
        codes = make_database(database, args.pledges, args.donors)
        make_statement(statement, args.lines, codes, args.donors)
    print(
        f"statement {statement} ({os.path.getsize(statement) / 1e6:.1f} MB), database {database}"
        f"  [ready in {time.perf_counter() - t0:.1f}s]"
    )

    results = {}
    for case in ("bare", "least", "parse", "import"):
        run = subprocess.run(
            [
                sys.executable,
                os.path.abspath(__file__),
                "--repeat",
                str(args.repeat),
                "--measure",
                case,
                statement,
                database,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        results[case] = json.loads(run.stdout.strip().splitlines()[-1])

    bare = results["bare"]["seconds"]
    print(f"\n{args.lines:,} lines, {args.pledges:,} open pledges, {args.donors:,} donors; best of {args.repeat}")
    print(f"{'case':<8}{'lines':>9}{'time (s)':>11}{'ratio':>8}{'peak MiB':>11}")
    for case, r in results.items():
        print(f"{case:<8}{r['lines']:>9,}{r['seconds']:>11.3f}{r['seconds'] / bare:>8.2f}{r['peak_mib']:>11.0f}")
    print(f"\nimport: {results['import']['result']}")
    ratio = results["import"]["seconds"] / bare
    print(f"import / bare parse: {ratio:.2f} (floor <= {FLOOR:g}) {'ok' if ratio <= FLOOR else 'OVER'}")


if __name__ == "__main__":
    main()
