"""Benchmark: POST /api/v1/donations through gunicorn on SQLite vs a minimal locked-counter Flask app, same run.

    .venv/bin/python bench/intake.py                  # 2 workers × 4 threads, 8 client processes, 2 rounds of 5 s
    .venv/bin/python bench/intake.py --seconds 10 --rounds 3 --clients 16 --workers 4 --threads 1   # sync workers

Both apps are served the same way (`gunicorn -w 2 -k gthread --threads 4 -b 127.0.0.1:PORT`, as `make run`
serves the service) on a SQLite database in a temp dir with the same pragmas (WAL, synchronous=FULL). The
baseline (bench/_baseline_app.py) does per POST only what gapless numbering needs: BEGIN IMMEDIATE, UPDATE
counter, INSERT one row, COMMIT (its threads take turns on a lock, its processes in SQLite's busy handler).
The service does the real thing: token check, unit and fund lookup, donor matching, receipt book, donation,
receipt, ledger entry, audit record, and the JSON answer, its gifts committed in groups (fundsvc/group_commit.py).
Clients post from separate processes (http.client, keep-alive where the server allows it) for a fixed time
after a warm-up; the rounds alternate baseline and service so drift hits both.

Prints requests/s and p50/p99 latency of each, the ratio service/baseline against its floor (0.5), and checks
that the service's receipt numbers came out 1..N. Below the floor it prints MISSED and still exits 0, so that
`make bench` runs every bench; with --strict it exits 1 (as it does on errors or a gap in the numbers).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
BIN = os.path.dirname(sys.executable)
FLOOR = 0.5
UNIT = "ST-TP-P2"
MP = mp.get_context("fork")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with the given app module, run from `cwd`; started and stopped as one process group."""

    def __init__(self, name: str, app: str, cwd: str, env: dict, workers: int, threads: int, log: str) -> None:
        self.name, self.port = name, free_port()
        self.cmd = [
            os.path.join(BIN, "gunicorn"),
            "-w",
            str(workers),
            *(["-k", "gthread", "--threads", str(threads)] if threads > 1 else []),
            "-b",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "120",
            app,
        ]
        self.cwd, self.env, self.log = cwd, {**os.environ, **env}, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> Server:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                self.cmd, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited, see {self.log}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/v1/health")
                if conn.getresponse().status == 200:
                    conn.close()
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name}: gunicorn did not answer, see {self.log}")

    def stop(self) -> None:
        if self.proc is None:
            return
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 15)):
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(timeout=wait)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue


def body(client: int, i: int) -> dict:
    return {
        "donor": {"name": f"Nhà hảo tâm {client}", "kind": "person", "phone": f"09120{client:05d}"},
        "fund": "KH",
        "unit": UNIT,
        "amount": 100_000 + i,
        "method": "cash",
        "received_on": "2024-10-01",
        "purpose": "Ủng hộ Quỹ Khuyến học",
    }


