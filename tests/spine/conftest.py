"""Fixtures of the multi-process tests."""

from __future__ import annotations

import pytest

# The two ways the service is served: sync workers (one request per process at a time), and threaded workers
# (gunicorn -k gthread), where the gifts of one process's threads are committed in groups (fundsvc.group_commit).
WORKER_KINDS = {"sync": (), "threaded": ("-k", "gthread", "--threads", "4")}


@pytest.fixture(params=sorted(WORKER_KINDS))
def worker_args(request) -> tuple[str, ...]:
    """gunicorn's arguments choosing the worker class."""
    return WORKER_KINDS[request.param]
