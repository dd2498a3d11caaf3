"""/api/v1/bank-notifications/{provider}: SePay's and Casso's transfer webhooks;
/api/v1/accounts/{id}/notification-keys: the key each provider authenticates with for a bank account
(docs/bank.md "Thông báo chuyển khoản")."""

from flask import current_app, request
from marshmallow import fields, validate

from fundsvc.api import Blueprint, current_actor
from fundsvc.bank import notification_service as service
from fundsvc.extensions import db
from fundsvc.schemas import StrictSchema

blp = Blueprint(
    "bank_notifications", __name__, url_prefix="/api/v1", description="Transfer notifications of SePay and Casso"
)


class ReceivedOut(StrictSchema):
    success = fields.Boolean()
    recorded = fields.Boolean()
    line = fields.Integer()


class KeyIn(StrictSchema):
    secret = fields.String(required=True, validate=validate.Length(min=1, max=200))


class KeyOut(StrictSchema):
    provider = fields.String()
    hint = fields.Function(lambda row: service.hint(row.secret))
    updated_at = fields.DateTime()


@blp.post("/bank-notifications/<provider>")
@blp.response(200, ReceivedOut)
def receive(provider):
    """A provider's notification of a transfer; authenticated by the account's key (SePay: `Authorization: Apikey`,
    Casso: `X-Casso-Signature`), recorded once per provider transaction id. Answers `{"success": true}`."""
    body = request.get_json(silent=True)
    answer = service.receive(
        db.session, provider, request.headers, body, current_app.config["NOTIFICATION_MAX_AGE_SECONDS"]
    )
    return {"success": True, **answer}


@blp.get("/accounts/<int:account_id>/notification-keys")
@blp.response(200, KeyOut(many=True))
def list_keys(account_id):
    """The providers with a key for this account (only the key's last characters)."""
    return service.secrets_of(db.session, current_actor(), account_id)


@blp.put("/accounts/<int:account_id>/notification-keys/<provider>")
@blp.arguments(KeyIn)
@blp.response(200, KeyOut)
def set_key(data, account_id, provider):
    """Set the key: SePay's API key, or Casso's webhook secret (treasurer or admin)."""
    return service.set_secret(db.session, current_actor(), account_id, provider, data["secret"])


@blp.delete("/accounts/<int:account_id>/notification-keys/<provider>")
@blp.response(204)
def revoke_key(account_id, provider):
    """Revoke the key: the provider's notifications for this account are refused from then on (treasurer or admin)."""
    service.revoke_secret(db.session, current_actor(), account_id, provider)
    return ""
