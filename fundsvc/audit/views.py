"""/api/v1/audit"""

from marshmallow import fields

from fundsvc.api import Blueprint, current_actor, paginate
from fundsvc.audit import service
from fundsvc.schemas import DateRangeArgs, StrictSchema

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="The audit trail (admins)")


class AuditArgs(DateRangeArgs):
    entity = fields.String()
    entity_id = fields.String()
    action = fields.String()
    username = fields.String()
    unit = fields.String()


class AuditOut(StrictSchema):
    id = fields.Integer()
    at = fields.DateTime()
    username = fields.String()
    action = fields.String()
    entity = fields.String()
    entity_id = fields.String()
    before = fields.Raw()
    after = fields.Raw()


@blp.get("")
@blp.arguments(AuditArgs, location="query")
@blp.response(200, AuditOut(many=True))
@blp.paginate(max_page_size=1000)
def list_audit(args, pagination_parameters):
    """Audit events of your subtree (admins), newest first, filtered by entity, action, user, unit and period."""
    from fundsvc.extensions import db

    return paginate(service.events_query(db.session, current_actor(), **args), pagination_parameters)
