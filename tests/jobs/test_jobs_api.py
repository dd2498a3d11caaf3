"""Big documents as jobs, on both engines: 202 with the job, its status and progress, one render for identical
requests, the same bytes as a render in memory, who may see a job."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from fundsvc.documents import ceremony_service
from fundsvc.documents.service import DocumentSettings
from fundsvc.extensions import db
from fundsvc.jobs.models import Job
from fundsvc.jobs.service import queue_depth
from fundsvc.jobs.worker import run_worker
from tests.jobs.conftest import THRESHOLD


def work(app, concurrency: int = 1) -> None:
    """Run a worker until no job is left, then look at the database afresh (the test's session, which the test
    client's requests share, would otherwise keep its old snapshot and the objects it already loaded)."""
    run_worker(app, concurrency, burst=True)
    db.session.rollback()
    db.session.expire_all()


def fresh_render(app, round_id: int, kind: str, actor) -> bytes:
    """The document rendered in memory, outside the queue and its cache."""
    loaded = ceremony_service.load_rows(db.session, actor, round_id)
    settings = ceremony_service.settings_dict(DocumentSettings.from_config(app.config))
    return ceremony_service.render(kind, loaded, settings, personal=actor.sees_personal_data, workers=1)


def committee_actor(username: str):
    from fundsvc.auth.models import User
    from fundsvc.auth.service import actor_for

    return actor_for(db.session.scalar(select(User).where(User.username == username)))


def test_a_small_document_is_served_at_once(any_app, tmp_path, make_api):
    from fundsvc.extensions import db as _db
    from tests.ceremony.conftest import make_round
    from tests.jobs.conftest import job_config, pupils

    job_config(any_app, tmp_path)
    round_id = make_round(_db.session, pupils(THRESHOLD)).id
    api = make_api(any_app, "committee")
    response = api.get(f"/api/v1/rounds/{round_id}/award-list.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_a_big_document_is_a_job_rendered_by_the_worker(any_app, big_round, make_api):
    api = make_api(any_app, "committee", username="hoidong")
    response = api.get(f"/api/v1/rounds/{big_round}/award-list.pdf")
    assert response.status_code == 202
    job = response.get_json()
    assert response.headers["Location"] == f"/api/v1/jobs/{job['id']}" == job["url"]
    assert job["state"] == "queued" and job["rows"] == 60 and job["download"] is None
    assert queue_depth() == 1 == any_app.extensions["job_queue_depth"]()  # what /metrics and health report
    assert api.get(f"/api/v1/jobs/{job['id']}/file").status_code == 409

    work(any_app)

    assert queue_depth() == 0
    done = api.get(job["url"]).get_json()
    assert done["state"] == "done" and done["progress"]["percent"] == 100 and done["attempts"] == 1
    assert done["progress"]["total"] > 0 and done["progress"]["done"] == done["progress"]["total"]
    pdf = api.get(done["download"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data == fresh_render(any_app, big_round, "award-list", committee_actor("hoidong"))
    # Asked again: the same job, already done, rendered nowhere again.
    again = api.get(f"/api/v1/rounds/{big_round}/award-list.pdf")
    assert again.status_code == 202 and again.get_json()["id"] == job["id"] and again.get_json()["state"] == "done"


def test_ten_concurrent_requests_share_one_job_and_one_render(any_app, big_round, make_api):
    api = make_api(any_app, "committee")
    answers, start = [], threading.Barrier(10)

    def ask() -> None:
        client = any_app.test_client()
        start.wait()
        with any_app.app_context():
            response = client.get(
                f"/api/v1/rounds/{big_round}/certificates.pdf", headers={"Authorization": f"Bearer {api.token}"}
            )
            answers.append((response.status_code, response.get_json()["id"]))

    threads = [threading.Thread(target=ask) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 10
    assert {status for status, _ in answers} == {202}
    assert len({job_id for _, job_id in answers}) == 1
    assert db.session.scalar(select(func.count()).select_from(Job)) == 1

    work(any_app, 2)

    (job,) = db.session.scalars(select(Job))
    assert job.state == "done" and job.attempts == 1  # rendered once
    assert len(_jobs_files(any_app)) == 1


def _jobs_files(app):
    from pathlib import Path

    return [p for p in (Path(app.config["DOCUMENTS_CACHE_DIR"]) / "jobs").iterdir() if not p.name.startswith(".")]


def test_a_changed_round_is_a_new_job_whose_file_replaces_the_old(any_app, big_round, make_api):
    from fundsvc.allocation.models import Award

    api = make_api(any_app, "committee")
    first = api.get(f"/api/v1/rounds/{big_round}/signature-sheet.pdf").get_json()
    work(any_app)
    assert api.get(first["url"]).get_json()["state"] == "done"
    award = db.session.scalars(select(Award).where(Award.round_id == big_round).limit(1)).one()
    award.status = "cancelled"
    db.session.commit()
    second = api.get(f"/api/v1/rounds/{big_round}/signature-sheet.pdf").get_json()
    assert second["id"] != first["id"] and second["rows"] == 59 and second["state"] == "queued"
    work(any_app)
    assert api.get(f"/api/v1/jobs/{second['id']}/file").status_code == 200
    # The old version's file is gone with the data it showed; its job says so.
    gone = api.get(f"/api/v1/jobs/{first['id']}/file")
    assert gone.status_code == 404 and "xoá" in gone.get_json()["message"]
    assert len(_jobs_files(any_app)) == 1


@pytest.mark.parametrize(
    ("role", "unit", "sees"),
    [
        ("committee", "ST", True),  # the same subtree, and prints personal data
        ("admin", None, True),
        ("viewer", "ST", False),  # the job prints birth dates: not for viewers
        ("treasurer", "ST", False),  # nor for treasurers
        ("committee", "ST-TP-P2", False),  # a narrower subtree than the job's
    ],
)
def test_who_sees_a_committee_job(any_app, big_round, make_api, role, unit, sees):
    asker = make_api(any_app, "committee", "ST")
    job = asker.get(f"/api/v1/rounds/{big_round}/award-list.pdf").get_json()
    other = make_api(any_app, role, unit)
    assert other.get(f"/api/v1/jobs/{job['id']}").status_code == (200 if sees else 404)
    work(any_app)
    assert other.get(f"/api/v1/jobs/{job['id']}/file").status_code == (200 if sees else 404)


@pytest.mark.parametrize(
    ("role", "unit", "sees"),
    [
        ("viewer", "ST", True),  # nothing personal in a treasurer's copy
        ("committee", "ST", True),
        ("treasurer", "ST-TP", False),  # a narrower subtree than the job's, even for a document about ST-TP
        ("viewer", "ST-MX", False),  # another branch of the tree
    ],
)
def test_who_sees_a_treasurers_job(any_app, big_round, make_api, role, unit, sees):
    asker = make_api(any_app, "treasurer", "ST")
    response = asker.get(f"/api/v1/rounds/{big_round}/award-list.pdf?unit=ST-TP")
    assert response.status_code == 202
    job = response.get_json()
    assert job["rows"] == 45  # the pupils of ST-TP's subtree only
    other = make_api(any_app, role, unit)
    assert other.get(f"/api/v1/jobs/{job['id']}").status_code == (200 if sees else 404)


def test_job_errors_in_the_contract_shape(any_app, big_round, make_api):
    api = make_api(any_app, "committee")
    missing = api.get("/api/v1/jobs/999999")
    assert missing.status_code == 404 and set(missing.get_json()) == {"code", "status", "message", "errors"}
    assert any_app.test_client().get("/api/v1/jobs/1").status_code == 401


def test_a_job_whose_workers_died_three_times_is_failed_not_rendered_again(any_app, big_round, make_api):
    from datetime import timedelta

    from fundsvc.db import utcnow

    api = make_api(any_app, "committee")
    job_id = api.get(f"/api/v1/rounds/{big_round}/award-list.pdf").get_json()["id"]
    job = db.session.get(Job, job_id)
    job.state, job.attempts, job.lease_owner = "running", 3, "a-dead-worker"
    job.lease_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    work(any_app)
    failed = api.get(f"/api/v1/jobs/{job_id}").get_json()
    assert failed["state"] == "failed" and "3" in failed["error"] and failed["attempts"] == 3
    assert api.get(f"/api/v1/jobs/{job_id}/file").status_code == 409
    # Asked again, the document is a new job.
    again = api.get(f"/api/v1/rounds/{big_round}/award-list.pdf").get_json()
    assert again["id"] != job_id and again["state"] == "queued"


def test_a_job_of_a_user_made_inactive_since_fails_with_the_reason(any_app, big_round, make_api):
    from fundsvc.auth.models import User

    api = make_api(any_app, "committee", username="roi.di")
    job_id = api.get(f"/api/v1/rounds/{big_round}/award-list.pdf").get_json()["id"]
    db.session.scalar(select(User).where(User.username == "roi.di")).active = False
    db.session.commit()
    work(any_app)
    job = db.session.get(Job, job_id)
    assert job.state == "failed" and "inactive" in job.error and job.result_path is None
