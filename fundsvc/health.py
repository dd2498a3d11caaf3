"""/api/v1/health"""

from marshmallow import Schema, fields
from sqlalchemy import text

from fundsvc.api import Blueprint
from fundsvc.extensions import db

blp = Blueprint("health", __name__, url_prefix="/api/v1/health", description="Liveness and database check")


class HealthOut(Schema):
    status = fields.String()
    database = fields.String()


@blp.get("")
@blp.response(200, HealthOut)
@blp.doc(security=[])
def health():
    """Is the service up and its database reachable? (no token needed)"""
    db.session.execute(text("SELECT 1"))
    return {"status": "ok", "database": db.engine.dialect.name}
