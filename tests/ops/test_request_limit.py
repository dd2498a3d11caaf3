"""A request that runs past FUNDSVC_REQUEST_TIMEOUT is stopped whatever the worker class (fundsvc.request_limit):
answered 504 in the contract's shape, its transaction rolled back, on both engines; in a thread of its own (as a
gthread worker runs it, where no signal can reach it), in Python code and inside a long query alike. The slow
endpoints exist only in this test's app."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from fundsvc.db import write_transaction
from fundsvc.extensions import db
from fundsvc.request_limit import WATCHDOG, shielded

LIMIT = 0.5
RUNS_FOR = 20.0  # what a slow endpoint would take if nobody stopped it


def _long_query() -> str:
    if db.engine.dialect.name == "postgresql":
        return "SELECT pg_sleep(20)"
    return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


def _slow(how: str) -> dict:
    with write_transaction(db.session):
        probe = {"note": how, "at": time.time()}
        db.session.execute(text("INSERT INTO limit_probe (note, at) VALUES (:note, :at)"), probe)
        if how == "python":
            ends = time.monotonic() + RUNS_FOR
            while time.monotonic() < ends:
                time.sleep(0.01)
        elif how == "query":
            db.session.execute(text(_long_query()))
        elif how == "shielded":  # past the limit with the watchdog held off: then the commit is refused
            with shielded():
                time.sleep(2 * LIMIT)
    return {"note": how}


def add_slow_endpoint(app) -> None:
    """POST /api/v1/test-slow/<how> (python, query, shielded, or anything else: quick) on this test's app."""
    app.add_url_rule("/api/v1/test-slow/<how>", "test_slow", lambda how: _slow(how), methods=["POST"])


def make_probe_table(engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE limit_probe (note VARCHAR(20), at FLOAT)"))


@pytest.fixture
def limited(any_app):
    make_probe_table(db.engine)
    add_slow_endpoint(any_app)
    any_app.config["REQUEST_TIMEOUT"] = LIMIT
    return any_app


def _probes() -> list[str]:
    db.session.rollback()
    return [row[0] for row in db.session.execute(text("SELECT note FROM limit_probe ORDER BY at"))]


def _in_a_thread(app, token: str, path: str):
    """The request served in a thread that is not the main one, as gunicorn's gthread worker serves it."""
    answer = {}

    def serve():
        with app.app_context():
            answer["response"] = app.test_client().post(path, headers={"Authorization": f"Bearer {token}"})

    started = time.monotonic()
    thread = threading.Thread(target=serve)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the request was not stopped"
    return answer["response"], time.monotonic() - started


@pytest.mark.parametrize("how", ["python", "query", "shielded"])
def test_a_request_past_its_limit_is_answered_504_and_stores_nothing(limited, make_api, how):
    api = make_api(limited, "treasurer", "ST")
    response, took = _in_a_thread(limited, api.token, f"/api/v1/test-slow/{how}")
    assert response.status_code == 504, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"code", "status", "message", "errors"} and body["code"] == 504
    assert response.headers.get("X-Request-Id")
    assert took < 10, took
    assert _probes() == []  # the row it wrote was rolled back
    assert not WATCHDOG._watches  # nothing left watched


def test_after_a_stopped_request_the_next_one_is_served(limited, make_api):
    api = make_api(limited, "treasurer", "ST")
    assert _in_a_thread(limited, api.token, "/api/v1/test-slow/python")[0].status_code == 504
    limited.config["REQUEST_TIMEOUT"] = 30  # however busy the machine, the quick one is in time
    response, _ = _in_a_thread(limited, api.token, "/api/v1/test-slow/quick")
    assert response.status_code == 200 and response.get_json() == {"note": "quick"}
    assert _probes() == ["quick"]
    # The thread that served the stopped request goes on untouched: nothing is raised in it later.
    time.sleep(3 * LIMIT)


def test_no_limit_when_it_is_zero(limited, make_api, monkeypatch):
    import tests.ops.test_request_limit as this

    monkeypatch.setattr(this, "RUNS_FOR", 2 * LIMIT)
    limited.config["REQUEST_TIMEOUT"] = 0
    api = make_api(limited, "treasurer", "ST")
    response, took = _in_a_thread(limited, api.token, "/api/v1/test-slow/python")
    assert response.status_code == 200 and took >= 2 * LIMIT
    assert _probes() == ["python"]


def test_the_limit_is_read_from_the_environment():
    from fundsvc import config

    assert config.from_environment({"FUNDSVC_REQUEST_TIMEOUT": "90"})["REQUEST_TIMEOUT"] == 90
    assert config.from_environment({})["REQUEST_TIMEOUT"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("worker_class", ["sync", "gthread"])
def test_gunicorn_stops_it_whatever_the_worker_class(sqlite_template, tmp_path, worker_class):
    """Served by gunicorn, its own timeout far away (120 s): the request is stopped at the service's limit."""
    import requests
    from sqlalchemy import create_engine

    from tests.conftest import new_sqlite_database
    from tests.spine.gunicorn_helpers import Gunicorn, make_token

    url = new_sqlite_database(sqlite_template, tmp_path)
    engine = create_engine(url)
    make_probe_table(engine)
    token = make_token(url, "treasurer", "ST")
    server = Gunicorn(
        url,
        tmp_path / "gunicorn.log",
        workers=1,
        extra_args=("-k", worker_class, "--threads", "2"),
        env={"FUNDSVC_REQUEST_TIMEOUT": "4"},  # a busy machine's quick request gets through
        app="tests.ops.slow_wsgi:app",
    )
    with server:
        started = time.monotonic()
        answer = requests.post(
            f"{server.base}/api/v1/test-slow/python", headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        took = time.monotonic() - started
        assert answer.status_code == 504, server.log_tail()
        assert answer.json()["code"] == 504 and took < 15
        # The worker is alive and serves the next request.
        quick = requests.post(
            f"{server.base}/api/v1/test-slow/quick", headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        assert quick.status_code == 200
    with engine.connect() as connection:
        assert [r[0] for r in connection.execute(text("SELECT note FROM limit_probe"))] == ["quick"]
    engine.dispose()


def test_a_shielded_block_is_not_cut_and_the_request_stops_after_it():
    """Past the limit inside a shield (a commit): the block runs to its end, then the request is stopped."""
    from fundsvc.request_limit import Stopped

    seen = []

    def request():
        try:
            with WATCHDOG.armed(0.2):
                with shielded():
                    time.sleep(0.6)
                    seen.append("shield ran to its end")
                ends = time.monotonic() + 10
                while time.monotonic() < ends:
                    time.sleep(0.01)
                seen.append("not stopped")
        except Stopped:
            seen.append("stopped")

    thread = threading.Thread(target=request)
    thread.start()
    thread.join(timeout=30)
    assert seen == ["shield ran to its end", "stopped"]
