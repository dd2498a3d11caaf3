"""The service's Prometheus metrics, with the maintained client library (prometheus-client); no Flask here, so
that the database layer can count its waits (read at /metrics: fundsvc.observability.exposition).

Under gunicorn each worker is a process of its own: with PROMETHEUS_MULTIPROC_DIR set (before the service starts,
to an empty directory), every worker writes its figures there and `/metrics` adds them up, whichever worker answers
(prometheus-client's multiprocess mode; deploy/gunicorn.conf.py tells it when a worker exits). Without it, each
process reports its own figures only: fine for one process, wrong for several."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "fundsvc_requests",
    "HTTP requests answered, by route (the URL rule, not the path), method and status",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "fundsvc_request_duration_seconds",
    "Time from the request's arrival to its answer, by route and method",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
GIFTS = Counter("fundsvc_gifts_recorded", "Gifts recorded (committed; replays not counted), by method", ["method"])
WRITE_WAITS = Histogram(
    "fundsvc_writer_queue_wait_seconds",
    "How long a write waited for its turn: 'writers' the SQLite writers' queue (every process), 'group' a thread "
    "waiting for its process's group commit (fundsvc.group_commit)",
    ["queue"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def gift_recorded(method: str) -> None:
    GIFTS.labels(method).inc()


def waited_for_write(queue: str, seconds: float) -> None:
    WRITE_WAITS.labels(queue).observe(seconds)


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(route, method, str(status)).inc()
    LATENCY.labels(route, method).observe(seconds)
