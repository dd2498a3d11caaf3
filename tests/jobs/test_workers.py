"""Worker processes (`flask --app wsgi worker`), on both engines: a worker killed with SIGKILL mid-render leaves
a job that another worker finishes with the same bytes; at most FUNDSVC_RENDER_CONCURRENCY renders at once on
the machine, whatever the number of workers."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from sqlalchemy import select

from fundsvc.documents.slots import waited_slot
from fundsvc.extensions import db
from fundsvc.jobs.models import Job
from tests.ceremony.conftest import make_round
from tests.jobs.conftest import job_config, pupils
from tests.jobs.test_jobs_api import committee_actor, fresh_render

ROOT = Path(__file__).resolve().parents[2]


def start_worker(app, *args: str) -> subprocess.Popen:
    """A worker process on the test's database, in a process group of its own (its render pool with it)."""
    env = {
        **os.environ,
        "FUNDSVC_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "FUNDSVC_DOCUMENTS_CACHE_DIR": app.config["DOCUMENTS_CACHE_DIR"],
        "FUNDSVC_JOB_LEASE_SECONDS": str(app.config["JOB_LEASE_SECONDS"]),
        "FUNDSVC_RENDER_CONCURRENCY": str(app.config["RENDER_CONCURRENCY"]),
        "FUNDSVC_SECRET_KEY": "test",
    }
    return subprocess.Popen(
        [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "worker", *args],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def jobs_now() -> list[Job]:
    db.session.rollback()
    db.session.expire_all()
    return list(db.session.scalars(select(Job).order_by(Job.id)))


def wait_for(condition, seconds: float = 180, what: str = "the jobs"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition(jobs_now())
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"waited {seconds} s for {what}: {[(j.id, j.state, j.progress_done) for j in jobs_now()]}")


def test_a_worker_killed_mid_render_leaves_a_job_another_worker_finishes_with_the_same_bytes(
    any_app, tmp_path, make_api
):
    job_config(any_app, tmp_path, RENDER_CONCURRENCY=2)
    round_id = make_round(db.session, pupils(600)).id
    api = make_api(any_app, "committee", username="hoidong")
    job_id = api.get(f"/api/v1/rounds/{round_id}/certificates.pdf").get_json()["id"]

    first = start_worker(any_app, "--concurrency", "1")
    try:
        wait_for(lambda jobs: jobs[0].state == "running" and jobs[0].progress_done >= 2, what="a render midway")
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the worker and its render processes, at once
        first.wait()
    (job,) = jobs_now()
    assert job.state == "running" and job.attempts == 1  # left behind, its lease still running out

    second = start_worker(any_app, "--concurrency", "1")
    try:
        (job,) = wait_for(lambda jobs: jobs if jobs[0].state in ("done", "failed") else None, what="the second worker")
    finally:
        stop(second)
    assert job.state == "done", job.error
    assert job.attempts == 2
    pdf = api.get(f"/api/v1/jobs/{job_id}/file")
    assert pdf.status_code == 200
    assert pdf.data == fresh_render(any_app, round_id, "certificates", committee_actor("hoidong"))
    # Nothing half-written is left in the jobs' folder.
    assert not list((Path(any_app.config["DOCUMENTS_CACHE_DIR"]) / "jobs").glob(".tmp-*"))


def _most_at_once(jobs: list[Job]) -> int:
    """The largest number of the jobs' renders (started_at … finished_at) that overlapped."""
    moments = sorted([(j.started_at, 1) for j in jobs] + [(j.finished_at, -1) for j in jobs], key=lambda m: m)
    running = most = 0
    for _, step in moments:
        running += step
        most = max(most, running)
    return most


def test_at_most_the_configured_renders_at_once_whatever_the_workers(any_app, tmp_path, make_api):
    job_config(any_app, tmp_path, RENDER_CONCURRENCY=2)
    round_id = make_round(db.session, pupils(150)).id
    api = make_api(any_app, "committee")
    asked = [
        f"/api/v1/rounds/{round_id}/award-list.pdf",
        f"/api/v1/rounds/{round_id}/signature-sheet.pdf",
        f"/api/v1/rounds/{round_id}/certificates.pdf",
        f"/api/v1/rounds/{round_id}/award-list.pdf?unit=ST-TP",
        f"/api/v1/rounds/{round_id}/certificates.pdf?unit=ST-TP",
    ]
    assert {api.get(url).status_code for url in asked} == {202}
    # Two workers that could each render two at once: four renders possible, two allowed on the machine.
    workers = [start_worker(any_app, "--concurrency", "2") for _ in range(2)]
    try:
        jobs = wait_for(lambda jobs: jobs if all(j.state in ("done", "failed") for j in jobs) else None)
    finally:
        for worker in workers:
            stop(worker)
    assert [j.state for j in jobs] == ["done"] * len(asked), [j.error for j in jobs]
    assert _most_at_once(jobs) <= 2


def test_render_slots_hold_renders_to_their_number():
    """The machine's slots (lock files): five renders wanting one, two slots: never more than two at once."""
    import tempfile

    folder = Path(tempfile.mkdtemp())
    stop_event, lock = threading.Event(), threading.Lock()
    running, most = [0], [0]

    def render() -> None:
        with waited_slot(folder, 2, stop_event) as got:
            assert got
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.3)
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=render) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 2


def test_a_stopped_worker_waiting_for_a_slot_gives_up(tmp_path):
    stop_event = threading.Event()
    with waited_slot(tmp_path, 1, stop_event) as first:
        assert first
        stop_event.set()
        with waited_slot(tmp_path, 1, stop_event) as second:
            assert second is False
