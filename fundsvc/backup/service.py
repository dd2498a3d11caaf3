"""Make, verify and restore backups (README "Backups"): the steps common to both engines; each engine's own in
fundsvc.backup.sqlite and fundsvc.backup.postgres."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from sqlalchemy import URL, make_url

from fundsvc.backup import postgres, sqlite
from fundsvc.backup.archive import FORMAT, BackupError, extract_payload, read_manifest, sha256_of, write_archive
from fundsvc.backup.figures import differences

_ENGINES: dict[str, ModuleType] = {"sqlite": sqlite, "postgresql": postgres}
PREFIX, SUFFIX = "fundsvc-", ".backup"


@dataclass
class Created:
    path: Path
    manifest: dict
    removed: list[Path] = field(default_factory=list)


def _engine_of(url: URL) -> ModuleType:
    engine = _ENGINES.get(url.get_backend_name())
    if engine is None:
        raise BackupError(f"{url.get_backend_name()}: only SQLite and PostgreSQL databases are backed up")
    return engine


def backup_name(backend: str, at: datetime) -> str:
    """fundsvc-<engine>-<UTC instant>.backup: names sort in the order the backups were made."""
    return f"{PREFIX}{backend}-{at.strftime('%Y%m%dT%H%M%S.%fZ')}{SUFFIX}"


def create_backup(database_url: str, out_dir: Path, keep: int | None = None) -> Created:
    """Back the database up into a new file in `out_dir`; then, with `keep`, remove all but the `keep` newest
    backups there of the same engine."""
    url = make_url(database_url)
    engine = _engine_of(url)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix=".fundsvc-backup-", dir=out_dir) as work:
        payload, figures = engine.snapshot(url, Path(work))
        manifest = {
            "format": FORMAT,
            "engine": url.get_backend_name(),
            "database": url.render_as_string(hide_password=True),
            "started_at": started.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "payload": {"name": payload.name, "bytes": payload.stat().st_size, "sha256": sha256_of(payload)},
            "figures": figures,
        }
        path = out_dir / backup_name(url.get_backend_name(), started)
        write_archive(path, manifest, payload)
    if figures["series_gaps"]:
        # Kept all the same (a copy of damaged books beats none), but said loudly, and older backups are not pruned.
        raise BackupError(
            f"backup written to {path}, but the database itself breaks its series: " + "; ".join(figures["series_gaps"])
        )
    removed = prune(out_dir, keep, url.get_backend_name()) if keep else []
    return Created(path, manifest, removed)


def prune(out_dir: Path, keep: int, backend: str) -> list[Path]:
    """Remove all but the `keep` newest backups of `backend` in `out_dir`; the removed files."""
    if keep < 1:
        raise BackupError("--keep must keep at least one backup")
    backups = sorted(out_dir.glob(f"{PREFIX}{backend}-*{SUFFIX}"))
    removed = backups[:-keep]
    for path in removed:
        path.unlink()
    return removed


def _checked(path: Path, work: Path) -> tuple[dict, ModuleType, Path]:
    """The manifest, the engine and the payload (its checksum checked) of the backup file at `path`."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    manifest = read_manifest(path)
    engine = _ENGINES.get(manifest.get("engine"))
    if engine is None:
        raise BackupError(f"{path}: unknown engine {manifest.get('engine')!r}")
    return manifest, engine, extract_payload(path, manifest, work)


def _check_against(manifest: dict):
    def check(found: dict) -> None:
        problems = differences(manifest["figures"], found)
        if problems:
            raise BackupError("the copy is not what the manifest says: " + "; ".join(problems))

    return check


def _workdir(path: Path, purpose: str) -> tempfile.TemporaryDirectory:
    """A scratch directory for the payload and its copy: beside the backup file (a disk sized for backups) when it
    may be written there, else the system's temporary directory."""
    beside = path.parent if path.parent.is_dir() and os.access(path.parent, os.W_OK) else None
    return tempfile.TemporaryDirectory(prefix=f".fundsvc-{purpose}-", dir=beside)


def verify_backup(path: Path, scratch_url: str | None = None) -> dict:
    """Check a backup file: its payload's checksum, the integrity of the database it holds (SQLite's checks, or a
    whole restore into a scratch database on the PostgreSQL server of `scratch_url`), the manifest's figures
    recomputed from that copy, and gapless series. Returns the manifest; BackupError says what failed."""
    with _workdir(path, "verify") as work:
        manifest, engine, payload = _checked(path, Path(work))
        scratch = None
        if engine is postgres:
            if not scratch_url:
                raise BackupError("a PostgreSQL backup is verified by a restore: give a server (--scratch URL)")
            scratch = make_url(scratch_url)
            if scratch.get_backend_name() != "postgresql":
                raise BackupError(f"{scratch_url}: the scratch database of a PostgreSQL backup must be PostgreSQL")
        _check_against(manifest)(engine.verify_copy(payload, Path(work), scratch))
    return manifest


def restore_backup(path: Path, target_url: str) -> dict:
    """Restore a backup file into a new database at `target_url` and verify it there before answering; never into
    a database that holds anything. Returns the manifest."""
    target = make_url(target_url)
    with _workdir(path, "restore") as work:
        manifest, engine, payload = _checked(path, Path(work))
        if _engine_of(target) is not engine:
            raise BackupError(
                f"a {manifest['engine']} backup restores into a {manifest['engine']} database, "
                f"not {target.get_backend_name()}"
            )
        engine.restore(payload, target, Path(work), _check_against(manifest))
    return manifest
