"""Benchmark: `flask backup create` of an SQLite database holding 1,000,000 ledger entries, next to a plain file copy
of the same database in the same run; and gift intake during backups next to intake without them.

    .venv/bin/python bench/backup.py                        # 1,000,000 entries, 2 rounds of 5 s each way
    .venv/bin/python bench/backup.py --entries 200000 --seconds 3 --rounds 1

The database (migrated, the demo unit tree, a treasurer, N ledger entries written by one bulk INSERT … SELECT) is
built once and kept in /tmp/fundsvc-bench/ under its schema revision and size; each run works on a copy.

1. Backup: the time and size of `create_backup` (online backup API, manifest figures, zstandard) against
   `shutil.copyfile` of the database file (which, unlike the backup, is not consistent while it is written to).
2. Intake: POST /api/v1/donations through gunicorn (as bench/intake.py serves it) with no backup running, then
   with backups made one after another for the whole window by another process; rounds alternate. The ratio
   during/without against its floor (0.7): a backup must not take intake down.

Below the floor it prints MISSED and exits 0 (1 with --strict), as the other benchmarks do.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench.intake import BIN, MP, Server, check_numbers, measure, percentile, prepare_service  # noqa: E402

FLOOR = 0.7
CACHE = Path(tempfile.gettempdir()) / "fundsvc-bench"


def _revision() -> str:
    from fundsvc.observability.health import schema_head

    return schema_head(os.path.join(ROOT, "migrations"))


def cached_database(entries: int) -> tuple[Path, str]:
    """The benchmark's database and its treasurer's token, built on first use."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"backup-{_revision()}-{entries}.sqlite3"
    token_path = path.with_suffix(".token")
    if path.exists() and token_path.exists():
        return path, token_path.read_text().strip()
    started = time.perf_counter()
    tmp = tempfile.mkdtemp(prefix="fundsvc-bench-build-")
    try:
        url, token = prepare_service(tmp)
        built = Path(url.removeprefix("sqlite:///"))
        conn = sqlite3.connect(built)
        fund_id, unit_id = conn.execute("SELECT id, unit_id FROM funds WHERE code = 'KH'").fetchone()
        (account_id,) = conn.execute(
            "SELECT id FROM money_accounts WHERE unit_id = ? AND kind = 'cash'", (unit_id,)
        ).fetchone()
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO ledger_entries (fund_id, unit_id, entry_date, kind, amount, method, account_id, "
            "description, created_at) "
            "SELECT ?, ?, date('2020-01-01', '+' || (i % 1800) || ' days'), 'adjustment', 1000 * (1 + i % 5000), "
            "'cash', ?, 'Bút toán điều chỉnh số ' || i, '2024-01-01 00:00:00.000000' FROM n",
            (entries, fund_id, unit_id, account_id),
        )
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        shutil.move(built, path)
        token_path.write_text(token)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"built {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
    return path, token


def backup_next_to_copy(database: Path, tmp: Path) -> tuple[float, int, float, int]:
    """(backup seconds, backup bytes, copy seconds, copy bytes) of the same database."""
    from fundsvc.backup.service import create_backup

    copy = tmp / "plain-copy.sqlite3"
    started = time.perf_counter()
    shutil.copyfile(database, copy)
    copy_seconds = time.perf_counter() - started
    copy_bytes = copy.stat().st_size
    copy.unlink()
    started = time.perf_counter()
    made = create_backup(f"sqlite:///{database}", tmp / "timed")
    backup_seconds = time.perf_counter() - started
    return backup_seconds, made.path.stat().st_size, copy_seconds, copy_bytes


def keep_backing_up(url: str, out: str, stop) -> int:
    """Backups one after another until `stop` is set (each by the CLI, as the timer runs it); how many."""
    env = {**os.environ, "FUNDSVC_DATABASE_URL": url}
    made = 0
    while not stop.is_set():
        subprocess.run(
            [os.path.join(BIN, "flask"), "--app", "wsgi", "backup", "create", "--out", out, "--keep", "1"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        made += 1
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--strict", action="store_true", help="exit 1 when the ratio is below the floor")
    args = parser.parse_args()

    cached, token = cached_database(args.entries)
    tmp = Path(tempfile.mkdtemp(prefix="fundsvc-bench-backup-"))
    server = None
    try:
        database = tmp / "service.sqlite3"
        shutil.copyfile(cached, database)
        url = f"sqlite:///{database}"
        backup_seconds, backup_bytes, copy_seconds, copy_bytes = backup_next_to_copy(database, tmp)
        print(f"backup of {args.entries:,} ledger entries ({copy_bytes / 1e6:.0f} MB database), {os.cpu_count()} cores")
        print(f"{'':14} {'seconds':>8} {'MB':>8}")
        print(f"{'plain copy':14} {copy_seconds:8.2f} {copy_bytes / 1e6:8.1f}")
        print(f"{'backup create':14} {backup_seconds:8.2f} {backup_bytes / 1e6:8.1f}")
        print(f"backup/copy: time {backup_seconds / copy_seconds:.1f}×, size {backup_bytes / copy_bytes:.2f}×")

        server = Server(
            "service",
            "wsgi:app",
            ROOT,
            {"FUNDSVC_DATABASE_URL": url},
            args.workers,
            args.threads,
            str(tmp / "service.log"),
        ).start()
        totals = {
            kind: {"n": 0, "seconds": 0.0, "latencies": [], "errors": 0, "all_ok": 0} for kind in ("without", "during")
        }
        backups = 0
        for _ in range(args.rounds):
            for kind in ("without", "during"):
                stop = MP.Event()
                backing_up = None
                if kind == "during":
                    backing_up = MP.Process(target=keep_backing_up, args=(url, str(tmp / "loop"), stop), daemon=True)
                    backing_up.start()
                    time.sleep(1.0)  # the first backup under way (the CLI has started)
                result = measure(server, token, args.clients, args.seconds, args.warmup)
                if backing_up is not None:
                    stop.set()
                    backing_up.join(timeout=300)
                    backups += 1
                total = totals[kind]
                for key in ("seconds", "latencies", "errors", "all_ok"):
                    total[key] += result[key]
                total["n"] += result["ok"]
        server.stop()

        rate = {kind: total["n"] / total["seconds"] for kind, total in totals.items()}
        ratio = rate["during"] / rate["without"] if rate["without"] else float("nan")
        print(
            f"POST /api/v1/donations, gunicorn -w {args.workers} (gthread, {args.threads} threads), {args.clients} "
            f"client processes, {args.rounds} × {args.seconds:g} s each way; backups looping in another process"
        )
        print(f"{'':16} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7}")
        for kind, label in (("without", "no backup"), ("during", "during backups")):
            total = totals[kind]
            print(
                f"{label:16} {rate[kind]:9.1f} {percentile(total['latencies'], 0.5) * 1000:9.1f} "
                f"{percentile(total['latencies'], 0.99) * 1000:9.1f} {total['errors']:7d}"
            )
        print(f"ratio during/without {ratio:.2f} (floor {FLOOR})")
        answered = totals["without"]["all_ok"] + totals["during"]["all_ok"]
        gapless, numbers = check_numbers(url, answered)
        print(numbers)
        if not gapless or totals["without"]["errors"] or totals["during"]["errors"]:
            print("ERRORS")
            return 1
        if ratio < FLOOR:
            print(f"MISSED: ratio {ratio:.2f} below the floor {FLOOR}")
            return 1 if args.strict else 0
        print("OK")
        return 0
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
