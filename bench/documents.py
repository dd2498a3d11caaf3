"""Benchmark: a long award list rendered in parallel chunks (the service's path) vs WeasyPrint rendering the
same rows as one document, in the same run.

    .venv/bin/python bench/documents.py                 # 10,000 pupils: chunked vs one document
    .venv/bin/python bench/documents.py --pupils 3000
    .venv/bin/python bench/documents.py --full          # also 100,000 pupils through the CLI code path

Each case runs in its own subprocess so memory peaks do not mix. "peak" is the largest resident set of any
process of the case: max(RUSAGE_SELF, RUSAGE_CHILDREN) ru_maxrss (the pool workers are the children).
Floors checked: chunked ≥ 1.6× faster than one document, and no process above 500 MiB.

--full builds a temporary SQLite database (migrated, demo unit tree, 100,000 approved awards) and runs
`flask documents award-list ROUND --out FILE` through click's test runner (the CLI code path, progress bar on).
The main process's peak there is counted from the CLI call on (VmHWM reset after the database is filled).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

FLOOR_SPEEDUP = 1.6
FLOOR_MIB = 500

from _memory import peak_mib, reset_peak  # noqa: E402
from _names import FAMILY, MIDDLE  # noqa: E402  (bench/ is on sys.path when run as a script)
from _names import GIVEN as _GIVEN  # noqa: E402

GIVEN = [*_GIVEN, "Ánh", "Sa Ry"]  # collation cases: a capital with a tone mark, a two-word Khmer given name
LEVELS = [
    ("primary", "TH", 500_000, (1, 5)),
    ("lower_secondary", "THCS", 1_000_000, (6, 9)),
    ("upper_secondary", "THPT", 1_500_000, (10, 12)),
]
SETTINGS = {
    "org_name": "Hội Khuyến học tỉnh Sóc Trăng",
    "org_address": "Số 1 Trần Hưng Đạo, Phường 2, TP. Sóc Trăng",
    "head": "Lê Văn Thành",
    "words_style": "north",
}


def pupils(n: int, seed: int = 11) -> list[dict]:
    """`n` award rows over 60 communes, ~12 schools each (about 14 pupils per school at 10,000)."""
    rnd = random.Random(seed)
    units = [
        (f"ST-{d}-{c:02d}", f"Xã {d} {c:02d}", [1, 2 + i, 100 + i * 10 + c])
        for i, d in enumerate(("TP", "MX", "TD", "VC", "KS", "LP"))
        for c in range(1, 11)
    ]
    rows = []
    for i in range(n):
        code, name, path = units[rnd.randrange(len(units))]
        level, prefix, amount, (lo, hi) = rnd.choice(LEVELS)
        grade = rnd.randint(lo, hi)
        rows.append(
            {
                "award_id": i + 1,
                "full_name": f"{rnd.choice(FAMILY)} {rnd.choice(MIDDLE)} {rnd.choice(GIVEN)}",
                "birth_date": dt.date(2018 - grade, rnd.randint(1, 12), rnd.randint(1, 28)),
                "grade": f"{grade}{rnd.choice('ABCD')}",
                "grade_number": grade,
                "school": f"Trường {prefix} {name[4:]} {rnd.randint(1, 4)}",
                "level": level,
                "tier": "Khuyến tài" if rnd.random() < 0.08 else None,
                "amount": 3_000_000 if rnd.random() < 0.08 else amount,
                "status": "approved",
                "unit_code": code,
                "unit_name": name,
                "unit_sort": path,
            }
        )
    return rows


def _loaded(n: int):
    from fundsvc.documents.ceremony_service import Loaded

    info = {
        "name": "Học bổng Khuyến học 2024–2025",
        "academic_year": "2024-2025",
        "unit_name": "Tỉnh Sóc Trăng",
        "unit_level": "province",
        "date": dt.datetime(2024, 11, 2, 3),
    }
    return Loaded(1, "bench", info, pupils(n), "bench", {})


def _cpu_seconds() -> float:
    """CPU time of this process and its reaped children (the pool workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _peak_mib() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def _pages(pdf: bytes | str) -> int:
    """Page count of PDF bytes or of a PDF file (read from the file, not loaded whole)."""
    import io

    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf).pages)