def client(port: int, token: str, index: int, start_at: float, stop_at: float, out) -> None:
    """Post until stop_at; report (finish time, latency, status) of every request."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    conn = None
    samples = []
    i = 0
    while time.time() < start_at:
        time.sleep(0.001)
    while time.time() < stop_at:
        payload = json.dumps(body(index, i)).encode()
        i += 1
        t0 = time.perf_counter()
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("POST", "/api/v1/donations", payload, headers)
            response = conn.getresponse()
            response.read()
            status = response.status
            if response.will_close:
                conn.close()
                conn = None
        except OSError:
            status = 0
            conn = None
        samples.append((time.time(), time.perf_counter() - t0, status))
    out.put(samples)


def measure(server: Server, token: str, clients: int, seconds: float, warmup: float) -> dict:
    """One round against one server: throughput and latencies inside the measured window."""
    out = MP.Queue()
    start_at = time.time() + 0.5  # every client is forked and waiting by then
    window = (start_at + warmup, start_at + warmup + seconds)
    procs = [
        MP.Process(target=client, args=(server.port, token, c, start_at, window[1], out), daemon=True)
        for c in range(clients)
    ]
    for p in procs:
        p.start()
    samples = [s for _ in procs for s in out.get(timeout=seconds + warmup + 180)]
    for p in procs:
        p.join(timeout=10)
    inside = [(lat, status) for end, lat, status in samples if window[0] <= end <= window[1]]
    return {
        "n": len(inside),
        "ok": sum(1 for _, s in inside if s == 201),
        "seconds": seconds,
        "latencies": [lat for lat, s in inside if s == 201],
        "errors": sum(1 for _, _, s in samples if s != 201),
        "all_ok": sum(1 for _, _, s in samples if s == 201),
    }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def prepare_service(tmp: str) -> tuple[str, str]:
    """A migrated service database with the demo unit tree and funds (no donations), and a treasurer token."""
    url = f"sqlite:///{os.path.join(tmp, 'service.sqlite3')}"
    env = {**os.environ, "FUNDSVC_DATABASE_URL": url}
    subprocess.run(
        [os.path.join(BIN, "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    from fundsvc import create_app
    from fundsvc.auth.service import create_user
    from fundsvc.demo.load import load_demo
    from fundsvc.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        load_demo(db.session, donations=0, users=False)
        _user, token = create_user(db.session, "bench-treasurer", "treasurer", "ST-TP")
        db.session.remove()
        db.engine.dispose()
    return url, token


def check_numbers(url: str, answered: int) -> tuple[bool, str]:
    """The service's receipt numbers for the unit: exactly 1..N, N = the 201s counted by the clients."""
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    numbers = [
        n
        for (n,) in conn.execute(
            "SELECT r.number FROM receipts r JOIN units u ON u.id = r.unit_id WHERE u.code = ? ORDER BY r.number",
            (UNIT,),
        )
    ]
    conn.close()
    ok = numbers == list(range(1, len(numbers) + 1)) and len(numbers) == answered
    return ok, f"receipt numbers 1..{len(numbers)}, gapless: {'yes' if ok else 'NO'} ({answered} answered 201)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (gthread); 1: sync workers")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--strict", action="store_true", help="exit 1 when the ratio is below the floor")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="fundsvc-bench-intake-")
    servers: list[Server] = []
    try:
        url, token = prepare_service(tmp)
        baseline_db = os.path.join(tmp, "baseline.sqlite3")
        from bench._baseline_app import init_db

        init_db(baseline_db)
        service = Server(
            "service",
            "wsgi:app",
            ROOT,
            {"FUNDSVC_DATABASE_URL": url},
            args.workers,
            args.threads,
            os.path.join(tmp, "service.log"),
        )
        baseline = Server(
            "baseline",
            "_baseline_app:app",
            os.path.join(ROOT, "bench"),
            {"BASELINE_DB": baseline_db},
            args.workers,
            args.threads,
            os.path.join(tmp, "baseline.log"),
        )
        servers = [service, baseline]
        for s in servers:
            s.start()
        totals = {s.name: {"n": 0, "seconds": 0.0, "latencies": [], "errors": 0, "all_ok": 0} for s in servers}
        for _ in range(args.rounds):
            for s in (baseline, service):
                r = measure(s, token, args.clients, args.seconds, args.warmup)
                t = totals[s.name]
                t["n"] += r["ok"]
                t["seconds"] += r["seconds"]
                t["latencies"] += r["latencies"]
                t["errors"] += r["errors"]
                t["all_ok"] += r["all_ok"]
        for s in servers:
            s.stop()

        rate = {name: t["n"] / t["seconds"] for name, t in totals.items()}
        ratio = rate["service"] / rate["baseline"] if rate["baseline"] else float("nan")
        print(
            f"POST /api/v1/donations on SQLite (WAL, synchronous=FULL): gunicorn -w {args.workers} "
            f"({f'gthread, {args.threads} threads' if args.threads > 1 else 'sync'}), "
            f"{args.clients} client processes, {args.rounds} × {args.seconds:g} s each after {args.warmup:g} s "
            f"warm-up, {os.cpu_count()} cores"
        )
        print(f"{'':10} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7}")
        for name in ("baseline", "service"):
            t = totals[name]
            print(
                f"{name:10} {rate[name]:9.1f} {percentile(t['latencies'], 0.5) * 1000:9.1f} "
                f"{percentile(t['latencies'], 0.99) * 1000:9.1f} {t['errors']:7d}"
            )
        print(f"ratio service/baseline {ratio:.2f} (floor {FLOOR})")
        gapless, numbers = check_numbers(url, totals["service"]["all_ok"])
        print(numbers)
        if not gapless or totals["service"]["errors"] or totals["baseline"]["errors"]:
            print("ERRORS")
            return 1
        if ratio < FLOOR:
            print(f"MISSED: ratio {ratio:.2f} below the floor {FLOOR}")
            return 1 if args.strict else 0
        print("OK")
        return 0
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
