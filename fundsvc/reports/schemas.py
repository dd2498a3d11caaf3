"""Reports: query arguments and the JSON shapes of the summary, the fund book and published statements."""

from marshmallow import fields, validate

from fundsvc.schemas import DateRangeArgs, StrictSchema
from fundsvc.units.schemas import CODE


class SummaryArgs(DateRangeArgs):
    unit = fields.String(validate=CODE, metadata={"description": "Unit code; default: your unit (or the whole tree)"})


class FundBookArgs(DateRangeArgs):
    fund = fields.String(validate=CODE, metadata={"description": "Fund code; default: the unit's fund"})
    unit = fields.String(validate=CODE, metadata={"description": "Only this unit's subtree; default: the fund's unit"})


class PublishArgs(StrictSchema):
    unit = fields.String(required=True, validate=CODE)


class VersionArgs(StrictSchema):
    version = fields.Integer(validate=validate.Range(min=1), metadata={"description": "Default: the latest"})


class MoneyInOut(StrictSchema):
    cash = fields.Integer()
    bank_transfer = fields.Integer()
    in_kind = fields.Integer()
    total = fields.Integer()


class OtherInOut(StrictSchema):
    income = fields.Integer(metadata={"description": "Other income: bank interest, refunds received …"})
    transfer = fields.Integer(metadata={"description": "Received from another money account, fund or unit"})
    opening_balance = fields.Integer(metadata={"description": "Opening balances booked in the period"})


class OutByOut(StrictSchema):
    awards = fields.Integer(metadata={"description": "Awards paid"})
    expense = fields.Integer(metadata={"description": "Expenses: ceremony, goods bought for pupils, bank fees …"})
    transfer = fields.Integer(metadata={"description": "Sent to another money account, fund or unit"})


class CountAmount(StrictSchema):
    count = fields.Integer()
    amount = fields.Integer()


class AwardsOut(CountAmount):
    by_level = fields.Dict(keys=fields.String(), values=fields.Nested(CountAmount))
    by_tier = fields.Dict(keys=fields.String(), values=fields.Nested(CountAmount))


class FiguresOut(StrictSchema):
    opening_balance = fields.Integer(metadata={"description": "Sum of the entries before `from`"})
    in_ = fields.Nested(
        MoneyInOut, data_key="in", attribute="in", metadata={"description": "Gifts received, by method"}
    )
    other_in = fields.Nested(OtherInOut, metadata={"description": "Money in that is not a gift (positive)"})
    reversals = fields.Integer(metadata={"description": "Gifts given back by voided receipts (positive)"})
    out = fields.Integer(metadata={"description": "Money out: the sum of out_by (positive)"})
    out_by = fields.Nested(OutByOut, metadata={"description": "Money out by kind (positive)"})
    adjustments = fields.Integer(metadata={"description": "Corrections of closed periods (signed)"})
    net = fields.Integer(
        metadata={"description": "in.total + other_in (all) - reversals - out + adjustments; the goods apart"}
    )
    closing_balance = fields.Integer()
    balance = fields.Integer(metadata={"description": "Same as closing_balance"})
    donations = fields.Integer(metadata={"description": "Gifts received in the period and not void"})
    donations_void = fields.Integer()
    donors = fields.Integer(metadata={"description": "Distinct donors of those gifts"})
    awards = fields.Nested(AwardsOut, metadata={"description": "Awards paid in the period"})


class FundFiguresOut(FiguresOut):
    code = fields.String()
    name = fields.String()
    unit = fields.String()


class UnitFiguresOut(FiguresOut):
    code = fields.String()
    name = fields.String()
    level = fields.String()
    parent = fields.String(allow_none=True)
    depth = fields.Integer()
    own = fields.Nested(FiguresOut, metadata={"description": "The unit's own figures, without its subtree"})


class SummaryOut(StrictSchema):
    unit = fields.String(allow_none=True)
    from_ = fields.Date(data_key="from", attribute="from", allow_none=True)
    to = fields.Date(allow_none=True)
    totals = fields.Nested(FiguresOut)
    funds = fields.List(fields.Nested(FundFiguresOut))
    units = fields.List(
        fields.Nested(UnitFiguresOut), metadata={"description": "Rolled up: a unit's figures include its subtree's"}
    )


class FundBookLineOut(StrictSchema):
    date = fields.Date()
    document_code = fields.String()
    kind = fields.String()
    description = fields.String()
    in_ = fields.Integer(data_key="in", attribute="in")
    out = fields.Integer()
    balance = fields.Integer()


