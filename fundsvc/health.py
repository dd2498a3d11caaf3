"""/api/v1/health (is the process up, and what of its database and job queue) and /api/v1/health/ready (may it
take requests: 503 when the database is unreachable or its schema is not at the migrations' head)."""

from flask import current_app
from marshmallow import Schema, fields

from fundsvc.api import Blueprint
from fundsvc.errors import Unavailable
from fundsvc.extensions import db
from fundsvc.observability.health import database_state, queue_state, readiness_problems

blp = Blueprint("health", __name__, url_prefix="/api/v1/health", description="Liveness, readiness, database and queue")


class DatabaseOut(Schema):
    engine = fields.String()
    reachable = fields.Boolean()
    revision = fields.String(allow_none=True)
    head = fields.String(allow_none=True)
    error = fields.String()


class QueueOut(Schema):
    present = fields.Boolean()
    depth = fields.Integer(allow_none=True)
    error = fields.String()


class HealthOut(Schema):
    status = fields.String(metadata={"description": "ok: the database answers; degraded: it does not"})
    database = fields.Nested(DatabaseOut)
    queue = fields.Nested(QueueOut)


def _report() -> dict:
    database, queue = database_state(db.session, current_app), queue_state(current_app)
    return {"status": "ok" if database["reachable"] else "degraded", "database": database, "queue": queue}


@blp.get("")
@blp.response(200, HealthOut)
@blp.doc(security=[])
def health():
    """Is the service up? Its database (reachable, schema revision and head) and job queue (no token needed)."""
    return _report()


@blp.get("/ready")
@blp.response(200, HealthOut)
@blp.alt_response(503, description="Not ready: the error shape, naming what is not ready under errors")
@blp.doc(security=[])
def ready():
    """May the service take requests? 503 when its database is unreachable or not migrated to head."""
    report = _report()
    problems = readiness_problems(report["database"], report["queue"])
    if problems:
        raise NotReady("Dịch vụ chưa sẵn sàng (not ready)", problems)
    return report


class NotReady(Unavailable):
    retry_after = 5
