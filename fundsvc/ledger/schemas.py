from marshmallow import ValidationError, fields, validate, validates

from fundsvc.schemas import DateRangeArgs, StrictSchema, Text
from fundsvc.units.schemas import CODE


class FundIn(StrictSchema):
    code = fields.String(required=True, validate=CODE)
    name = Text(200, required=True)
    unit = fields.String(required=True, validate=CODE)
    restriction = fields.Dict(allow_none=True)
    default = fields.Boolean()
    # The fund's own account in the chart (the other side of its documents); default FUNDSVC_ACCOUNT_FUND.
    ledger_account = fields.String(validate=validate.Regexp(r"^[0-9]{3,10}$", error="3–10 digits"))

    @validates("restriction")
    def _restriction(self, value, **_):
        if value is None:
            return
        from fundsvc.allocation.rules import condition_errors

        errors = condition_errors(value)
        if errors:
            raise ValidationError(errors)


class FundPatchIn(StrictSchema):
    name = Text(200, allow_none=False)
    restriction = fields.Dict(allow_none=True)
    default = fields.Boolean(validate=validate.Equal(True, error="only true: another fund is made default instead"))

    _restriction = FundIn._restriction


class FundOut(StrictSchema):
    code = fields.Function(lambda p: p.fund.code)
    name = fields.Function(lambda p: p.fund.name)
    unit = fields.Function(lambda p: p.fund.unit.code)
    balance = fields.Integer()
    reserved = fields.Integer()
    available = fields.Integer()
    in_kind_value = fields.Integer()
    restriction = fields.Function(lambda p: p.fund.restriction)
    default = fields.Function(lambda p: p.fund.unit.default_fund_id == p.fund.id)
    ledger_account = fields.Function(lambda p: p.fund.ledger_account)


class LedgerArgs(DateRangeArgs):
    pass


class LedgerLineOut(StrictSchema):
    id = fields.Function(lambda line: line.entry.id)
    date = fields.Function(lambda line: line.entry.entry_date.isoformat())
    kind = fields.Function(lambda line: line.entry.kind)
    amount = fields.Function(lambda line: line.entry.amount)
    method = fields.Function(lambda line: line.entry.method)
    document = fields.Function(lambda line: line.entry.document_code)
    description = fields.Function(lambda line: line.entry.description)
    donation_id = fields.Function(lambda line: line.entry.donation_id)
    award_id = fields.Function(lambda line: line.entry.award_id)
    running_balance = fields.Integer()


class LedgerOut(StrictSchema):
    fund = fields.String()
    opening_balance = fields.Integer()
    closing_balance = fields.Integer()
    entries = fields.List(fields.Nested(LedgerLineOut))
