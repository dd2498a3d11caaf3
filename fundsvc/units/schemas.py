from marshmallow import fields, validate

from fundsvc.schemas import StrictSchema, Text
from fundsvc.units.models import LEVELS

CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$", error="Letters, digits, '-', '_' or '.', at most 40")


class UnitIn(StrictSchema):
    code = fields.String(required=True, validate=CODE)
    name = Text(200, required=True)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    parent = fields.String(allow_none=True, validate=CODE)
    address = Text(300)


class UnitOut(StrictSchema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    level = fields.String()
    parent = fields.Function(lambda u: u.parent.code if u.parent else None)
    address = fields.String()
