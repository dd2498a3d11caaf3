"""Transfer notifications of SePay and Casso read into a statement line, and their authentication: pure, no Flask,
no database (docs/bank.md "Thông báo chuyển khoản").

- SePay sends `Authorization: Apikey <key>` and a body {id, gateway, transactionDate, accountNumber, code, content,
  transferType "in"|"out", transferAmount, accumulated, subAccount, referenceCode, description}.
- Casso (webhook v2) sends `X-Casso-Signature: t=<ms>,v1=<hex>`, v1 = HMAC-SHA512(secret, "<t>." + the body as JSON
  with its keys sorted and no spaces), and a body {"error": 0, "data": {id, reference, description, amount (negative
  for money out), runningBalance, transactionDateTime, accountNumber, counterAccountNumber, …}}.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from dataclasses import dataclass

import marshmallow as ma
from marshmallow import fields, validate

from fundsvc.bank.statements import EARLIEST, MAX_AMOUNT, Line

PROVIDERS = ("sepay", "casso")


class NotificationRefused(ValueError):
    """The body is not a notification this service can read; `errors` says which fields (422)."""

    def __init__(self, message: str, errors: dict):
        super().__init__(message)
        self.errors = errors


@dataclass(frozen=True)
class Notification:
    provider: str
    transaction_id: str
    account_number: str
    line: Line


def digits(text: str | None) -> str:
    return re.sub(r"\D", "", text or "")


def _when(raw: str) -> dt.date:
    """The date of "2026-10-01 14:02:37" (SePay, Casso) or an ISO date-time."""
    try:
        value = dt.datetime.fromisoformat(raw.strip().replace(" ", "T", 1)).date()
    except ValueError:
        raise ma.ValidationError("a date-time such as 2026-10-01 14:02:37") from None
    if value < EARLIEST:
        raise ma.ValidationError("before 2000-01-01")
    return value


class _When(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        return _when(super()._deserialize(value, attr, data, **kwargs))


def _money(*, positive: bool = False, **kw) -> fields.Integer:
    """Đồng as an integer below 10^13 either way (a positive one for SePay's amount, whose sign is transferType)."""
    low = 1 if positive else -MAX_AMOUNT + 1
    return fields.Integer(strict=True, validate=validate.Range(min=low, max=MAX_AMOUNT - 1), **kw)


class _Provided(ma.Schema):
    """The providers add fields over time: unknown ones are left out, the ones read are checked."""

    class Meta:
        unknown = ma.EXCLUDE


_TRANSACTION_ID = fields.Raw(required=True, validate=lambda v: isinstance(v, int | str) and 0 < len(str(v)) <= 100)
_TEXT = {"load_default": None, "allow_none": True, "validate": validate.Length(max=1000)}


class SepayIn(_Provided):
    id = _TRANSACTION_ID
    transactionDate = _When(required=True)
    accountNumber = fields.String(required=True, validate=validate.Length(min=1, max=40))
    transferType = fields.String(required=True, validate=validate.OneOf(("in", "out")))
    transferAmount = _money(required=True, positive=True)
    accumulated = _money(load_default=None, allow_none=True)
    content = fields.String(**_TEXT)
    description = fields.String(**_TEXT)
    code = fields.String(**_TEXT)
    referenceCode = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))


class CassoData(_Provided):
    id = _TRANSACTION_ID
    transactionDateTime = _When(required=True)
    accountNumber = fields.String(required=True, validate=validate.Length(min=1, max=40))
    amount = _money(required=True)
    runningBalance = _money(load_default=None, allow_none=True)
    description = fields.String(**_TEXT)
    reference = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    counterAccountNumber = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))


class CassoIn(_Provided):
    error = fields.Integer(required=True, validate=validate.Equal(0))
    data = fields.Nested(CassoData, required=True)


def _load(schema: ma.Schema, body) -> dict:
    if not isinstance(body, dict):
        raise NotificationRefused("Nội dung thông báo phải là một đối tượng JSON", {"json": ["an object"]})
    try:
        return schema.load(body)
    except ma.ValidationError as error:
        raise NotificationRefused("Thông báo chuyển khoản không hợp lệ", error.normalized_messages()) from None


