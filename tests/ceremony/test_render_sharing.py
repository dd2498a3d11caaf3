"""Finding 9: big documents cannot be used as a weapon — case variants of a filter are one document, identical
requests at the same moment share one render, and renders beyond the machine's slots are answered 503."""

from __future__ import annotations

import threading
import time
from urllib.parse import quote

import pytest

from fundsvc.documents import ceremony_service

SCHOOL_VARIANTS = ["Trường THCS Lê Lợi", "trường thcs lê lợi", "TRƯỜNG THCS LÊ LỢI", "Trường  THCS Lê Lợi "]


@pytest.fixture
def slow_renders(monkeypatch):
    """Every render counted and made to last long enough for the requests to overlap."""
    renders, started = [], threading.Event()
    original = ceremony_service.write_document

    def slow(*args, **kwargs):
        renders.append(args[0])
        started.set()
        time.sleep(1.0)
        return original(*args, **kwargs)

    monkeypatch.setattr(ceremony_service, "write_document", slow)
    return renders, started


def _get(app, headers, path):
    with app.app_context():
        return app.test_client().get(path, headers=headers)


def test_case_variants_of_a_school_at_the_same_moment_make_one_render(app, admin, round_id, slow_renders, tmp_path):
    app.config["DOCUMENTS_CACHE_DIR"] = str(tmp_path)
    renders, _ = slow_renders
    answers = [None] * 8

    def fetch(i):
        school = quote(SCHOOL_VARIANTS[i % len(SCHOOL_VARIANTS)])
        answers[i] = _get(app, admin._h(None), f"/api/v1/rounds/{round_id}/award-list.pdf?school={school}")

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [a.status_code for a in answers] == [200] * 8
    assert len(renders) == 1
    assert len({a.data for a in answers}) == 1
    assert sorted(a.headers["X-Document-Cache"] for a in answers) == ["hit"] * 7 + ["miss"]


def test_renders_beyond_the_slots_are_answered_503(app, admin, round_id, slow_renders, tmp_path):
    app.config.update(DOCUMENTS_CACHE_DIR=str(tmp_path), RENDER_CONCURRENCY=1)
    renders, started = slow_renders
    first = {}
    worker = threading.Thread(
        target=lambda: first.update(answer=_get(app, admin._h(None), f"/api/v1/rounds/{round_id}/award-list.pdf"))
    )
    worker.start()
    assert started.wait(timeout=60)
    busy = _get(app, admin._h(None), f"/api/v1/rounds/{round_id}/signature-sheet.pdf")
    worker.join(timeout=120)
    assert busy.status_code == 503 and busy.headers["Retry-After"] and busy.json["code"] == 503
    assert first["answer"].status_code == 200 and renders == ["award-list"]
    # Once the slot is free, the refused document renders.
    assert _get(app, admin._h(None), f"/api/v1/rounds/{round_id}/signature-sheet.pdf").status_code == 200


def test_a_job_worker_holding_the_machines_slots_makes_a_request_wait_its_turn(app, admin, round_id, tmp_path):
    """One bound for requests and jobs (FUNDSVC_RENDER_CONCURRENCY): while a job worker holds the only slot, a
    request's render is answered 503; once the job is done, the request renders."""
    from fundsvc.documents.slots import slots_folder, waited_slot

    app.config.update(DOCUMENTS_CACHE_DIR=str(tmp_path), RENDER_CONCURRENCY=1)
    with waited_slot(slots_folder(tmp_path), 1, threading.Event()) as held:
        assert held
        busy = _get(app, admin._h(None), f"/api/v1/rounds/{round_id}/award-list.pdf")
    assert busy.status_code == 503 and busy.headers["Retry-After"] and busy.json["code"] == 503
    assert _get(app, admin._h(None), f"/api/v1/rounds/{round_id}/award-list.pdf").status_code == 200
