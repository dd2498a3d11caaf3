"""The backup file: an uncompressed tar of two members, `manifest.json` (what the copy holds, and the checksum of
the payload) and the payload itself (SQLite: the database file compressed with zstandard; PostgreSQL: pg_dump's
custom format). One file, inspectable with `tar tvf`, written whole or not at all."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

FORMAT = "fundsvc-backup/1"
MANIFEST = "manifest.json"
_CHUNK = 1 << 20


class BackupError(Exception):
    """A backup that cannot be made, read, verified or restored; the message says why."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_archive(path: Path, manifest: dict, payload: Path) -> None:
    """Write the backup file at `path` (a `.partial` file renamed into place once synced, so an interrupted backup
    never looks like a finished one)."""
    partial = path.with_name(path.name + ".partial")
    body = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
    try:
        # Mode 0600: a backup holds every donor's personal data.
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(body), int(os.path.getmtime(payload)), 0o600
                tar.addfile(info, io.BytesIO(body))
                tar.add(payload, arcname=manifest["payload"]["name"])
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _open(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, mode="r:")
    except (OSError, tarfile.TarError) as error:
        raise BackupError(f"{path} is not a readable backup file: {error}") from error


def read_manifest(path: Path) -> dict:
    """The manifest of the backup file at `path`; BackupError when the file is not one."""
    with _open(path) as tar:
        try:
            member = tar.getmember(MANIFEST)
            manifest = json.loads(tar.extractfile(member).read())
        except (KeyError, ValueError, tarfile.TarError, OSError) as error:
            raise BackupError(f"{path}: no readable manifest ({error})") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: not a {FORMAT} file")
    return manifest


def extract_payload(path: Path, manifest: dict, into: Path) -> Path:
    """Copy the payload out of the backup file into the directory `into`, checking its size and SHA-256 against the
    manifest as it goes; BackupError (and nothing left behind) when they differ."""
    stated = manifest["payload"]
    target = into / Path(stated["name"]).name
    digest, size = hashlib.sha256(), 0
    with _open(path) as tar:
        try:
            source = tar.extractfile(tar.getmember(stated["name"]))
            with open(target, "wb") as out:
                while chunk := source.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
        except (KeyError, tarfile.TarError, OSError) as error:
            target.unlink(missing_ok=True)
            raise BackupError(f"{path}: the payload cannot be read ({error})") from error
    if size != stated["bytes"] or digest.hexdigest() != stated["sha256"]:
        target.unlink(missing_ok=True)
        raise BackupError(
            f"{path}: checksum mismatch: the payload is {size} bytes with SHA-256 {digest.hexdigest()}, the manifest "
            f"says {stated['bytes']} bytes with {stated['sha256']} (the file is damaged)"
        )
    return target
