"""Multi-process test helpers: gunicorn serving `wsgi:app` on a free loopback port, client processes, DB checks.

Used by the concurrency and crash tests: the only honest proof of gapless numbering is many
processes (gunicorn workers) writing at once, with clients in processes of their own.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import queue
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
# fork: client processes start in milliseconds and only ever talk HTTP (no inherited DB handle is used).
MP = mp.get_context("fork")
_names = itertools.count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Gunicorn:
    """`gunicorn -w N -b 127.0.0.1:PORT wsgi:app` with FUNDSVC_DATABASE_URL=url, run from the repo root."""

    database_url: str
    log_path: Path
    workers: int = 4
    port: int = field(default_factory=free_port)
    extra_args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)  # more of the server's environment
    app: str = "wsgi:app"  # the WSGI application gunicorn serves
    proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> Gunicorn:
        """Start the master and wait until the health check answers."""
        env = {
            **os.environ,
            "FUNDSVC_DATABASE_URL": self.database_url,
            "FUNDSVC_SECRET_KEY": "test",
            "PYTHONDONTWRITEBYTECODE": "1",
            **self.env,
        }
        self._log = open(self.log_path, "ab")
        cmd = [
            str(GUNICORN),
            "-w",
            str(self.workers),
            "-b",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "120",
            "--graceful-timeout",
            "5",
            *self.extra_args,
            self.app,
        ]
        # A process group of its own, so that stop() can take the master and its workers down together.
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(self.base + "/api/v1/health", timeout=5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {timeout}s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        """The master's current children (its workers), read from /proc."""
        return children_of(self.proc.pid) if self.proc else []

    def wait_for_workers(self, count: int | None = None, timeout: float = 60) -> list[int]:
        """Wait until the master again runs `count` workers (it respawns killed ones)."""
        count = count or self.workers
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if len(pids) >= count:
                return pids
            time.sleep(0.05)
        raise RuntimeError(f"gunicorn has {len(self.worker_pids())} workers, wanted {count}:\n{self.log_tail()}")

    def kill_workers(self) -> list[int]:
        """SIGKILL every worker at once (as an OOM killer or a power-off of the process would)."""
        pids = self.worker_pids()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return pids

    def kill_all(self) -> None:
        """SIGKILL the master and its workers together: nothing gets to clean up."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
        self._wait_port_free()

    def stop(self) -> None:
        """Stop gunicorn (graceful, then SIGKILL); always safe to call."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # stragglers of the group, if any
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None

    def _wait_port_free(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.05)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def children_of(pid: int) -> list[int]:
    """Pids whose parent is `pid` (scans /proc: no psutil needed)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces or parentheses: fields after the last ')' are fixed.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return sorted(found)


def make_token(database_url: str, role: str = "treasurer", unit: str | None = None) -> str:
    """Create a user in the database (through the service) and return its API token."""
    from fundsvc import create_app
    from fundsvc.auth.service import create_user
    from fundsvc.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        try:
            _user, token = create_user(db.session, f"{role}-mp{os.getpid()}-{next(_names)}", role, unit)
        finally:
            db.session.remove()
            db.engine.dispose()
    return token


class ClientProcesses:
    """target(*args) in one process each, started together; `results()` gathers what they return, in order."""

    def __init__(self, target, args_list: list[tuple]) -> None:
        self._queue: mp.Queue = MP.Queue()
        self.procs = [
            MP.Process(target=_child, args=(self._queue, i, target, args), daemon=True)
            for i, args in enumerate(args_list)
        ]

    def start(self) -> ClientProcesses:
        for p in self.procs:
            p.start()
        return self

    def results(self, timeout: float = 180) -> list:
        """Wait for every process (exceptions in a child are re-raised here); always reaps them."""
        out: dict[int, object] = {}
        deadline = time.monotonic() + timeout
        try:
            while len(out) < len(self.procs):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(self.procs) - len(out)} client processes did not finish in {timeout}s")
                try:
                    index, ok, value = self._queue.get(timeout=min(remaining, 1.0))
                except queue.Empty:
                    dead = [i for i, p in enumerate(self.procs) if i not in out and p.exitcode not in (None, 0)]
                    if dead:
                        raise RuntimeError(f"client processes {dead} died") from None
                    continue
                if not ok:
                    raise RuntimeError(f"client process {index} failed:\n{value}")
                out[index] = value
        finally:
            self.kill()
        return [out[i] for i in range(len(self.procs))]

    def kill(self) -> None:
        """Reap the processes; any still running (after a failure) is killed."""
        for p in self.procs:
            p.join(timeout=1)
            if p.is_alive():
                p.kill()
                p.join(timeout=5)

    def running(self) -> bool:
        return any(p.is_alive() for p in self.procs)


def run_processes(target, args_list: list[tuple], timeout: float = 180) -> list:
    """Run target(*args) in one process each, at once; return their results in order (exceptions re-raised)."""
    return ClientProcesses(target, args_list).start().results(timeout)


def _child(results, index, target, args) -> None:
    import traceback

    try:
        results.put((index, True, target(*args)))
    except BaseException:
        results.put((index, False, traceback.format_exc()))


def gift(
    unit: str, amount: int, received_on: str = "2024-10-01", fund: str = "KH", method: str = "cash", **donor
) -> dict:
    """A POST /donations body."""
    return {
        "donor": {"name": donor.get("name", "Nhà hảo tâm"), "kind": "person", **donor},
        "fund": fund,
        "unit": unit,
        "amount": amount,
        "method": method,
        "received_on": received_on,
        "purpose": "Ủng hộ Quỹ Khuyến học",
    }


@dataclass
class Book:
    """What the database holds for one unit and year: receipt number → (donation id, amount, status)."""

    by_number: dict[int, tuple[int, int, str]]
    balance: int  # sum of the fund's ledger entries
    donations_total: int  # sum of the fund's non-void donations
    donation_count: int  # all donations of the unit (any year)
    idempotency_orphans: int  # claimed keys with no donation (must be 0 after commit)

    @property
    def numbers(self) -> list[int]:
        return sorted(self.by_number)


def read_book(database_url: str, unit: str, year: int, fund: str = "KH", kind: str = "receipt") -> Book:
    """Read the stored state of one document series straight from the database (not through the app under test)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT r.number, d.id, d.amount, d.status FROM receipts r "
                    "JOIN donations d ON d.id = r.donation_id JOIN units u ON u.id = r.unit_id "
                    "WHERE u.code = :unit AND r.year = :year AND r.kind = :kind"
                ),
                {"unit": unit, "year": year, "kind": kind},
            ).all()
            by_number: dict[int, tuple[int, int, str]] = {}
            for number, donation_id, amount, status in rows:
                assert number not in by_number, f"receipt number {number} stored twice"
                by_number[number] = (donation_id, amount, status)
            fund_id = conn.execute(text("SELECT id FROM funds WHERE code = :c"), {"c": fund}).scalar_one()
            balance = conn.execute(
                text("SELECT COALESCE(SUM(amount), 0) FROM ledger_entries WHERE fund_id = :f"), {"f": fund_id}
            ).scalar_one()
            total = conn.execute(
                text("SELECT COALESCE(SUM(amount), 0) FROM donations WHERE fund_id = :f AND status = 'recorded'"),
                {"f": fund_id},
            ).scalar_one()
            count = conn.execute(
                text("SELECT COUNT(*) FROM donations d JOIN units u ON u.id = d.unit_id WHERE u.code = :unit"),
                {"unit": unit},
            ).scalar_one()
            orphans = conn.execute(
                text("SELECT COUNT(*) FROM idempotency_records WHERE donation_id IS NULL")
            ).scalar_one()
    finally:
        engine.dispose()
    return Book(by_number, int(balance), int(total), int(count), int(orphans))
