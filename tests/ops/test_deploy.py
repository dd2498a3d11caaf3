"""deploy/ as it is used: PostgreSQL and two gunicorn servers (two machines of a province, here on loopback) started
from the deploy configuration (gunicorn.conf.py, the example environment) on one database: a gift recorded through
one is read through the other, and each server's /metrics adds up its workers' figures (multiprocess mode)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import requests

from tests.conftest import new_pg_database
from tests.spine.gunicorn_helpers import ROOT, Gunicorn, gift, make_token

pytestmark = pytest.mark.slow
DEPLOY = ROOT / "deploy"
METRICS_TOKEN = "deploy-test-metrics"


def example_environment() -> dict[str, str]:
    """deploy/fundsvc.env.example as systemd's EnvironmentFile reads it (KEY=value lines, # comments)."""
    env = {}
    for line in (DEPLOY / "fundsvc.env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def unit_exec_start(unit: str) -> list[str]:
    (line,) = [line for line in (DEPLOY / unit).read_text().splitlines() if line.startswith("ExecStart=")]
    return shlex.split(line.removeprefix("ExecStart="))


def machine_environment(database_url: str, tmp_path: Path, name: str) -> dict[str, str]:
    """The example environment with this machine's database, secrets and directories filled in."""
    env = example_environment()
    assert {"FUNDSVC_DATABASE_URL", "FUNDSVC_SECRET_KEY", "FUNDSVC_METRICS_TOKEN", "PROMETHEUS_MULTIPROC_DIR"} <= set(
        env
    )
    return {
        **env,
        "FUNDSVC_DATABASE_URL": database_url,
        "FUNDSVC_SECRET_KEY": "deploy-test-secret",
        "FUNDSVC_METRICS_TOKEN": METRICS_TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / name / "prometheus"),
        "FUNDSVC_DOCUMENTS_CACHE_DIR": str(tmp_path / name / "documents"),
        "FUNDSVC_BACKUP_DIR": str(tmp_path / name / "backups"),
        "WEB_CONCURRENCY": "2",
        "FUNDSVC_THREADS": "2",
    }


def gifts_counted(base: str) -> float:
    text = requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=30).text
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("fundsvc_gifts_recorded_total{")
    )


def test_two_web_machines_on_one_postgresql_database(pg_server, tmp_path):
    # The web unit runs gunicorn with deploy/gunicorn.conf.py; the test runs the same, with its port on loopback.
    command = unit_exec_start("fundsvc-web.service")
    assert Path(command[0]).name == "gunicorn" and command[1:] == [
        "-c",
        "/opt/fundsvc/deploy/gunicorn.conf.py",
        "wsgi:app",
    ]
    assert unit_exec_start("fundsvc-worker.service")[1:] == ["--app", "wsgi", "worker"]
    config = ("-c", str(DEPLOY / "gunicorn.conf.py"))

    url = new_pg_database(pg_server)
    token = make_token(url, "treasurer", "ST-TP")
    auth = {"Authorization": f"Bearer {token}"}
    first = Gunicorn(url, tmp_path / "a.log", workers=2, extra_args=config, env=machine_environment(url, tmp_path, "a"))
    second = Gunicorn(
        url, tmp_path / "b.log", workers=2, extra_args=config, env=machine_environment(url, tmp_path, "b")
    )
    with first, second:
        assert requests.get(f"{first.base}/api/v1/health/ready", timeout=30).status_code == 200
        ids = []
        for amount in (150_000, 220_000, 310_000, 40_000):
            answer = requests.post(
                f"{first.base}/api/v1/donations", json=gift("ST-TP-P2", amount), headers=auth, timeout=60
            )
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["id"])
        for donation_id, amount in zip(ids, (150_000, 220_000, 310_000, 40_000), strict=True):
            read = requests.get(f"{second.base}/api/v1/donations/{donation_id}", headers=auth, timeout=60)
            assert read.status_code == 200 and read.json()["amount"] == amount
        assert read.headers["X-Request-Id"]
        # Whichever of a server's two workers answers a scrape, it counts the gifts recorded by both.
        assert {gifts_counted(first.base) for _ in range(12)} == {4}
        assert gifts_counted(second.base) == 0  # the other machine recorded none
    assert '"path": "/api/v1/donations"' in (tmp_path / "a.log").read_text()
