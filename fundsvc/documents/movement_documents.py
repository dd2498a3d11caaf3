"""The numbered document of each movement besides gifts and awards (BOOKS.md "Documents"), each in its own layout:
cash in a Phiếu thu, cash out a Phiếu chi, money out of a bank account an Ủy nhiệm chi, money into one (whose source
document is the bank's credit advice) and the opening and adjustment records a Phiếu kế toán. Printed in the issuing
unit's identity stored when the movement was recorded, so a later rename changes nothing already issued.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundsvc.auth.models import User
from fundsvc.auth.service import Actor
from fundsvc.documents.render import render_pdf
from fundsvc.documents.service import DocumentSettings, _signers, fund_account, issuer_identity
from fundsvc.ledger.models import MoneyAccount, Movement
from fundsvc.ledger.movements import get_movement

TEMPLATES = {
    "receipt": "documents/receipt.html",
    "voucher": "documents/voucher.html",
    "bank_payment": "documents/bank_payment.html",
    "bank_credit": "documents/accounting_record.html",
    "opening": "documents/accounting_record.html",
    "adjustment": "documents/accounting_record.html",
}
# What a Phiếu kế toán records, by series, and the source document it rests on.
RECORD_TITLES = {
    "bank_credit": "Ghi thu tiền gửi ngân hàng",
    "opening": "Ghi số dư đầu kỳ",
    "adjustment": "Bút toán điều chỉnh",
}


def entry_accounts(direction: str, money_account: str, other_account: str) -> tuple[str, str]:
    """(Nợ, Có) of a movement: money in debits the money account, money out credits it; the other side is the
    fund's own account, or the other money account of a transfer between a unit's own accounts of one fund."""
    return (money_account, other_account) if direction == "in" else (other_account, money_account)


def _counterpart(session: Session, movement: Movement) -> Movement | None:
    if movement.transfer_id is None:
        return None
    return session.scalar(
        select(Movement).where(Movement.transfer_id == movement.transfer_id, Movement.id != movement.id)
    )


def _bank(account: MoneyAccount) -> dict:
    return {
        "bank_name": account.bank_name or "",
        "account_number": account.account_number or "",
        "account_holder": account.account_holder or "",
    }


def movement_context(session: Session, movement: Movement, settings: DocumentSettings, preparer: str | None) -> dict:
    """The plain-dict context of a movement's document, for the template of its series."""
    issuer = issuer_identity(session, movement.issuer, movement.unit, settings)
    account = movement.account
    other = _counterpart(session, movement)
    other_account = fund_account(movement.fund, settings)
    if other is not None and other.unit_id == movement.unit_id and other.fund_id == movement.fund_id:
        other_account = other.account.ledger_account  # cash deposited at the bank: 112 against 111
    debit, credit = entry_accounts(movement.direction, account.ledger_account, other_account)
    doc = {
        "book": str(movement.movement_date.year),
        "number": movement.document_number,
        "code": movement.document_code,
        "date": movement.movement_date,
        "debit": debit,
        "credit": credit,
    }
    reason = movement.description
    if movement.category is not None:
        reason = f"{movement.category.name}: {reason}"
    person = {"name": movement.counterparty_name or "", "address": movement.counterparty_address or "", "kind": ""}
    if other is not None:
        side = "Nhận từ" if movement.direction == "in" else "Chuyển sang"
        person = {"name": other.unit.name, "address": "", "kind": "organization"}
        reason = f"{reason} — {side} {other.account.name} của {other.unit.name} (chứng từ {other.document_code})"
    context = {
        "issuer": issuer,
        "amount": movement.amount,
        "reason": reason,
        "signers": _signers(issuer, preparer),
        "paper": settings.paper,
        "words_style": settings.words_style,
        "chan": settings.chan,
        "document_date": movement.movement_date,
        "bank_reference": movement.bank_reference or "",
    }
    if movement.status == "void":
        context["void"] = {"on": movement.voided_at, "reason": movement.void_reason}
    series = movement.document_kind
    if series == "receipt":
        context.update(
            form=settings.form(settings.receipt_form),
            receipt=doc,
            payer=person,
            method="cash",
            copies=settings.copies_for("Lưu", "Giao người nộp tiền"),
        )
    elif series == "voucher":
        context.update(
            form=settings.form(settings.voucher_form),
            voucher=doc,
            payee=person,
            method="cash",
            copies=settings.copies_for("Lưu", "Giao người nhận tiền"),
        )
    elif series == "bank_payment":
        payee_bank = _bank(other.account) if other is not None and other.account.kind == "bank" else {}
        context.update(voucher=doc, payee={**person, **payee_bank}, bank=_bank(account))
    else:
        context["record"] = {**doc, "title": RECORD_TITLES[series], "kind": series}
        context["counterparty"] = person
        context["bank"] = _bank(account) if account.kind == "bank" else None
        context["corrects"] = movement.corrects or ""
    return context


def movement_pdf(session: Session, actor: Actor, movement_id: int, settings: DocumentSettings) -> bytes:
    """A movement's document (a void one stamped ĐÃ HỦY), rendered from what was stored when it was recorded."""
    movement = get_movement(session, actor, movement_id)
    preparer = session.scalar(select(User.full_name).where(User.id == movement.created_by))
    context = movement_context(session, movement, settings, preparer)
    return render_pdf(TEMPLATES[movement.document_kind], context)