def case_chunked(n: int, workers: int) -> dict:
    from fundsvc.documents.ceremony_service import render

    loaded = _loaded(n)
    cpu = _cpu_seconds()
    start = time.perf_counter()
    pdf = render("award-list", loaded, SETTINGS, personal=True, workers=workers)
    seconds = time.perf_counter() - start
    own, children = _peak_mib()
    return {
        "seconds": seconds,
        "cpu": _cpu_seconds() - cpu,
        "pages": _pages(pdf),
        "bytes": len(pdf),
        "self_mib": own,
        "children_mib": children,
    }


def case_single(n: int) -> dict:
    from fundsvc.documents import ceremony
    from fundsvc.documents.render import render_pdf_with_pages

    loaded = _loaded(n)
    cpu = _cpu_seconds()
    start = time.perf_counter()
    groups = ceremony.group_rows(loaded.rows)
    header = ceremony.award_list_context(loaded.info, SETTINGS, groups, personal=True)
    items = ceremony.award_list_items(groups, personal=True)
    whole = ceremony.chunk_items(items, len(loaded.rows) + 1)  # one part: every unit, one document
    pdf, pages = render_pdf_with_pages("documents/award_list.html", {**header, "rows": whole, "chunked": False})
    seconds = time.perf_counter() - start
    own, children = _peak_mib()
    return {
        "seconds": seconds,
        "cpu": _cpu_seconds() - cpu,
        "pages": pages,
        "bytes": len(pdf),
        "self_mib": own,
        "children_mib": children,
    }


def case_cli(n: int) -> dict:
    """n awards in a temporary database, then `flask documents award-list` through click's runner."""
    from fundsvc import create_app

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        app.instance_path = tmp
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            _fill_database(n)
        runner = app.test_cli_runner(mix_stderr=False) if _runner_takes_mix() else app.test_cli_runner()
        out = os.path.join(tmp, "award-list.pdf")
        # The peak of this process from here on is the CLI's, not the bench's own filling of the database.
        gc.collect()
        measured_from_here = reset_peak()
        start = time.perf_counter()
        result = runner.invoke(args=["documents", "award-list", "1", "--out", out])
        seconds = time.perf_counter() - start
        if result.exit_code != 0:
            raise SystemExit(f"CLI failed: {result.output}\n{result.exception!r}")
        start = time.perf_counter()
        again = runner.invoke(args=["documents", "award-list", "1", "--out", out])
        cached_seconds = time.perf_counter() - start
        assert again.exit_code == 0 and "(cached)" in again.output, again.output
        own, children = _peak_mib()
        if measured_from_here:
            own = peak_mib()
        size = os.path.getsize(out)
        pages = _pages(out)
    return {
        "seconds": seconds,
        "pages": pages,
        "bytes": size,
        "self_mib": own,
        "children_mib": children,
        "cached_seconds": cached_seconds,
    }


def _runner_takes_mix() -> bool:
    import inspect

    from click.testing import CliRunner

    return "mix_stderr" in inspect.signature(CliRunner.__init__).parameters


