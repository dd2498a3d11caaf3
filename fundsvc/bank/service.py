"""Bank transfers to a unit's accounts: the VietQR of an account (fundsvc.bank.vietqr), its images."""

from __future__ import annotations

import io

import segno
from sqlalchemy.orm import Session

from fundsvc.auth.service import Actor
from fundsvc.bank import vietqr
from fundsvc.errors import Invalid
from fundsvc.ledger.accounts import get_account


def account_payload(session: Session, actor: Actor, account_id: int, amount: int | None, memo: str | None) -> str:
    """The VietQR string of one of the actor's units' bank accounts; 422 until its bank and number are declared."""
    account = get_account(session, actor, account_id)
    if account.kind != "bank" or not account.bank_bin or not account.account_number:
        raise Invalid(
            "Tài khoản chưa khai báo mã ngân hàng (BIN) và số tài khoản, chưa tạo được mã QR "
            "(the account needs its bank BIN and number first)",
            {"account": ["bank_bin and account_number required"]},
        )
    return vietqr.payload(account.bank_bin, account.account_number, amount, memo)


def qr_image(text: str, kind: str) -> bytes:
    """The QR code of `text` as PNG or SVG (segno; error correction M, the quiet zone banks' apps expect)."""
    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(out, kind=kind, scale=8 if kind == "png" else 4, border=4)
    return out.getvalue()
