from marshmallow import fields, validate

from fundsvc.schemas import StrictSchema, Text

BIN = validate.Regexp(r"^[0-9]{6}$", error="Mã BIN ngân hàng gồm 6 chữ số (NAPAS bank BIN)")
ACCOUNT_NUMBER = validate.Regexp(r"^[0-9A-Za-z]{4,40}$", error="Số tài khoản: chữ số hoặc chữ, 4–40 ký tự")
LEDGER_ACCOUNT = validate.Regexp(r"^[0-9]{3,10}$", error="Số hiệu tài khoản kế toán: 3–10 chữ số")


class BankAccountIn(StrictSchema):
    kind = fields.String(load_default="bank", validate=validate.OneOf(["bank"]))
    name = Text(200, required=True)
    bank_name = Text(200, required=True)
    bank_bin = fields.String(required=True, validate=BIN)
    account_number = fields.String(required=True, validate=ACCOUNT_NUMBER)
    account_holder = Text(200, required=True)
    ledger_account = fields.String(validate=LEDGER_ACCOUNT)


class AccountPatchIn(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    bank_name = Text(200)
    bank_bin = fields.String(validate=BIN)
    account_number = fields.String(validate=ACCOUNT_NUMBER)
    account_holder = Text(200)
    ledger_account = fields.String(validate=LEDGER_ACCOUNT)


class AccountOut(StrictSchema):
    id = fields.Function(lambda p: p.account.id)
    unit = fields.Function(lambda p: p.account.unit.code)
    kind = fields.Function(lambda p: p.account.kind)
    name = fields.Function(lambda p: p.account.name)
    bank_name = fields.Function(lambda p: p.account.bank_name)
    bank_bin = fields.Function(lambda p: p.account.bank_bin)
    account_number = fields.Function(lambda p: p.account.account_number)
    account_holder = fields.Function(lambda p: p.account.account_holder)
    ledger_account = fields.Function(lambda p: p.account.ledger_account)
    balance = fields.Function(lambda p: p.balance)


class PeriodOut(StrictSchema):
    month = fields.String()
    status = fields.String()
    closed_at = fields.DateTime()
    closed_by = fields.Integer()


class ReopenIn(StrictSchema):
    reason = Text(500, required=True)


class ReopenOut(StrictSchema):
    reopened = fields.List(fields.String())


class QrArgs(StrictSchema):
    amount = fields.Integer(validate=validate.Range(min=1, max=10**12))
    memo = fields.String(validate=validate.Length(max=200))
