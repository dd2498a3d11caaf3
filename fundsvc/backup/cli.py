"""`flask backup create | verify | restore` (README "Backups")."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from fundsvc.backup.archive import BackupError
from fundsvc.backup.service import create_backup, restore_backup, verify_backup

backup = AppGroup("backup", help="Back the database up, verify a backup, restore one into a new database.")


def _describe(manifest: dict) -> str:
    figures = manifest["figures"]
    rows = sum(figures["row_counts"].values())
    total = sum(line["total"] for line in figures["ledger"])
    return (
        f"{manifest['engine']} at revision {figures['schema_revision']}, {rows} rows, "
        f"{figures['row_counts'].get('ledger_entries', 0)} ledger entries totalling {total:,} đ, "
        f"{len(figures['series'])} document series, taken {manifest['started_at']}"
    )


def _database_url() -> str:
    """The service's database as its engine has it (Flask-SQLAlchemy puts a relative SQLite path in the instance
    folder)."""
    from fundsvc.extensions import db

    return db.engine.url.render_as_string(hide_password=False)


@backup.command("create")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of the backups (default: FUNDSVC_BACKUP_DIR, else instance/backups).",
)
@click.option("--keep", type=click.IntRange(min=1), default=None, help="Keep only the N newest backups there.")
@click.option("--verify", "then_verify", is_flag=True, help="Verify the new backup before answering.")
def create_command(out_dir, keep, then_verify):
    """Back the service's database up (consistent while gifts are recorded); prints the file's path last."""
    out_dir = out_dir or Path(current_app.config["BACKUP_DIR"] or Path(current_app.instance_path) / "backups")
    try:
        created = create_backup(_database_url(), out_dir, keep)
        if then_verify:
            verify_backup(created.path, _database_url())
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backed up {_describe(created.manifest)}: {created.path.stat().st_size:,} bytes")
    for path in created.removed:
        click.echo(f"Removed {path}")
    if then_verify:
        click.echo("Verified.")
    click.echo(str(created.path))


@backup.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--scratch",
    "scratch_url",
    default=None,
    help="PostgreSQL server to restore a PostgreSQL backup into (a scratch database made and dropped "
    "there); default: the service's database's server.",
)
def verify_command(file, scratch_url):
    """Check a backup: checksum, integrity, the manifest's figures recomputed from a restored copy, gapless series."""
    try:
        manifest = verify_backup(file, scratch_url or _database_url())
    except BackupError as error:
        raise click.ClickException(f"NOT verified: {error}") from error
    click.echo(f"Verified {file}: {_describe(manifest)}")


@backup.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--to",
    "target_url",
    required=True,
    help="SQLAlchemy URL of a new database (an SQLite file that does not exist yet, or an empty or "
    "not yet existing PostgreSQL database).",
)
def restore_command(file, target_url):
    """Restore a backup into a new database, and verify it there before saying so."""
    try:
        manifest = restore_backup(file, target_url)
    except BackupError as error:
        raise click.ClickException(f"NOT restored: {error}") from error
    click.echo(f"Restored and verified {_describe(manifest)}")