def _fill_database(n: int) -> None:
    from sqlalchemy import insert, select

    from fundsvc.allocation.models import Award, Round
    from fundsvc.demo.load import load_demo
    from fundsvc.extensions import db
    from fundsvc.ledger.models import Fund
    from fundsvc.students.models import Nomination, Student
    from fundsvc.units.models import Unit

    load_demo(db.session, donations=0, users=False)
    units = list(db.session.scalars(select(Unit).where(Unit.level == "commune")))
    fund = db.session.scalar(select(Fund).where(Fund.code == "KH"))
    root = db.session.scalar(select(Unit).where(Unit.code == "ST"))
    round_ = Round(
        name="Học bổng Khuyến học 2024–2025",
        academic_year="2024-2025",
        fund=fund,
        unit=root,
        budget=10**12,
        rules={},
        rules_hash="bench",
        status="approved",
        ranked={"nomination_id": [], "score": [], "amount": [], "tier": [], "outcome": []},  # nobody waitlisted
        result_hash="bench",
        approved_at=dt.datetime(2024, 11, 2, 3),
    )
    db.session.add(round_)
    db.session.flush()
    rows = pupils(n)
    db.session.execute(
        insert(Student),
        [
            {
                "id": i + 1,
                "identity_key": f"b:{i}",
                "full_name": r["full_name"],
                "birth_date": r["birth_date"],
                "school": r["school"],
            }
            for i, r in enumerate(rows)
        ],
    )
    db.session.execute(
        insert(Nomination),
        [
            {
                "id": i + 1,
                "student_id": i + 1,
                "academic_year": "2024-2025",
                "unit_id": units[i % len(units)].id,
                "full_name": r["full_name"],
                "birth_date": r["birth_date"],
                "school": f"{r['school']} ({i % len(units)})",
                "grade": r["grade"],
                "grade_number": r["grade_number"],
                "level": r["level"],
                "status": "active",
            }
            for i, r in enumerate(rows)
        ],
    )
    db.session.execute(
        insert(Award),
        [
            {
                "round_id": round_.id,
                "nomination_id": i + 1,
                "amount": r["amount"],
                "rank": i + 1,
                "score": "1",
                "tier": r["tier"],
                "status": "approved",
            }
            for i, r in enumerate(rows)
        ],
    )
    db.session.commit()


def _run_case(name: str, *args) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--case", name, *map(str, args)], capture_output=True, text=True, cwd=ROOT
    )
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"case {name} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _line(label: str, r: dict) -> str:
    peak = max(r["self_mib"], r["children_mib"])
    return (
        f"{label:<34} {r['seconds']:>8.1f} s {r['pages']:>7} pages {r['pages'] / r['seconds']:>7.1f} pages/s"
        f" {r.get('cpu', 0):>7.1f} CPU s {r['bytes'] / 2**20:>6.1f} MB   peak {peak:>6.0f} MiB"
        f" (main {r['self_mib']:.0f}, largest worker {r['children_mib']:.0f})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pupils", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--full", action="store_true", help="also 100,000 pupils through the CLI code path")
    parser.add_argument("--full-pupils", type=int, default=100_000)
    parser.add_argument("--case", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        name, *rest = args.case
        result = {
            "chunked": lambda: case_chunked(int(rest[0]), int(rest[1])),
            "single": lambda: case_single(int(rest[0])),
            "cli": lambda: case_cli(int(rest[0])),
        }[name]()
        print(json.dumps(result))
        return 0

    if os.environ.get("BENCH_DOCUMENTS_FULL") == "1":
        args.full = True
    load = os.getloadavg()[0]
    print(f"Award list of {args.pupils:,} pupils, {args.workers} workers, {os.cpu_count()} cores, load {load:.1f}")
    if load > 0.5:
        print("  (other processes are busy: wall-clock ratios understate the parallel speed-up; see CPU s)")
    chunked = _run_case("chunked", args.pupils, args.workers)
    print(_line("chunked, parallel (service path)", chunked))
    single = _run_case("single", args.pupils)
    print(_line("WeasyPrint, one document", single))
    speedup = single["seconds"] / chunked["seconds"]
    peak = max(chunked["self_mib"], chunked["children_mib"])
    print(
        f"speed-up {speedup:.2f}× (floor {FLOOR_SPEEDUP}×), chunked largest process {peak:.0f} MiB "
        f"(floor {FLOOR_MIB} MiB); one-document peak {max(single['self_mib'], single['children_mib']):.0f} MiB"
    )
    ok = speedup >= FLOOR_SPEEDUP and peak <= FLOOR_MIB
    if args.full:
        cli = _run_case("cli", args.full_pupils)
        print(_line(f"CLI, {args.full_pupils:,} pupils", cli) + f"; cached re-run {cli['cached_seconds']:.1f} s")
        ok = ok and max(cli["self_mib"], cli["children_mib"]) <= FLOOR_MIB
    print("OK" if ok else "BELOW FLOOR")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
