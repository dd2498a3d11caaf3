"""`flask --app wsgi worker`: renders queued jobs, at most FUNDSVC_RENDER_CONCURRENCY at once on the machine.

The bound holds across every process of the machine, requests' renders included: a render runs only while it
holds one of the machine's render slots (fundsvc.documents.slots: lock files under the documents cache, a killed
worker's slot is free at once). On SQLite a worker thread takes a slot before it claims a job, so a job waits in
the queue, not in a worker, until a slot is free.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from pathlib import Path

from flask import Flask
from sqlalchemy import make_url
from sqlalchemy.orm import Session

from fundsvc.documents.slots import slots_folder, waited_slot
from fundsvc.extensions import db
from fundsvc.jobs.queues import PROCRASTINATE_QUEUE, PROCRASTINATE_TASK, TableQueue
from fundsvc.jobs.service import jobs_dir, run, take

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _slots_folder() -> Path:
    return slots_folder(jobs_dir().parent)


def run_worker(app: Flask, concurrency: int | None = None, *, burst: bool = False, poll: float = 1.0) -> None:
    """Run the worker of the app's database until SIGTERM/SIGINT (with `burst`: until no job is left to take)."""
    concurrency = concurrency or app.config["RENDER_CONCURRENCY"]
    with app.app_context():
        dialect = db.engine.dialect.name
    if dialect == "postgresql":
        _run_procrastinate_worker(app, concurrency, burst=burst)
    else:
        _run_table_worker(app, concurrency, burst=burst, poll=poll)


def _run_table_worker(app: Flask, concurrency: int, *, burst: bool, poll: float) -> None:
    owner, queue, stop = worker_name(), TableQueue(), threading.Event()
    lease = app.config["JOB_LEASE_SECONDS"]
    slots = app.config["RENDER_CONCURRENCY"]

    def heartbeat() -> None:
        with app.app_context():
            while not stop.wait(lease / 3):
                with Session(db.engine) as session:
                    queue.renew(session, owner, lease)

    def work() -> None:
        with app.app_context():
            folder = _slots_folder()
            while not stop.is_set():
                with waited_slot(folder, slots, stop) as got:
                    if not got:
                        return
                    job_id = queue.claim(db.session, owner, lease)
                    if job_id is not None:
                        log.info("job %s taken by %s", job_id, owner)
                        try:
                            log.info("job %s: %s", job_id, run(db.session, job_id, owner))
                        finally:
                            db.session.remove()  # the next job reads the database afresh
                        continue
                db.session.remove()
                if burst or stop.wait(poll):
                    return

    _stop_on_signals(stop)
    beat = threading.Thread(target=heartbeat, name="job-leases", daemon=True)
    beat.start()
    workers = [threading.Thread(target=work, name=f"job-worker-{n}") for n in range(concurrency)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    stop.set()


def _stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM or SIGINT: take no new job, finish the renders in progress, then exit."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())


def procrastinate_app(app: Flask):
    """procrastinate's App on the service's database, with the task that renders a job."""
    import procrastinate

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    queue_app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=url.render_as_string(hide_password=False))
    )
    owner = worker_name()
    lease = app.config["JOB_LEASE_SECONDS"]
    never = threading.Event()

    @queue_app.task(name=PROCRASTINATE_TASK, queue=PROCRASTINATE_QUEUE)
    def render_document(job_id: int) -> None:
        with app.app_context(), waited_slot(_slots_folder(), app.config["RENDER_CONCURRENCY"], never):
            try:
                with Session(db.engine) as session, session.begin():
                    taken = take(session, job_id, owner, lease)
                if taken:
                    log.info("job %s: %s", job_id, run(db.session, job_id, owner))
            finally:
                db.session.remove()

    return queue_app


def _run_procrastinate_worker(app: Flask, concurrency: int, *, burst: bool) -> None:
    import asyncio

    queue_app = procrastinate_app(app)
    lease = app.config["JOB_LEASE_SECONDS"]

    async def sweep() -> None:
        """Hand the jobs of workers whose heartbeat stopped (killed) back to the queue."""
        while True:
            for job in await queue_app.job_manager.get_stalled_jobs(
                queue=PROCRASTINATE_QUEUE, seconds_since_heartbeat=lease
            ):
                log.warning("job %s of a stalled worker queued again", job.task_kwargs.get("job_id"))
                await queue_app.job_manager.retry_job(job)
            await asyncio.sleep(lease / 3)

    async def main() -> None:
        async with queue_app.open_async():
            sweeper = asyncio.create_task(sweep())
            try:
                await queue_app.run_worker_async(
                    queues=[PROCRASTINATE_QUEUE],
                    concurrency=concurrency,
                    wait=not burst,
                    update_heartbeat_interval=lease / 3,
                    stalled_worker_timeout=lease,
                )
            finally:
                sweeper.cancel()

    asyncio.run(main())
