"""gunicorn's settings for fundsvc (`gunicorn -c deploy/gunicorn.conf.py wsgi:app`, as fundsvc-web.service runs it).

From the environment (deploy/fundsvc.env.example): FUNDSVC_BIND, WEB_CONCURRENCY (worker processes), FUNDSVC_THREADS
(threads per worker: gifts of one process's threads share a commit, fundsvc/group_commit.py), and
PROMETHEUS_MULTIPROC_DIR: the directory where every worker keeps its metrics so that /metrics adds them up. It is
emptied when the server starts, and a worker's gauges are dropped when it exits."""

import os
import shutil
from pathlib import Path

wsgi_app = "wsgi:app"
bind = os.environ.get("FUNDSVC_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("FUNDSVC_THREADS", "4"))
# A sync worker silent this long is restarted. Requests themselves are stopped earlier, whatever the worker class,
# at FUNDSVC_REQUEST_TIMEOUT (240 s by default; fundsvc/request_limit.py): this is only the backstop behind it.
timeout = 300
graceful_timeout = 30
# A worker is replaced after this many requests (jitter so that they do not all go at once). Long documents are
# laid out in child processes (fundsvc/documents/parallel.py), so their memory goes with the child; this recycles
# what smaller ones leave behind.
max_requests = 500
max_requests_jitter = 50
# The service writes its own JSON line per request (fundsvc.observability.requests) on stderr: no access log.
accesslog = None
errorlog = "-"


def on_starting(_server) -> None:
    """Start with an empty metrics directory: the figures of a previous run's workers are not this run's."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(_server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
