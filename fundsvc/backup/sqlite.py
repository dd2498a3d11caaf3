"""Backups of an SQLite database: a snapshot by SQLite's online backup API, compressed with zstandard.

The online backup copies the database page by page inside one read transaction of its own: in WAL mode writers go
on meanwhile (a reader never blocks them), and the copy is the database as it was at one instant, every gift
committed before it and nothing half-written."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import zstandard
from sqlalchemy import URL, Connection, create_engine

from fundsvc.backup.archive import BackupError
from fundsvc.backup.figures import read_figures

PAYLOAD_NAME = "database.sqlite3.zst"
# zstandard's level 3 (its default): several times smaller than the file, at hundreds of MB a second on one core.
_LEVEL = 3
_CHUNK = 1 << 20


def database_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(f"{url.render_as_string()}: only an SQLite database file can be backed up")
    return Path(url.database).resolve()


def snapshot(url: URL, workdir: Path) -> tuple[Path, dict]:
    """Copy the live database at one instant, read its figures from the copy, compress it; (payload, figures)."""
    source_path = database_path(url)
    if not source_path.is_file():
        raise BackupError(f"{source_path}: no such database file")
    copy = workdir / "snapshot.sqlite3"
    source = sqlite3.connect(source_path, timeout=30)
    try:
        target = sqlite3.connect(copy)
        try:
            source.backup(target)  # every page in one step: one read transaction, one instant
        finally:
            target.close()
    finally:
        source.close()
    figures = figures_of(copy, checked=False)
    payload = workdir / PAYLOAD_NAME
    with open(copy, "rb") as raw, open(payload, "wb") as out:
        zstandard.ZstdCompressor(level=_LEVEL).copy_stream(raw, out, read_size=_CHUNK, write_size=_CHUNK)
    copy.unlink()
    return payload, figures


def figures_of(path: Path, *, checked: bool = True) -> dict:
    """The manifest's figures of the database file at `path`, after SQLite's own integrity and foreign key checks
    (BackupError naming what they found), unless `checked` is False: for the fresh snapshot of a backup, whose
    checks (most of a verify's time) are verify's to make."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            if checked:
                _check_integrity(connection)
            return read_figures(connection)
    except BackupError:
        raise
    except Exception as error:  # a damaged file: sqlite3.DatabaseError ("file is not a database", "malformed")
        raise BackupError(f"the database copy cannot be read: {error}") from error
    finally:
        engine.dispose()


def _check_integrity(connection: Connection) -> None:
    integrity = [row[0] for row in connection.exec_driver_sql("PRAGMA integrity_check")]
    if integrity != ["ok"]:
        raise BackupError(f"integrity check failed: {'; '.join(integrity[:5])}")
    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchmany(5)
    if dangling:
        raise BackupError(f"foreign key check failed: rows pointing nowhere in {sorted({r[0] for r in dangling})}")


def _decompress(payload: Path, target: Path) -> None:
    try:
        with open(payload, "rb") as raw, open(target, "wb") as out:
            zstandard.ZstdDecompressor().copy_stream(raw, out, read_size=_CHUNK, write_size=_CHUNK)
            out.flush()
            os.fsync(out.fileno())
    except zstandard.ZstdError as error:
        target.unlink(missing_ok=True)
        raise BackupError(f"the compressed database cannot be decompressed: {error}") from error


def verify_copy(payload: Path, workdir: Path, _scratch_url: str | None = None) -> dict:
    """Decompress the payload into `workdir` and read its figures there (after the integrity checks)."""
    copy = workdir / "verify.sqlite3"
    _decompress(payload, copy)
    try:
        return figures_of(copy)
    finally:
        copy.unlink(missing_ok=True)


def restore(payload: Path, target_url: URL, _workdir: Path, check: Callable[[dict], None]) -> dict:
    """Decompress the payload beside the target file, check it (`check(figures)` raises when they are not the
    manifest's), then give it the target's name; the target must not exist (or be an empty file)."""
    target = database_path(target_url)
    _refuse_existing(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.restoring-{os.getpid()}")
    _decompress(payload, staged)
    try:
        figures = figures_of(staged)
        check(figures)
        _refuse_existing(target)  # nobody made it meanwhile
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    return figures


def _refuse_existing(target: Path) -> None:
    for path in (target, Path(f"{target}-wal")):
        if path.exists() and path.stat().st_size > 0:
            raise BackupError(f"{path} exists and is not empty: a backup is only restored into a new database")