def read_sepay(body) -> Notification:
    data = _load(SepayIn(), body)
    # SePay's `content` is the memo as the bank shows it; `description` the whole SMS/statement text.
    memo = data["content"] or data["description"] or ""
    line = Line(
        row=1,
        date=data["transactionDate"],
        amount=data["transferAmount"],
        direction=data["transferType"],
        description=memo,
        reference=(data["referenceCode"] or "").strip() or None,
        balance=data["accumulated"],
    )
    return Notification("sepay", str(data["id"]), digits(data["accountNumber"]), line)


def read_casso(body) -> Notification:
    """A Casso webhook v2 body; a transfer of 0 đồng is no transfer."""
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        raise NotificationRefused(
            "Cần webhook Casso phiên bản 2 (một giao dịch mỗi thông báo)", {"data": ["an object (webhook v2)"]}
        )
    data = _load(CassoIn(), body)["data"]
    if data["amount"] == 0:
        raise NotificationRefused("Số tiền bằng 0", {"data": {"amount": ["not 0"]}})
    line = Line(
        row=1,
        date=data["transactionDateTime"],
        amount=abs(data["amount"]),
        direction="in" if data["amount"] > 0 else "out",
        description=data["description"] or "",
        reference=(data["reference"] or "").strip() or None,
        balance=data["runningBalance"],
        counterparty_account=digits(data["counterAccountNumber"]) or None,
    )
    return Notification("casso", str(data["id"]), digits(data["accountNumber"]), line)


READERS = {"sepay": read_sepay, "casso": read_casso}


def account_number_of(provider: str, body) -> str | None:
    """The bank account a notification is for, read before anything else (its key is that account's)."""
    if not isinstance(body, dict):
        return None
    holder = body.get("data") if provider == "casso" else body
    number = holder.get("accountNumber") if isinstance(holder, dict) else None
    return digits(number) or None if isinstance(number, str) else None


def sepay_key_valid(authorization: str | None, key: str) -> bool:
    scheme, _, given = (authorization or "").strip().partition(" ")
    return scheme.lower() == "apikey" and hmac.compare_digest(given.strip().encode(), key.encode())


def casso_signed_at(header: str | None) -> tuple[int, str] | None:
    """(timestamp in ms, v1 hex) of an `X-Casso-Signature` header; None when it is not one."""
    parts = dict(part.strip().partition("=")[::2] for part in (header or "").split(","))
    t, v1 = parts.get("t", ""), parts.get("v1", "")
    if not t.isdigit() or len(t) > 15 or not re.fullmatch(r"[0-9a-fA-F]{128}", v1):
        return None
    return int(t), v1.lower()


def casso_signature(secret: str, timestamp_ms: int, body, *, ensure_ascii: bool = True) -> str:
    message = f"{timestamp_ms}." + json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=ensure_ascii)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha512).hexdigest()


def casso_signature_valid(header: str | None, body, secret: str, now_ms: int, max_age_ms: int) -> bool:
    """True when the header signs this body with `secret`, at a time at most `max_age_ms` from now (either way:
    a replay of an old delivery is refused as a forged one is)."""
    signed = casso_signed_at(header)
    if signed is None:
        return False
    timestamp, given = signed
    if abs(now_ms - timestamp) > max_age_ms:
        return False
    # Python's json.dumps escapes non-ASCII letters, JavaScript's JSON.stringify does not: a memo with diacritics
    # is signed one way or the other, both with the secret.
    return any(
        hmac.compare_digest(casso_signature(secret, timestamp, body, ensure_ascii=escaped), given)
        for escaped in (True, False)
    )


def key_valid(provider: str, headers, body, secret: str, now_ms: int, max_age_ms: int) -> bool:
    """Whether the request authenticates as the provider's for the account whose key is `secret`."""
    if provider == "sepay":
        return sepay_key_valid(headers.get("Authorization"), secret)
    return casso_signature_valid(headers.get("X-Casso-Signature"), body, secret, now_ms, max_age_ms)
