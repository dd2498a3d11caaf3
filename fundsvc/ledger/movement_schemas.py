from marshmallow import ValidationError, fields, validate, validates_schema

from fundsvc.ledger.models import DIRECTIONS, MOVEMENT_KINDS
from fundsvc.schemas import MAX_ID, Amount, DateRangeArgs, DocumentDate, StrictSchema, Text
from fundsvc.units.schemas import CODE

ACCOUNT = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=MAX_ID))


class CounterpartyIn(StrictSchema):
    name = Text(200, required=True)
    address = Text(300)


class TransferTargetIn(StrictSchema):
    unit = fields.String(required=True, validate=CODE)
    fund = fields.String(validate=CODE)
    account = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=MAX_ID))


class MovementIn(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(MOVEMENT_KINDS))
    unit = fields.String(required=True, validate=CODE)
    fund = fields.String(required=True, validate=CODE)
    account = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=MAX_ID))
    amount = Amount(required=True)
    date = DocumentDate(required=True)
    category = fields.String(validate=CODE)
    counterparty = fields.Nested(CounterpartyIn)
    description = Text(500, required=True)
    to = fields.Nested(TransferTargetIn)
    corrects = fields.String(validate=validate.Length(min=1, max=60))
    direction = fields.String(validate=validate.OneOf(DIRECTIONS))
    bank_reference = Text(100)

    @validates_schema
    def _fits_kind(self, data, **_):
        if data.get("to") and data.get("kind") != "transfer":
            raise ValidationError("Only for a transfer", "to")
        if data.get("direction") and data.get("kind") != "adjustment":
            raise ValidationError("Only for an adjustment (the other kinds give their direction)", "direction")
        if data.get("category") and data.get("kind") not in ("income", "expense"):
            raise ValidationError("Only for income and expenses", "category")


class MovementVoidIn(StrictSchema):
    reason = Text(500, required=True)


class MovementArgs(DateRangeArgs):
    unit = fields.String(validate=CODE)
    fund = fields.String(validate=CODE)
    account = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    kind = fields.String(validate=validate.OneOf(MOVEMENT_KINDS))


class MovementOut(StrictSchema):
    id = fields.Integer()
    kind = fields.String()
    direction = fields.String()
    unit = fields.Function(lambda m: m.unit.code)
    fund = fields.Function(lambda m: m.fund.code)
    account = fields.Integer(attribute="account_id")
    amount = fields.Integer()
    date = fields.Date(attribute="movement_date")
    category = fields.Function(lambda m: m.category.code if m.category else None)
    counterparty = fields.Function(
        lambda m: {"name": m.counterparty_name, "address": m.counterparty_address} if m.counterparty_name else None
    )
    description = fields.String()
    corrects = fields.String()
    bank_reference = fields.String()
    document = fields.Function(
        lambda m: {
            "kind": m.document_kind,
            "number": m.document_number,
            "code": m.document_code,
            "pdf": f"/api/v1/movements/{m.id}/document.pdf",
        }
    )
    transfer_id = fields.Integer()
    status = fields.String()
    void_reason = fields.String()
    created_at = fields.DateTime()


class MovementsOut(StrictSchema):
    """A recorded movement: one for most kinds, the paying side and the receiving side for a transfer."""

    movements = fields.List(fields.Nested(MovementOut))


class CategoryIn(StrictSchema):
    code = fields.String(required=True, validate=CODE)
    name = Text(200, required=True)
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))


class CategoryOut(StrictSchema):
    code = fields.String()
    name = fields.String()
    direction = fields.String()


class HandOutIn(StrictSchema):
    to = Text(200, required=True)
    quantity = fields.Integer(strict=True, validate=validate.Range(min=1, max=10**9))
    date = DocumentDate(required=True)
    description = Text(500)


class InKindEntryOut(StrictSchema):
    id = fields.Integer()
    donation_id = fields.Integer()
    kind = fields.String()
    date = fields.Date(attribute="entry_date")
    description = fields.String()
    quantity = fields.Integer()
    unit_of_measure = fields.String()
    value = fields.Integer()
    document = fields.String(attribute="document_code")
