"""Logs, metrics and health: the log line carries the request id of the response header, a 5xx body prints it,
/metrics counts a recorded gift and wants its token, readiness fails when the database is unreachable or behind."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import create_engine, text

from fundsvc import create_app
from fundsvc.extensions import db as _db
from fundsvc.observability.requests import log as request_log
from tests.spine.gunicorn_helpers import gift

TOKEN = "metrics-token-for-tests"


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(record.getMessage()))


@pytest.fixture
def request_lines():
    handler = Lines()
    request_log.addHandler(handler)
    yield handler.lines
    request_log.removeHandler(handler)


def test_each_request_logs_one_json_line_with_the_id_of_its_header(app, make_api, request_lines):
    api = make_api(app, "treasurer", "ST-TP", username="lan")
    response = api.post("/api/v1/donations", json=gift("ST-TP-P2", 120_000))
    assert response.status_code == 201
    (line,) = request_lines
    assert line["request_id"] == response.headers["X-Request-Id"] and len(line["request_id"]) == 32
    assert line["user"] == "lan" and line["unit_id"] is not None
    assert (line["method"], line["path"], line["status"]) == ("POST", "/api/v1/donations", 201)
    assert line["duration_ms"] > 0


def test_a_sane_incoming_request_id_is_kept_and_an_insane_one_replaced(client, request_lines):
    assert client.get("/api/v1/health", headers={"X-Request-Id": "lb-7f3a:01"}).headers["X-Request-Id"] == "lb-7f3a:01"
    replaced = client.get("/api/v1/health", headers={"X-Request-Id": "x" * 129}).headers["X-Request-Id"]
    assert len(replaced) == 32 and replaced != "x" * 129
    assert [line["request_id"] for line in request_lines] == ["lb-7f3a:01", replaced]


def test_a_5xx_body_prints_the_request_id(app, client, request_lines):
    def fail():
        raise RuntimeError("boom")

    app.add_url_rule("/boom-for-test", "boom", fail)
    response = client.get("/boom-for-test", headers={"X-Request-Id": "trace-me", "Accept": "application/json"})
    assert response.status_code == 500
    assert response.headers["X-Request-Id"] == "trace-me"
    assert response.json["message"].endswith("(mã yêu cầu / request id: trace-me)")
    assert set(response.json) == {"code", "status", "message", "errors"}  # the contract's shape, nothing more
    assert request_lines[-1]["status"] == 500 and request_lines[-1]["request_id"] == "trace-me"


def _metric(text_: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text_.splitlines():
        if line.startswith(f"{name}{{{wanted}}} ") or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_a_recorded_gift_and_want_their_token(app, make_api):
    app.config["METRICS_TOKEN"] = TOKEN
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json["code"] == 401
    # An API token is not the metrics token.
    api = make_api(app, "treasurer", "ST-TP")
    assert client.get("/metrics", headers={"Authorization": f"Bearer {api.token}"}).status_code == 401

    def scrape() -> str:
        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200 and response.mimetype == "text/plain"
        return response.get_data(as_text=True)

    before = scrape()
    assert api.post("/api/v1/donations", json=gift("ST-TP-P2", 50_000)).status_code == 201
    # A replay of the same key records nothing and is not counted.
    headers = {"Idempotency-Key": "once"}
    first = api.post("/api/v1/donations", json=gift("ST-TP-P2", 70_000), headers=headers)
    again = api.post("/api/v1/donations", json=gift("ST-TP-P2", 70_000), headers=headers)
    assert first.status_code == again.status_code == 201 and first.json["id"] == again.json["id"]
    after = scrape()
    gifts = "fundsvc_gifts_recorded_total"
    assert _metric(after, gifts, method="cash") - _metric(before, gifts, method="cash") == 2
    route = {"route": "/api/v1/donations", "method": "POST", "status": "201"}
    assert _metric(after, "fundsvc_requests_total", **route) - _metric(before, "fundsvc_requests_total", **route) == 3
    waits = "fundsvc_writer_queue_wait_seconds_count"
    assert _metric(after, waits, queue="writers") - _metric(before, waits, queue="writers") >= 2
    assert "fundsvc_request_duration_seconds_bucket" in after
    assert "\nfundsvc_job_queue_depth 0.0" in after  # the job queue (fundsvc/jobs), empty


def test_metrics_are_off_without_a_token(client):
    response = client.get("/metrics")
    assert response.status_code == 404 and "FUNDSVC_METRICS_TOKEN" in response.json["message"]


def test_health_reports_the_queue_through_the_hook(app, client):
    assert client.get("/api/v1/health").json["queue"] == {"present": True, "depth": 0}  # fundsvc/jobs, empty
    del app.extensions["job_queue_depth"]
    assert client.get("/api/v1/health").json["queue"] == {"present": False, "depth": None}
    app.extensions["job_queue_depth"] = lambda: 7
    assert client.get("/api/v1/health").json["queue"] == {"present": True, "depth": 7}
    app.config["METRICS_TOKEN"] = TOKEN
    metrics = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(as_text=True)
    assert _metric(metrics, "fundsvc_job_queue_depth") == 7

    def broken():
        raise ConnectionError("queue down")

    app.extensions["job_queue_depth"] = broken
    response = client.get("/api/v1/health/ready")
    assert response.status_code == 503 and "queue" in response.json["errors"]


def test_ready_when_migrated_to_head(any_app):
    response = any_app.test_client().get("/api/v1/health/ready")
    assert response.status_code == 200
    database = response.json["database"]
    assert database["reachable"] and database["revision"] == database["head"] is not None


def test_not_ready_when_the_schema_is_behind(any_app, engine_url):
    engine = create_engine(engine_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0014'"))
    engine.dispose()
    response = any_app.test_client().get("/api/v1/health/ready")
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "0014" in response.json["errors"]["database"][0]
    assert any_app.test_client().get("/api/v1/health").status_code == 200  # alive all the same


@pytest.mark.parametrize(
    "url",
    ["sqlite:////nonexistent-dir/fundsvc.sqlite3", "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2"],
)
def test_not_ready_when_the_database_is_unreachable(url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test", "TESTING": True})
    with app.app_context():
        client = app.test_client()
        ready = client.get("/api/v1/health/ready")
        assert ready.status_code == 503 and "database" in ready.json["errors"]
        health = client.get("/api/v1/health")
        assert health.status_code == 200 and health.json["status"] == "degraded"
        assert health.json["database"]["reachable"] is False
        _db.engine.dispose()


def test_the_web_error_page_of_a_5xx_shows_the_request_id(app, client):
    def fail():
        raise RuntimeError("boom")

    app.add_url_rule("/boom-page-for-test", "boom_page", fail)
    response = client.get("/boom-page-for-test", headers={"X-Request-Id": "page-trace", "Accept": "text/html"})
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "<code>page-trace</code>" in response.get_data(as_text=True)
    assert "page-trace" not in client.get("/nowhere", headers={"Accept": "text/html"}).get_data(as_text=True)
