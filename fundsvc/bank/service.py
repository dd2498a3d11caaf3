"""Bank transfers to a unit's accounts: the VietQR of an account (fundsvc.bank.vietqr), its images, pledges."""

from __future__ import annotations

import io
import re
import secrets
from dataclasses import dataclass

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundsvc.audit.service import record
from fundsvc.auth.service import SYSTEM, Actor, require_role
from fundsvc.bank import vietqr
from fundsvc.bank.models import Pledge
from fundsvc.db import write_transaction
from fundsvc.errors import Conflict, Invalid, NotFound
from fundsvc.ledger.accounts import bank_account_id, get_account
from fundsvc.ledger.models import MoneyAccount
from fundsvc.ledger.service import default_fund_for, get_fund
from fundsvc.schemas import MAX_AMOUNT
from fundsvc.units.identity import unit_identity
from fundsvc.units.models import Unit
from fundsvc.units.service import visible_unit

# What a transfer from the public page carries as its memo when the giver asks for no personal code.
PUBLIC_MEMO = "UNG HO QUY KHUYEN HOC"
UNIT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


def takes_vietqr(account: MoneyAccount) -> bool:
    """A VietQR can be made for the account: a bank account with its bank's BIN and its number declared."""
    return account.kind == "bank" and bool(account.bank_bin and account.account_number)


def account_payload(session: Session, actor: Actor, account_id: int, amount: int | None, memo: str | None) -> str:
    """The VietQR string of one of the actor's units' bank accounts; 422 until its bank and number are declared."""
    account = get_account(session, actor, account_id)
    if not takes_vietqr(account):
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


def qr_svg(text: str, title: str) -> str:
    """The QR code of `text` as an inline <svg> that scales with its box (for pages and documents: nothing to fetch)."""
    return segno.make(text, error="m", micro=False).svg_inline(
        scale=1, border=4, omitsize=True, svgclass="qr", lineclass=None, title=title
    )


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


def pledges_query(
    session: Session,
    actor: Actor,
    *,
    unit: str | None = None,
    status: str | None = None,
    account: int | None = None,
):
    query = select(Pledge).join(Unit, Unit.id == Pledge.unit_id).order_by(Pledge.id.desc())
    if actor.unit_path is not None:
        query = query.where(Unit.path.startswith(actor.unit_path))
    if unit:
        query = query.where(Unit.path.startswith(visible_unit(session, actor, unit).path))
    if account is not None:
        query = query.where(Pledge.account_id == get_account(session, actor, account).id)
    if status:
        query = query.where(Pledge.status == status)
    return query


def pledge_payload(session: Session, actor: Actor, pledge_id: int) -> str:
    """The VietQR of a pledge: its account, its amount if any, its code as the memo."""
    pledge = get_pledge(session, actor, pledge_id)
    return account_payload(session, actor, pledge.account_id, pledge.amount, pledge.code)


def check_gift_amount(amount: int | None, field: str = "amount") -> None:
    """An amount a giver asks a QR for: whole đồng, more than nothing, within what any account holds."""
    if amount is not None and not 1 <= amount <= MAX_AMOUNT:
        raise Invalid(
            "Số tiền phải từ 1 đồng đến 10.000 tỉ đồng (amount out of range)",
            {field: [f"between 1 and {MAX_AMOUNT}"]},
        )


@dataclass(frozen=True)
class GivingAccount:
    """A bank account on a unit's public page, with the VietQR of the transfer asked for."""

    account: MoneyAccount
    payload: str


@dataclass(frozen=True)
class Giving:
    """What a unit's public page shows: who receives, where to transfer, the QR of each account."""

    unit: Unit
    identity: dict
    accounts: list[GivingAccount]
    amount: int | None
    memo: str


def public_unit(session: Session, code: str) -> tuple[Unit, list[MoneyAccount]]:
    """A unit that takes transfers from the public: known, with at least one bank account whose bank (BIN) and
    number are declared; 404 otherwise (an odd code is simply no unit)."""
    unit = session.scalar(select(Unit).where(Unit.code == code)) if UNIT_CODE.fullmatch(code or "") else None
    accounts = []
    if unit is not None:
        accounts = [
            a
            for a in session.scalars(
                select(MoneyAccount)
                .where(MoneyAccount.unit_id == unit.id, MoneyAccount.kind == "bank")
                .order_by(MoneyAccount.id)
            )
            if takes_vietqr(a)
        ]
    if unit is None or not accounts:
        raise NotFound("Không có đơn vị nhận ủng hộ với mã này (unknown unit, or it takes no transfers)")
    return unit, accounts


def public_giving(
    session: Session, code: str, defaults: dict, amount: int | None = None, memo: str | None = None
) -> Giving:
    """The public page of a unit (no login): its printed name and the QR of each of its bank accounts, for the
    amount asked (or any amount) and the memo given (a personal pledge code, else PUBLIC_MEMO)."""
    check_gift_amount(amount)
    unit, accounts = public_unit(session, code)
    memo = memo or PUBLIC_MEMO
    return Giving(
        unit=unit,
        identity=unit_identity(session, unit, defaults),
        accounts=[GivingAccount(a, vietqr.payload(a.bank_bin, a.account_number, amount, memo)) for a in accounts],
        amount=amount,
        memo=vietqr.memo_text(memo),
    )


def public_pledge(session: Session, code: str, account_id: int | None, amount: int | None) -> Pledge:
    """A personal memo code asked for on the public page: an open pledge without a donor (so a transfer carrying
    it is only suggested, never recorded, until a treasurer names who gave); recorded as the system's."""
    check_gift_amount(amount)
    unit, accounts = public_unit(session, code)
    if account_id is not None and account_id not in {a.id for a in accounts}:
        raise Invalid("Tài khoản không nhận ủng hộ qua trang này (unknown account)", {"account": ["unknown"]})
    account = account_id or accounts[0].id
    return create_pledge(session, SYSTEM, {"unit": unit.code, "account": account, "amount": amount})
