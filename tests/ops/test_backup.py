"""Backups proven by restoring them, on SQLite and on PostgreSQL: made while gifts keep being recorded by several
processes, the restored database holds every gift acknowledged before the backup began, gapless, with the ledger
sums of its manifest; a damaged backup fails verify and restore; retention; a restore never overwrites."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from fundsvc.backup.archive import BackupError, extract_payload, read_manifest, sha256_of, write_archive
from fundsvc.backup.figures import series_gaps
from fundsvc.backup.service import create_backup, restore_backup, verify_backup
from tests.spine.gunicorn_helpers import MP, ROOT, ClientProcesses, Gunicorn, gift, make_token, read_book

UNIT, YEAR = "ST-TP-P2", 2024
FLASK = Path(sys.executable).parent / "flask"


def new_target(engine_url: str, tmp_path: Path, name: str = "restored") -> str:
    """The URL of a database that does not exist yet, on the engine (and server) of `engine_url`."""
    url = make_url(engine_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{tmp_path / (name + '.sqlite3')}"
    return url.set(database=f"{name}_{os.getpid()}_{time.monotonic_ns()}").render_as_string(hide_password=False)


def flask(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "FUNDSVC_DATABASE_URL": database_url, "FUNDSVC_SECRET_KEY": "test"}
    return subprocess.run(
        [str(FLASK), "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def keep_giving(base: str, token: str, client: int, stop) -> list[tuple[float, int, int, int]]:
    """One client posting gifts until `stop` is set: (acknowledged at, donation id, receipt number, amount)."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    answers, i = [], 0
    while not stop.is_set():
        i += 1
        amount = 1_000 * (client * 100_000 + i)
        response = session.post(f"{base}/api/v1/donations", json=gift(UNIT, amount, name=f"Khách {client}-{i}"))
        assert response.status_code == 201, response.text
        body = response.json()
        answers.append((time.time(), body["id"], body["receipt"]["number"], amount))
    return answers


def database_exists(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return Path(parsed.database).exists()
    engine = create_engine(parsed.set(database="postgres"))
    try:
        with engine.connect() as conn:
            return (
                conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}).first()
                is not None
            )
    finally:
        engine.dispose()


def stored_gifts(url: str) -> dict[int, tuple[int, int]]:
    """donation id → (receipt number, amount), read straight from the database."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT d.id, r.number, d.amount FROM donations d JOIN receipts r ON r.donation_id = d.id")
            )
            return {donation_id: (number, amount) for donation_id, number, amount in rows}
    finally:
        engine.dispose()


def ledger_sums(url: str) -> list[dict]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT f.code, e.account_id, COUNT(*), SUM(e.amount) FROM ledger_entries e "
                    "JOIN funds f ON f.id = e.fund_id GROUP BY f.code, e.account_id ORDER BY f.code, e.account_id"
                )
            )
            return [{"fund": f, "account_id": a, "entries": n, "total": int(t)} for f, a, n, t in rows]
    finally:
        engine.dispose()


@pytest.mark.slow
def test_backup_while_processes_record_gifts_restores_every_acknowledged_gift(engine_url, tmp_path):
    token = make_token(engine_url, "treasurer", "ST-TP")
    stop = MP.Event()
    with Gunicorn(
        engine_url, tmp_path / "gunicorn.log", workers=2, extra_args=("-k", "gthread", "--threads", "2")
    ) as server:
        clients = ClientProcesses(keep_giving, [(server.base, token, c, stop) for c in range(3)]).start()
        time.sleep(1.5)  # gifts flowing from every client
        began = time.time()
        made = flask(engine_url, "backup", "create", "--out", str(tmp_path / "backups"))
        ended = time.time()
        time.sleep(0.5)
        stop.set()
        answers = [a for client in clients.results() for a in client]
    assert made.returncode == 0, made.stderr
    backup = Path(made.stdout.strip().splitlines()[-1])
    assert sum(began <= at <= ended for at, *_ in answers) > 0, "no gift was recorded while the backup ran"

    target = new_target(engine_url, tmp_path)
    restored = flask(engine_url, "backup", "restore", str(backup), "--to", target)
    assert restored.returncode == 0, restored.stderr
    assert "Restored and verified" in restored.stdout

    in_copy = stored_gifts(target)
    before = {donation_id: (number, amount) for at, donation_id, number, amount in answers if at < began}
    assert before and all(in_copy.get(donation_id) == kept for donation_id, kept in before.items())
    # Nothing the live database does not hold, and the copy's series is gapless.
    live = stored_gifts(engine_url)
    assert all(live[donation_id] == kept for donation_id, kept in in_copy.items())
    assert read_book(target, UNIT, YEAR).numbers == list(range(1, len(in_copy) + 1))
    manifest = read_manifest(backup)
    assert ledger_sums(target) == manifest["figures"]["ledger"]
    assert manifest["figures"]["row_counts"]["donations"] == len(in_copy)


def _made_backup(app, make_api, engine_url: str, out: Path) -> Path:
    api = make_api(app, "treasurer", "ST-TP")
    for amount in (100_000, 250_000, 75_000):
        assert api.post("/api/v1/donations", json=gift(UNIT, amount)).status_code == 201
    return create_backup(engine_url, out).path


def _flip_a_payload_byte(path: Path) -> None:
    with tarfile.open(path) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith("database"))
    with open(path, "r+b") as file:
        file.seek(member.offset_data + member.size // 2)
        byte = file.read(1)
        file.seek(-1, os.SEEK_CUR)
        file.write(bytes([byte[0] ^ 0xFF]))


def test_a_corrupted_backup_fails_verify_and_restore(any_app, make_api, engine_url, tmp_path):
    path = _made_backup(any_app, make_api, engine_url, tmp_path / "b")
    runner = any_app.test_cli_runner()
    assert runner.invoke(args=["backup", "verify", str(path)]).exit_code == 0
    _flip_a_payload_byte(path)

    verified = runner.invoke(args=["backup", "verify", str(path)])
    assert verified.exit_code != 0 and "checksum mismatch" in verified.output
    target = new_target(engine_url, tmp_path)
    restored = runner.invoke(args=["backup", "restore", str(path), "--to", target])
    assert restored.exit_code != 0 and "NOT restored" in restored.output
    assert not database_exists(target)


def test_verify_recomputes_the_manifest_figures(any_app, make_api, engine_url, tmp_path):
    """A manifest whose ledger total is not the copy's fails verify (and restore), though the checksum is right."""
    path = _made_backup(any_app, make_api, engine_url, tmp_path / "b")
    manifest = read_manifest(path)
    manifest["figures"]["ledger"][0]["total"] += 1_000
    payload = extract_payload(path, manifest, tmp_path)
    forged = tmp_path / "forged.backup"
    write_archive(forged, manifest, payload)

    with pytest.raises(BackupError, match="ledger"):
        verify_backup(forged, engine_url)
    with pytest.raises(BackupError, match="ledger"):
        restore_backup(forged, new_target(engine_url, tmp_path))


