from marshmallow import fields, validate

from fundsvc.schemas import DocumentDate, StrictSchema, Text
from fundsvc.units.identity import stored_identity
from fundsvc.units.models import LEVELS

CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$", error="Letters, digits, '-', '_' or '.', at most 40")
TAX_CODE = validate.Regexp(
    r"^([0-9]{10}(-[0-9]{3})?)?$", error="Mã số thuế gồm 10 chữ số, có thể thêm -NNN (invalid tax code)"
)
BUDGET_CODE = validate.Regexp(r"^([0-9]{7})?$", error="Mã QHNS gồm 7 chữ số (invalid budget relation code)")
PHONE = validate.Regexp(r"^(\+?[0-9 .()-]{6,40})?$", error="Số điện thoại không hợp lệ (invalid phone number)")


class UnitIn(StrictSchema):
    code = fields.String(required=True, validate=CODE)
    name = Text(200, required=True)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    parent = fields.String(allow_none=True, validate=CODE)
    address = Text(300)
    # Ngày mở sổ; default 1 January of the current year. Earlier to enter past years from the paper books.
    books_opened_on = DocumentDate()


class SignatoriesIn(StrictSchema):
    head = Text(200)
    accountant = Text(200)
    cashier = Text(200)
    preparer = Text(200)


class IdentityIn(StrictSchema):
    """Any of the identity's fields; an empty string clears a field, so that it is inherited again."""

    printed_name = Text(200)
    parent_printed_name = Text(200)
    address = Text(300)
    phone = fields.String(allow_none=True, validate=PHONE)
    tax_code = fields.String(allow_none=True, validate=TAX_CODE)
    budget_code = fields.String(allow_none=True, validate=BUDGET_CODE)
    signatories = fields.Nested(SignatoriesIn)


class UnitPatchIn(StrictSchema):
    name = Text(200)
    identity = fields.Nested(IdentityIn)
    books_opened_on = DocumentDate()


class SignatoriesOut(StrictSchema):
    head = fields.String()
    accountant = fields.String()
    cashier = fields.String()
    preparer = fields.String()


class IdentityOut(StrictSchema):
    printed_name = fields.String()
    parent_printed_name = fields.String()
    address = fields.String()
    phone = fields.String()
    tax_code = fields.String()
    budget_code = fields.String()
    signatories = fields.Nested(SignatoriesOut)


class UnitOut(StrictSchema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    level = fields.String()
    parent = fields.Function(lambda u: u.parent.code if u.parent else None)
    address = fields.String()
    books_opened_on = fields.Date()
    identity = fields.Function(lambda u: IdentityOut().dump(stored_identity(u)))
    merged_into = fields.Function(lambda u: u.merged_into.code if u.merged_into else None)
    merged_on = fields.Date()
    retired_on = fields.Date()


class UnitDetailOut(UnitOut):
    """One unit: its stored identity and the identity it prints (inherited values filled in)."""

    effective_identity = fields.Function(lambda u: IdentityOut().dump(u.effective_identity))


class MoveIn(StrictSchema):
    parent = fields.String(required=True, validate=CODE)
    on = DocumentDate(required=True)


class UnitMergeIn(StrictSchema):
    from_ = fields.List(
        fields.String(validate=CODE), data_key="from", required=True, validate=validate.Length(min=1, max=50)
    )
    into = fields.String(required=True, validate=CODE)
    on = DocumentDate(required=True)
    reason = Text(500, required=True)


class RetireIn(StrictSchema):
    on = DocumentDate(required=True)
    reason = Text(500, required=True)


class TransferOut(StrictSchema):
    out = fields.Function(lambda t: t[0])
    in_ = fields.Function(lambda t: t[1], data_key="in")
    amount = fields.Function(lambda t: t[2])


class GoodsPassedOut(StrictSchema):
    out = fields.String(attribute="out_code")
    in_ = fields.String(attribute="in_code", data_key="in")
    gifts = fields.Integer()
    value = fields.Integer()


class UnitMergeOut(StrictSchema):
    into = fields.Function(lambda m: m.into.code)
    on = fields.Date()
    merged = fields.Function(lambda m: [u.code for u in m.merged])
    transfers = fields.List(fields.Nested(TransferOut))
    goods = fields.List(fields.Nested(GoodsPassedOut))
    donors = fields.Integer()
    nominations = fields.Integer()
    pledges = fields.Integer()
