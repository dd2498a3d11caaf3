"""On PostgreSQL the queue is procrastinate's: its job is deferred in the request's own transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from fundsvc.db import write_transaction
from fundsvc.extensions import db
from fundsvc.jobs.models import Job
from fundsvc.jobs.queues import PROCRASTINATE_QUEUE, PROCRASTINATE_TASK, ProcrastinateQueue
from tests.ceremony.conftest import make_round
from tests.conftest import _make_app, new_pg_database
from tests.jobs.conftest import job_config, pupils
from tests.jobs.test_jobs_api import work


@pytest.fixture
def pg_app(pg_server, tmp_path):
    app = _make_app(new_pg_database(pg_server))
    with app.app_context():
        job_config(app, tmp_path)
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def pg_round(pg_app):
    return make_round(db.session, pupils(60)).id


def procrastinate_jobs() -> list:
    return db.session.execute(text("SELECT id, queue_name, task_name, args, status FROM procrastinate_jobs")).all()


def test_the_request_defers_procrastinates_job_and_its_worker_runs_it(pg_app, pg_round, make_api):
    api = make_api(pg_app, "committee")
    job_id = api.get(f"/api/v1/rounds/{pg_round}/award-list.pdf").get_json()["id"]
    job = db.session.get(Job, job_id)
    ((ref, queue, task, args, status),) = procrastinate_jobs()
    assert (job.queue_ref, queue, task, args, status) == (
        ref,
        PROCRASTINATE_QUEUE,
        PROCRASTINATE_TASK,
        {"job_id": job_id},
        "todo",
    )
    work(pg_app)
    assert [row.status for row in procrastinate_jobs()] == ["succeeded"]
    assert db.session.get(Job, job_id).state == "done"


def test_a_rolled_back_request_leaves_neither_the_job_nor_procrastinates(pg_app, pg_round, make_api):
    from fundsvc.auth.models import User

    make_api(pg_app, "committee", username="hoidong")
    user_id = db.session.scalar(select(User.id).where(User.username == "hoidong"))
    with pytest.raises(RuntimeError), write_transaction(db.session):
        job = Job(
            kind="award-list",
            params={"round_id": pg_round},
            dedupe_key="k" * 64,
            document_key="d" * 64,
            requested_by=user_id,
            filename="x.pdf",
            media_type="application/pdf",
        )
        db.session.add(job)
        db.session.flush()
        ProcrastinateQueue().defer(db.session, job)
        assert len(procrastinate_jobs()) == 1  # inside the transaction
        raise RuntimeError("the request failed after queueing")
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0
    assert procrastinate_jobs() == []
