"""Bank transfers to a unit's accounts: the VietQR of an account (fundsvc.bank.vietqr), its images, pledges."""

from __future__ import annotations

import io
import re
import secrets

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundsvc.audit.service import record
from fundsvc.auth.service import Actor, require_role
from fundsvc.bank import vietqr
from fundsvc.bank.models import Pledge
from fundsvc.db import write_transaction
from fundsvc.errors import Conflict, Invalid, NotFound
from fundsvc.ledger.accounts import bank_account_id, get_account
from fundsvc.ledger.service import default_fund_for, get_fund
from fundsvc.units.models import Unit
from fundsvc.units.service import visible_unit


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


def pledge_code(unit_code: str, pledge_id: int) -> str:
    """ "KH P2 00123": short enough to type in a transfer's memo (and within VietQR's 25 characters), unique by id."""
    short = re.sub(r"[^A-Za-z0-9]", "", unit_code.rsplit("-", 1)[-1])[:8].upper()
    return f"KH {short} {pledge_id:05d}"


def create_pledge(session: Session, actor: Actor, data: dict) -> Pledge:
    """Announce a gift by transfer: its unit, fund and bank account, optionally its amount and donor."""
    require_role(actor, "treasurer")
    with write_transaction(session):
        unit = visible_unit(session, actor, data["unit"])
        if data.get("fund"):
            fund = get_fund(session, actor, data["fund"], field="fund")
        else:
            fund = default_fund_for(session, unit)
            if fund is None:
                raise Invalid(f"Đơn vị {unit.code} chưa có quỹ mặc định (no default fund)", {"fund": ["required"]})
        account_id = bank_account_id(session.connection(), unit, data.get("account"))
        pledge = Pledge(
            unit=unit,
            fund=fund,
            account_id=account_id,
            amount=data.get("amount"),
            donor=data.get("donor"),
            purpose=data.get("purpose"),
            code=f"tmp-{secrets.token_hex(8)}",
            status="open",
            created_by=actor.user_id,
        )
        session.add(pledge)
        session.flush()
        pledge.code = pledge_code(unit.code, pledge.id)
        record(session, actor, "pledge.create", "pledge", pledge.id, None, {"code": pledge.code}, unit.id)
    return pledge


def get_pledge(session: Session, actor: Actor, pledge_id: int) -> Pledge:
    pledge = session.get(Pledge, pledge_id)
    if pledge is None or not actor.sees(pledge.unit):
        raise NotFound(f"Không có mã ủng hộ {pledge_id} (unknown pledge)")
    return pledge


def cancel_pledge(session: Session, actor: Actor, pledge_id: int) -> Pledge:
    require_role(actor, "treasurer")
    with write_transaction(session):
        pledge = get_pledge(session, actor, pledge_id)
        if pledge.status != "open":
            raise Conflict(f"Mã {pledge.code} không còn mở (pledge is {pledge.status})")
        pledge.status = "cancelled"
        record(
            session,
            actor,
            "pledge.cancel",
            "pledge",
            pledge.id,
            {"status": "open"},
            {"status": "cancelled"},
            pledge.unit_id,
        )
    return pledge


def pledges_query(session: Session, actor: Actor, *, unit: str | None = None, status: str | None = None):
    query = select(Pledge).join(Unit, Unit.id == Pledge.unit_id).order_by(Pledge.id.desc())
    if actor.unit_path is not None:
        query = query.where(Unit.path.startswith(actor.unit_path))
    if unit:
        query = query.where(Unit.path.startswith(visible_unit(session, actor, unit).path))
    if status:
        query = query.where(Pledge.status == status)
    return query


def pledge_payload(session: Session, actor: Actor, pledge_id: int) -> str:
    """The VietQR of a pledge: its account, its amount if any, its code as the memo."""
    pledge = get_pledge(session, actor, pledge_id)
    return account_payload(session, actor, pledge.account_id, pledge.amount, pledge.code)