class FundBookOut(StrictSchema):
    fund = fields.Dict()
    unit = fields.Dict()
    from_ = fields.Date(data_key="from", attribute="from", allow_none=True)
    to = fields.Date(allow_none=True)
    opening_balance = fields.Integer()
    total_in = fields.Integer()
    total_out = fields.Integer()
    closing_balance = fields.Integer()
    lines = fields.List(fields.Nested(FundBookLineOut))


class StatementVersionOut(StrictSchema):
    version = fields.Integer()
    published_at = fields.DateTime()
    pdf_sha256 = fields.String()
    changes = fields.List(fields.Dict())


class PublishedOut(StrictSchema):
    unit = fields.Function(lambda s: s.unit.code)
    year = fields.Integer()
    version = fields.Integer()
    published_at = fields.DateTime()
    figures_sha256 = fields.String()
    pdf_sha256 = fields.String()
    changes = fields.List(fields.Dict())
    html = fields.Function(lambda s: f"/api/v1/public/statements/{s.unit.code}/{s.year}.html")
    pdf = fields.Function(lambda s: f"/api/v1/public/statements/{s.unit.code}/{s.year}.pdf")


class VersionsOut(StrictSchema):
    unit = fields.String()
    year = fields.Integer()
    latest = fields.Integer()
    versions = fields.List(fields.Nested(StatementVersionOut))


class BookArgs(DateRangeArgs):
    unit = fields.String(required=True, validate=CODE, metadata={"description": "Unit code"})


class CashBookLineOut(StrictSchema):
    date = fields.Date()
    document_in = fields.String(allow_none=True)
    document_out = fields.String(allow_none=True)
    description = fields.String()
    # null on a voided document's line: it counts nowhere
    _in = fields.Integer(data_key="in", attribute="in", allow_none=True)
    out = fields.Integer(allow_none=True)
    balance = fields.Integer()
    void = fields.Boolean()


class BookUnitOut(StrictSchema):
    code = fields.String()
    name = fields.String()
    books_opened_on = fields.Date(metadata={"description": "Ngày mở sổ: the day the unit's books were opened"})


class CashBookOut(StrictSchema):
    unit = fields.Nested(BookUnitOut)
    account = fields.Dict()
    _from = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    opening_balance = fields.Integer()
    lines = fields.List(fields.Nested(CashBookLineOut))
    total_in = fields.Integer()
    total_out = fields.Integer()
    closing_balance = fields.Integer()


class BankBookArgs(DateRangeArgs):
    account = fields.Integer(required=True, validate=validate.Range(min=1), metadata={"description": "Bank account id"})


class BankBookLineOut(CashBookLineOut):
    bank_reference = fields.String(allow_none=True, metadata={"description": "The bank's reference of the movement"})


class BankBookOut(CashBookOut):
    lines = fields.List(fields.Nested(BankBookLineOut))


class InKindLineOut(CashBookLineOut):
    item = fields.String(metadata={"description": "The goods record (HV-) of the gift the line is about"})
    unit_of_measure = fields.String(allow_none=True)
    quantity_in = fields.Integer(allow_none=True)
    quantity_out = fields.Integer(allow_none=True)
    held_quantity = fields.Integer(allow_none=True, metadata={"description": "Left of that gift after the line"})
    held_value = fields.Integer(allow_none=True, metadata={"description": "Its value left after the line"})


class HeldItemOut(StrictSchema):
    document = fields.String()
    description = fields.String()
    unit_of_measure = fields.String(allow_none=True)
    quantity = fields.Integer(allow_none=True)
    value = fields.Integer()


class InKindRegisterOut(CashBookOut):
    """Values in đồng (agreed values of goods, never money); `balance` is the value of all goods held."""

    lines = fields.List(fields.Nested(InKindLineOut))
    held = fields.List(fields.Nested(HeldItemOut), metadata={"description": "What is still held at `to`"})


class VoidLineOut(StrictSchema):
    date = fields.Date()
    document = fields.String()
    document_kind = fields.String()
    unit = fields.String()
    amount = fields.Integer()
    counterparty = fields.String()
    reason = fields.String()
    voided_at = fields.DateTime()
    voided_by = fields.String()


class VoidRegisterOut(StrictSchema):
    unit = fields.Dict()
    _from = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    lines = fields.List(fields.Nested(VoidLineOut))
