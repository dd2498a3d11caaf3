"""`flask documents …`: ceremony documents of a round written to a file, with a progress bar."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from fundsvc.extensions import db

documents = AppGroup("documents", help="Render a round's ceremony documents to files.")


def write_document(
    round_id: int,
    kind: str,
    out: Path,
    *,
    unit: str | None = None,
    school: str | None = None,
    workers: int | None = None,
    use_cache: bool = True,
    show_progress: bool = True,
) -> dict:
    """Render one ceremony document (as the system user) into `out`; returns {"bytes", "cached", "path"}."""
    from fundsvc.auth.service import SYSTEM
    from fundsvc.documents import ceremony_service as service
    from fundsvc.documents.service import DocumentSettings
    from fundsvc.organisation.service import organisation_config

    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if not show_progress:
            return
        if bar is None:
            bar = click.progressbar(
                length=total, label=f"{kind} (đợt {round_id})", file=click.get_text_stream("stderr")
            )
            bar.__enter__()
        bar.update(done - bar.pos)

    cache_dir = None
    if use_cache:
        cache_dir = Path(current_app.config.get("DOCUMENTS_CACHE_DIR") or Path(current_app.instance_path) / "documents")
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written next to `out` and renamed at the end: a failed render leaves no half-written file behind. The
    # document streams from the renderer (or the cache) into the file; it is never held in memory whole.
    # (A plain open(), not mkstemp: the file gets the usual permissions, not 0600.)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            document = service.ceremony_document(
                db.session,
                SYSTEM,
                round_id,
                kind,
                DocumentSettings.from_config(organisation_config(db.session, current_app.config)),
                cache_dir,
                unit=unit,
                school=school,
                progress=progress,
                workers=workers,
                out=f,
            )
            size = f.tell()
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    return {"bytes": size, "cached": document.cached, "path": str(out)}


def _command(kind: str, help_text: str):
    @click.argument("round_id", type=int)
    @click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="File to write.")
    @click.option("--unit", default=None, help="Only this unit's subtree (unit code).")
    @click.option("--school", default=None, help="Only this school.")
    @click.option("--workers", default=None, type=int, help="Rendering processes (default: one per core).")
    @click.option("--no-cache", is_flag=True, help="Render again even when a cached copy is current.")
    def command(round_id, out, unit, school, workers, no_cache):
        from fundsvc.errors import DomainError

        try:
            result = write_document(
                round_id, kind, out, unit=unit, school=school, workers=workers, use_cache=not no_cache
            )
        except DomainError as error:
            raise click.ClickException(error.message) from error
        click.echo(f"{result['path']}: {result['bytes']:,} bytes{' (cached)' if result['cached'] else ''}")

    command.__doc__ = help_text
    return documents.command(kind)(command)


_command("award-list", "The award list PDF of an approved round.")
_command("signature-sheet", "The signature sheet PDF (a page group per school).")
_command("certificates", "One certificate per award (A5 landscape PDF).")
_command("award-list-xlsx", "The award list as an .xlsx workbook.")
_command("award-list-csv", "The award list as .csv (UTF-8 with BOM).")
