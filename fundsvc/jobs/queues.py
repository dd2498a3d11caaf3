"""The two queues behind one interface: `defer(session, job)` in the request's transaction, and a worker loop.

- SQLite (the embedded default): the jobs table is the queue. A worker claims the oldest queued job, or a running
  one whose lease ran out, in one write transaction (SQLite has one writer at a time, so two workers never claim
  the same job); it renews its leases while it renders. A worker killed with SIGKILL renews nothing: its lease runs
  out and another worker claims the job again.
- PostgreSQL: procrastinate (pinned in requirements.txt). A request defers the procrastinate job by calling the
  SQL function of procrastinate's schema, `procrastinate_defer_jobs_v1`, on its own SQLAlchemy connection: the
  job and its row in `jobs` are committed together or not at all. Workers on any machine run procrastinate's
  worker; one whose heartbeat stops (killed) leaves jobs that the other workers' sweep hands back to the queue.
"""

from __future__ import annotations

from datetime import timedelta

import orjson
from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.orm import Session

from fundsvc.db import utcnow, write_transaction
from fundsvc.jobs.models import Job

PROCRASTINATE_QUEUE = "fundsvc-documents"
PROCRASTINATE_TASK = "fundsvc.render_document"


def owned_by_the_queue(name: str | None, type_: str, _parent_names) -> bool:
    """Alembic's include_name: procrastinate's own tables are made by its schema, not by our models."""
    return not (type_ == "table" and name and name.startswith("procrastinate_"))


class TableQueue:
    """The jobs table as the queue (SQLite)."""

    name = "table"

    def defer(self, session: Session, job: Job) -> None:
        """Nothing to add: the queued row is the queue."""

    def claim(self, session: Session, owner: str, lease_seconds: float) -> int | None:
        """Take the oldest job waiting (queued, or running with its lease run out); its id, or None."""
        from fundsvc.jobs.service import take

        while True:
            now = utcnow()
            with write_transaction(session):
                candidate = session.scalar(
                    select(Job.id)
                    .where(
                        or_(Job.state == "queued", and_(Job.state == "running", Job.lease_expires_at < now)),
                    )
                    .order_by(Job.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
                if candidate is None:
                    return None
                if take(session, candidate, owner, lease_seconds):
                    return candidate

    def renew(self, session: Session, owner: str, lease_seconds: float) -> None:
        """Extend the leases of every job `owner` is rendering."""
        with write_transaction(session):
            session.execute(
                update(Job)
                .where(Job.lease_owner == owner, Job.state == "running")
                .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
            )


class ProcrastinateQueue:
    """procrastinate's queue (PostgreSQL)."""

    name = "procrastinate"

    def defer(self, session: Session, job: Job) -> None:
        """Defer procrastinate's job on the request's own connection, inside its transaction."""
        ids = session.execute(
            text(
                "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, NULL, NULL, CAST(:args AS jsonb), "
                "NULL)::procrastinate_job_to_defer_v1])"
            ),
            {
                "queue": PROCRASTINATE_QUEUE,
                "task": PROCRASTINATE_TASK,
                "args": orjson.dumps({"job_id": job.id}).decode(),
            },
        ).scalar_one()
        job.queue_ref = ids[0]


def queue_for(session: Session) -> TableQueue | ProcrastinateQueue:
    """The queue of the session's database."""
    return ProcrastinateQueue() if session.get_bind().dialect.name == "postgresql" else TableQueue()
