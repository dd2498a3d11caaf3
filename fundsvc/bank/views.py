"""/api/v1/pledges: gifts announced before their transfer arrives, each with its memo code and VietQR."""

from flask import Response, current_app
from marshmallow import fields, validate

from fundsvc.api import Blueprint, current_actor, paginate
from fundsvc.bank import documents, service
from fundsvc.bank.models import PLEDGE_STATUSES
from fundsvc.documents.service import DocumentSettings
from fundsvc.documents.views import pdf_response
from fundsvc.donations.schemas import DonorIn
from fundsvc.extensions import db
from fundsvc.schemas import MAX_ID, Amount, StrictSchema, Text
from fundsvc.units.schemas import CODE

blp = Blueprint("pledges", __name__, url_prefix="/api/v1/pledges", description="Pledges and their VietQR codes")


class PledgeIn(StrictSchema):
    unit = fields.String(required=True, validate=CODE)
    fund = fields.String(validate=CODE)
    account = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID))
    amount = Amount()
    donor = fields.Nested(DonorIn)
    purpose = Text(500)


class PledgeArgs(StrictSchema):
    unit = fields.String(validate=CODE)
    status = fields.String(validate=validate.OneOf(PLEDGE_STATUSES))


class PledgeOut(StrictSchema):
    id = fields.Integer()
    code = fields.String()
    unit = fields.Function(lambda p: p.unit.code)
    fund = fields.Function(lambda p: p.fund.code)
    account = fields.Integer(attribute="account_id")
    amount = fields.Integer()
    purpose = fields.String()
    status = fields.String()
    qr = fields.Function(lambda p: f"/api/v1/pledges/{p.id}/qr.png")
    created_at = fields.DateTime()


@blp.post("")
@blp.arguments(PledgeIn)
@blp.response(201, PledgeOut)
def create_pledge(data):
    """Announce a gift by transfer: a memo code unique to it and the QR a banking app scans."""
    return service.create_pledge(db.session, current_actor(), data)


@blp.get("")
@blp.arguments(PledgeArgs, location="query")
@blp.response(200, PledgeOut(many=True))
@blp.paginate(max_page_size=1000)
def list_pledges(args, pagination_parameters):
    return paginate(service.pledges_query(db.session, current_actor(), **args), pagination_parameters)


@blp.post("/<int:pledge_id>/cancel")
@blp.response(200, PledgeOut)
def cancel_pledge(pledge_id):
    return service.cancel_pledge(db.session, current_actor(), pledge_id)


@blp.get("/<int:pledge_id>/qr.png")
@blp.response(200, content_type="image/png")
def pledge_qr(pledge_id):
    """The pledge's VietQR: its bank account, its amount if given, its code as the transfer's memo."""
    return Response(
        service.qr_image(service.pledge_payload(db.session, current_actor(), pledge_id), "png"), mimetype="image/png"
    )


@blp.get("/<int:pledge_id>.pdf")
@blp.response(200, content_type="application/pdf")
def pledge_pdf(pledge_id):
    """The pledge as a poster or letter (A4): the unit's identity, the account, the amount, the memo code, its QR."""
    settings = DocumentSettings.from_config(current_app.config)
    name, data = documents.pledge_pdf(db.session, current_actor(), pledge_id, settings)
    return pdf_response(data, name)
