"""Jobs: asking for a big document (one job per document, joined by identical requests), who may see a job, its
status, and running it (shared by both queues).

A job renders as the user who asked for it, and holds only what that user may read: its subtree (`unit_path`)
and, for ceremony documents, pupils' personal data when the user's role prints it (`personal`). Another user sees
the job only when the document holds nothing they could not read themselves: the job's subtree lies inside
theirs, they may print personal data if it does, and their role may ask for the kind.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fundsvc.auth.models import User
from fundsvc.auth.service import Actor, actor_for, require_role
from fundsvc.db import utcnow, write_transaction
from fundsvc.errors import DomainError, NotFound
from fundsvc.jobs.kinds import Kind, digest, kind_named
from fundsvc.jobs.models import LIVE_STATES, Job
from fundsvc.jobs.queues import queue_for

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3  # a job whose worker died this many times is failed, not handed to one more
PROGRESS_EVERY_SECONDS = 0.5  # a render's progress is written at most this often (each is a write transaction)


def jobs_dir() -> Path:
    """Where jobs' files are kept: <documents cache>/jobs (beside the ceremony documents' cache)."""
    from fundsvc.documents.ceremony_views import cache_dir

    return cache_dir() / "jobs"


def _stored(params: dict) -> dict:
    """The parameters as the job keeps them (JSON: dates as ISO text), without the ones left out."""
    # json, not orjson: an integer beyond 64 bits is the services' to refuse, in their words.
    return json.loads(json.dumps({k: v for k, v in params.items() if v is not None}, default=str))


def _kind(name: str) -> Kind:
    try:
        return kind_named(name)
    except KeyError:
        raise NotFound(f"Không có loại tài liệu {name!r} (unknown document)") from None


def submit(session: Session, actor: Actor, kind_name: str, params: dict) -> Job | None:
    """The job rendering this document when it has more rows than FUNDSVC_JOB_THRESHOLD, else None (the caller
    serves it inline). An identical document already queued, running or done is that job: one render for any
    number of requests. The job is queued in the same transaction that stores it."""
    kind = _kind(kind_name)
    require_role(actor, *kind.roles)
    params = _stored(params)
    identity = kind.identify(session, actor, params)
    if identity.rows <= current_app.config["JOB_THRESHOLD"]:
        return None
    document = digest(kind.name, params, actor.unit_path, identity.personal)
    key = digest(document, identity.material)
    for _attempt in range(2):
        try:
            return _join_or_queue(session, actor, kind, params, (document, key), identity)
        except IntegrityError:  # an identical request stored its job at the same moment: join it
            continue
    raise RuntimeError("the job's dedupe key is taken and free at once")  # pragma: no cover


def _join_or_queue(session: Session, actor: Actor, kind: Kind, params: dict, keys: tuple[str, str], identity) -> Job:
    document, key = keys
    with write_transaction(session):
        job = session.scalar(select(Job).where(Job.dedupe_key == key, Job.state.in_(LIVE_STATES)))
        if job is not None and job.state == "done" and not Path(job.result_path or "").is_file():
            job.state, job.error = "failed", "Tệp đã bị xoá, tài liệu được dựng lại (file removed, rendered again)"
            session.flush()
            job = None
        if job is None:
            job = Job(
                kind=kind.name,
                params=params,
                dedupe_key=key,
                document_key=document,
                state="queued",
                requested_by=actor.user_id,
                unit_path=actor.unit_path,
                personal=identity.personal,
                rows=identity.rows,
                filename=identity.filename,
                media_type=kind.media_type,
            )
            session.add(job)
            session.flush()
            queue_for(session).defer(session, job)
    return job


def may_see(actor: Actor, job: Job) -> bool:
    """Whether the job's document holds only what `actor` may read (see the module's docstring)."""
    if not actor.has_role(*_kind(job.kind).roles):
        return False
    if job.personal and not actor.sees_personal_data:
        return False
    return actor.unit_path is None or (job.unit_path is not None and job.unit_path.startswith(actor.unit_path))


def visible_job(session: Session, actor: Actor, job_id: int) -> Job:
    """A job the actor may see; 404 for any other (whether it exists is not told)."""
    job = session.get(Job, job_id)
    if job is None or not may_see(actor, job):
        raise NotFound("Không có công việc này (no such job)")
    return job


def job_file(session: Session, actor: Actor, job_id: int) -> Job:
    """A done job the actor may see, whose file is there; 409 while it is not done."""
    from fundsvc.errors import Conflict

    job = visible_job(session, actor, job_id)
    if job.state != "done":
        raise Conflict(f"Tài liệu chưa dựng xong (job is {job.state})")
    if not Path(job.result_path or "").is_file():
        raise NotFound("Tệp đã bị xoá, hãy yêu cầu lại tài liệu (file removed, ask for the document again)")
    return job


def percent(job: Job) -> int:
    if job.state == "done":
        return 100
    return min(99, 100 * job.progress_done // job.progress_total) if job.progress_total else 0


def queue_depth(session: Session | None = None) -> int:
    """Jobs waiting for a worker (queued, not yet taken): what the metrics endpoint reports as the queue depth."""
    if session is None:
        from fundsvc.extensions import db

        session = db.session
    return session.scalar(select(func.count()).select_from(Job).where(Job.state == "queued"))


# ---------------------------------------------------------------------------------------------------------
# Running a job: the same steps whichever queue handed it over.


def take(session: Session, job_id: int, owner: str, lease_seconds: float) -> bool:
    """Mark the job running under `owner` with a fresh lease (one more attempt); False when it is already over, or
    when its workers died MAX_ATTEMPTS times (it is failed then, not handed to one more). Call inside a write
    transaction."""
    now = utcnow()
    live = (Job.id == job_id, Job.state.in_(("queued", "running")))
    given_up = session.execute(
        update(Job)
        .where(*live, Job.attempts >= MAX_ATTEMPTS)
        .values(
            state="failed",
            finished_at=now,
            error=f"Máy dựng tài liệu dừng giữa chừng {MAX_ATTEMPTS} lần (its worker died {MAX_ATTEMPTS} times)",
        )
    )
    if given_up.rowcount:
        return False
    taken = session.execute(
        update(Job)
        .where(*live)
        .values(
            state="running",
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=Job.attempts + 1,
            started_at=now,
            progress_done=0,
        )
    )
    return taken.rowcount == 1


def _set(engine, job_id: int, owner: str, **values) -> bool:
    """Update the job while `owner` holds it (a worker whose lease was taken over changes nothing)."""
    with Session(engine) as session, write_transaction(session):
        changed = session.execute(
            update(Job).where(Job.id == job_id, Job.lease_owner == owner, Job.state == "running").values(**values)
        )
        return changed.rowcount == 1


class _ProgressWriter:
    """progress(done, total) for a render: written at most every PROGRESS_EVERY_SECONDS, and at the end."""

    def __init__(self, engine, job_id: int, owner: str):
        self.engine, self.job_id, self.owner, self.last = engine, job_id, owner, 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < PROGRESS_EVERY_SECONDS:
            return
        self.last = now
        _set(self.engine, self.job_id, self.owner, progress_done=done, progress_total=total)


def run(session: Session, job_id: int, owner: str) -> str:
    """Render a job taken by `owner` into its file and mark it done (or failed); returns its final state.

    The file is written beside its place and renamed into it, so it is whole or absent; a worker killed midway
    leaves the job running with a lease that runs out, and the worker taking it over renders the same bytes.
    """
    engine = session.get_bind()
    job = session.get(Job, job_id)
    kind = kind_named(job.kind)
    user = session.get(User, job.requested_by)
    if user is None or not user.active:
        _set(engine, job_id, owner, state="failed", error="Người yêu cầu không còn hoạt động (requester inactive)")
        return "failed"
    actor, params, document_key = actor_for(user), dict(job.params), job.document_key
    folder = jobs_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{job.dedupe_key[:40]}{Path(job.filename).suffix}"
    session.rollback()  # nothing of this session is held through the render
    # What a worker killed during this job left half-written goes; the new file is written beside its place.
    for stale in folder.glob(f".tmp-{job_id}-*"):
        stale.unlink(missing_ok=True)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".tmp-{job_id}-")
    try:
        with os.fdopen(fd, "wb") as out:
            kind.render(session, actor, params, out, _ProgressWriter(engine, job_id, owner))
        os.replace(temporary, target)
    except DomainError as error:
        Path(temporary).unlink(missing_ok=True)
        _set(engine, job_id, owner, state="failed", error=error.message[:1000], finished_at=utcnow())
        return "failed"
    except Exception as error:
        Path(temporary).unlink(missing_ok=True)
        log.exception("job %s (%s) failed", job_id, job.kind)
        message = f"Lỗi khi dựng tài liệu (render failed: {type(error).__name__})"
        _set(engine, job_id, owner, state="failed", error=message, finished_at=utcnow())
        return "failed"
    finally:
        session.rollback()
    done = _set(
        engine,
        job_id,
        owner,
        state="done",
        result_path=str(target),
        finished_at=utcnow(),
        progress_done=Job.progress_total,
    )
    if done:
        _drop_older_versions(engine, document_key, target)
    return "done" if done else "taken over"


def _drop_older_versions(engine, document_key: str, kept: Path) -> None:
    """Delete the files of the document's older versions (the data changed since): their jobs then answer that
    the file is gone, and asking for the document again makes it anew."""
    with Session(engine) as session:
        paths = session.scalars(
            select(Job.result_path).where(Job.document_key == document_key, Job.state == "done")
        ).all()
    for path in {p for p in paths if p and Path(p) != kept}:
        Path(path).unlink(missing_ok=True)
