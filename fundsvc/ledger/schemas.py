from datetime import date

from marshmallow import ValidationError, fields, validate, validates

from fundsvc.ledger.service import LEDGER_PAGE_DEFAULT, LEDGER_PAGE_MAX
from fundsvc.schemas import MAX_ID, DateRangeArgs, StrictSchema, Text
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


CURSOR_EXPECTED = "a cursor DATE.ID, as in the `next` link of the page before"


class LedgerCursor(fields.String):
    """A ledger page's cursor, "DATE.ID" (the last entry of the page before), as (date, id)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        day, _, entry_id = text.partition(".")
        try:
            key = (date.fromisoformat(day), int(entry_id))
        except ValueError as error:
            raise ValidationError(CURSOR_EXPECTED) from error
        if not 0 < key[1] <= MAX_ID or not entry_id.isdigit():
            raise ValidationError(CURSOR_EXPECTED)
        return key


def ledger_cursor(key: tuple[date, int]) -> str:
    return f"{key[0].isoformat()}.{key[1]}"


class LedgerArgs(DateRangeArgs):
    after = LedgerCursor()
    limit = fields.Integer(load_default=LEDGER_PAGE_DEFAULT, validate=validate.Range(min=1, max=LEDGER_PAGE_MAX))


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
    total_in = fields.Integer()
    total_out = fields.Integer()
    entry_count = fields.Integer()
    entries = fields.List(fields.Nested(LedgerLineOut))
    next = fields.String(allow_none=True)


def ledger_document(answer: dict) -> dict:
    """A ledger page's answer (LedgerOut's attributes, `entries` its StatementLines) as exactly what LedgerOut dumps:
    a plain function over the page's rows, for marshmallow takes longer to walk 1,000 lines than the database takes
    to read them. LedgerOut stays the shape's one definition: tests/spine/test_list_documents.py holds this to it."""
    return {
        "fund": str(answer["fund"]),
        "opening_balance": int(answer["opening_balance"]),
        "closing_balance": int(answer["closing_balance"]),
        "total_in": int(answer["total_in"]),
        "total_out": int(answer["total_out"]),
        "entry_count": int(answer["entry_count"]),
        "entries": [_line_document(line) for line in answer["entries"]],
        "next": answer["next"],
    }


def _line_document(line) -> dict:
    entry = line.entry
    return {
        "id": entry.id,
        "date": entry.entry_date.isoformat(),
        "kind": entry.kind,
        "amount": entry.amount,
        "method": entry.method,
        "document": entry.document_code,
        "description": entry.description,
        "donation_id": entry.donation_id,
        "award_id": entry.award_id,
        "running_balance": line.running_balance,
    }
