"""The intake benchmark's baseline: the least a gapless-numbered POST can do on SQLite.

Per POST: parse the JSON body, BEGIN IMMEDIATE, take the next number from a counter row, insert one row,
COMMIT, answer 201 with the number. Same pragmas as the service (WAL, synchronous=FULL, busy_timeout).
Served by gunicorn exactly as the service is (`gunicorn -w 2 -k gthread --threads 4 … _baseline_app:app`, see
bench/intake.py) with BASELINE_DB=path; a connection per thread.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading

from flask import Flask, jsonify, request

SCHEMA = """
CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY, last_number INTEGER NOT NULL);
INSERT OR IGNORE INTO counter (id, last_number) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, number INTEGER NOT NULL UNIQUE, amount INTEGER NOT NULL,
                                 body TEXT NOT NULL);
"""

app = Flask(__name__)
_local = threading.local()
# Threads of one worker (gthread) take turns here rather than in SQLite's busy handler, which sleeps and retries.
_turn = threading.Lock()


def connection() -> sqlite3.Connection:
    """One connection per worker thread, opened on first use (after gunicorn forked)."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = sqlite3.connect(os.environ["BASELINE_DB"], isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
    return conn


def init_db(path: str) -> None:
    """Create the baseline's two tables."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(SCHEMA)
    conn.close()


@app.post("/api/v1/donations")
def post():
    data = request.get_json()
    conn = connection()
    with _turn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("UPDATE counter SET last_number = last_number + 1 WHERE id = 1")
            number = conn.execute("SELECT last_number FROM counter WHERE id = 1").fetchone()[0]
            conn.execute(
                "INSERT INTO rows (number, amount, body) VALUES (?, ?, ?)",
                (number, int(data["amount"]), json.dumps(data, ensure_ascii=False)),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return jsonify({"number": number}), 201


@app.get("/api/v1/health")
def health():
    return jsonify({"status": "ok"})
