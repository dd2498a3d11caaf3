"""Backups of a PostgreSQL database: `pg_dump` in its custom format, its figures read in the very snapshot it dumps.

The backup opens a REPEATABLE READ transaction, exports its snapshot, reads the manifest's figures in it and runs
`pg_dump --snapshot` on it: the figures and the dump are the same instant of the database, while writers go on.
The client programs are Debian's (`/usr/lib/postgresql/<version>/bin`, the newest), or those on PATH, or those in
FUNDSVC_PG_BINDIR; they must be of the server's major version or newer."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import URL, create_engine, text
from sqlalchemy.exc import OperationalError

from fundsvc.backup.archive import BackupError
from fundsvc.backup.figures import read_figures

PAYLOAD_NAME = "database.pgdump"
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-]{1,63}")
# Relations in a database beyond PostgreSQL's own: a database holding any is not a new one.
_USER_RELATIONS = text(
    "SELECT COUNT(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
)


def program(name: str) -> Path:
    """The PostgreSQL client or server program `name` (pg_dump, pg_restore, initdb…)."""
    bindir = os.environ.get("FUNDSVC_PG_BINDIR")
    candidates = [Path(bindir) / name] if bindir else []
    candidates += [Path(p) for p in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version, reverse=True)]
    found = shutil.which(name)
    candidates += [Path(found)] if found else []
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise BackupError(f"{name} not found: install Debian's postgresql-client package or set FUNDSVC_PG_BINDIR")


def _version(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


def _run(name: str, url: URL, *args: str) -> None:
    """Run a client program against the database of `url` (its password in the environment, not on the command
    line, where every user of the machine could read it); BackupError with its message when it fails."""
    env = {**os.environ}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    done = subprocess.run(
        [str(program(name)), f"--dbname={conninfo}", *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def snapshot(url: URL, workdir: Path) -> tuple[Path, dict]:
    """pg_dump of the database at one instant, and the figures of that same instant; (payload, figures)."""
    payload = workdir / PAYLOAD_NAME
    engine = create_engine(url, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as connection:
            connection.execute(text("SET TRANSACTION READ ONLY"))
            snapshot_id = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            figures = read_figures(connection)
            # The exported snapshot lives while this transaction does: pg_dump runs inside it.
            _run("pg_dump", url, "--format=custom", f"--snapshot={snapshot_id}", f"--file={payload}")
            connection.rollback()
    except OperationalError as error:
        raise BackupError(f"the database cannot be read: {error.orig}") from error
    finally:
        engine.dispose()
    return payload, figures


def _on_server(url: URL, statement: str) -> None:
    """CREATE or DROP DATABASE, run from the server's maintenance database."""
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def _user_relations(url: URL) -> int | None:
    """How many relations the database holds beyond PostgreSQL's own; None when there is no such database."""
    server = create_engine(url.set(database="postgres"))
    try:
        with server.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            ).first()
    except OperationalError as error:
        raise BackupError(f"{url.render_as_string()}: cannot connect to the server ({error.orig})") from error
    finally:
        server.dispose()
    if exists is None:
        return None
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(_USER_RELATIONS).scalar_one()
    except OperationalError as error:
        raise BackupError(f"{url.render_as_string()}: cannot connect ({error.orig})") from error
    finally:
        engine.dispose()


def _figures_at(url: URL) -> dict:
    engine = create_engine(url, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as connection:
            return read_figures(connection)
    finally:
        engine.dispose()


def _pg_restore(payload: Path, url: URL) -> None:
    _run("pg_restore", url, "--exit-on-error", "--single-transaction", "--no-owner", "--no-acl", str(payload))


def verify_copy(payload: Path, _workdir: Path, scratch_url: URL) -> dict:
    """Restore the payload into a scratch database made for it on the server of `scratch_url` (dropped after) and
    read its figures there."""
    scratch = scratch_url.set(database=f"fundsvc_verify_{uuid.uuid4().hex[:12]}")
    _on_server(scratch, f'CREATE DATABASE "{scratch.database}" TEMPLATE template0')
    try:
        _pg_restore(payload, scratch)
        return _figures_at(scratch)
    finally:
        _on_server(scratch, f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)')


def restore(payload: Path, target_url: URL, _workdir: Path, check: Callable[[dict], None]) -> dict:
    """Restore into the target database (made when it does not exist; refused when it holds anything), in one
    transaction, then check its figures (`check` raises when they are not the manifest's; a database this restore
    made is then dropped again)."""
    if not _PLAIN_NAME.fullmatch(target_url.database or ""):
        raise BackupError(f"{target_url.database!r}: a target database is named with letters, digits, _ and - only")
    relations = _user_relations(target_url)
    if relations:
        raise BackupError(
            f"database {target_url.database} holds {relations} relations: a backup is only restored into a new database"
        )
    created = relations is None
    if created:
        _on_server(target_url, f'CREATE DATABASE "{target_url.database}" TEMPLATE template0')
    try:
        _pg_restore(payload, target_url)
        figures = _figures_at(target_url)
        check(figures)
    except BaseException:
        if created:
            _on_server(target_url, f'DROP DATABASE IF EXISTS "{target_url.database}" WITH (FORCE)')
        raise
    return figures