def test_restore_refuses_a_database_that_holds_anything(any_app, make_api, engine_url, tmp_path):
    path = _made_backup(any_app, make_api, engine_url, tmp_path / "b")
    before = stored_gifts(engine_url)
    with pytest.raises(BackupError, match="new database"):
        restore_backup(path, engine_url)
    assert stored_gifts(engine_url) == before


def test_keep_leaves_the_newest_backups(app, make_api, database_url, tmp_path):
    out = tmp_path / "b"
    made = [create_backup(database_url, out, keep=2) for _ in range(3)]
    assert sorted(out.glob("*.backup")) == [made[1].path, made[2].path]
    assert made[2].removed == [made[0].path]
    manifest = json.loads(json.dumps(read_manifest(made[2].path)))
    assert manifest["payload"]["sha256"] and manifest["figures"]["schema_revision"]
    assert oct(made[2].path.stat().st_mode & 0o777) == "0o600"


def test_series_gaps_name_what_is_missing_doubled_or_beyond():
    series = [{"unit": "ST-TP-P2", "kind": "receipt", "year": 2024, "last_number": 3}]
    whole = ["ST-TP-P2/2024/00001", "ST-TP-P2/2024/00002", "ST-TP-P2/2024/00003"]
    assert series_gaps(series, whole) == []
    assert series_gaps(series, whole[:1] + whole[2:]) == [
        "series receipt ST-TP-P2/2024: 1 missing (ST-TP-P2/2024/00002)"
    ]
    assert "stored more than once" in series_gaps(series, [*whole, whole[0]])[0]
    assert "beyond" in series_gaps(series, [*whole, "ST-TP-P2/2024/00004"])[0]
    # Another kind's series of the same unit is not this one's.
    assert "beyond" in series_gaps(series, [*whole, "XN-ST-TP-P2/2024/00001"])[0]


def test_verify_finds_a_damaged_sqlite_database_behind_a_right_checksum(app, make_api, database_url, tmp_path):
    """The checksum only proves the file is what was written: the database in it is checked by SQLite itself."""
    import zstandard

    path = _made_backup(app, make_api, database_url, tmp_path / "b")
    manifest = read_manifest(path)
    payload = extract_payload(path, manifest, tmp_path)
    database = bytearray(zstandard.ZstdDecompressor().decompressobj().decompress(payload.read_bytes()))
    page = 4096
    database[3 * page : 4 * page] = b"\xa5" * page  # one page of a table overwritten
    payload.write_bytes(zstandard.ZstdCompressor().compress(bytes(database)))
    manifest["payload"] = {"name": payload.name, "bytes": payload.stat().st_size, "sha256": sha256_of(payload)}
    damaged = tmp_path / "damaged.backup"
    write_archive(damaged, manifest, payload)

    with pytest.raises(BackupError, match=r"integrity|cannot be read|malformed") as failed:
        verify_backup(damaged)
    assert "checksum" not in str(failed.value)


def test_books_with_a_gap_are_backed_up_all_the_same_and_said_so(app, make_api, database_url, tmp_path):
    path = _made_backup(app, make_api, database_url, tmp_path / "first")
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM receipts WHERE number = 2"))
    engine.dispose()

    with pytest.raises(BackupError, match="breaks its series") as failed:
        create_backup(database_url, tmp_path / "b", keep=1)
    assert "missing (ST-TP-P2/2024/00002)" in str(failed.value)
    (written,) = (tmp_path / "b").glob("*.backup")
    with pytest.raises(BackupError, match="gap: series receipt ST-TP-P2/2024"):
        verify_backup(written)
    verify_backup(path)  # the backup made before the damage is still whole


def test_the_create_command_verifies_and_keeps_what_it_is_told(any_app, make_api, tmp_path):
    api = make_api(any_app, "treasurer", "ST-TP")
    assert api.post("/api/v1/donations", json=gift(UNIT, 90_000)).status_code == 201
    runner = any_app.test_cli_runner()
    out = tmp_path / "nightly"
    for _ in range(2):
        made = runner.invoke(args=["backup", "create", "--out", str(out), "--keep", "1", "--verify"])
        assert made.exit_code == 0, made.output
        assert "Verified." in made.output and "1 ledger entries totalling 90,000 đ" in made.output
    (kept,) = out.glob("*.backup")
    assert made.output.strip().splitlines()[-1] == str(kept)
    assert runner.invoke(args=["backup", "create", "--keep", "0", "--out", str(out)]).exit_code != 0
