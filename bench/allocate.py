"""Bench of a full allocation: 100,000 nominations in a real database, through the service and the API.

    .venv/bin/python bench/allocate.py              # 100,000 nominations, on SQLite and then on PostgreSQL
    .venv/bin/python bench/allocate.py --database sqlite --rows 20000 --repeat 5
    .venv/bin/python bench/allocate.py --profile    # also cProfile one end-to-end run (top 25, cumulative)

Each database is measured on its own, the same way: SQLite (the embedded default) in a temp dir, and PostgreSQL
(production) on a throwaway server that the bench starts as the test suite does, but durable (fsync on).
A fresh migrated database (with the demo unit tree) gets the nominations by bulk
core inserts (students, then nominations, spread over the demo communes), a donation into the province
fund KH that covers the budget, and a round with PRESETS["khuyen_hoc"] made by `create_round` as SYSTEM.
Then, in the same run, best of --repeat each:

* engine      : `engine.allocate(facts, ...).as_dict()` over the service's own facts list (pure, no DB)
* end-to-end  : `POST /api/v1/rounds/{id}/allocate` through the Flask test client with an admin token
                (load + engine + hashes + JSON storage + commit + response serialisation)
* bare load   : the baseline: a plain `SELECT` of the same columns (id, unit_id, status and every
                nomination field) of the year's nominations, fetched by the DB-API cursor into tuples
* core load   : for information only (no floor): a SQLAlchemy Core select of just the columns the round's
                rules read (what the service loads), fetched into Rows with the model's types (dates,
                Decimals, bools), without building the engine's dicts

Peak memory: the process's peak RSS during each phase (VmHWM, reset through /proc/self/clear_refs
before each phase; else the running ru_maxrss) and its growth over the RSS at the start of the phase.

Floors: engine < 2 s; end-to-end <= 2x the bare load. A missed floor is printed as MISSED; with
--strict the exit status is then 1 (not by default, so `make bench` runs every bench).
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _memory import peak_mib, reset_peak  # noqa: E402
from allocate_engine import make_nominations  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from fundsvc import create_app  # noqa: E402
from fundsvc.allocation import engine as alloc_engine  # noqa: E402
from fundsvc.allocation.models import Round  # noqa: E402
from fundsvc.allocation.rules import PRESETS  # noqa: E402
from fundsvc.allocation.service import create_round, facts_columns, nomination_facts  # noqa: E402
from fundsvc.auth.service import SYSTEM, create_user  # noqa: E402
from fundsvc.db import write_transaction  # noqa: E402
from fundsvc.donations.service import record_donation  # noqa: E402
from fundsvc.extensions import db  # noqa: E402
from fundsvc.students.models import FIELDS, Nomination, Student  # noqa: E402
from fundsvc.students.rules import identity_key  # noqa: E402
from fundsvc.units.models import Unit  # noqa: E402

YEAR = "2024-2025"
BUDGET = 20_000_000_000  # 20 tỷ đồng: awards most eligible pupils, waitlists the rest
ENGINE_FLOOR_S = 2.0
RATIO_FLOOR = 2.0


# --- peak memory per phase ---------------------------------------------------------------------------


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Phase:
    """Best-of-N timer that also records the peak RSS of the phase."""

    def __init__(self, name: str):
        self.name, self.best, self.peak, self.growth = name, float("inf"), 0.0, 0.0

    def run(self, fn, repeat: int):
        out = None
        gc.collect()
        reset_peak()
        start = _rss_mib()
        for _ in range(repeat):
            out = None
            gc.collect()
            t0 = time.perf_counter()
            out = fn()
            self.best = min(self.best, time.perf_counter() - t0)
        self.peak = peak_mib()
        self.growth = max(0.0, self.peak - start)
        return out


# --- the database ------------------------------------------------------------------------------------


def migrate(url: str) -> None:
    """Alembic migrations and the demo unit tree with its funds (as tests/conftest.migrate(with_tree=True))."""
    import logging

    from flask_migrate import upgrade

    from fundsvc.demo.load import load_demo

    logging.disable(logging.INFO)  # alembic's progress lines
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        load_demo(db.session, donations=0, users=False)
        db.session.remove()
        db.engine.dispose()


def fill(session, n: int) -> tuple[int, str]:
    """Bulk-insert n students and nominations, fund KH, a round; returns (round id, admin token)."""
    units = list(session.scalars(select(Unit)))
    by_id = {u.id: u for u in units}
    district = {
        u.code: next(
            (by_id[int(p)].code for p in u.path.strip("/").split("/") if by_id[int(p)].level == "district"), None
        )
        for u in units
    }
    communes = [(u.code, district[u.code]) for u in units if u.level == "commune"]
    unit_ids = {u.code: u.id for u in units}
    noms = make_nominations(n, units=communes, academic_year=YEAR)
    students, nominations, seen = [], [], set()
    for i, nom in enumerate(noms, start=1):
        key = identity_key(nom["student_code"], nom["full_name"], nom["birth_date"], nom["school"])
        key = key if key not in seen else f"{key}#{i}"  # random namesakes born the same day at one school
        seen.add(key)
        students.append(
            {
                "id": i,
                "identity_key": key,
                "student_code": nom["student_code"],
                "full_name": nom["full_name"],
                "birth_date": nom["birth_date"],
                "school": nom["school"],
            }
        )
        row = {f: nom[f] for f in FIELDS}
        row.update(
            id=i,
            student_id=i,
            academic_year=YEAR,
            unit_id=unit_ids[nom["unit"]],
            status=nom["status"],
            source_file="bench.csv",
            source_row=i + 1,
        )
        nominations.append(row)
    with write_transaction(session):
        session.execute(insert(Student.__table__), students)
        session.execute(insert(Nomination.__table__), nominations)
    record_donation(
        session,
        SYSTEM,
        {
            "donor": {"name": "Công ty CP Bench", "kind": "organization", "tax_code": "2200000001"},
            "unit": "ST",
            "fund": "KH",
            "amount": BUDGET,
            "method": "bank_transfer",
            "received_on": date(2024, 8, 1),
            "purpose": "Bench",
        },
    )
    round_ = create_round(
        session,
        SYSTEM,
        {
            "name": "Bench khuyến học",
            "academic_year": YEAR,
            "fund": "KH",
            "unit": "ST",
            "budget": BUDGET,
            "rules": PRESETS["khuyen_hoc"],
        },
    )
    _user, token = create_user(session, "bench-admin", "admin")
    return round_.id, token


# --- main --------------------------------------------------------------------------------------------


def measure(url: str, args) -> dict:
    """Every phase on the database at `url` (migrated and filled here); {phase name: Phase} and the counts."""
    t0 = time.perf_counter()
    migrate(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "bench"})
    with app.app_context():
        session = db.session
        round_id, token = fill(session, args.rows)
        session.remove()
        print(f"setup: {args.rows:,} nominations in a fresh migrated database in {time.perf_counter() - t0:.1f} s")

        # (1) the pure engine, over the facts the service itself builds
        round_ = session.get(Round, round_id)
        facts = nomination_facts(session, round_)
        fund = round_.fund
        kwargs = dict(
            budget=round_.budget, available=BUDGET, restriction=fund.restriction, academic_year=round_.academic_year
        )
        rules = round_.rules
        session.remove()
        eng = Phase("engine")
        result = eng.run(lambda: alloc_engine.allocate(facts, rules, **kwargs).as_dict(), args.repeat)
        counts = (len(result["awarded"]), len(result["waitlisted"]), len(result["ineligible"]))
        del result

        # (2) end to end through the API
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}

        def post():
            response = client.post(f"/api/v1/rounds/{round_id}/allocate", headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"allocate answered {response.status_code}: {response.get_data()[:500]!r}")
            size = len(response.get_data())
            response.close()
            return size

        e2e = Phase("end-to-end")
        body = e2e.run(post, args.repeat)

        if args.profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            post()
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)

        # (3) the baseline: the same columns of the year's nominations, DB-API cursor into tuples
        columns = ", ".join(["id", "unit_id", "status", *FIELDS])
        mark = "?" if db.engine.dialect.paramstyle == "qmark" else "%s"
        sql = f"SELECT {columns} FROM nominations WHERE academic_year = {mark}"

        def bare():
            conn = db.engine.raw_connection()
            try:
                cur = conn.cursor()
                cur.execute(sql, (YEAR,))
                rows = cur.fetchall()
                cur.close()
                return len(rows)
            finally:
                conn.close()

        load = Phase("bare load")
        loaded = load.run(bare, args.repeat)
        if loaded != args.rows:
            raise SystemExit(f"bare load read {loaded} rows, expected {args.rows}")

        round_ = session.get(Round, round_id)
        core_query = select(*facts_columns(round_)).where(Nomination.academic_year == YEAR)
        session.remove()

        def core():
            with db.engine.connect() as conn:
                return len(conn.execute(core_query).all())

        core_load = Phase("core load")
        core_load.run(core, args.repeat)
        session.remove()
        db.engine.dispose()
    return {"engine": eng, "e2e": e2e, "load": load, "core": core_load, "counts": counts, "body": body}


def report(name: str, m: dict, args) -> bool:
    """Print one database's figures; True when a floor is missed."""
    eng, e2e, load, core_load, counts = m["engine"], m["e2e"], m["load"], m["core"], m["counts"]
    ratio = e2e.best / load.best
    print(
        f"\n{name}: {args.rows:,} nominations, rules khuyen_hoc, best of {args.repeat}; "
        f"awarded {counts[0]:,}, waitlisted {counts[1]:,}, ineligible {counts[2]:,}; "
        f"response {m['body'] / 1e6:.1f} MB"
    )
    print(f"{'phase':<14}{'time (s)':>10}{'peak RSS MiB':>14}{'growth MiB':>12}  floor")
    print(
        f"{'engine':<14}{eng.best:>10.3f}{eng.peak:>14.0f}{eng.growth:>12.0f}  < {ENGINE_FLOOR_S:g} s "
        f"{'ok' if eng.best < ENGINE_FLOOR_S else 'MISSED'}"
    )
    print(f"{'end-to-end':<14}{e2e.best:>10.3f}{e2e.peak:>14.0f}{e2e.growth:>12.0f}")
    print(f"{'bare load':<14}{load.best:>10.3f}{load.peak:>14.0f}{load.growth:>12.0f}")
    print(
        f"{'core load':<14}{core_load.best:>10.3f}{core_load.peak:>14.0f}{core_load.growth:>12.0f}"
        f"  (information: e2e/core = {e2e.best / core_load.best:.2f})"
    )
    print(
        f"{'ratio e2e/load':<14}{ratio:>10.2f}{'':>26}  <= {RATIO_FLOOR:g}x "
        f"{'ok' if ratio <= RATIO_FLOOR else 'MISSED'}"
    )
    return eng.best >= ENGINE_FLOOR_S or ratio > RATIO_FLOOR


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--profile", action="store_true", help="cProfile one end-to-end run")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a floor is missed")
    args = ap.parse_args()

    results = {}
    if args.database in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="fundsvc-bench-") as tmp:
            print("== SQLite (the embedded default)")
            results["SQLite"] = measure(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args)
    if args.database in ("postgresql", "both"):
        from tests.pgserver import PostgresServer

        # A throwaway server as the test suite starts one, but durable (fsync on): as production runs it.
        server = PostgresServer(durable=True).start()
        try:
            print("== PostgreSQL (production), throwaway server on loopback, fsync on")
            results["PostgreSQL"] = measure(server.url(), args)
        finally:
            server.stop()
    missed = False
    for name, m in results.items():
        missed = report(name, m, args) or missed
    print(f"\nprocess peak RSS (ru_maxrss): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
