"""Every request's id and its one JSON log line.

The id is the caller's `X-Request-Id` when it is a sane one (letters, digits, `.`, `_`, `-`, `:`, at most 128),
else a new one; it is answered in the `X-Request-Id` header, printed in every 5xx body, and logged with the user,
their unit, the method, path, status and duration on the `fundsvc.request` logger (one JSON object per line on
stderr, which systemd's journal or gunicorn's error log keeps)."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, g, request

from fundsvc.observability.metrics import observe_request

HEADER = "X-Request-Id"
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
log = logging.getLogger("fundsvc.request")


# Kept in the WSGI environ, which is the request's own (`g` lives as long as the app context, which a test client
# shares between requests).
_ID, _STARTED = "fundsvc.request_id", "fundsvc.request_started"


def request_id() -> str:
    """This request's id (the caller's when sane, else a new one)."""
    environ = request.environ
    if _ID not in environ:
        given = request.headers.get(HEADER, "")
        environ[_ID] = given if _SANE.fullmatch(given) else uuid.uuid4().hex
    return environ[_ID]


def _started() -> None:
    request.environ[_STARTED] = time.perf_counter()
    request_id()


def _answered(response):
    seconds = time.perf_counter() - request.environ.get(_STARTED, time.perf_counter())
    response.headers[HEADER] = request_id()
    route = request.url_rule.rule if request.url_rule is not None else "(no route)"
    observe_request(route, request.method, response.status_code, seconds)
    actor = g.get("actor")
    log.info(
        json.dumps(
            {
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "request_id": request_id(),
                "user": actor.username if actor is not None else None,
                "unit_id": actor.unit_id if actor is not None else None,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 2),
            },
            ensure_ascii=False,
        )
    )
    return response


def init_request_log(app: Flask) -> None:
    """Install the hooks: first of every before_request (so that even a request refused at the boundary is timed
    and has its id), and the after_request that runs last."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    log.disabled = False  # Alembic's logging.config.fileConfig disables every logger made before it ran
    app.before_request_funcs.setdefault(None, []).insert(0, _started)
    app.after_request_funcs.setdefault(None, []).insert(0, _answered)
