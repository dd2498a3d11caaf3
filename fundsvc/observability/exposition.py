"""GET /metrics: the Prometheus exposition of fundsvc.observability.metrics, token-protected."""

from __future__ import annotations

import hmac
import os

from flask import Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from fundsvc.errors import NotFound, Unauthorized
from fundsvc.observability.health import queue_depth


class _QueueDepth:
    """The job queue's depth, read when the metrics are scraped (from the hook in fundsvc.observability.health)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self):
        depth = queue_depth(self.app)
        if depth is not None:
            yield GaugeMetricFamily("fundsvc_job_queue_depth", "Jobs waiting in the job queue", value=depth)


def _registry() -> CollectorRegistry:
    """Every worker's figures (multiprocess mode), or this process's."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


def metrics_view() -> Response:
    """GET /metrics: the Prometheus exposition, for `Authorization: Bearer <FUNDSVC_METRICS_TOKEN>` only."""
    expected = current_app.config.get("METRICS_TOKEN")
    if not expected:
        raise NotFound("Chưa bật số liệu giám sát (metrics are off: set FUNDSVC_METRICS_TOKEN)")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise Unauthorized("Thiếu hoặc sai mã xem số liệu (missing or invalid metrics token)")
    queue = CollectorRegistry()
    queue.register(_QueueDepth(current_app))
    # The exposition format is a list of metric families: two registries' texts one after the other are one.
    return Response(generate_latest(_registry()) + generate_latest(queue), mimetype=CONTENT_TYPE_LATEST)
